/**
 * The HTTP server. HTTP never captures and never runs inference: it reads the pipeline's latest
 * state through ServerDeps (src/http/deps.ts), or serves a "no signal" frame.
 *
 *   createServer(deps: ServerDeps): HazardcamServer    // an Elysia app, NOT listening
 *     app.listen({ port, hostname })                    // by the caller
 *     app.closeStreams()                                // ends every /video and SSE stream
 *     app.stop(true)                                    // also closes the streams (onStop)
 *     app.streams                                       // the fan-out (client counts, for tests)
 *     app.tabs                                          // the dashboard tabs on /api/live
 *
 * The server holds what every route shares: the login check (HTTP Basic with --auth, before
 * anything else), the error answers (bad query values 400 JSON; unknown routes 404: HTML for
 * browsers, else JSON; a known path with a wrong method 405 with Allow), and the stream fan-out. The routes are plugins, one per group, each
 * taking only the dependencies it uses (src/http/routes/):
 *
 *   pages.tsx      GET /  /events  /events/:id  (dashboard, gallery, one event)
 *   streams.ts     GET|HEAD /video  /api/stream
 *   live-ws.ts     WS /api/live (the dashboard tabs' WebSocket: picture + state)
 *   files.ts       GET /out/<file>.jpg  /out/thumbs/<file>.jpg  /latest.jpg  (ETag, Range)
 *   api.ts         GET /api/events  /api/events/:id
 *   visits.ts      GET /api/visits  /api/visits/:id  /api/counts   (issue 11; 404 without the scene)
 *   visit-pages    GET /visits  /visits/:id;  visit-files.ts GET /out/visits/[thumbs/]<file>.jpg
 *   snapshot.ts    GET|POST /snapshot (rate limited)
 *   telemetry.ts   GET /status  /metrics  /healthz
 *   zones.ts       GET|PUT /api/zones  (the zone editor's file)
 *   activity.ts    GET /api/activity  /assets/uplot.*  (issue 12's charts)
 *   clips.ts       GET /out/clips/<file>  /api/visits/:id/clips  /api/visits/:id/clip.mjpeg
 */
import { html } from "@elysiajs/html";
import { Elysia } from "elysia";
import { logger } from "../shared/log.ts";
import { checkBasicAuth, unauthorized } from "./auth.ts";
import type { ServerDeps } from "./deps.ts";
import { AllowTable, MethodNotAllowed } from "./methods.ts";
import { BadRequest } from "./query.ts";
import type { PageInfo } from "./pages/layout.tsx";
import { json, notFound, pageInfo, rawPath } from "./respond.tsx";
import { activityRoutes } from "./routes/activity.ts";
import { apiRoutes } from "./routes/api.ts";
import { clipRoutes, visitClipsJson } from "./routes/clips.ts";
import { fileRoutes } from "./routes/files.ts";
import { LIVE_MAX_MESSAGE_BYTES, liveWsRoutes } from "./routes/live-ws.ts";
import { pageRoutes } from "./routes/pages.tsx";
import { snapshotRoutes } from "./routes/snapshot.ts";
import { streamRoutes } from "./routes/streams.ts";
import { telemetryRoutes } from "./routes/telemetry.ts";
import { visitFileRoutes } from "./routes/visit-files.ts";
import { visitPageRoutes } from "./routes/visit-pages.tsx";
import { visitApiRoutes } from "./routes/visits.ts";
import { zonesRoutes } from "./routes/zones.ts";
import { buildStatus } from "./status.ts";
import { StreamHub } from "./streams.ts";
import { LiveTabs } from "./live/tabs.ts";
import type { StreamCounts } from "./deps.ts";

const log = logger("http");

/** 405 with Allow for a known path, else 404 (HTML for browsers, JSON for the rest). */
function wrongRoute(request: Request, allowed: AllowTable, info: PageInfo): Response {
  const allow = allowed.allow(rawPath(request));
  if (allow.length === 0 || allow.includes(request.method)) return notFound(request, info);
  const reason = `${request.method} is not supported here: use ${allow.join(", ")}`;
  return json({ error: "method_not_allowed", reason, allow }, 405, { allow: allow.join(", ") });
}

/** The stream counts of /status, /metrics and the pages: the fan-out's and the tabs'. */
function streamCounts(hub: StreamHub, tabs: LiveTabs): StreamCounts {
  return {
    get videoClients() {
      return hub.videoClients;
    },
    get sseClients() {
      return hub.sseClients;
    },
    get live() {
      return tabs.counts();
    },
  };
}

function buildApp(deps: ServerDeps, hub: StreamHub, tabs: LiveTabs, counts: StreamCounts) {
  const info = pageInfo(deps.config);
  const auth = deps.config.auth ?? null;
  const allowed = new AllowTable(() => app.routes);
  const app = new Elysia({ websocket: { maxPayloadLength: LIVE_MAX_MESSAGE_BYTES } })
    .use(html({ contentType: "text/html; charset=utf-8" }))
    .onRequest(({ request }) => {
      if (auth && !checkBasicAuth(request.headers.get("authorization"), auth)) {
        return unauthorized();
      }
    })
    .onError(({ code, error, request }) => {
      if (error instanceof BadRequest) {
        return json({ error: "bad_request", param: error.param, reason: error.message }, 400);
      }
      if (code === "NOT_FOUND" || error instanceof MethodNotAllowed) {
        return wrongRoute(request, allowed, info);
      }
      if (code === "PARSE" || code === "VALIDATION" || code === "INVALID_COOKIE_SIGNATURE") {
        return json({ error: "bad_request", reason: String(code) }, 400);
      }
      const msg = error instanceof Error ? error.message : String(error);
      log.once(`route:${msg}`, "error", `${request.method} ${rawPath(request)} failed: ${msg}`);
      return json({ error: "internal", reason: msg }, 500);
    })
    .use(pageRoutes(deps, counts))
    .use(streamRoutes(hub))
    .use(liveWsRoutes(tabs))
    .use(telemetryRoutes(deps, counts))
    .use(snapshotRoutes(deps))
    .use(visitApiRoutes(deps, { clips: (id) => visitClipsJson(deps, id) }))
    .use(visitPageRoutes(deps))
    .use(visitFileRoutes(deps))
    .use(fileRoutes(deps, hub))
    .use(zonesRoutes(deps))
    .use(apiRoutes(deps))
    .use(activityRoutes(deps))
    .use(clipRoutes(deps));
  return app;
}

export type HazardcamServer = ReturnType<typeof buildApp> & {
  /** Ends every open /video and /api/stream response (app.stop also does it). */
  closeStreams(): void;
  readonly streams: StreamHub;
  readonly tabs: LiveTabs;
};

export function createServer(deps: ServerDeps): HazardcamServer {
  const statusJson = () => {
    const s = buildStatus(deps, counts);
    return {
      online: s.online,
      offline_reason: s.offline_reason,
      backend: s.backend,
      clients: s.clients,
      ws_clients: s.ws_clients,
      events_total: s.events_total,
      people: s.people,
      fps: s.fps,
      detect_fps: s.detect_fps,
      infer_ms: s.infer_ms,
    };
  };
  // What both live transports read: the latest frame, its subscription, the offline state.
  const live = {
    latest: () => deps.latest(),
    onFrame: (cb: Parameters<ServerDeps["onFrame"]>[0]) => deps.onFrame(cb),
    online: () => deps.status().online,
    offlineReason: () => deps.status().offlineReason ?? "no frames yet",
    noSignalJpeg: (reason: string) => deps.noSignalJpeg(reason),
    archive: deps.archive,
    threshold: deps.config.threshold,
    scene: () => deps.scene?.feed,
    statusJson,
  };
  const hub = new StreamHub({
    ...live,
    annotatedJpeg: () => deps.annotatedJpeg(),
    wantAnnotated: (on) => deps.wantAnnotated(on),
  });
  const tabs = new LiveTabs(live);
  const counts = streamCounts(hub, tabs);
  const app = buildApp(deps, hub, tabs, counts);
  app.onStop(() => {
    hub.closeAll();
    tabs.closeAll();
  });
  return Object.assign(app, { closeStreams: () => hub.closeAll(), streams: hub, tabs });
}
