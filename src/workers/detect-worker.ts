/**
 * The detect Worker: owns the Detector (model, delegate, interpreter) and runs one invoke at a
 * time on inputs the capture Worker sends over its MessagePort, so inference overlaps capture.
 */
import { Detector } from "../detect/detector.ts";
import { configureLibs } from "../native/libs.ts";
import { logger } from "../log.ts";
import type { Config } from "../config.ts";
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
let detector: Detector | null = null;
let port: MessagePort | null = null;
let failing = false;

function post(msg: FromDetect): void {
  self.postMessage(msg);
}

function toCapture(msg: DetectToCapture, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(msg, transfer);
}

function onInfer(config: Config, msg: CaptureToDetect): void {
  const d = detector;
  if (!d) return;
  try {
    const r = d.inferRgb300(msg.input, { threshold: config.threshold });
    if (failing) {
      failing = false;
      log.clear("invoke");
      log.info("inference works again");
    }
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
    failing = true;
    const message = (e as Error).message;
    log.once("invoke", "error", `invoke failed: ${message}`);
    post({ type: "error", message });
    toCapture({ type: "failed", seq: msg.seq, message, input: msg.input }, [
      msg.input.buffer as ArrayBuffer,
    ]);
  }
}

self.onmessage = (ev: MessageEvent<ToDetect>) => {
  const msg = ev.data;
  if (msg.type === "init") {
    const { config } = msg;
    configureLibs(msg.libs);
    port = msg.capturePort;
    try {
      detector = Detector.open({
        modelPath: config.model,
        threads: config.threads,
        cpuFallback: config.cpuFallback,
      });
    } catch (e) {
      post({ type: "fatal", error: toWireError(e) });
      return;
    }
    const info: DetectorInfo = {
      backend: detector.backend,
      tfliteVersion: detector.tfliteVersion,
      edgetpuVersion: detector.edgetpuVersion,
      modelPath: detector.modelPath,
      warnings: detector.warnings,
      inputWidth: detector.inputWidth,
      inputHeight: detector.inputHeight,
    };
    port.onmessage = (e) => onInfer(config, e.data as CaptureToDetect);
    toCapture({ type: "ready", info });
    post({ type: "ready", info });
  } else if (msg.type === "stop") {
    port?.close();
    port = null;
    // Frees interpreter, then delegate, then model.
    detector?.close();
    detector = null;
    post({ type: "stopped" });
  }
};
