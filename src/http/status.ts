/** The /status JSON: the original's keys plus ours, from the config, the pipeline and the archive. */
import type { StatusJson } from "../shared/status.ts";
import type { FrameState } from "../shared/types.ts";
import type { ServerDeps, StreamCounts } from "./deps.ts";
import { sceneStatus } from "./scene-status.ts";

export type StatusDeps = Pick<
  ServerDeps,
  "config" | "status" | "archive" | "startedAt" | "integrations" | "latest" | "clips" | "scene"
>;

const round2 = (v: number): number => (Number.isFinite(v) ? Math.round(v * 100) / 100 : 0);

export function buildStatus(deps: StatusDeps, streams: StreamCounts): StatusJson {
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
    clients: streams.videoClients,
    sse_clients: streams.sseClients,
    ...liveStatus(streams.live),
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
    ...sceneStatus(deps.scene),
    integrations: deps.integrations?.status() ?? null,
    stage_ms: stageMs(deps.latest()),
    ...clipsStatus(deps),
  };
}

/** The WebSocket tabs' fields (zeros where the server runs none). */
function liveStatus(
  live: StreamCounts["live"],
): Pick<StatusJson, "ws_clients" | "ws_frames_sent" | "ws_tabs"> {
  return {
    ws_clients: live?.clients ?? 0,
    ws_frames_sent: live?.framesSent ?? 0,
    ws_tabs: (live?.tabs ?? []).map((t) => ({
      id: t.id,
      visible: t.visible,
      frames_sent: t.framesSent,
      frames_skipped: t.framesSkipped,
      buffered_bytes: t.bufferedBytes,
    })),
  };
}

/** The visit clips (issue 12): stored bytes and count, and the recorder. */
function clipsStatus(deps: StatusDeps): Pick<StatusJson, "clips_bytes" | "clips_total" | "clips"> {
  const c = deps.clips?.status();
  return { clips_bytes: c?.bytes ?? 0, clips_total: c?.total ?? 0, clips: c?.recorder ?? null };
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
