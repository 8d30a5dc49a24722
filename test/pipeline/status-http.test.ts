/**
 * The store behind the real HTTP app, wired as src/serve.ts wires it: /status, /metrics and
 * /latest.jpg follow the camera going offline (no frame, a capture rate of 0, the reason).
 */
import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Archive } from "../../src/events/archive.ts";
import { createServer } from "../../src/http/server.tsx";
import { PipelineStore } from "../../src/pipeline/store.ts";
import { serverDeps } from "../../src/serve.ts";
import type { Config } from "../../src/shared/config.ts";
import { setQuiet } from "../../src/shared/log.ts";
import type { FrameState } from "../../src/shared/types.ts";
import type { CaptureStatus } from "../../src/workers/protocol.ts";
import { FIXTURE_JPEG } from "../http/fake-deps.ts";
import { parsePromText } from "../integrations/promtext.ts";

setQuiet(true);

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const ONLINE: CaptureStatus = {
  online: true,
  offlineReason: null,
  captureFps: 29.9,
  framesCorrupt: 0,
  framesDropped: 0,
  lastError: null,
};

function frame(seq: number): FrameState {
  return {
    seq,
    grabbedAt: Date.now(),
    width: 640,
    height: 480,
    jpeg: FIXTURE_JPEG,
    detections: [],
    people: 1,
    inferMs: 8,
    detectSeq: seq,
    captureFps: 29.9,
    detectFps: 12,
    stageMs: { grab: 1, decode: 2, resize: 1, infer: 8 },
  };
}

function setup() {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "hazardcam-store-http-"));
  const archive = Archive.open(dir, { keepDays: 0, minFreeMb: 0 });
  const config = { model: "m.tflite", cam: "0", width: 640, height: 480, outdir: dir } as Config;
  const store = new PipelineStore({ source: "0", model: "m.tflite" });
  const app = createServer(serverDeps(config, store, archive, Date.now(), () => null));
  cleanups.push(() => {
    app.closeStreams();
    archive.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const get = (path: string) => app.handle(new Request(`http://localhost${path}`));
  return { store, get };
}

test("offline: /status and /metrics say fps 0, /latest.jpg is the no-signal frame", async () => {
  const { store, get } = setup();
  store.setFrame(frame(1), null, ONLINE);
  store.setFrame(frame(2), null, ONLINE);
  let s = await (await get("/status")).json();
  expect(s).toMatchObject({ online: true, fps: 29.9, detect_fps: 12, people: 1 });

  const reason = "camera /dev/video0: the camera disappeared (unplugged?)";
  store.setCapture({ ...ONLINE, online: false, offlineReason: reason, lastError: reason });
  s = await (await get("/status")).json();
  expect(s).toMatchObject({
    online: false,
    offline_reason: reason,
    fps: 0,
    detect_fps: 0,
    people: 0,
    last_error: reason,
    stage_ms: null,
  });
  const metrics = parsePromText(await (await get("/metrics")).text());
  expect(metrics.get("hazardcam_capture_fps")?.samples[0]?.value).toBe(0);
  expect(metrics.get("hazardcam_camera_online")?.samples[0]?.value).toBe(0);
  expect(metrics.has("hazardcam_frame_age_seconds")).toBe(false);
  const latest = await get("/latest.jpg");
  expect(latest.headers.get("x-hazardcam-online")).toBe("0");
});

test("before the pipeline runs: starting, and /snapshot has nothing to save", async () => {
  const { get } = setup();
  const s = await (await get("/status")).json();
  expect(s).toMatchObject({ online: false, offline_reason: "starting", fps: 0, backend: null });
  expect((await get("/snapshot")).status).toBe(503);
});
