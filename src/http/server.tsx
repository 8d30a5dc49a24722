/**
 * The HTTP server. HTTP never captures and never runs inference: it reads the pipeline's latest
 * state through ServerDeps, or serves a "no signal" frame.
 *
 * Interface (implemented by the lead in src/serve.ts / src/pipeline.ts):
 *
 *   createServer(deps: ServerDeps): HazardcamServer    // an Elysia app, NOT listening
 *     app.listen({ port, hostname })                    // by the caller
 *     app.closeStreams()                                // ends every /video and SSE stream
 *     app.stop(true)                                    // also closes the streams (onStop)
 *     app.streams                                       // the fan-out (client counts, for tests)
 *
 * ServerDeps:
 *   config        what /status and the pages show; `auth` turns on HTTP Basic for every route.
 *   latest()      newest FrameState, null before the first frame and while offline.
 *   annotatedJpeg() newest frame with boxes + overlay (q80), null if none was encoded.
 *   wantAnnotated(on) called on changes of "does anyone need annotated frames": a /video client
 *                 without ?raw=1, or a /latest.jpg request in the last 10 s.
 *   onFrame(cb)   subscribe to new frames (returns the unsubscribe); held only while a stream
 *                 client is connected.
 *   status()      PipelineStatus; a superset is fine.
 *   snapshot()    saves the current frame (reason "snapshot") through the archive; null before
 *                 the first frame (or when the save failed: then archive.stats().lastError says why).
 *   noSignalJpeg(reason) a "no signal" JPEG with the reason and the time.
 *   archive       the event archive (src/events/archive.ts); /out serves only its files.
 *   startedAt     Date.now() at start.
 *   integrations? MQTT/webhook state for /status and the telemetry behind /metrics and /healthz
 *                 (src/integrations/); without it those routes use status() alone.
 *
 * Routes:
 *   GET  /                 dashboard (SSE counters, raw MJPEG + browser-drawn boxes, events)
 *   GET  /video            multipart/x-mixed-replace MJPEG; ?fps=N (0 < N <= 60), ?raw=1
 *   GET  /api/stream       text/event-stream: `status`, `frame` (detections), `saved` events; ?fps=N
 *   GET  /status           JSON (the original's keys + ours), no-store
 *   GET|POST /snapshot     302 → /out/<name>; 503 JSON {error, reason} without a frame
 *   GET  /events           gallery: ?page=N ?before=<ms|ISO> ?day=YYYY-MM-DD ?reason=auto|snapshot|import
 *   GET  /events/:id       one event: image, detections, newer/older links
 *   GET  /out/<file>.jpg   archive images; /out/thumbs/<file>.jpg thumbnails (ETag, immutable)
 *   GET  /latest.jpg       current frame (annotated when available), no-store, saves nothing
 *   GET  /api/events       JSON: ?before ?after (ms or ISO) ?limit (1..500, default 100) ?offset
 *                          ?reason ?day ?order=asc|desc
 *   GET  /api/events/:id   JSON, 404 if unknown
 *   GET  /metrics          Prometheus text (src/integrations/metrics.ts)
 *   GET  /healthz          200 "ok" while frames are fresh and the detector works, else 503 JSON
 * Bad query values answer 400 JSON; unknown routes 404 (HTML for browsers, else JSON).
 */
import { html } from "@elysiajs/html";
import { Elysia } from "elysia";
import { eventJson, type Archive, type EventRecord } from "../events/archive.ts";
import { healthResponse } from "../integrations/health.ts";
import type { Integrations } from "../integrations/index.ts";
import { diskFreeBytes, metricsResponse } from "../integrations/metrics.ts";
import { logger } from "../shared/log.ts";
import type { PipelineStatus, StatusJson } from "../shared/status.ts";
import type { FrameState } from "../shared/types.ts";
import { checkBasicAuth, unauthorized, type BasicAuth } from "./auth.ts";
import { serveArchiveFile } from "./files.ts";
import { Dashboard, EventPage, Gallery, NotFoundPage, type PageInfo } from "./pages.tsx";
import { TokenBucket } from "./ratelimit.ts";
import {
  BadRequest,
  MAX_LIMIT,
  dayParam,
  flagParam,
  fpsParam,
  intParam,
  orderParam,
  reasonParam,
  timeParam,
} from "./query.ts";
import { StreamHub } from "./streams.ts";

const log = logger("http");

export type { PipelineStatus, StatusJson } from "../shared/status.ts";

export interface ServerConfig {
  model: string;
  /** As given on the command line ("0", "/dev/video2", "clip.mjpeg", "http://..."). */
  cam: string;
  threshold: number;
  /** Requested capture size (the actual one comes from status()). */
  width: number;
  height: number;
  outdir: string;
  cooldownSec: number;
  version: string;
  /** Informational: /status reports the archive's own retention (archive.retention). */
  keepDays?: number;
  maxEvents?: number;
  minFreeMb?: number;
  /** HTTP Basic credentials for every route; null/undefined = open (as the original). */
  auth?: BasicAuth | null;
}

export interface ServerDeps {
  config: ServerConfig;
  latest(): FrameState | null;
  annotatedJpeg(): Uint8Array | null;
  wantAnnotated(on: boolean): void;
  onFrame(cb: (s: FrameState) => void): () => void;
  status(): PipelineStatus;
  snapshot(): Promise<EventRecord | null>;
  noSignalJpeg(reason: string): Uint8Array;
  archive: Archive;
  startedAt: number;
  /** MQTT, webhooks and the telemetry behind /metrics and /healthz (src/integrations/). */
  integrations?: Integrations;
}

const GALLERY_PAGE_SIZE = 48;
const DASHBOARD_RECENT = 9;
const NO_STORE = "no-store, no-cache, must-revalidate, max-age=0";
/** /snapshot: bursts of 3, then 1 per second, so a poller cannot fill the card. */
export const SNAPSHOT_BURST = 3;
export const SNAPSHOT_PER_SEC = 1;

function json(body: unknown, status = 200, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": NO_STORE,
      ...extra,
    },
  });
}

function page(body: JSX.Element, status = 200): Response {
  return new Response(`<!doctype html>${String(body)}`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": NO_STORE },
  });
}

const round2 = (v: number): number => (Number.isFinite(v) ? Math.round(v * 100) / 100 : 0);

function wantsHtml(request: Request): boolean {
  return (request.headers.get("accept") ?? "").includes("text/html");
}

function searchParams(request: Request): URLSearchParams {
  const url = request.url;
  const q = url.indexOf("?");
  return new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
}

/** The raw (still percent-encoded) path of a request. */
function rawPath(request: Request): string {
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

const ID_RE = /^[1-9]\d{0,14}$/;

export function buildStatus(deps: ServerDeps, hub: StreamHub): StatusJson {
  const c = deps.config;
  const st = deps.status();
  const a = deps.archive.stats();
  const r = deps.archive.retention;
  return {
    model: c.model,
    cam_index: /^\d{1,6}$/.test(c.cam) ? Number(c.cam) : c.cam,
    capture: { w: st.actualWidth || c.width, h: st.actualHeight || c.height },
    thresh: c.threshold,
    people: st.online ? st.people : 0,
    infer_ms: round2(st.inferMs),
    fps: round2(st.captureFps),
    outdir: c.outdir,
    cooldown_sec: c.cooldownSec,
    backend: st.backend,
    online: st.online,
    offline_reason: st.online ? null : (st.offlineReason ?? "no frames yet"),
    detect_fps: round2(st.detectFps),
    uptime_s: Math.max(0, Math.floor((Date.now() - deps.startedAt) / 1000)),
    clients: hub.videoClients,
    sse_clients: hub.sseClients,
    events_total: a.total,
    disk_free_mb: a.diskFreeMb,
    version: c.version,
    retention: { keep_days: r.keepDays, max_events: r.maxEvents, min_free_mb: r.minFreeMb },
    last_error: st.lastError,
    storage_error: a.lastError,
    frames_corrupt: st.framesCorrupt,
    frames_dropped: st.framesDropped,
    source: st.source,
    requested: { w: c.width, h: c.height },
    tflite_version: st.tfliteVersion,
    edgetpu_version: st.edgetpuVersion,
    oldest_event: a.oldest,
    newest_event: a.newest,
    integrations: deps.integrations?.status() ?? null,
    stage_ms: stageMs(deps.latest()),
  };
}

/** Per-stage times of the newest frame in ms (grab includes waiting for the camera). */
function stageMs(f: FrameState | null): StatusJson["stage_ms"] {
  if (!f) return null;
  const s = f.stageMs;
  return {
    grab: round2(s.grab),
    decode: round2(s.decode),
    resize: round2(s.resize),
    infer: round2(s.infer),
  };
}

function buildApp(deps: ServerDeps, hub: StreamHub) {
  const info: PageInfo = { version: deps.config.version, model: deps.config.model };
  const archive = deps.archive;
  const auth = deps.config.auth ?? null;

  const notFound = (request: Request): Response =>
    wantsHtml(request)
      ? page(<NotFoundPage info={info} />, 404)
      : json({ error: "not_found" }, 404);

  const snapshotLimit = new TokenBucket(SNAPSHOT_PER_SEC, SNAPSHOT_BURST);

  async function snapshot(): Promise<Response> {
    const waitMs = snapshotLimit.take();
    if (waitMs > 0) {
      const retrySec = Math.ceil(waitMs / 1000);
      return json(
        {
          error: "rate_limited",
          reason: `at most ${SNAPSHOT_PER_SEC} snapshot per second (bursts of ${SNAPSHOT_BURST}): try again in ${retrySec} s`,
          retry_after_s: retrySec,
        },
        429,
        { "retry-after": String(retrySec) },
      );
    }
    let rec: EventRecord | null;
    try {
      rec = await deps.snapshot();
    } catch (e) {
      return json({ error: "save_failed", reason: (e as Error).message }, 503);
    }
    if (!rec) {
      if (!deps.latest()) {
        const st = deps.status();
        return json(
          { error: "no_frame", reason: st.offlineReason ?? "no frame captured yet" },
          503,
          { "retry-after": "1" },
        );
      }
      return json(
        { error: "save_failed", reason: archive.stats().lastError ?? "the snapshot was not saved" },
        503,
      );
    }
    return new Response(null, {
      status: 302,
      headers: { location: `/out/${rec.file}`, "cache-control": NO_STORE },
    });
  }

  return (
    new Elysia()
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
        if (code === "NOT_FOUND") return notFound(request);
        if (code === "PARSE" || code === "VALIDATION" || code === "INVALID_COOKIE_SIGNATURE") {
          return json({ error: "bad_request", reason: String(code) }, 400);
        }
        const msg = error instanceof Error ? error.message : String(error);
        log.once(`route:${msg}`, "error", `${request.method} ${rawPath(request)} failed: ${msg}`);
        return json({ error: "internal", reason: msg }, 500);
      })
      .get("/", () => {
        const st = deps.status();
        const frame = deps.latest();
        return page(
          <Dashboard
            info={info}
            online={st.online}
            offlineReason={st.online ? null : (st.offlineReason ?? "no frames yet")}
            backend={st.backend}
            people={frame?.people ?? 0}
            fps={st.captureFps}
            detectFps={st.detectFps}
            inferMs={st.inferMs}
            width={st.actualWidth || deps.config.width}
            height={st.actualHeight || deps.config.height}
            threshold={deps.config.threshold}
            source={st.source || deps.config.cam}
            clients={hub.videoClients}
            eventsTotal={archive.count()}
            recent={archive.list({ limit: DASHBOARD_RECENT })}
          />,
        );
      })
      .get("/video", ({ request }) => {
        const sp = searchParams(request);
        const raw = flagParam(sp, "raw");
        const fps = fpsParam(sp, "fps", 60) ?? null;
        return hub.video({ raw, fps, signal: request.signal });
      })
      // Elysia answers HEAD by running GET and measuring the whole body: endless for a stream.
      .head("/video", () => new Response(null, { headers: hub.videoHeaders() }))
      .head("/api/stream", () => new Response(null, { headers: hub.sseHeaders() }))
      .get("/api/stream", ({ request }) => {
        const sp = searchParams(request);
        const fps = fpsParam(sp, "fps", 30) ?? 15;
        return hub.sse({ fps, signal: request.signal });
      })
      .get("/status", () => json(buildStatus(deps, hub)))
      .get("/snapshot", () => snapshot())
      .post("/snapshot", () => snapshot(), { parse: "none" })
      .head("/snapshot", () => new Response(null, { status: 405, headers: { allow: "GET, POST" } }))
      .get("/latest.jpg", () => {
        hub.noteLatestDemand();
        const frame = deps.latest();
        const st = frame ? null : deps.status();
        const body = frame
          ? (deps.annotatedJpeg() ?? frame.jpeg)
          : deps.noSignalJpeg(st?.offlineReason ?? "no frames yet");
        return new Response(body, {
          headers: {
            "content-type": "image/jpeg",
            "cache-control": NO_STORE,
            pragma: "no-cache",
            "x-hazardcam-online": frame ? "1" : "0",
          },
        });
      })
      .get("/events", ({ request }) => {
        const sp = searchParams(request);
        const pageNo = intParam(sp, "page", 1, 1_000_000) ?? 1;
        const before = timeParam(sp, "before");
        const day = dayParam(sp);
        const reason = reasonParam(sp);
        const q = { before, day, reason };
        const matching = archive.count(q);
        const total = day || reason || before !== undefined ? archive.count() : matching;
        const pages = Math.max(1, Math.ceil(matching / GALLERY_PAGE_SIZE));
        const events = archive.list({
          ...q,
          limit: GALLERY_PAGE_SIZE,
          offset: (pageNo - 1) * GALLERY_PAGE_SIZE,
        });
        const pageHref = (n: number): string => {
          const p = new URLSearchParams();
          if (day) p.set("day", day);
          if (reason) p.set("reason", reason);
          if (before !== undefined) p.set("before", String(before));
          if (n > 1) p.set("page", String(n));
          const s = p.toString();
          return s ? `/events?${s}` : "/events";
        };
        return page(
          <Gallery
            info={info}
            events={events}
            total={total}
            matching={matching}
            page={pageNo}
            pages={pages}
            day={day}
            reason={reason}
            days={archive.days()}
            pageHref={pageHref}
          />,
        );
      })
      .get("/events/:id", ({ params, request }) => {
        const e = ID_RE.test(params.id) ? archive.get(Number(params.id)) : null;
        if (!e) return notFound(request);
        const { newer, older } = archive.neighbors(e);
        return page(<EventPage info={info} e={e} newer={newer} older={older} />);
      })
      .get("/out/*", ({ request }) => {
        const path = rawPath(request);
        const res = serveArchiveFile(archive, path.slice("/out/".length), request);
        return res ?? notFound(request);
      })
      .get("/api/events", ({ request }) => {
        const sp = searchParams(request);
        const limit = intParam(sp, "limit", 1, MAX_LIMIT) ?? 100;
        const offset = intParam(sp, "offset", 0, 1_000_000_000) ?? 0;
        const q = {
          before: timeParam(sp, "before"),
          after: timeParam(sp, "after"),
          reason: reasonParam(sp),
          day: dayParam(sp),
        };
        const order = orderParam(sp) ?? "desc";
        const events = archive.list({ ...q, limit, offset, order });
        const total = archive.count(q);
        let next: string | null = null;
        const lastEvent = events[events.length - 1];
        if (events.length === limit && lastEvent && offset + limit < total) {
          const p = new URLSearchParams();
          for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
          p.set("limit", String(limit));
          p.set("offset", String(offset + limit));
          if (order === "asc") p.set("order", "asc");
          next = `/api/events?${p}`;
        }
        return json({ total, count: events.length, events: events.map((e) => eventJson(e)), next });
      })
      .get("/api/events/:id", ({ params }) => {
        const e = ID_RE.test(params.id) ? archive.get(Number(params.id)) : null;
        return e ? json(eventJson(e)) : json({ error: "not_found", id: params.id }, 404);
      })
      .get("/favicon.ico", () => new Response(null, { status: 204 }))
      // Integrations (src/integrations/). Behind auth like every route: the people count and the
      // uptime tell when a house is empty, and Prometheus and uptime monitors send Basic auth.
      .get("/metrics", () =>
        metricsResponse({
          status: deps.status(),
          latest: deps.latest(),
          telemetry: deps.integrations?.telemetry ?? null,
          videoClients: hub.videoClients,
          sseClients: hub.sseClients,
          eventsStored: archive.count(),
          diskFreeBytes: diskFreeBytes(deps.config.outdir),
          version: deps.config.version,
          startedAt: deps.startedAt,
          integrations: deps.integrations?.status() ?? null,
        }),
      )
      .get("/healthz", () =>
        healthResponse({
          status: deps.status(),
          latest: deps.latest(),
          telemetry: deps.integrations?.telemetry ?? null,
        }),
      )
  );
}

export type HazardcamServer = ReturnType<typeof buildApp> & {
  /** Ends every open /video and /api/stream response (app.stop also does it). */
  closeStreams(): void;
  readonly streams: StreamHub;
};

export function createServer(deps: ServerDeps): HazardcamServer {
  const hub = new StreamHub({
    latest: () => deps.latest(),
    annotatedJpeg: () => deps.annotatedJpeg(),
    wantAnnotated: (on) => deps.wantAnnotated(on),
    onFrame: (cb) => deps.onFrame(cb),
    online: () => deps.status().online,
    offlineReason: () => deps.status().offlineReason ?? "no frames yet",
    noSignalJpeg: (reason) => deps.noSignalJpeg(reason),
    archive: deps.archive,
    threshold: deps.config.threshold,
    statusJson: () => {
      const s = buildStatus(deps, hub);
      return {
        online: s.online,
        offline_reason: s.offline_reason,
        backend: s.backend,
        clients: s.clients,
        events_total: s.events_total,
        people: s.people,
        fps: s.fps,
        detect_fps: s.detect_fps,
        infer_ms: s.infer_ms,
      };
    },
  });
  const app = buildApp(deps, hub);
  app.onStop(() => hub.closeAll());
  return Object.assign(app, { closeStreams: () => hub.closeAll(), streams: hub });
}
