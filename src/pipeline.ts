/**
 * The one place the stages meet: starts the capture and detect Workers, keeps the latest state
 * for HTTP, and writes events into the archive. HTTP reads from here and never captures.
 */
import type { SourceInfo } from "./camera/types.ts";
import type { Config } from "./shared/config.ts";
import { HcError } from "./shared/errors.ts";
import type { Archive, EventRecord } from "./events/archive.ts";
import { logger } from "./shared/log.ts";
import { libPaths } from "./native/libs.ts";
import { drawText, jpegEncode } from "./native/shim.ts";
import type { PipelineStatus } from "./shared/status.ts";
import type { FrameState } from "./shared/types.ts";
import type {
  CaptureStatus,
  DetectorInfo,
  EventData,
  FromCapture,
  FromDetect,
  ToCapture,
  ToDetect,
  WireError,
} from "./workers/protocol.ts";

const log = logger("pipe");
const camLog = logger("cam");
const tpuLog = logger("tpu");
const evLog = logger("events");
const SNAPSHOT_TIMEOUT_MS = 3000;
const STOP_TIMEOUT_MS = 700;
export interface Pipeline {
  latest(): FrameState | null;
  annotatedJpeg(): Uint8Array | null;
  wantAnnotated(on: boolean): void;
  onFrame(cb: (s: FrameState) => void): () => void;
  status(): PipelineStatus;
  snapshot(): Promise<EventRecord | null>;
  noSignalJpeg(reason: string): Uint8Array;
  readonly detector: DetectorInfo;
  readonly sourceInfo: SourceInfo;
  stop(): Promise<void>;
}

function wireToError(e: WireError): HcError {
  const err = new HcError(e.code, e.message, "", e.exitCode);
  err.message = e.message;
  return err;
}

/**
 * In the compiled binary the Workers are extra entrypoints, stored under their source path from
 * the project root (scripts/build.ts passes them); from source they sit next to this file.
 */
function workerUrl(name: "capture-worker" | "detect-worker"): string {
  if (import.meta.url.includes("$bunfs")) return `./src/workers/${name}.ts`;
  return new URL(`./workers/${name}.ts`, import.meta.url).href;
}

/** Starts both Workers; resolves once the camera is open and the model is loaded. */
export async function startPipeline(config: Config, archive: Archive): Promise<Pipeline> {
  const capture = new Worker(workerUrl("capture-worker"));
  const detect = new Worker(workerUrl("detect-worker"));
  const channel = new MessageChannel();
  const libs = libPaths();

  let latest: FrameState | null = null;
  let annotated: Uint8Array | null = null;
  let capStatus: CaptureStatus = {
    online: false,
    offlineReason: "starting",
    captureFps: 0,
    framesCorrupt: 0,
    framesDropped: 0,
    lastError: null,
  };
  let detectorInfo: DetectorInfo | null = null;
  let sourceInfo: SourceInfo | null = null;
  let detectError: string | null = null;
  /** False while the detect Worker has no detector open (it is reopening one). */
  let detectorUp = true;
  /** The most recent error of either Worker, for /status last_error. */
  let lastError: string | null = null;
  const noteCapture = (st: CaptureStatus): void => {
    if (st.lastError && st.lastError !== capStatus.lastError) lastError = st.lastError;
  };
  const frameSubs = new Set<(s: FrameState) => void>();
  const snapshotWaiters = new Map<number, (e: EventRecord | null) => void>();
  let nextSnapshotId = 1;
  let stopped: Promise<void> | null = null;
  const stopAcks = {
    capture: Promise.withResolvers<void>(),
    detect: Promise.withResolvers<void>(),
  };

  const ready = Promise.withResolvers<void>();
  let gotSource = false;

  async function saveEvent(ev: EventData): Promise<EventRecord | null> {
    try {
      const rec = await archive.save({
        jpeg: ev.jpeg,
        thumbJpeg: ev.thumbJpeg,
        reason: ev.reason,
        at: new Date(ev.at),
        people: ev.people,
        detections: ev.detections,
        inferMs: ev.inferMs,
        fps: ev.fps,
      });
      evLog.clear("save");
      evLog.info(`saved ${rec.file}`);
      return rec;
    } catch (e) {
      evLog.once("save", "error", `cannot save an event: ${(e as Error).message}`);
      return null;
    }
  }

  capture.onmessage = (m: MessageEvent<FromCapture>) => {
    const msg = m.data;
    switch (msg.type) {
      case "source":
        sourceInfo = msg.info;
        if (!gotSource) {
          gotSource = true;
          camLog.info(
            `${msg.info.description}${msg.info.sizeNote ? ` (${msg.info.sizeNote})` : ""}`,
          );
          if (detectorInfo) ready.resolve();
        }
        break;
      case "frame":
        latest = msg.state;
        annotated = msg.annotated;
        noteCapture(msg.status);
        capStatus = msg.status;
        for (const cb of frameSubs) cb(msg.state);
        break;
      case "status":
        noteCapture(msg.status);
        capStatus = msg.status;
        if (!capStatus.online) {
          latest = null;
          annotated = null;
        }
        break;
      case "event": {
        const snapshotId = msg.snapshotId;
        void saveEvent(msg.event).then((rec) => {
          if (snapshotId === null) return;
          snapshotWaiters.get(snapshotId)?.(rec);
          snapshotWaiters.delete(snapshotId);
        });
        break;
      }
      case "snapshot-none":
        snapshotWaiters.get(msg.id)?.(null);
        snapshotWaiters.delete(msg.id);
        break;
      case "fatal":
        ready.reject(wireToError(msg.error));
        break;
      case "stopped":
        stopAcks.capture.resolve();
        break;
    }
  };
  detect.onmessage = (m: MessageEvent<FromDetect>) => {
    const msg = m.data;
    switch (msg.type) {
      case "ready":
        detectorInfo = msg.info;
        for (const w of msg.info.warnings) tpuLog.warn(w);
        tpuLog.info(
          `backend ${msg.info.backend}, TFLite ${msg.info.tfliteVersion}, libedgetpu ${msg.info.edgetpuVersion ?? "not loaded"}, model ${msg.info.modelPath}`,
        );
        if (gotSource) ready.resolve();
        break;
      case "error":
        detectError = msg.message;
        lastError = detectError;
        break;
      case "detector":
        // The supervisor switched detectors (Edge TPU lost, CPU fallback, Edge TPU back).
        detectorUp = msg.info !== null;
        if (msg.info) detectorInfo = msg.info;
        if (msg.lastError && msg.lastError !== detectError) lastError = msg.lastError;
        detectError = msg.lastError;
        break;
      case "fatal":
        ready.reject(wireToError(msg.error));
        break;
      case "stopped":
        stopAcks.detect.resolve();
        break;
    }
  };
  const onWorkerError = (name: string) => (e: ErrorEvent) => {
    log.error(`${name} worker crashed: ${e.message}`);
    ready.reject(new HcError("EWORKER", `${name} worker crashed: ${e.message}`));
  };
  capture.onerror = onWorkerError("capture");
  detect.onerror = onWorkerError("detect");

  detect.postMessage(
    { type: "init", config, libs, capturePort: channel.port2 } satisfies ToDetect,
    [channel.port2],
  );
  capture.postMessage(
    { type: "init", config, libs, detectPort: channel.port1 } satisfies ToCapture,
    [channel.port1],
  );

  async function stop(): Promise<void> {
    if (stopped) return stopped;
    stopped = (async () => {
      capture.postMessage({ type: "stop" } satisfies ToCapture);
      detect.postMessage({ type: "stop" } satisfies ToDetect);
      const timeout = Bun.sleep(STOP_TIMEOUT_MS).then(() => "timeout" as const);
      const r = await Promise.race([
        Promise.all([stopAcks.capture.promise, stopAcks.detect.promise]),
        timeout,
      ]);
      if (r === "timeout") log.warn("workers did not stop in time; terminating them");
      capture.terminate();
      detect.terminate();
      for (const [, w] of snapshotWaiters) w(null);
      snapshotWaiters.clear();
    })();
    return stopped;
  }

  try {
    await ready.promise;
  } catch (e) {
    await stop();
    throw e;
  }

  const pipeline: Pipeline = {
    latest: () => latest,
    annotatedJpeg: () => annotated,
    wantAnnotated(on) {
      capture.postMessage({ type: "want-annotated", on } satisfies ToCapture);
      if (!on) annotated = null;
    },
    onFrame(cb) {
      frameSubs.add(cb);
      return () => frameSubs.delete(cb);
    },
    status: () => ({
      online: capStatus.online,
      offlineReason: capStatus.offlineReason,
      backend: detectorUp ? (detectorInfo?.backend ?? null) : null,
      tfliteVersion: detectorInfo?.tfliteVersion ?? null,
      edgetpuVersion: detectorInfo?.edgetpuVersion ?? null,
      modelPath: detectorInfo?.modelPath ?? config.model,
      captureFps: capStatus.captureFps,
      detectFps: latest?.detectFps ?? 0,
      inferMs: latest?.inferMs ?? 0,
      people: latest?.people ?? 0,
      framesCorrupt: capStatus.framesCorrupt,
      framesDropped: capStatus.framesDropped,
      lastError,
      source: sourceInfo?.description ?? config.cam,
      actualWidth: sourceInfo?.width ?? 0,
      actualHeight: sourceInfo?.height ?? 0,
    }),
    snapshot() {
      if (stopped) return Promise.resolve(null);
      const id = nextSnapshotId++;
      const done = Promise.withResolvers<EventRecord | null>();
      snapshotWaiters.set(id, done.resolve);
      capture.postMessage({ type: "snapshot", id } satisfies ToCapture);
      const timer = setTimeout(() => {
        if (snapshotWaiters.delete(id)) done.resolve(null);
      }, SNAPSHOT_TIMEOUT_MS);
      return done.promise.finally(() => clearTimeout(timer));
    },
    noSignalJpeg: (reason) => noSignal(config.width, config.height, reason),
    get detector() {
      return detectorInfo as DetectorInfo;
    },
    get sourceInfo() {
      return sourceInfo as SourceInfo;
    },
    stop,
  };
  return pipeline;
}

let noSignalCache: { key: string; jpeg: Uint8Array } | null = null;

/** A dark frame saying "no signal", the reason and the time (µStreamer does the same). */
export function noSignal(width: number, height: number, reason: string): Uint8Array {
  const w = Math.min(width, 1280);
  const h = Math.min(height, 960);
  const time = new Date().toLocaleTimeString();
  const key = `${w}x${h}|${reason}|${time}`;
  if (noSignalCache?.key === key) return noSignalCache.jpeg;
  const rgb = new Uint8Array(w * h * 3).fill(24);
  const scale = w >= 640 ? 3 : 2;
  drawText(rgb, w, h, 16, Math.round(h / 2) - 12 * scale, "NO SIGNAL", scale, 0xff5252, -1);
  drawText(
    rgb,
    w,
    h,
    16,
    Math.round(h / 2),
    reason.slice(0, Math.floor((w - 32) / 8)),
    1,
    0xffffff,
    -1,
  );
  drawText(rgb, w, h, 16, Math.round(h / 2) + 16, time, 1, 0xbbbbbb, -1);
  const jpeg = jpegEncode(rgb, w, h, 70);
  noSignalCache = { key, jpeg };
  return jpeg;
}
