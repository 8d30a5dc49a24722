/**
 * The capture Worker: grabs the newest frame, decodes it, hands a model-sized copy to the detect
 * Worker whenever that one is idle, and publishes every frame to the main thread. It also draws
 * the annotated frames (only while someone watches) and the event images, so the HTTP thread
 * never decodes, resizes or encodes.
 */
import { createSource, SourceLost, type FrameSource, type RawFrame } from "../camera/source.ts";
import type { Config } from "../shared/config.ts";
import { Cooldown } from "../events/cooldown.ts";
import { annotate } from "../image/annotate.ts";
import { logger } from "../shared/log.ts";
import { configureLibs } from "../native/libs.ts";
import { jpegDecode, jpegEncode, resizeRgb, ShimError, yuyvToRgb } from "../native/shim.ts";
import type { Backend, Detection, FrameState } from "../shared/types.ts";
import {
  toWireError,
  type CaptureStatus,
  type DetectToCapture,
  type EventData,
  type FromCapture,
  type ToCapture,
} from "./protocol.ts";

declare const self: Worker;

const log = logger("cam");
const STREAM_QUALITY = 80;
const EVENT_QUALITY = 95;
const THUMB_WIDTH = 320;
const THUMB_QUALITY = 70;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 5000;
/** A replugged camera must stream again within 2 s; a failed open of a V4L2 node costs ~nothing. */
const V4L2_BACKOFF_MAX_MS = 1000;
/** No frame for this long (ms; or 4 frame intervals, if longer) shows as offline until the next. */
const STALL_SHOW_MS = 1500;

interface Frame {
  seq: number;
  grabbedAt: number;
  width: number;
  height: number;
  rgb: Uint8Array;
  jpeg: Uint8Array;
}

let config: Config;
let source: FrameSource | null = null;
let stopping = false;
let wantAnnotated = false;
let port: MessagePort | null = null;
let backend: Backend | null = null;
let inputW = 300;
let inputH = 300;
/** Model-input buffers not lent to the detect Worker. */
const freeInputs: Uint8Array[] = [];
let detectorBusy = true;
/** The frame being detected; its RGB stays here until the result comes back. */
let pending: Frame | null = null;
/** The newest frame that has detections, for snapshots. */
let lastDetected: Frame | null = null;
let latest: Frame | null = null;
let detections: Detection[] = [];
let people = 0;
let inferMs = 0;
let cooldown: Cooldown;
let cooldownClockMs = 0;
const spareRgb: Uint8Array[] = [];
const status: CaptureStatus = {
  online: false,
  offlineReason: "starting",
  captureFps: 0,
  framesCorrupt: 0,
  framesDropped: 0,
  lastError: null,
};
let seq = 0;
/** Latest per-stage times in ms (resize: of the last frame sent to the detector). */
const stage = { grab: 0, decode: 0, resize: 0 };
let lastGrabAt = 0;
/** performance.now() of the last frame or (re)open, for the stall watchdog. */
let lastFrameAt = 0;
let lastResultAt = 0;
let detectFps = 0;
const pendingSnapshots: number[] = [];
let stallTimer: ReturnType<typeof setInterval> | undefined;

function post(msg: FromCapture, transfer: ArrayBuffer[] = []): void {
  self.postMessage(msg, transfer);
}

/** Exponential moving average of a rate from the interval since the last tick (per second). */
function ema(prev: number, intervalMs: number): number {
  if (intervalMs <= 0) return prev;
  const rate = 1000 / intervalMs;
  return prev === 0 ? rate : prev * 0.9 + rate * 0.1;
}

function takeRgb(size: number): Uint8Array {
  for (;;) {
    const b = spareRgb.pop();
    if (!b) return new Uint8Array(size);
    if (b.length === size) return b;
  }
}

function releaseRgb(f: Frame | null): void {
  if (f && f !== pending && f !== latest && f !== lastDetected && spareRgb.length < 4)
    spareRgb.push(f.rgb);
}

function decode(raw: RawFrame): Frame | null {
  const size = raw.width * raw.height * 3;
  const rgb = takeRgb(size);
  try {
    if (raw.format === "yuyv") {
      yuyvToRgb(raw.data, raw.width, raw.height, rgb);
      return {
        seq: ++seq,
        grabbedAt: raw.grabbedAt,
        width: raw.width,
        height: raw.height,
        rgb,
        jpeg: jpegEncode(rgb, raw.width, raw.height, STREAM_QUALITY),
      };
    }
    const d = jpegDecode(raw.data, rgb);
    // A camera may change size mid-stream (a reconnect at another mode, an interlaced bridge
    // sending double-height frames): trust the JPEG, and say so once.
    if (d.width !== raw.width || d.height !== raw.height) {
      log.once(
        "odd-size",
        "warn",
        `the camera sends ${d.width}x${d.height} frames while it announced ${raw.width}x${raw.height}; using each frame's own size`,
      );
    }
    return {
      seq: ++seq,
      grabbedAt: raw.grabbedAt,
      width: d.width,
      height: d.height,
      rgb: d.rgb,
      jpeg: raw.data.slice(),
    };
  } catch (e) {
    spareRgb.push(rgb);
    if (e instanceof ShimError) {
      status.framesCorrupt++;
      log.once(
        "corrupt",
        "warn",
        `skipping a corrupt frame (${e.message}); further ones are only counted in /status`,
      );
      return null;
    }
    throw e;
  }
}

function encodeAnnotated(f: Frame, dets: Detection[], quality: number): Uint8Array {
  const copy = takeRgb(f.rgb.length);
  copy.set(f.rgb);
  annotate(copy, f.width, f.height, dets, {
    people: countPeople(dets),
    inferMs,
    fps: status.captureFps,
    backend,
  });
  const jpeg = jpegEncode(copy, f.width, f.height, quality);
  spareRgb.push(copy);
  return jpeg;
}

function countPeople(dets: readonly Detection[]): number {
  return dets.reduce((n, d) => n + (d.classId === 0 ? 1 : 0), 0);
}

function thumbnail(f: Frame): Uint8Array {
  const tw = Math.min(THUMB_WIDTH, f.width);
  const th = Math.max(1, Math.round((f.height * tw) / f.width));
  const small = resizeRgb(f.rgb, f.width, f.height, tw, th, { letterbox: false });
  return jpegEncode(small, tw, th, THUMB_QUALITY);
}

function makeEvent(f: Frame, dets: Detection[], reason: "auto" | "snapshot"): EventData {
  return {
    reason,
    jpeg: encodeAnnotated(f, dets, EVENT_QUALITY),
    thumbJpeg: thumbnail(f),
    at: f.grabbedAt,
    people: countPeople(dets),
    detections: dets,
    inferMs,
    fps: status.captureFps,
  };
}

function sendEvent(ev: EventData, snapshotId: number | null): void {
  cooldown.saved(ev.at);
  post({ type: "event", event: ev, snapshotId }, [
    ev.jpeg.buffer as ArrayBuffer,
    ev.thumbJpeg.buffer as ArrayBuffer,
  ]);
}

function serveSnapshots(): void {
  const f = lastDetected ?? latest;
  while (pendingSnapshots.length > 0) {
    const id = pendingSnapshots.shift() as number;
    if (!f) post({ type: "snapshot-none", id });
    else sendEvent(makeEvent(f, f === lastDetected ? detections : [], "snapshot"), id);
  }
}

function startDetection(f: Frame): void {
  if (!port || detectorBusy) return;
  const input = freeInputs.pop();
  if (!input) return;
  const t0 = performance.now();
  resizeRgb(f.rgb, f.width, f.height, inputW, inputH, { letterbox: config.letterbox }, input);
  stage.resize = performance.now() - t0;
  detectorBusy = true;
  releaseRgb(pending);
  pending = f;
  port.postMessage(
    { type: "infer", seq: f.seq, input, frameWidth: f.width, frameHeight: f.height },
    [input.buffer as ArrayBuffer],
  );
}

function onDetect(msg: DetectToCapture): void {
  if (msg.type === "ready") {
    backend = msg.info.backend;
    inputW = msg.info.inputWidth;
    inputH = msg.info.inputHeight;
    freeInputs.push(new Uint8Array(inputW * inputH * 3), new Uint8Array(inputW * inputH * 3));
    detectorBusy = false;
    return;
  }
  if (msg.type === "detector") {
    backend = msg.info?.backend ?? null;
    if (!msg.info) {
      // Nothing detects until the detector is back: show no stale boxes or counts.
      detections = [];
      people = 0;
    } else if (msg.info.inputWidth !== inputW || msg.info.inputHeight !== inputH) {
      inputW = msg.info.inputWidth;
      inputH = msg.info.inputHeight;
      freeInputs.length = 0;
      freeInputs.push(new Uint8Array(inputW * inputH * 3), new Uint8Array(inputW * inputH * 3));
    }
    return;
  }
  // An input of the previous detector's size is dropped (the "detector" message made new ones).
  if (msg.input.length === inputW * inputH * 3) freeInputs.push(msg.input);
  detectorBusy = false;
  const f = pending;
  pending = null;
  if (msg.type === "failed" || !f || f.seq !== msg.seq) {
    releaseRgb(f);
    return;
  }
  const now = performance.now();
  if (lastResultAt > 0) detectFps = ema(detectFps, now - lastResultAt);
  lastResultAt = now;
  detections = msg.detections;
  people = countPeople(detections);
  inferMs = msg.inferMs;
  const prev = lastDetected;
  lastDetected = f;
  releaseRgb(prev);
  // The cooldown runs on frame time, the time in the event's name.
  cooldownClockMs = f.grabbedAt;
  if (cooldown.shouldAutoSave(people)) sendEvent(makeEvent(f, detections, "auto"), null);
  // Keep the detector busy: a newer frame is already decoded, so start on it now instead of at
  // the next grab (on average half a frame interval later: 10% of a 75 ms invoke at 30 fps).
  if (latest && latest.seq > f.seq) startDetection(latest);
}

function publish(f: Frame): void {
  const state: FrameState = {
    seq: f.seq,
    grabbedAt: f.grabbedAt,
    width: f.width,
    height: f.height,
    jpeg: f.jpeg,
    detections,
    people,
    inferMs,
    captureFps: status.captureFps,
    detectFps,
    stageMs: { grab: stage.grab, decode: stage.decode, resize: stage.resize, infer: inferMs },
  };
  const annotated = wantAnnotated ? encodeAnnotated(f, detections, STREAM_QUALITY) : null;
  // The RGB stays here; only JPEG bytes cross threads. f.jpeg is kept for snapshots, so copy it.
  const jpeg = f.jpeg.slice();
  state.jpeg = jpeg;
  const transfer: ArrayBuffer[] = [jpeg.buffer as ArrayBuffer];
  if (annotated) transfer.push(annotated.buffer as ArrayBuffer);
  post({ type: "frame", state, annotated, status: { ...status } }, transfer);
}

function setOffline(reason: string): void {
  if (status.online || status.offlineReason !== reason) {
    status.online = false;
    status.offlineReason = reason;
    status.lastError = reason;
    post({ type: "status", status: { ...status } });
  }
}

async function openSource(first: boolean): Promise<boolean> {
  let backoffMs = BACKOFF_MIN_MS;
  const maxMs = config.source.kind === "v4l2" ? V4L2_BACKOFF_MAX_MS : BACKOFF_MAX_MS;
  for (;;) {
    if (stopping) return false;
    const s = createSource(config.source, {
      width: config.width,
      height: config.height,
      fps: config.fps,
    });
    try {
      const info = await s.open();
      source = s;
      status.online = true;
      status.offlineReason = null;
      lastFrameAt = performance.now();
      if (!first) log.info(`camera is back: ${info.description}`);
      log.clear("lost");
      post({ type: "source", info });
      post({ type: "status", status: { ...status } });
      return true;
    } catch (e) {
      s.close();
      // At start, a missing or wrong camera is the user's to fix: report it and stop.
      if (first && !(e instanceof SourceLost)) {
        post({ type: "fatal", error: toWireError(e) });
        return false;
      }
      const reason = (e as Error).message;
      setOffline(reason);
      log.once(
        "lost",
        "warn",
        `camera unavailable: ${reason}; retrying every ${maxMs / 1000} s at most`,
      );
      await Bun.sleep(backoffMs);
      backoffMs = Math.min(maxMs, backoffMs * 2);
    }
  }
}

async function run(): Promise<void> {
  if (!(await openSource(true))) return;
  while (!stopping) {
    let raw: RawFrame;
    const grabStart = performance.now();
    try {
      raw = await (source as FrameSource).next();
    } catch (e) {
      if (stopping) break;
      const reason = (e as Error).message;
      source?.close();
      source = null;
      setOffline(reason);
      log.once("lost", "warn", `camera lost: ${reason}; reconnecting`);
      if (!(await openSource(false))) break;
      continue;
    }
    const now = performance.now();
    if (lastGrabAt > 0) status.captureFps = ema(status.captureFps, now - lastGrabAt);
    lastGrabAt = now;
    status.framesDropped += raw.dropped;
    // grab includes waiting for the camera; decode and resize are our own work per frame.
    stage.grab = now - grabStart;
    const f = decode(raw);
    stage.decode = performance.now() - now;
    if (!f) continue;
    lastFrameAt = now;
    if (!status.online) {
      status.online = true;
      status.offlineReason = null;
    }
    const prev = latest;
    latest = f;
    releaseRgb(prev);
    startDetection(f);
    publish(f);
    if (pendingSnapshots.length > 0) serveSnapshots();
    // Let messages (detect results, snapshot, stop) in between frames.
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** A camera that stays open but sends nothing is shown offline before the source gives up on it. */
function watchStall(): void {
  if (!status.online || lastFrameAt === 0 || stopping) return;
  const fps = status.captureFps || config.fps;
  const limitMs = Math.max(STALL_SHOW_MS, fps > 0 ? 4000 / fps : 0);
  if (performance.now() - lastFrameAt > limitMs) {
    setOffline(`no frame from the camera for ${(limitMs / 1000).toFixed(1)} s`);
  }
}

function stop(): void {
  stopping = true;
  clearInterval(stallTimer);
  source?.close();
  source = null;
  port?.close();
  port = null;
  post({ type: "stopped" });
}

self.onmessage = (ev: MessageEvent<ToCapture>) => {
  const msg = ev.data;
  switch (msg.type) {
    case "init":
      config = msg.config;
      cooldown = new Cooldown(config.cooldownSec, () => cooldownClockMs);
      configureLibs(msg.libs);
      port = msg.detectPort;
      port.onmessage = (e) => onDetect(e.data as DetectToCapture);
      stallTimer = setInterval(watchStall, 250);
      run().catch((e) => post({ type: "fatal", error: toWireError(e) }));
      break;
    case "want-annotated":
      wantAnnotated = msg.on;
      break;
    case "snapshot":
      pendingSnapshots.push(msg.id);
      // With a stalled source no frame loop runs: answer from what we have.
      if (!status.online) serveSnapshots();
      break;
    case "stop":
      stop();
      break;
  }
};
