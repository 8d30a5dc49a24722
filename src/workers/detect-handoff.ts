/**
 * The capture side of the detect Worker's port: frames go to the detector resized into one of
 * four model-input buffers that travel there and back (transferred, never copied); the frames
 * themselves wait here for their answers, which come back one per frame sent, in order.
 *
 * So that the detector never waits for this thread (busy grabbing, decoding, encoding), the
 * frames that arrive near the end of an invoke are sent ahead: the detect Worker runs the newest
 * of them as soon as the invoke ends and hands the older ones back unused ("skipped"). Frames
 * that arrive earlier are not resized at all: only the last frame before the end of the invoke
 * is the one to detect, so sending them would cost a resize each for nothing.
 */
import type { Backend, Detection } from "../shared/types.ts";
import type { Frame } from "./capture-frames.ts";
import type { CaptureToDetect, DetectorInfo, DetectToCapture } from "./protocol.ts";

export interface DetectPort {
  postMessage(msg: CaptureToDetect, transfer: ArrayBuffer[]): void;
}

/**
 * Model inputs: the one being detected, and up to three sent ahead (the newest replaces the
 * others), so that a frame sent a little early can still be replaced by the next ones.
 */
export const DETECT_INPUTS = 4;
/**
 * How much earlier than one frame interval before the expected end of an invoke frames are sent
 * ahead (ms): this thread reads a result late by up to one 10 ms poll of the camera plus a
 * decode, so the next invoke's start, as seen from here, is late by as much.
 */
export const PREFETCH_SLACK_MS = 15;

/** What a message from the detect Worker meant for the frame it held. */
export type Handback =
  /** The result of `frame`. */
  | { kind: "result"; frame: Frame; detections: Detection[]; low: Detection[]; inferMs: number }
  /** No result for `frame` (failed, skipped, stale, or another size): release it. */
  | { kind: "dropped"; frame: Frame | null }
  /** A "ready" or "detector" message: nothing came back. */
  | { kind: "none" };

export class DetectHandoff {
  /** The detector in use; null while none is open (or before the first "ready"). */
  backend: Backend | null = null;
  #port: DetectPort | null = null;
  /** Until "ready": no inputs yet. */
  #ready = false;
  /** Frames sent and not answered yet, oldest first: the first is the one being detected. */
  readonly #sent: Frame[] = [];
  #lastSentSeq = 0;
  /** Clock ms at which the invoke of #sent[0] started, as far as this side can tell. */
  #startedAtMs = 0;
  /** Moving average of the invoke time (ms); 0 until the first result. */
  #inferMs = 0;
  readonly #inputs: Uint8Array[] = [];
  #inputW = 0;
  #inputH = 0;

  constructor(
    private readonly resize: (f: Frame, width: number, height: number, out: Uint8Array) => void,
  ) {}

  /** Whether `f` is at the detector (sent, not answered yet): not to be released. */
  holds(f: Frame): boolean {
    return this.#sent.includes(f);
  }

  /**
   * A new port (a new or restarted detect Worker): nothing is in flight there, wait for its
   * "ready". Returns the frames that were at the old one, for release.
   */
  setPort(port: DetectPort | null): Frame[] {
    const was = this.#sent.splice(0);
    this.#port = port;
    this.#ready = false;
    this.#inputs.length = 0;
    this.#inputW = 0;
    this.#inputH = 0;
    return was;
  }

  /**
   * A decoded frame at `nowMs` (frames come every `frameMs`): sent when the detector is idle,
   * or ahead when the next frame is expected after the end of the invoke under way. False when
   * not sent (not ready, too early, already sent, or no input buffer free).
   */
  offer(f: Frame, nowMs: number, frameMs: number): boolean {
    if (!this.#port || !this.#ready || f.seq <= this.#lastSentSeq) return false;
    const idle = this.#sent.length === 0;
    const endMs = this.#startedAtMs + this.#inferMs;
    if (!idle && nowMs + frameMs + PREFETCH_SLACK_MS < endMs) return false;
    // Past the end with one queued: that one has most likely started, this one would wait a
    // whole invoke.
    if (this.#sent.length > 1 && nowMs > endMs) return false;
    const input = this.#inputs.pop();
    if (!input) return false;
    this.resize(f, this.#inputW, this.#inputH, input);
    if (idle) this.#startedAtMs = nowMs;
    this.#sent.push(f);
    this.#lastSentSeq = f.seq;
    this.#port.postMessage(
      { type: "infer", seq: f.seq, input, frameWidth: f.width, frameHeight: f.height },
      [input.buffer as ArrayBuffer],
    );
    return true;
  }

  /** A message from the detect Worker, read at `nowMs`. */
  receive(msg: DetectToCapture, nowMs: number): Handback {
    if (msg.type === "ready") {
      this.#setDetector(msg.info);
      this.#ready = true;
      return { kind: "none" };
    }
    if (msg.type === "detector") {
      this.backend = msg.info?.backend ?? null;
      // A detector that comes back after a restart of this side counts as "ready".
      if (msg.info && !this.#ready) return this.receive({ type: "ready", info: msg.info }, nowMs);
      if (msg.info) this.#setDetector(msg.info);
      return { kind: "none" };
    }
    // An input of the previous detector's size is dropped (the switch made new ones).
    const size = this.#inputW * this.#inputH * 3;
    if (msg.input.length === size && this.#inputs.length < DETECT_INPUTS) {
      this.#inputs.push(msg.input);
    }
    // One answer per frame sent, in order: this one is for the oldest.
    const f = this.#sent.shift() ?? null;
    if (msg.type !== "skipped") this.#startedAtMs = nowMs; // the next one started meanwhile
    if (msg.type !== "result" || !f || f.seq !== msg.seq) return { kind: "dropped", frame: f };
    this.#inferMs = this.#inferMs === 0 ? msg.inferMs : this.#inferMs * 0.8 + msg.inferMs * 0.2;
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
    for (let i = 0; i < DETECT_INPUTS; i++) this.#inputs.push(new Uint8Array(bytes));
  }
}
