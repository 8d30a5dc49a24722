/**
 * /metrics, /healthz and the integrations section of /status, on the HTTP app with a fake
 * pipeline (app.handle, no port). /metrics is read by a Prometheus text parser from npm and by
 * a strict grammar check (promtext.ts).
 */
import { afterEach, describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { createServer, type HazardcamServer } from "../../src/http/server.tsx";
import { checkHealth } from "../../src/integrations/health.ts";
import type { Integrations } from "../../src/integrations/index.ts";
import { METRICS_CONTENT_TYPE } from "../../src/integrations/metrics.ts";
import { Telemetry } from "../../src/integrations/telemetry.ts";
import { setQuiet } from "../../src/shared/log.ts";
import type { FrameState } from "../../src/shared/types.ts";
import { makeFake, taggedJpeg, type Fake } from "../http/fake-deps.ts";
import { parsePromText } from "./promtext.ts";
import { wireIntegrations } from "./wired.ts";

setQuiet(true);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  fake: Fake;
  app: HazardcamServer;
  integ: Integrations;
  /**
   * Publishes a frame whose detection result took `inferMs`: a new result, or the one numbered
   * `detectSeq` (FrameState.detectSeq) when given.
   */
  frame(inferMs: number, people?: number, detectSeq?: number): FrameState;
}

function setup(opts: Parameters<typeof makeFake>[0] = {}, webhooks: string[] = []): Setup {
  const w = wireIntegrations(
    { mqtt: null, webhooks, publicUrl: "http://cam.local:8080" },
    cleanups,
    { fake: opts },
  );
  let results = 0;
  return {
    ...w,
    frame(inferMs, people = 1, detectSeq) {
      results = detectSeq ?? results + 1;
      const s = { ...w.fake.publish(), inferMs, people, detectSeq: results };
      w.emit(s);
      return s;
    },
  };
}

function get(app: HazardcamServer, path: string, init: RequestInit = {}): Promise<Response> {
  return app.handle(new Request(`http://localhost${path}`, init));
}

async function save(fake: Fake, reason: "auto" | "snapshot"): Promise<void> {
  await fake.archive.save({
    jpeg: taggedJpeg("ev"),
    thumbJpeg: taggedJpeg("th"),
    reason,
    at: new Date(),
    people: 2,
    detections: [],
    inferMs: 9,
    fps: 10,
  });
}

const value = (
  fams: ReturnType<typeof parsePromText>,
  name: string,
  labels: Record<string, string> = {},
  sample = name,
): number | undefined =>
  fams
    .get(name)
    ?.samples.find(
      (s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    )?.value;

describe("/metrics", () => {
  test("valid Prometheus text with every family the issue asks for", async () => {
    const { app, fake, frame } = setup({}, ["http://127.0.0.1:9/hook?token=secret"]);
    for (const ms of [6, 7.5, 12, 40, 40.5, 180, 700]) frame(ms);
    await save(fake, "auto");
    await save(fake, "auto");
    await save(fake, "snapshot");
    const res = await get(app, "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(METRICS_CONTENT_TYPE);
    const text = await res.text();

    // The npm parser (prom2json's shape) reads it...
    const parsed = parsePrometheusTextFormat(text);
    const byName = new Map(parsed.map((f) => [f.name, f]));
    expect(byName.get("hazardcam_people")?.type).toBe("GAUGE");
    expect(byName.get("hazardcam_inference_seconds")?.type).toBe("HISTOGRAM");
    expect(byName.get("hazardcam_events_saved_total")?.type).toBe("COUNTER");
    const hist = byName.get("hazardcam_inference_seconds")?.metrics[0];
    expect(hist?.count).toBe("7");
    expect(hist?.buckets?.["+Inf"]).toBe("7");
    expect(hist?.buckets?.["0.01"]).toBe("2");

    // ...and so does the strict one, which also checks the grammar and the family rules.
    const fams = parsePromText(text);
    for (const f of fams.values()) {
      expect(f.help).not.toBeNull();
      expect(f.name.startsWith("hazardcam_")).toBe(true);
    }
    const types = Object.fromEntries([...fams.values()].map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      hazardcam_capture_fps: "gauge",
      hazardcam_detect_fps: "gauge",
      hazardcam_inference_seconds: "histogram",
      hazardcam_people: "gauge",
      hazardcam_events_saved_total: "counter",
      hazardcam_frames_dropped_total: "counter",
      hazardcam_frames_corrupt_total: "counter",
      hazardcam_stream_clients: "gauge",
      hazardcam_disk_free_bytes: "gauge",
      hazardcam_camera_online: "gauge",
      hazardcam_backend_info: "gauge",
      hazardcam_build_info: "gauge",
      hazardcam_webhook_deliveries_total: "counter",
    });
    expect(value(fams, "hazardcam_capture_fps")).toBe(29.97);
    expect(value(fams, "hazardcam_detect_fps")).toBe(14.5);
    expect(value(fams, "hazardcam_people")).toBe(1);
    expect(value(fams, "hazardcam_camera_online")).toBe(1);
    expect(value(fams, "hazardcam_frames_dropped_total")).toBe(5);
    expect(value(fams, "hazardcam_frames_corrupt_total")).toBe(3);
    expect(value(fams, "hazardcam_backend_info", { backend: "cpu" })).toBe(1);
    expect(value(fams, "hazardcam_build_info", { version: "0.1.0-test" })).toBe(1);
    expect(value(fams, "hazardcam_events_saved_total", { reason: "auto" })).toBe(2);
    expect(value(fams, "hazardcam_events_saved_total", { reason: "snapshot" })).toBe(1);
    expect(value(fams, "hazardcam_events_stored")).toBe(3);
    expect(value(fams, "hazardcam_stream_clients", { kind: "video" })).toBe(0);
    expect(value(fams, "hazardcam_disk_free_bytes")).toBeGreaterThan(0);
    // Inference times in seconds, one observation per new detection result.
    const b = (le: string): number | undefined =>
      value(fams, "hazardcam_inference_seconds", { le }, "hazardcam_inference_seconds_bucket");
    expect(b("0.005")).toBe(0);
    expect(b("0.0075")).toBe(2);
    expect(b("0.05")).toBe(5);
    expect(b("0.2")).toBe(6);
    expect(b("0.5")).toBe(6);
    expect(b("+Inf")).toBe(7);
    const sum = value(fams, "hazardcam_inference_seconds", {}, "hazardcam_inference_seconds_sum");
    expect(sum).toBeCloseTo(0.986, 6);
    // A webhook's token never shows.
    expect(text).not.toContain("secret");
  });

  test("detection results are counted by FrameState.detectSeq, not by frames", async () => {
    const { app, frame } = setup();
    const count = async (): Promise<number | undefined> =>
      value(
        parsePromText(await (await get(app, "/metrics")).text()),
        "hazardcam_inference_seconds",
        {},
        "hazardcam_inference_seconds_count",
      );
    // The same result on many frames is one observation.
    for (let i = 0; i < 5; i++) frame(20, 1, 1);
    frame(21, 1, 2);
    frame(21, 1, 2);
    expect(await count()).toBe(2);
    // A new result that took exactly as long as the last is still a new one.
    frame(21, 1, 3);
    expect(await count()).toBe(3);
    // Two results between two frames (a detector faster than the camera): both count.
    frame(8, 1, 5);
    expect(await count()).toBe(5);
  });

  test("offline: camera_online 0, people 0, no frame age; still valid", async () => {
    const { app, fake } = setup();
    fake.setOffline("device unplugged");
    const fams = parsePromText(await (await get(app, "/metrics")).text());
    expect(value(fams, "hazardcam_camera_online")).toBe(0);
    expect(value(fams, "hazardcam_people")).toBe(0);
    expect(fams.has("hazardcam_frame_age_seconds")).toBe(false);
  });

  test("label values are escaped", async () => {
    const { app, fake } = setup();
    const status = fake.deps.status;
    fake.deps.status = () => ({ ...status(), tfliteVersion: 'a"b\\c\nd' });
    const fams = parsePromText(await (await get(app, "/metrics")).text());
    const s = fams.get("hazardcam_build_info")?.samples[0];
    expect(s?.labels.tflite_version).toBe('a"b\\c\nd');
  });

  test("the strict parser rejects what Prometheus rejects", () => {
    const ok = "# HELP a_total x\n# TYPE a_total counter\na_total 1\n";
    expect(() => parsePromText(ok)).not.toThrow();
    for (const bad of [
      "a 1", // no final newline
      'a{b="c} 1\n',
      'a{b="\\x"} 1\n',
      "a one\n",
      "1a 1\n",
      "# TYPE a counter\na -1\n",
      "a 1\nb 1\na 2\n",
      "a 1\n# TYPE a gauge\n",
      "a 1\na 2\n",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
    ]) {
      expect(() => parsePromText(bad)).toThrow();
    }
  });
});

describe("/healthz", () => {
  test("200 ok while frames are fresh and the detector produces results", async () => {
    const { app, frame } = setup();
    frame(12);
    const res = await get(app, "/healthz");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(res.headers.get("cache-control")).toContain("no-store");
  });

  test("503 with the reason: offline, stale frames, a stalled detector", async () => {
    const { app, fake, frame } = setup();
    fake.setOffline("no frames for 2.0 s");
    let res = await get(app, "/healthz");
    expect(res.status).toBe(503);
    const offline = (await res.json()) as { status: string; reason: string };
    expect(offline.status).toBe("unhealthy");
    expect(offline.reason).toBe("camera offline: no frames for 2.0 s");

    const f = frame(12);
    const latest = fake.deps.latest;
    fake.deps.latest = () => ({ ...f, grabbedAt: Date.now() - 9000 });
    res = await get(app, "/healthz");
    expect(res.status).toBe(503);
    const stale = (await res.json()) as { reason: string; frame_age_s: number };
    expect(stale.reason).toMatch(/^last frame (9|8\.9|9\.\d) s ago$/);
    expect(stale.frame_age_s).toBeGreaterThanOrEqual(8.9);
    fake.deps.latest = latest;
  });

  test("the detector's health, with explicit clocks", () => {
    const t = new Telemetry(1_000_000);
    const { fake } = setup();
    const f = fake.publish();
    const status = fake.deps.status();
    const at = (now: number, latest: FrameState | null = { ...f, grabbedAt: now - 100 }) =>
      checkHealth({ status, latest, telemetry: t, now });
    // Within the grace period after start, no result yet is fine.
    expect(at(1_003_000).ok).toBe(true);
    expect(at(1_006_000).reason).toBe("no detection result yet");
    t.observeFrame({ ...f, inferMs: 10 }, 1_006_000);
    expect(at(1_007_000).ok).toBe(true);
    expect(at(1_012_000).reason).toBe("no detection result for 6.0 s");
    expect(
      checkHealth({ status: { ...status, backend: null }, latest: f, telemetry: t }).reason,
    ).toBe("detector not loaded");
    // Without telemetry, detect_fps stands in.
    expect(
      checkHealth({ status: { ...status, detectFps: 0 }, latest: f, telemetry: null }).ok,
    ).toBe(false);
    expect(checkHealth({ status, latest: f, telemetry: null }).ok).toBe(true);
  });
});

describe("/status and auth", () => {
  test("/status has an integrations section with the webhooks (URLs redacted)", async () => {
    const { app } = setup({}, ["http://user:pw@127.0.0.1:9/hook"]);
    const s = (await (await get(app, "/status")).json()) as {
      integrations: { mqtt: unknown; webhooks: { url: string; delivered: number }[] };
    };
    expect(s.integrations.mqtt).toBeNull();
    expect(s.integrations.webhooks).toHaveLength(1);
    expect(s.integrations.webhooks[0]?.url).toBe("http://user:***@127.0.0.1:9/hook");
  });

  test("without integrations /status says null and /metrics still answers", async () => {
    const fake = makeFake();
    const app = createServer(fake.deps);
    cleanups.push(() => fake.cleanup());
    const s = (await (await get(app, "/status")).json()) as { integrations: unknown };
    expect(s.integrations).toBeNull();
    const fams = parsePromText(await (await get(app, "/metrics")).text());
    expect(fams.has("hazardcam_inference_seconds")).toBe(false);
    expect(value(fams, "hazardcam_people")).toBe(1);
  });

  test("with --auth, /metrics and /healthz need the credentials like every route", async () => {
    const auth = { user: "admin", pass: "pw" };
    const { app, frame } = setup({ config: { auth } });
    frame(10);
    for (const p of ["/metrics", "/healthz"]) {
      expect((await get(app, p)).status).toBe(401);
      const ok = await get(app, p, {
        headers: { authorization: `Basic ${btoa("admin:pw")}` },
      });
      expect(ok.status).toBe(200);
    }
  });
});
