/**
 * Fakes for the capture loop: a camera whose frames and failures the test hands out one by one,
 * a codec that keeps a frame's tag through every step (decode, resize, encode, annotate), a clock
 * the test moves, and a recorder of what the loop posts. Nothing sleeps.
 */
import {
  SourceLost,
  type FrameSource,
  type RawFrame,
  type SourceInfo,
} from "../../src/camera/types.ts";
import type { Logger } from "../../src/shared/log.ts";
import type { Detection } from "../../src/shared/types.ts";
import type { CaptureClock } from "../../src/workers/clock.ts";
import type { CaptureCodec } from "../../src/workers/codec.ts";
import type { CaptureToDetect, DetectorInfo, FromCapture } from "../../src/workers/protocol.ts";

/** The detector a fake detect Worker announces (a 2x2 model input). */
export const DETECTOR: DetectorInfo = {
  backend: "cpu",
  tfliteVersion: "2.9.0",
  edgetpuVersion: null,
  modelPath: "model.tflite",
  warnings: [],
  inputWidth: 2,
  inputHeight: 2,
};

/** A person on the left half of the picture. */
export const PERSON: Detection = {
  classId: 0,
  label: "person",
  score: 0.9,
  box: { ymin: 0.1, xmin: 0.1, ymax: 0.9, xmax: 0.5 },
};

export const W = 4;
export const H = 2;
/** A frame's first byte; this one makes the fake decoder fail like a broken JPEG. */
export const CORRUPT = 0xee;
/** What the fake annotate() writes into the first pixel. */
export const ANNOTATED = 0xaa;

export class CorruptFrame extends Error {}

/** decode: RGB filled with the tag; encode: [first RGB byte, quality]; resize: filled with the tag. */
export const fakeCodec: CaptureCodec = {
  jpegDecode(jpg, dst) {
    if (jpg[0] === CORRUPT) throw new CorruptFrame("JPEG: not a JPEG");
    const rgb =
      dst && dst.length >= W * H * 3 ? dst.subarray(0, W * H * 3) : new Uint8Array(W * H * 3);
    rgb.fill(jpg[0] ?? 0);
    return { rgb, width: W, height: H };
  },
  yuyvToRgb(yuyv, w, h, dst) {
    const rgb = dst ?? new Uint8Array(w * h * 3);
    rgb.fill(yuyv[0] ?? 0);
    return rgb;
  },
  jpegEncode: (rgb, _w, _h, quality) => new Uint8Array([rgb[0] ?? 0, quality]),
  resizeRgb(src, _sw, _sh, dw, dh, _opts, dst) {
    const out = dst ?? new Uint8Array(dw * dh * 3);
    out.fill(src[0] ?? 0);
    return out;
  },
  annotate(rgb) {
    rgb[0] = ANNOTATED;
  },
  isCorrupt: (e) => e instanceof CorruptFrame,
};

type OpenOutcome = "ok" | "lost" | "bad" | "hang";

/** A camera: each open() takes the next planned outcome ("ok" when none is left). */
export class FakeCamera {
  opens = 0;
  closes = 0;
  readonly plan: OpenOutcome[] = [];
  #queue: RawFrame[] = [];
  #waiting: PromiseWithResolvers<RawFrame> | null = null;
  #lost: SourceLost | null = null;
  #grabbedAt = 1_700_000_000_000;

  readonly info: SourceInfo = {
    description: "fake camera 4x2",
    width: W,
    height: H,
    format: "MJPG",
    sizeNote: null,
  };

  /** A frame tagged `tag`, grabbed `afterMs` after the previous one. */
  push(tag: number, afterMs = 100, dropped = 0): void {
    this.#grabbedAt += afterMs;
    const raw: RawFrame = {
      data: new Uint8Array([tag, 1, 2, 3]),
      format: "jpeg",
      width: W,
      height: H,
      grabbedAt: this.#grabbedAt,
      dropped,
    };
    const w = this.#waiting;
    this.#waiting = null;
    if (w) w.resolve(raw);
    else this.#queue.push(raw);
  }

  /** The camera goes away: the grab under way (or the next one) fails. */
  lose(message: string): void {
    const w = this.#waiting;
    this.#waiting = null;
    if (w) w.reject(new SourceLost(message));
    else this.#lost = new SourceLost(message);
  }

  get lastGrabbedAt(): number {
    return this.#grabbedAt;
  }

  source(): FrameSource {
    return {
      open: () => {
        this.opens++;
        const outcome = this.plan.shift() ?? "ok";
        if (outcome === "lost") return Promise.reject(new SourceLost("no such device"));
        if (outcome === "bad") return Promise.reject(new Error("not a camera"));
        if (outcome === "hang") return new Promise<SourceInfo>(() => undefined);
        return Promise.resolve(this.info);
      },
      next: () => {
        const lost = this.#lost;
        this.#lost = null;
        if (lost) return Promise.reject(lost);
        const raw = this.#queue.shift();
        if (raw) return Promise.resolve(raw);
        this.#waiting = Promise.withResolvers<RawFrame>();
        return this.#waiting.promise;
      },
      close: () => {
        this.closes++;
      },
    };
  }
}

/** A clock the test moves; sleeps are recorded and end at once (or, held, only on abort). */
export class FakeClock implements CaptureClock {
  t = 1000;
  readonly sleeps: number[] = [];
  hold = false;

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (!this.hold) {
      this.t += ms;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
  }
}

/** What the loop posted to the main thread and to the detector. */
export class Posted {
  readonly main: FromCapture[] = [];
  readonly infers: CaptureToDetect[] = [];
  readonly port = { postMessage: (m: CaptureToDetect) => void this.infers.push(m) };

  of<T extends FromCapture["type"]>(type: T): Extract<FromCapture, { type: T }>[] {
    return this.main.filter((m) => m.type === type) as Extract<FromCapture, { type: T }>[];
  }
}

export function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keys = new Set<string>();
  return {
    lines,
    info: (m) => void lines.push(`info ${m}`),
    warn: (m) => void lines.push(`warn ${m}`),
    error: (m) => void lines.push(`error ${m}`),
    once(key, level, m) {
      if (keys.has(key)) return;
      keys.add(key);
      lines.push(`${level} ${m}`);
    },
    clear: (key) => keys.delete(key),
  };
}

/** Lets the loop run until `cond` holds (macrotask turns, no timers); throws after 200 turns. */
export async function until(cond: () => boolean, what = "the condition"): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}
