/**
 * The capture side of the detect Worker's port: one frame at a time goes to the detector, resized
 * into one of two model-input buffers that travel there and back (transferred, never copied);
 * the frame itself waits here for its result. Messages from the detect Worker say when it is
 * ready, when it switched detectors (maybe to another input size), and each result.
 */
import type { Backend, Detection } from "../shared/types.ts";
import type { Frame } from "./capture-frames.ts";
import type { CaptureToDetect, DetectorInfo, DetectToCapture } from "./protocol.ts";

export interface DetectPort {
  postMessage(msg: CaptureToDetect, transfer: ArrayBuffer[]): void;
}

/** What a message from the detect Worker meant for the frame it held. */
export type Handback =
  /** The result of `frame`. */
  | { kind: "result"; frame: Frame; detections: Detection[]; low: Detection[]; inferMs: number }
  /** No result for `frame` (failed, stale, or a detector of another size): release it. */
  | { kind: "dropped"; frame: Frame | null }
  /** A "ready" or "detector" message: nothing came back. */
  | { kind: "none" };

export class DetectHandoff {
  /** The detector in use; null while none is open (or before the first "ready"). */
  backend: Backend | null = null;
  #port: DetectPort | null = null;
  /** Until "ready": no inputs yet. */
  #busy = true;
  #pending: Frame | null = null;
  readonly #inputs: Uint8Array[] = [];
  #inputW = 0;
  #inputH = 0;

  constructor(
    private readonly resize: (f: Frame, width: number, height: number, out: Uint8Array) => void,
  ) {}

  /** The frame at the detector, if any. */
  get pending(): Frame | null {
    return this.#pending;
  }

  /**
   * A new port (a new or restarted detect Worker): nothing is in flight there, wait for its
   * "ready". Returns the frame that was pending, for release.
   */
  setPort(port: DetectPort | null): Frame | null {
    const was = this.#pending;
    this.#port = port;
    this.#pending = null;
    this.#busy = true;
    this.#inputs.length = 0;
    this.#inputW = 0;
    this.#inputH = 0;
    return was;
  }

  /** Sends `f` to the detector when it is idle; false when busy or not ready. */
  start(f: Frame): boolean {
    if (!this.#port || this.#busy) return false;
    const input = this.#inputs.pop();
    if (!input) return false;
    this.resize(f, this.#inputW, this.#inputH, input);
    this.#busy = true;
    this.#pending = f;
    this.#port.postMessage(
      { type: "infer", seq: f.seq, input, frameWidth: f.width, frameHeight: f.height },
      [input.buffer as ArrayBuffer],
    );
    return true;
  }

  receive(msg: DetectToCapture): Handback {
    if (msg.type === "ready") {
      this.#setDetector(msg.info);
      this.#busy = this.#pending !== null;
      return { kind: "none" };
    }
    if (msg.type === "detector") {
      this.backend = msg.info?.backend ?? null;
      // A detector that comes back after a restart of this side counts as "ready".
      if (msg.info && this.#inputW === 0) return this.receive({ type: "ready", info: msg.info });
      if (msg.info) this.#setDetector(msg.info);
      return { kind: "none" };
    }
    // An input of the previous detector's size is dropped (the switch made new ones).
    if (msg.input.length === this.#inputW * this.#inputH * 3) this.#inputs.push(msg.input);
    this.#busy = false;
    const f = this.#pending;
    this.#pending = null;
    if (msg.type === "failed" || !f || f.seq !== msg.seq) return { kind: "dropped", frame: f };
    const low = msg.low ?? [];
    return { kind: "result", frame: f, detections: msg.detections, low, inferMs: msg.inferMs };
  }

  #setDetector(info: DetectorInfo): void {
    this.backend = info.backend;
    if (info.inputWidth === this.#inputW && info.inputHeight === this.#inputH) return;
    this.#inputW = info.inputWidth;
    this.#inputH = info.inputHeight;
    const bytes = this.#inputW * this.#inputH * 3;
    this.#inputs.length = 0;
    this.#inputs.push(new Uint8Array(bytes), new Uint8Array(bytes));
  }
}
