/**
 * /metrics in the Prometheus text exposition format 0.0.4: one HELP and one TYPE line per
 * family, then its samples. Times are in seconds (Prometheus' base unit).
 */
import { statfsSync } from "node:fs";
import type { IntegrationsStatus, PipelineStatus, SceneStatusJson } from "../shared/status.ts";
import type { FrameState } from "../shared/types.ts";
import type { Telemetry } from "./telemetry.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface MetricsInput {
  status: PipelineStatus;
  latest: FrameState | null;
  telemetry: Telemetry | null;
  videoClients: number;
  sseClients: number;
  /** Dashboard tabs on the WebSocket and the JPEGs sent to them since start (absent: none). */
  wsClients?: number;
  wsFramesSent?: number;
  eventsStored: number;
  /** Free bytes for unprivileged users on outdir's file system; null if unknown. */
  diskFreeBytes: number | null;
  version: string;
  /** Date.now() at start. */
  startedAt: number;
  integrations: IntegrationsStatus | null;
  now?: number;
  /** The live scene now (issue 11); absent or null: no scene metrics. */
  scene?: SceneStatusJson | null;
}

type Labels = Record<string, string>;
type Sample = { suffix?: string; labels?: Labels; value: number };

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function formatBound(b: number): string {
  return b === Infinity ? "+Inf" : String(b);
}

class Exposition {
  private readonly out: string[] = [];

  family(
    name: string,
    type: "gauge" | "counter" | "histogram",
    help: string,
    samples: Sample[],
  ): void {
    if (samples.length === 0) return;
    this.out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const s of samples) {
      const labels = Object.entries(s.labels ?? {})
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(",");
      this.out.push(
        `${name}${s.suffix ?? ""}${labels ? `{${labels}}` : ""} ${formatValue(s.value)}`,
      );
    }
  }

  text(): string {
    return `${this.out.join("\n")}\n`;
  }
}

const round3 = (v: number): number => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : 0);

export function diskFreeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/** What runs: versions, backend, start time. */
function buildFamilies(x: Exposition, m: MetricsInput): void {
  const st = m.status;
  x.family("hazardcam_build_info", "gauge", "Build and library versions (value is always 1)", [
    {
      labels: {
        version: m.version,
        tflite_version: st.tfliteVersion ?? "",
        edgetpu_version: st.edgetpuVersion ?? "",
        bun_version: typeof Bun === "undefined" ? "" : Bun.version,
        arch: process.arch,
      },
      value: 1,
    },
  ]);
  x.family(
    "hazardcam_backend_info",
    "gauge",
    "Inference backend in use: edgetpu, cpu or none before the model is loaded (value is always 1)",
    [{ labels: { backend: st.backend ?? "none" }, value: 1 }],
  );
  x.family("hazardcam_start_time_seconds", "gauge", "Start time, seconds since the epoch", [
    { value: Math.floor(m.startedAt / 1000) },
  ]);
}

/** The camera and the detector right now. */
function cameraFamilies(x: Exposition, m: MetricsInput, now: number): void {
  const st = m.status;
  x.family("hazardcam_camera_online", "gauge", "1 while the camera delivers frames, else 0", [
    { value: st.online ? 1 : 0 },
  ]);
  x.family(
    "hazardcam_frame_age_seconds",
    "gauge",
    "Age of the newest frame (absent while offline)",
    m.latest ? [{ value: round3(Math.max(0, now - m.latest.grabbedAt) / 1000) }] : [],
  );
  x.family("hazardcam_capture_fps", "gauge", "Frames captured per second", [
    { value: round3(st.captureFps) },
  ]);
  x.family("hazardcam_detect_fps", "gauge", "Frames run through the detector per second", [
    { value: round3(st.detectFps) },
  ]);
  x.family("hazardcam_people", "gauge", "People in the newest detection result", [
    { value: st.online ? st.people : 0 },
  ]);
}

/** Counted since start: inference times and saved events by reason. */
function telemetryFamilies(x: Exposition, telemetry: Telemetry): void {
  const h = telemetry.inferSeconds.snapshot();
  const buckets: Sample[] = h.bounds.map((b, i) => ({
    suffix: "_bucket",
    labels: { le: formatBound(b) },
    value: h.cumulative[i] ?? 0,
  }));
  buckets.push({ suffix: "_bucket", labels: { le: "+Inf" }, value: h.count });
  x.family("hazardcam_inference_seconds", "histogram", "Time of one detector invocation", [
    ...buckets,
    { suffix: "_sum", value: Math.round(h.sum * 1e6) / 1e6 },
    { suffix: "_count", value: h.count },
  ]);
  x.family(
    "hazardcam_events_saved_total",
    "counter",
    "Events saved since start, by reason (auto: people seen; snapshot: asked for)",
    telemetry.savedByReason().map(([reason, n]) => ({ labels: { reason }, value: n })),
  );
}

/** The archive, the frames lost on the way, the stream clients and the disk. */
function serverFamilies(x: Exposition, m: MetricsInput): void {
  const st = m.status;
  x.family("hazardcam_events_stored", "gauge", "Events in the archive", [
    { value: m.eventsStored },
  ]);
  x.family(
    "hazardcam_frames_dropped_total",
    "counter",
    "Frames the camera delivered that were skipped (the pipeline was busy)",
    [{ value: st.framesDropped }],
  );
  x.family("hazardcam_frames_corrupt_total", "counter", "Frames that failed to decode", [
    { value: st.framesCorrupt },
  ]);
  x.family("hazardcam_stream_clients", "gauge", "Connected stream clients, by kind", [
    { labels: { kind: "video" }, value: m.videoClients },
    { labels: { kind: "sse" }, value: m.sseClients },
    { labels: { kind: "ws" }, value: m.wsClients ?? 0 },
  ]);
  x.family(
    "hazardcam_ws_frames_sent_total",
    "counter",
    "Frames sent to dashboard tabs over the WebSocket (hidden tabs get none)",
    [{ value: m.wsFramesSent ?? 0 }],
  );
  x.family(
    "hazardcam_disk_free_bytes",
    "gauge",
    "Free space for the event archive's file system",
    m.diskFreeBytes === null ? [] : [{ value: m.diskFreeBytes }],
  );
}

/** MQTT (when configured) and every webhook. */
function integrationFamilies(x: Exposition, integrations: IntegrationsStatus | null): void {
  const mqtt = integrations?.mqtt ?? null;
  if (mqtt) {
    x.family("hazardcam_mqtt_connected", "gauge", "1 while connected to the MQTT broker", [
      { value: mqtt.connected ? 1 : 0 },
    ]);
    x.family(
      "hazardcam_mqtt_events_dropped_total",
      "counter",
      "Events not published because the MQTT queue was full (broker unreachable or too slow)",
      [{ value: mqtt.dropped }],
    );
  }
  const hooks = integrations?.webhooks ?? [];
  x.family(
    "hazardcam_webhook_deliveries_total",
    "counter",
    "Webhook deliveries by URL (password and query hidden) and result",
    hooks.flatMap((w) => [
      { labels: { url: w.url, result: "ok" }, value: w.delivered },
      { labels: { url: w.url, result: "failed" }, value: w.failed },
      { labels: { url: w.url, result: "dropped" }, value: w.dropped },
    ]),
  );
}

/**
 * The live scene (issue 11): people per zone now, line crossings and visits since start (the
 * line totals since midnight are in /status and on MQTT; a counter must not go back at midnight).
 */
function sceneFamilies(x: Exposition, scene: SceneStatusJson, telemetry: Telemetry | null): void {
  x.family(
    "hazardcam_zone_people",
    "gauge",
    "People in each zone now (confirmed tracks whose feet are in it)",
    Object.entries(scene.zone_people).map(([zone, n]) => ({ labels: { zone }, value: n })),
  );
  if (!telemetry) return;
  x.family(
    "hazardcam_line_crossings_total",
    "counter",
    "Line crossings since start, by line and direction (in, out)",
    telemetry.crossingsByLine(Object.keys(scene.lines)).flatMap(([line, c]) => [
      { labels: { line, direction: "in" }, value: c.in },
      { labels: { line, direction: "out" }, value: c.out },
    ]),
  );
  x.family("hazardcam_visits_total", "counter", "Visits opened since start", [
    { value: telemetry.visitsOpened ?? 0 },
  ]);
}

export function renderMetrics(m: MetricsInput): string {
  const x = new Exposition();
  buildFamilies(x, m);
  cameraFamilies(x, m, m.now ?? Date.now());
  if (m.telemetry) telemetryFamilies(x, m.telemetry);
  serverFamilies(x, m);
  integrationFamilies(x, m.integrations);
  if (m.scene) sceneFamilies(x, m.scene, m.telemetry);
  return x.text();
}

export function metricsResponse(m: MetricsInput): Response {
  return new Response(renderMetrics(m), {
    headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" },
  });
}
