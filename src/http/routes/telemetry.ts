/**
 * /status (JSON, no-store), /metrics (Prometheus text) and /healthz (200 "ok" while frames are
 * fresh and the detector works, else 503 JSON). Behind auth like every route: the people count
 * and the uptime tell when a house is empty, and Prometheus and uptime monitors send Basic auth.
 */
import { Elysia } from "elysia";
import { healthResponse } from "../../integrations/health.ts";
import { diskFreeBytes, metricsResponse } from "../../integrations/metrics.ts";
import type { StreamCounts } from "../deps.ts";
import { json } from "../respond.tsx";
import { buildStatus, type StatusDeps } from "../status.ts";

export function telemetryRoutes(deps: StatusDeps, streams: StreamCounts) {
  return new Elysia()
    .get("/status", () => json(buildStatus(deps, streams)))
    .get("/metrics", () =>
      metricsResponse({
        status: deps.status(),
        latest: deps.latest(),
        telemetry: deps.integrations?.telemetry ?? null,
        videoClients: streams.videoClients,
        sseClients: streams.sseClients,
        wsClients: streams.live?.clients ?? 0,
        wsFramesSent: streams.live?.framesSent ?? 0,
        eventsStored: deps.archive.count(),
        diskFreeBytes: diskFreeBytes(deps.config.outdir),
        version: deps.config.version,
        startedAt: deps.startedAt,
        integrations: deps.integrations?.status() ?? null,
        scene: deps.scene?.feed.statusJson() ?? null,
      }),
    )
    .get("/healthz", () =>
      healthResponse({
        status: deps.status(),
        latest: deps.latest(),
        telemetry: deps.integrations?.telemetry ?? null,
      }),
    );
}
