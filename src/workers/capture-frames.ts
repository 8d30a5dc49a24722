/**
 * Frames inside the capture Worker: a decoded frame keeps its RGB (for the detector, annotation
 * and snapshots) and its JPEG (for the stream); RGB buffers are reused through a small pool, so
 * a steady stream allocates none. Pure helpers over an injected codec.
 */
import type { RawFrame } from "../camera/types.ts";
import type { OverlayInfo } from "../image/annotate.ts";
import type { Detection } from "../shared/types.ts";
import type { CaptureCodec } from "./codec.ts";

export const STREAM_QUALITY = 80;
export const EVENT_QUALITY = 95;
const THUMB_WIDTH = 320;
const THUMB_QUALITY = 70;
/** Spare RGB buffers kept for reuse. */
const POOL_SIZE = 4;

export interface Frame {
  seq: number;
  /** Date.now() when grabbed (ms since epoch). */
  grabbedAt: number;
  width: number;
  height: number;
  /** RGB24, width * height * 3 bytes. */
  rgb: Uint8Array;
  /** The camera's JPEG, or our encode of a YUYV frame. */
  jpeg: Uint8Array;
}

/** Spare RGB buffers; take() returns one of the size asked, new if none fits. */
export class RgbPool {
  readonly #spare: Uint8Array[] = [];

  take(bytes: number): Uint8Array {
    for (;;) {
      const b = this.#spare.pop();
      if (!b) return new Uint8Array(bytes);
      if (b.length === bytes) return b;
    }
  }

  give(b: Uint8Array): void {
    if (this.#spare.length < POOL_SIZE) this.#spare.push(b);
  }
}

/** Exponential moving average of a rate from the interval since the last tick (per second). */
export function ema(prev: number, intervalMs: number): number {
  if (intervalMs <= 0) return prev;
  const rate = 1000 / intervalMs;
  return prev === 0 ? rate : prev * 0.9 + rate * 0.1;
}

export function countPeople(dets: readonly Detection[]): number {
  return dets.reduce((n, d) => n + (d.classId === 0 ? 1 : 0), 0);
}

/**
 * Decodes a raw frame into a pooled buffer. Throws what the codec throws (the buffer goes back
 * to the pool). A JPEG's own size wins over the announced one: `onOddSize` is told when they differ.
 */
export function decodeFrame(
  codec: CaptureCodec,
  pool: RgbPool,
  raw: RawFrame,
  seq: number,
  onOddSize: (width: number, height: number) => void,
): Frame {
  const rgb = pool.take(raw.width * raw.height * 3);
  const base = { seq, grabbedAt: raw.grabbedAt };
  try {
    if (raw.format === "yuyv") {
      codec.yuyvToRgb(raw.data, raw.width, raw.height, rgb);
      const jpeg = codec.jpegEncode(rgb, raw.width, raw.height, STREAM_QUALITY);
      return { ...base, width: raw.width, height: raw.height, rgb, jpeg };
    }
    const d = codec.jpegDecode(raw.data, rgb);
    if (d.width !== raw.width || d.height !== raw.height) onOddSize(d.width, d.height);
    return { ...base, width: d.width, height: d.height, rgb: d.rgb, jpeg: raw.data.slice() };
  } catch (e) {
    pool.give(rgb);
    throw e;
  }
}

/** A JPEG of the frame with boxes and the overlay line; the frame's RGB stays as it is. */
export function encodeAnnotated(
  codec: CaptureCodec,
  pool: RgbPool,
  f: Frame,
  dets: readonly Detection[],
  overlay: OverlayInfo,
  quality: number,
): Uint8Array {
  const copy = pool.take(f.rgb.length);
  copy.set(f.rgb);
  codec.annotate(copy, f.width, f.height, dets, overlay);
  const jpeg = codec.jpegEncode(copy, f.width, f.height, quality);
  pool.give(copy);
  return jpeg;
}

/** A JPEG at most 320 pixels wide, for the gallery. */
export function thumbnail(codec: CaptureCodec, f: Frame): Uint8Array {
  const tw = Math.min(THUMB_WIDTH, f.width);
  const th = Math.max(1, Math.round((f.height * tw) / f.width));
  const small = codec.resizeRgb(f.rgb, f.width, f.height, tw, th, { letterbox: false });
  return codec.jpegEncode(small, tw, th, THUMB_QUALITY);
}
