/**
 * The detect Worker: owns the Detector (model, delegate, interpreter) and runs one invoke at a
 * time on inputs the capture Worker sends over its MessagePort, so inference overlaps capture.
 * A failing detector is reopened with backoff (src/detect/supervisor.ts), the CPU model standing
 * in meanwhile with --cpu-fallback; every switch is reported to both threads.
 */
import { cpuSibling, Detector, isEdgeTpuModel } from "../detect/detector.ts";
import { DetectorSupervisor } from "../detect/supervisor.ts";
import { HcError } from "../shared/errors.ts";
import { configureLibs } from "../native/libs.ts";
import { logger } from "../shared/log.ts";
import type { Config } from "../shared/config.ts";
import {
  toWireError,
  type CaptureToDetect,
  type DetectorInfo,
  type DetectToCapture,
  type FromDetect,
  type ToDetect,
} from "./protocol.ts";

declare const self: Worker;

const log = logger("tpu");
let supervisor: DetectorSupervisor<Detector> | null = null;
let port: MessagePort | null = null;
/** The init message's configuration, for a capture Worker that connects again. */
let initConfig: Config | null = null;
/** Edge TPU open failures the CPU model can stand in for, and that may heal by waiting. */
const TPU_MAY_RETURN = new Set(["EDGETPU_NO_DEVICE", "EDGETPU_OPEN"]);
const TPU_UNAVAILABLE = new Set([
  ...TPU_MAY_RETURN,
  "EDGETPU_LIB_MISSING",
  "EDGETPU_DELEGATE",
  "EDGETPU_MISMATCH",
]);

function post(msg: FromDetect): void {
  self.postMessage(msg);
}

function toCapture(msg: DetectToCapture, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(msg, transfer);
}

function infoOf(d: Detector): DetectorInfo {
  return {
    backend: d.backend,
    tfliteVersion: d.tfliteVersion,
    edgetpuVersion: d.edgetpuVersion,
    modelPath: d.modelPath,
    warnings: d.warnings,
    inputWidth: d.inputWidth,
    inputHeight: d.inputHeight,
  };
}

/**
 * Opens the detector the user asked for. With --cpu-fallback and an Edge TPU that is missing,
 * the CPU model runs, and `retry` says whether waiting may bring the Edge TPU (a device not yet
 * plugged in) or not (no libedgetpu, a version mismatch).
 */
function openAtStart(config: Config): { detector: Detector; fallback: boolean; retry: boolean } {
  const opts = { modelPath: config.model, threads: config.threads };
  try {
    return { detector: Detector.open(opts), fallback: false, retry: false };
  } catch (e) {
    if (!config.cpuFallback || !(e instanceof HcError) || !TPU_UNAVAILABLE.has(e.code)) throw e;
    const detector = Detector.open({ ...opts, cpuFallback: true });
    return { detector, fallback: detector.backend === "cpu", retry: TPU_MAY_RETURN.has(e.code) };
  }
}

function onInfer(config: Config, msg: CaptureToDetect): void {
  const sup = supervisor;
  if (!sup) return;
  try {
    // Letterboxed input: map boxes back to the frame, whose size the model input hides.
    const letterboxFrom = config.letterbox
      ? { width: msg.frameWidth, height: msg.frameHeight }
      : undefined;
    const r = sup.infer(msg.input, { threshold: config.threshold, letterboxFrom });
    toCapture(
      {
        type: "result",
        seq: msg.seq,
        detections: r.detections,
        inferMs: r.inferMs,
        input: msg.input,
      },
      [msg.input.buffer as ArrayBuffer],
    );
  } catch (e) {
    // The supervisor logged it, closed the detector and reopens it; this frame has no result.
    const message = (e as Error).message;
    toCapture({ type: "failed", seq: msg.seq, message, input: msg.input }, [
      msg.input.buffer as ArrayBuffer,
    ]);
  }
}

self.onmessage = (ev: MessageEvent<ToDetect>) => {
  const msg = ev.data;
  if (msg.type === "init") {
    const { config } = msg;
    initConfig = config;
    configureLibs(msg.libs);
    port = msg.capturePort;
    let start: ReturnType<typeof openAtStart>;
    try {
      start = openAtStart(config);
    } catch (e) {
      post({ type: "fatal", error: toWireError(e) });
      return;
    }
    const opts = { modelPath: config.model, threads: config.threads };
    const openCpu = (): Detector => Detector.open({ ...opts, modelPath: cpuSibling(config.model) });
    // On the CPU for good (no libedgetpu, a version mismatch): the CPU model is the one to keep.
    const cpuForGood = start.fallback && !start.retry;
    supervisor = new DetectorSupervisor<Detector>({
      initial: start.detector,
      initialIsFallback: start.fallback && start.retry,
      openPrimary: cpuForGood ? openCpu : () => Detector.open(opts),
      openFallback:
        config.cpuFallback && isEdgeTpuModel(config.model) && !cpuForGood ? openCpu : null,
      retryable: (e) =>
        !(e instanceof HcError) || TPU_MAY_RETURN.has(e.code) || !TPU_UNAVAILABLE.has(e.code),
      log,
      onChange(d, lastError) {
        const now = d ? infoOf(d) : null;
        toCapture({ type: "detector", info: now, lastError });
        post({ type: "detector", info: now, lastError });
      },
    });
    const info = infoOf(start.detector);
    port.onmessage = (e) => onInfer(config, e.data as CaptureToDetect);
    toCapture({ type: "ready", info });
    post({ type: "ready", info });
  } else if (msg.type === "capture-port") {
    // The capture Worker was restarted: serve the new one, telling it the detector in use.
    port?.close();
    port = msg.capturePort;
    const config = initConfig;
    if (config) port.onmessage = (e) => onInfer(config, e.data as CaptureToDetect);
    const engine = supervisor?.engine;
    if (engine) toCapture({ type: "ready", info: infoOf(engine) });
  } else if (msg.type === "stop") {
    port?.close();
    port = null;
    // Frees interpreter, then delegate, then model (of each detector still open).
    supervisor?.close();
    supervisor = null;
    post({ type: "stopped" });
  }
};
