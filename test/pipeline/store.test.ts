/**
 * The pipeline's latest-state store: what HTTP reads, what listeners hear (frames, results,
 * status changes), that one failing listener harms nobody, and that an offline camera reports
 * no frame rate.
 */
import { describe, expect, test } from "bun:test";
import { PipelineStore } from "../../src/pipeline/store.ts";
import type { PipelineStatus } from "../../src/shared/status.ts";
import type { DetectionResult, FrameState } from "../../src/shared/types.ts";
import type { CaptureStatus, DetectorInfo } from "../../src/workers/protocol.ts";
import { memoryLog } from "../unit/fake-capture.ts";

const ONLINE: CaptureStatus = {
  online: true,
  offlineReason: null,
  captureFps: 29.9,
  framesCorrupt: 1,
  framesDropped: 2,
  lastError: null,
};

const DETECTOR: DetectorInfo = {
  backend: "edgetpu",
  tfliteVersion: "2.5.0",
  edgetpuVersion: "16.0",
  modelPath: "m_edgetpu.tflite",
  warnings: [],
  inputWidth: 300,
  inputHeight: 300,
};

function frame(seq: number, over: Partial<FrameState> = {}): FrameState {
  return {
    seq,
    grabbedAt: 1_700_000_000_000 + seq * 33,
    width: 640,
    height: 480,
    jpeg: new Uint8Array([0xff, 0xd8, seq, 0xff, 0xd9]),
    detections: [],
    people: 2,
    inferMs: 8.5,
    detectSeq: seq,
    captureFps: 29.9,
    detectFps: 25,
    stageMs: { grab: 1, decode: 2, resize: 1, infer: 8.5 },
    ...over,
  };
}

function result(detectSeq: number): DetectionResult {
  return {
    detectSeq,
    frameSeq: detectSeq,
    grabbedAt: 0,
    width: 640,
    height: 480,
    detections: [],
    people: 0,
    inferMs: 8,
    low: [],
    jpeg: new Uint8Array(0),
  };
}

function store() {
  const log = memoryLog();
  const s = new PipelineStore({ source: "/dev/video0", model: "m_edgetpu.tflite", log });
  return { s, log };
}

describe("status", () => {
  test("before any Worker reports: starting, the configured camera and model", () => {
    const { s } = store();
    expect(s.status()).toEqual({
      online: false,
      offlineReason: "starting",
      backend: null,
      tfliteVersion: null,
      edgetpuVersion: null,
      modelPath: "m_edgetpu.tflite",
      captureFps: 0,
      detectFps: 0,
      inferMs: 0,
      people: 0,
      framesCorrupt: 0,
      framesDropped: 0,
      lastError: null,
      source: "/dev/video0",
      actualWidth: 0,
      actualHeight: 0,
    });
    expect(s.latest()).toBeNull();
  });

  test("running: the camera, the detector and the newest frame's figures", () => {
    const { s } = store();
    s.setDetector(DETECTOR, null);
    s.setSource({
      description: "/dev/video0 MJPG 640x480",
      width: 640,
      height: 480,
      format: "MJPG",
      sizeNote: null,
    });
    s.setFrame(frame(1), null, ONLINE);
    expect(s.status()).toMatchObject({
      online: true,
      offlineReason: null,
      backend: "edgetpu",
      edgetpuVersion: "16.0",
      captureFps: 29.9,
      detectFps: 25,
      inferMs: 8.5,
      people: 2,
      framesCorrupt: 1,
      framesDropped: 2,
      source: "/dev/video0 MJPG 640x480",
      actualWidth: 640,
    });
  });

  test("offline: no frame, and a capture rate of 0 instead of the last one", () => {
    const { s } = store();
    s.setFrame(frame(1), null, ONLINE);
    const reason = "camera /dev/video0: the camera disappeared (unplugged?)";
    // The capture Worker's status keeps its last rate: the store does not show it.
    s.setCapture({ ...ONLINE, online: false, offlineReason: reason, lastError: reason });
    expect(s.status()).toMatchObject({
      online: false,
      offlineReason: reason,
      captureFps: 0,
      detectFps: 0,
      people: 0,
      lastError: reason,
    });
    expect(s.latest()).toBeNull();
  });

  test("a dead capture Worker: offline with the reason; its counters are kept", () => {
    const { s } = store();
    s.setFrame(frame(7), null, ONLINE);
    s.captureDown("capture loop bug");
    expect(s.status()).toMatchObject({
      online: false,
      offlineReason: "capture stopped (capture loop bug); restarting",
      lastError: "capture loop bug",
      captureFps: 0,
      framesCorrupt: 1,
    });
    expect(s.resumePoint()).toEqual({ frameSeq: 7, detectSeq: 7 });
    s.setFrame(frame(8), null, { ...ONLINE, framesCorrupt: 1 });
    expect(s.status().framesCorrupt).toBe(2);
  });

  test("the detector: switches, reopening (no backend), errors as last_error", () => {
    const { s } = store();
    s.setDetector(DETECTOR, null);
    s.setDetector(null, "edgetpu: inference failed");
    expect(s.status()).toMatchObject({ backend: null, lastError: "edgetpu: inference failed" });
    s.setDetector({ ...DETECTOR, backend: "cpu" }, "edgetpu: inference failed");
    expect(s.status().backend).toBe("cpu");
    s.detectError("invoke failed");
    expect(s.status().lastError).toBe("invoke failed");
  });
});

describe("listeners", () => {
  test("frame, result and status events; each `on` returns its unsubscribe", () => {
    const { s } = store();
    const frames: number[] = [];
    const results: number[] = [];
    const statuses: PipelineStatus[] = [];
    const offFrame = s.on("frame", (f) => frames.push(f.seq));
    s.on("result", (r) => results.push(r.detectSeq));
    s.on("status", (st) => statuses.push(st));
    s.setFrame(frame(1), null, ONLINE);
    s.setResult(result(1));
    s.setFrame(frame(2), null, { ...ONLINE, captureFps: 30.1 });
    offFrame();
    s.setFrame(frame(3), null, ONLINE);
    expect(frames).toEqual([1, 2]);
    expect(results).toEqual([1]);
    // Online once; the frame rate changing is no status change.
    expect(statuses.map((st) => st.online)).toEqual([true]);
    s.setCapture({ ...ONLINE, online: false, offlineReason: "stalled" });
    s.setCapture({ ...ONLINE, online: false, offlineReason: "stalled" });
    expect(statuses.map((st) => st.offlineReason)).toEqual([null, "stalled"]);
    expect(statuses[1]?.captureFps).toBe(0);
  });

  test("a listener that throws is logged once; the others still hear every frame", () => {
    const { s, log } = store();
    const heard: number[] = [];
    s.on("frame", () => {
      throw new Error("tracker bug");
    });
    s.on("frame", (f) => heard.push(f.seq));
    for (let i = 1; i <= 3; i++) s.setFrame(frame(i), null, ONLINE);
    expect(heard).toEqual([1, 2, 3]);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toContain('a "frame" listener failed: tracker bug');
    expect(s.latest()?.seq).toBe(3);
  });

  test("annotated frames only while wanted; the change is an event", () => {
    const { s } = store();
    const wants: boolean[] = [];
    s.on("want-annotated", (on) => wants.push(on));
    const ann = new Uint8Array([1]);
    s.setFrame(frame(1), ann, ONLINE);
    expect(s.annotatedJpeg()).toBeNull();
    s.setWantAnnotated(true);
    s.setWantAnnotated(true);
    s.setFrame(frame(2), ann, ONLINE);
    expect(s.annotatedJpeg()).toBe(ann);
    s.setWantAnnotated(false);
    expect(s.annotatedJpeg()).toBeNull();
    expect(wants).toEqual([true, false]);
  });
});
