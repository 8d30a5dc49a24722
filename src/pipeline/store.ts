/**
 * The latest state of the pipeline, in one place: the newest frame (and its annotated copy), the
 * status that /status, /metrics, /healthz and MQTT read, and the subscriptions to both. The
 * Worker handlers write it; everything else reads it or listens:
 *
 *   store.on("frame", (s: FrameState) => …)        every published frame
 *   store.on("result", (r: DetectionResult) => …)  once per detection result
 *   store.on("status", (s: PipelineStatus) => …)   when the status changes (not its per-frame
 *                                                   figures: fps, inference time, people, counts)
 *   store.on("want-annotated", (on: boolean) => …) whether anyone watches annotated frames
 *
 * Each `on` returns its unsubscribe. A listener that throws is logged once and skipped; the
 * others and the pipeline go on. HTTP never captures: it reads latest() or shows "no signal".
 */
import type { SourceInfo } from "../camera/types.ts";
import { errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { PipelineStatus } from "../shared/status.ts";
import type { DetectionResult, FrameState } from "../shared/types.ts";
import type { CaptureResume, CaptureStatus, DetectorInfo } from "../workers/protocol.ts";

export interface StoreEvents {
  frame: FrameState;
  result: DetectionResult;
  status: PipelineStatus;
  "want-annotated": boolean;
}

export type StoreEvent = keyof StoreEvents;

/** What the status says before the Workers report: the configured camera and model. */
export interface StoreDefaults {
  /** The camera as given (config.cam). */
  source: string;
  /** The model as given (config.model). */
  model: string;
  log?: Logger;
}

/** Fields whose change is a "status" event (the rest change with every frame). */
const STATUS_KEYS = [
  "online",
  "offlineReason",
  "backend",
  "tfliteVersion",
  "edgetpuVersion",
  "modelPath",
  "lastError",
  "source",
  "actualWidth",
  "actualHeight",
] as const satisfies readonly (keyof PipelineStatus)[];

type Listeners = { [K in StoreEvent]: Set<(v: StoreEvents[K]) => void> };

export class PipelineStore {
  readonly #defaults: StoreDefaults;
  readonly #log: Logger;
  readonly #listeners: Listeners = {
    frame: new Set(),
    result: new Set(),
    status: new Set(),
    "want-annotated": new Set(),
  };
  #latest: FrameState | null = null;
  #annotated: Uint8Array | null = null;
  #wantAnnotated = false;
  #capture: CaptureStatus = {
    online: false,
    offlineReason: "starting",
    captureFps: 0,
    framesCorrupt: 0,
    framesDropped: 0,
    lastError: null,
  };
  /** Counters of capture Workers that died (a restarted one counts from 0). */
  readonly #carried = { framesCorrupt: 0, framesDropped: 0 };
  #source: SourceInfo | null = null;
  #detector: DetectorInfo | null = null;
  /** False while the detect Worker has no detector open (reopening, or restarting). */
  #detectorUp = true;
  #detectError: string | null = null;
  /** The most recent error of either Worker, for /status last_error. */
  #lastError: string | null = null;
  #lastStatusKey = "";
  /** The newest frame and result numbers, kept while offline: a restarted Worker goes on. */
  readonly #resume: CaptureResume = { frameSeq: 0, detectSeq: 0 };

  constructor(defaults: StoreDefaults) {
    this.#defaults = defaults;
    this.#log = defaults.log ?? logger("pipe");
    this.#lastStatusKey = statusKey(this.status());
  }

  on<K extends StoreEvent>(event: K, cb: (v: StoreEvents[K]) => void): () => void {
    const set = this.#listeners[event];
    set.add(cb);
    return () => void set.delete(cb);
  }

  /** The newest frame; null before the first and while the camera is offline. */
  latest(): FrameState | null {
    return this.#latest;
  }

  /** The newest frame with boxes and overlay, null when nobody asked for them. */
  annotatedJpeg(): Uint8Array | null {
    return this.#annotated;
  }

  get wantAnnotated(): boolean {
    return this.#wantAnnotated;
  }

  /** Whether anyone needs annotated frames (a /video client without ?raw=1, /latest.jpg). */
  setWantAnnotated(on: boolean): void {
    if (!on) this.#annotated = null;
    if (on === this.#wantAnnotated) return;
    this.#wantAnnotated = on;
    this.#emit("want-annotated", on);
  }

  status(): PipelineStatus {
    const cap = this.#capture;
    const latest = this.#latest;
    const det = this.#detector;
    return {
      online: cap.online,
      offlineReason: cap.offlineReason,
      backend: this.#detectorUp ? (det?.backend ?? null) : null,
      tfliteVersion: det?.tfliteVersion ?? null,
      edgetpuVersion: det?.edgetpuVersion ?? null,
      modelPath: det?.modelPath ?? this.#defaults.model,
      // No frames come while offline: the last rate is no rate.
      captureFps: cap.online ? cap.captureFps : 0,
      detectFps: latest?.detectFps ?? 0,
      inferMs: latest?.inferMs ?? 0,
      people: latest?.people ?? 0,
      framesCorrupt: this.#carried.framesCorrupt + cap.framesCorrupt,
      framesDropped: this.#carried.framesDropped + cap.framesDropped,
      lastError: this.#lastError,
      source: this.#source?.description ?? this.#defaults.source,
      actualWidth: this.#source?.width ?? 0,
      actualHeight: this.#source?.height ?? 0,
    };
  }

  /** Where a restarted capture Worker continues its frame and result numbers. */
  resumePoint(): CaptureResume {
    return { ...this.#resume };
  }

  // ---- writers (the pipeline's Worker handlers) ------------------------------------------------

  setSource(info: SourceInfo): void {
    this.#source = info;
    this.#statusChanged();
  }

  /** A new frame from the capture Worker, with its annotated copy and the capture status. */
  setFrame(state: FrameState, annotated: Uint8Array | null, capture: CaptureStatus): void {
    this.#latest = state;
    this.#resume.frameSeq = state.seq;
    this.#resume.detectSeq = Math.max(this.#resume.detectSeq, state.detectSeq);
    this.#annotated = this.#wantAnnotated ? annotated : null;
    this.#setCapture(capture);
    this.#emit("frame", state);
    this.#statusChanged();
  }

  setCapture(capture: CaptureStatus): void {
    this.#setCapture(capture);
    this.#statusChanged();
  }

  setResult(r: DetectionResult): void {
    this.#resume.detectSeq = r.detectSeq;
    this.#emit("result", r);
  }

  /** The capture Worker died (it is being restarted): offline with `reason`. */
  captureDown(reason: string): void {
    this.#carried.framesCorrupt += this.#capture.framesCorrupt;
    this.#carried.framesDropped += this.#capture.framesDropped;
    this.#lastError = reason;
    this.#setCapture({
      online: false,
      offlineReason: `capture stopped (${reason}); restarting`,
      captureFps: 0,
      framesCorrupt: 0,
      framesDropped: 0,
      lastError: reason,
    });
    this.#statusChanged();
  }

  /** The detect Worker's detector: at start ("ready"), or after a switch (null: none open). */
  setDetector(info: DetectorInfo | null, lastError: string | null): void {
    this.#detectorUp = info !== null;
    if (info) this.#detector = info;
    if (lastError && lastError !== this.#detectError) this.#lastError = lastError;
    this.#detectError = lastError;
    this.#statusChanged();
  }

  /** An error the detect Worker reported while it keeps running. */
  detectError(message: string): void {
    this.#detectError = message;
    this.#lastError = message;
    this.#statusChanged();
  }

  /** The detect Worker died (it is being restarted): no detector until it is back. */
  detectorDown(reason: string): void {
    this.setDetector(null, reason);
  }

  #setCapture(c: CaptureStatus): void {
    if (c.lastError && c.lastError !== this.#capture.lastError) this.#lastError = c.lastError;
    this.#capture = c;
    if (!c.online) {
      this.#latest = null;
      this.#annotated = null;
    }
  }

  #statusChanged(): void {
    const s = this.status();
    const key = statusKey(s);
    if (key === this.#lastStatusKey) return;
    this.#lastStatusKey = key;
    this.#emit("status", s);
  }

  #emit<K extends StoreEvent>(event: K, value: StoreEvents[K]): void {
    for (const cb of this.#listeners[event]) {
      try {
        cb(value);
      } catch (e) {
        this.#log.once(
          `listener-${event}`,
          "error",
          `a "${event}" listener failed: ${errorMessage(e)}; it stays subscribed, further failures are not logged`,
        );
      }
    }
  }
}

function statusKey(s: PipelineStatus): string {
  return JSON.stringify(STATUS_KEYS.map((k) => s[k] ?? null));
}
