/**
 * What the running camera reports about itself: the pipeline's status (read by /status,
 * /metrics, /healthz and MQTT), the /status JSON, and the integrations' part of it. Plain data.
 */
import type { Backend } from "./types.ts";

/** What the pipeline reports about itself: read by /status, /metrics, /healthz and MQTT. */
export interface PipelineStatus {
  online: boolean;
  offlineReason: string | null;
  backend: Backend | null;
  tfliteVersion: string | null;
  edgetpuVersion: string | null;
  /** The model actually loaded (the CPU sibling after a fallback); absent before it loads. */
  modelPath?: string;
  captureFps: number;
  detectFps: number;
  inferMs: number;
  people: number;
  framesCorrupt: number;
  framesDropped: number;
  lastError: string | null;
  source: string;
  actualWidth: number;
  actualHeight: number;
}

/**
 * /status body. With the scene analyzer (issue 11) it also carries SceneStatusJson's fields
 * (tracks, zone_people, people_in_zones, lines, day, visit, zones_error); without it they are absent.
 */
export interface StatusJson extends Partial<SceneStatusJson> {
  model: string;
  cam_index: number | string;
  capture: { w: number; h: number };
  thresh: number;
  people: number;
  infer_ms: number;
  fps: number;
  outdir: string;
  cooldown_sec: number;
  backend: "edgetpu" | "cpu" | null;
  online: boolean;
  offline_reason: string | null;
  detect_fps: number;
  uptime_s: number;
  /** /video clients. */
  clients: number;
  /** Dashboards connected to /api/stream. */
  sse_clients: number;
  /** Dashboard tabs on the WebSocket /api/live (one socket per tab). */
  ws_clients: number;
  /** JPEG frames sent over /api/live since start, all tabs. */
  ws_frames_sent: number;
  /** The tabs on /api/live now: hidden ones get no frames, busy ones skip frames. */
  ws_tabs: {
    id: number;
    visible: boolean;
    frames_sent: number;
    frames_skipped: number;
    buffered_bytes: number;
  }[];
  events_total: number;
  disk_free_mb: number | null;
  version: string;
  retention: { keep_days: number; max_events: number; min_free_mb: number };
  last_error: string | null;
  storage_error: string | null;
  frames_corrupt: number;
  frames_dropped: number;
  source: string;
  requested: { w: number; h: number };
  tflite_version: string | null;
  edgetpu_version: string | null;
  oldest_event: number | null;
  newest_event: number | null;
  /** MQTT (connected, last_error...) and webhooks; null when none is set up. */
  integrations: IntegrationsStatus | null;
  stage_ms: { grab: number; decode: number; resize: number; infer: number } | null;
  /** Bytes of the visit clips and their indexes in <outdir>/clips (issue 12). */
  clips_bytes: number;
  /** Visit clips kept. */
  clips_total: number;
  /** The clip recorder now; null when it does not run (before startup is done, or in tests). */
  clips: ClipsStatusJson | null;
}

/** The clip recorder in /status (issue 12): the pre-roll buffer and the writer. */
export interface ClipsStatusJson {
  /** False with --no-clips (or --clip-pre 0 --clip-post 0): nothing is buffered or written. */
  enabled: boolean;
  /** The pre-roll ring: JPEG bytes held (+ 4 KB per frame), frames, and the capture time they
   *  span, against its budget (--clip-buffer-mb) and age bound (--clip-pre + margin). */
  buffer_bytes: number;
  buffer_frames: number;
  buffer_ms: number;
  buffer_max_bytes: number;
  buffer_max_ms: number;
  /** The clip being written, or null. */
  recording: { visit_id: number; part: number } | null;
  /** Frames waiting for the disk, and their bytes. */
  queue_frames: number;
  queue_bytes: number;
  /** Frames written since start, and frames dropped (queue full: the disk is too slow; or a
   *  failed clip). */
  written_frames: number;
  dropped_frames: number;
  /** The last write error (e.g. CLIP_DISK_FULL: …), or null. */
  last_error: string | null;
}

export interface IntegrationsStatus {
  mqtt: MqttStatus | null;
  webhooks: WebhookStatus[];
}

export interface MqttStatus {
  broker: string;
  topic: string;
  connected: boolean;
  /** Date.now() of the current connection, or of the loss of the last one. */
  since: number | null;
  last_error: string | null;
  /** Successful connections after the first. */
  reconnects: number;
  /** Events waiting for the broker. */
  queued: number;
  /** Events dropped because the queue was full. */
  dropped: number;
  published: number;
}

export interface WebhookStatus {
  /** The URL with its password and query hidden. */
  url: string;
  delivered: number;
  failed: number;
  dropped: number;
  queued: number;
  /** HTTP status of the last answer, null before the first or after a network error. */
  last_status: number | null;
  last_error: string | null;
}

/**
 * The live scene (issue 11) as /status, the SSE stream and the dashboard's WebSocket carry it:
 * who is tracked now, people per zone, line totals since local midnight, the open visit.
 * Boxes are [ymin, xmin, ymax, xmax], 0..1 of the picture.
 */
export interface SceneStatusJson {
  /** Confirmed tracks now. */
  tracks: { id: number; box: [number, number, number, number]; score: number; zones: string[] }[];
  /** People (confirmed tracks) per zone; every zone listed, 0 included. {} without zones. */
  zone_people: Record<string, number>;
  /** People in any zone (the whole picture without zones). */
  people_in_zones: number;
  /** Line totals since local midnight of `day`. */
  lines: Record<string, { in: number; out: number }>;
  /** Local day of the line totals, YYYY-MM-DD. */
  day: string;
  /** The open visit, or null. */
  visit: {
    id: number;
    start: number;
    people: number;
    max_people: number;
    zones: string[];
  } | null;
  /** Why the zones file was not applied (the last good one is in use), or null. */
  zones_error: string | null;
}
