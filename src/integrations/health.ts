/**
 * /healthz for systemd watchdogs (a timer running curl) and uptime monitors: 200 "ok" while
 * frames are fresh and the detector produces results, else 503 with the reason as JSON.
 */
import type { PipelineStatus } from "../shared/status.ts";
import type { FrameState } from "../shared/types.ts";
import type { Telemetry } from "./telemetry.ts";

/** A frame or detection result older than this (ms) is stale. */
export const HEALTH_MAX_AGE_MS = 5000;

export interface HealthInput {
  status: PipelineStatus;
  latest: FrameState | null;
  /** Null when nothing records detection results (then detect_fps stands in). */
  telemetry: Telemetry | null;
  now?: number;
  maxAgeMs?: number;
}

export interface HealthResult {
  ok: boolean;
  reason: string | null;
  frameAgeMs: number | null;
  detectAgeMs: number | null;
}

const secs = (ms: number): string => (ms / 1000).toFixed(1);

export function checkHealth(input: HealthInput): HealthResult {
  const now = input.now ?? Date.now();
  const max = input.maxAgeMs ?? HEALTH_MAX_AGE_MS;
  const st = input.status;
  const t = input.telemetry;
  const frameAgeMs = input.latest ? Math.max(0, now - input.latest.grabbedAt) : null;
  const detectAgeMs = t ? Math.max(0, now - (t.lastInferAt ?? t.createdAt)) : null;
  const result = (reason: string | null): HealthResult => ({
    ok: reason === null,
    reason,
    frameAgeMs,
    detectAgeMs,
  });
  if (!st.online) return result(`camera offline: ${st.offlineReason ?? "no frames yet"}`);
  if (frameAgeMs === null) return result("no frame yet");
  if (frameAgeMs > max) return result(`last frame ${secs(frameAgeMs)} s ago`);
  if (st.backend === null) return result("detector not loaded");
  const why = st.lastError ? ` (last error: ${st.lastError})` : "";
  if (detectAgeMs !== null) {
    if (detectAgeMs > max) {
      return result(
        t?.lastInferAt === null
          ? `no detection result yet${why}`
          : `no detection result for ${secs(detectAgeMs)} s${why}`,
      );
    }
  } else if (!(st.detectFps > 0)) {
    return result(`detector idle${why}`);
  }
  return result(null);
}

export function healthResponse(input: HealthInput): Response {
  const h = checkHealth(input);
  const headers = { "cache-control": "no-store" };
  if (h.ok) {
    return new Response("ok", {
      headers: { ...headers, "content-type": "text/plain; charset=utf-8" },
    });
  }
  const body = {
    status: "unhealthy",
    reason: h.reason,
    frame_age_s: h.frameAgeMs === null ? null : Math.round(h.frameAgeMs / 100) / 10,
    detect_age_s: h.detectAgeMs === null ? null : Math.round(h.detectAgeMs / 100) / 10,
  };
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: { ...headers, "content-type": "application/json; charset=utf-8" },
  });
}
