/**
 * The detect Worker: owns the Detector (model, delegate, interpreter) and runs one invoke at a
 * time on inputs the capture Worker sends over its MessagePort, so inference overlaps capture.
 * Inputs sent ahead during an invoke wait on the port: the newest runs next, at once, the older
 * ones go back unused, so the detector never waits for the capture Worker to read a result.
 * A failing detector is reopened with backoff (src/detect/supervisor.ts), the CPU model standing
 * in meanwhile with --cpu-fallback; every switch is reported to both threads.
 */
import type { Detector } from "../detect/detector.ts";
import { superviseDetector } from "../detect/supervise.ts";
import type { DetectorSupervisor } from "../detect/supervisor.ts";
import { receiveMessageOnPort, type MessagePort as NodePort } from "node:worker_threads";
import { configureLibs } from "../native/libs.ts";
import { logger } from "../shared/log.ts";
import type { Config } from "../shared/config.ts";
import { defaultLowScore } from "../track/tracker.ts";
import { splitAtThreshold } from "./scores.ts";
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
/** The newest input that came during the last invoke, run after one turn of the event loop. */
let queued: CaptureToDetect | null = null;

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

function onInfer(config: Config, msg: CaptureToDetect): void {
  const sup = supervisor;
  if (!sup) return;
  try {
    // Letterboxed input: map boxes back to the frame, whose size the model input hides.
    const letterboxFrom = config.letterbox
      ? { width: msg.frameWidth, height: msg.frameHeight }
      : undefined;
    const threshold = defaultLowScore(config.threshold);
    const r = sup.infer(msg.input, { threshold, letterboxFrom });
    toCapture(
      {
        type: "result",
        seq: msg.seq,
        ...splitAtThreshold(r.detections, config.threshold),
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

/** Runs `msg`, then the newest input sent meanwhile (older ones go back as "skipped"). */
function detectNewest(config: Config, msg: CaptureToDetect): void {
  onInfer(config, msg);
  const next = takeNewest();
  if (!next) return;
  // After a turn, so that "stop" or a new capture port gets in even while inputs keep coming.
  queued = next;
  setImmediate(() => {
    const m = queued;
    queued = null;
    if (m && initConfig) detectNewest(initConfig, m);
  });
}

/** The inputs that came during the invoke, taken off the port: the newest, or null. */
function takeNewest(): CaptureToDetect | null {
  let newest: CaptureToDetect | null = null;
  for (;;) {
    const m = port ? receiveMessageOnPort(port as unknown as NodePort) : undefined;
    if (!m) return newest;
    if (newest) skip(newest);
    newest = m.message as CaptureToDetect;
  }
}

function skip(msg: CaptureToDetect): void {
  toCapture({ type: "skipped", seq: msg.seq, input: msg.input }, [msg.input.buffer as ArrayBuffer]);
}

/** An input from the capture Worker: run now, or replace the one waiting for its turn. */
function onInput(config: Config, msg: CaptureToDetect): void {
  if (!queued) return detectNewest(config, msg);
  skip(queued);
  queued = msg;
}

self.onmessage = (ev: MessageEvent<ToDetect>) => {
  const msg = ev.data;
  if (msg.type === "init") {
    const { config } = msg;
    initConfig = config;
    configureLibs(msg.libs);
    port = msg.capturePort;
    let sup: DetectorSupervisor<Detector>;
    try {
      // Opens the Edge TPU once; the CPU model stands in per --cpu-fallback.
      sup = superviseDetector(
        { modelPath: config.model, threads: config.threads, cpuFallback: config.cpuFallback },
        {
          log,
          onChange(d, lastError) {
            const now = d ? infoOf(d) : null;
            toCapture({ type: "detector", info: now, lastError });
            post({ type: "detector", info: now, lastError });
          },
        },
      );
    } catch (e) {
      post({ type: "fatal", error: toWireError(e) });
      return;
    }
    supervisor = sup;
    const info = infoOf(sup.engine!);
    port.onmessage = (e) => onInput(config, e.data as CaptureToDetect);
    toCapture({ type: "ready", info });
    post({ type: "ready", info });
  } else if (msg.type === "capture-port") {
    // The capture Worker was restarted: serve the new one, telling it the detector in use.
    port?.close();
    port = msg.capturePort;
    queued = null; // the old capture Worker's, gone with it
    const config = initConfig;
    if (config) port.onmessage = (e) => onInput(config, e.data as CaptureToDetect);
    const engine = supervisor?.engine;
    if (engine) toCapture({ type: "ready", info: infoOf(engine) });
  } else if (msg.type === "stop") {
    port?.close();
    port = null;
    queued = null;
    // Frees interpreter, then delegate, then model (of each detector still open).
    supervisor?.close();
    supervisor = null;
    post({ type: "stopped" });
  }
};
