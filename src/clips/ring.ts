/**
 * The pre-roll ring: the camera's recent JPEG frames, oldest first, so that a clip can start a
 * few seconds before the visit that opened it.
 *
 * API (main thread, one owner):
 *   const ring = new FrameRing({ maxBytes: 32 * 2 ** 20, maxAgeMs: 4000 });
 *   ring.push({ seq, atMs, jpeg, overlay });   // every captured frame, in capture order
 *   ring.since(tMs)                             // frames with atMs >= tMs, oldest first
 *   ring.bytes, ring.frames, ring.oldest()      // for /status
 *
 * Bounds, both enforced on every push:
 * - bytes: the sum of `frameCost()` (the JPEG's byteLength plus FRAME_OVERHEAD_BYTES for the
 *   record, its overlay and the array slot) never exceeds maxBytes: the oldest frames are dropped
 *   first. A single frame larger than the budget is not kept at all (the ring is then empty).
 * - age: frames older than the newest frame's atMs − maxAgeMs are dropped. The caller passes the
 *   pre-roll plus a margin (recorder.ts: clipPre + the ring margin), because a visit's open event
 *   reaches the recorder after detection and confirmation, some results after the visit's own
 *   (backdated) start time; setMaxAge() changes it while running.
 * Times must not go back: a frame older than the newest (the wall clock was set back) empties
 * the ring first, so since() can binary-search.
 *
 * The JPEG is counted by its byteLength: it must own its ArrayBuffer (both capture paths give
 * exact copies: the MJPEG `raw.data.slice()`, jpegEncode's slice); a view into a larger buffer
 * would keep the whole buffer alive, uncounted.
 *
 * Copy policy: the ring KEEPS the caller's Uint8Array (no copy). The frames reach the main thread
 * transferred from the capture Worker and nobody writes into them afterwards, so sharing the
 * reference with the clip writer is safe and costs nothing; a caller that reuses its buffers must
 * pass a copy (`jpeg.slice()`). The overlay is kept as given, too, and must not be mutated.
 */

/** One captured frame as the clips see it. `O` is the overlay (detections, track boxes). */
export interface RingFrame<O = unknown> {
  /** Capture sequence number (FrameState.seq). */
  seq: number;
  /** Capture time, ms since epoch (FrameState.grabbedAt). */
  atMs: number;
  /** The camera's own JPEG, SOI..EOI. */
  jpeg: Uint8Array;
  /** JSON-able per-frame data stored in the clip's index and drawn by the player. */
  overlay: O;
}

export interface RingOptions {
  /** Byte budget (--clip-buffer-mb × 2^20). */
  maxBytes: number;
  /** Oldest frame kept, relative to the newest one, in ms. */
  maxAgeMs: number;
}

/**
 * Counted per frame on top of its JPEG: the record object, the array slot, the overlay and the
 * allocator's rounding of a ~20 KB buffer. Measured (bench/clips.ts): RSS grows by the JPEG bytes
 * plus about 2.5 KB per frame; 4 KB keeps the ring's RSS under its budget itself.
 */
export const FRAME_OVERHEAD_BYTES = 4096;

export function frameCost(f: RingFrame<unknown>): number {
  return f.jpeg.byteLength + FRAME_OVERHEAD_BYTES;
}

export class FrameRing<O = unknown> {
  private readonly maxBytes: number;
  private maxAgeMs: number;
  /** Frames in capture order; the live ones are items[head..]. */
  private items: RingFrame<O>[] = [];
  private head = 0;
  private total = 0;
  /** Frames dropped for the byte budget before they aged out (the budget is too small). */
  droppedForBytes = 0;

  constructor(opts: RingOptions) {
    if (!(opts.maxBytes >= 0) || !(opts.maxAgeMs >= 0)) {
      throw new RangeError("FrameRing: maxBytes and maxAgeMs must be >= 0");
    }
    this.maxBytes = opts.maxBytes;
    this.maxAgeMs = opts.maxAgeMs;
  }

  /** Bytes held, as counted against maxBytes (JPEGs + FRAME_OVERHEAD_BYTES each). */
  get bytes(): number {
    return this.total;
  }

  /** Frames held. */
  get frames(): number {
    return this.items.length - this.head;
  }

  /** The age bound in ms (see setMaxAge). */
  get maxAge(): number {
    return this.maxAgeMs;
  }

  /**
   * Changes the age bound (the recorder widens it to the visits' observed open delay); a lower
   * bound drops the frames that are now too old at the next push.
   */
  setMaxAge(ms: number): void {
    if (!(ms >= 0)) throw new RangeError("FrameRing: maxAgeMs must be >= 0");
    this.maxAgeMs = ms;
  }

  /** Adds the newest frame (capture order), then drops what is too old or over the budget. */
  push(frame: RingFrame<O>): void {
    const cost = frameCost(frame);
    const newest = this.latest();
    if (newest && frame.atMs < newest.atMs) {
      // The wall clock was set back: times before and after the step cannot be compared.
      this.clear();
    }
    if (cost > this.maxBytes) {
      // Cannot hold even this one: keeping older frames would break the pre-roll's continuity.
      this.droppedForBytes += this.frames;
      this.clear();
      return;
    }
    this.items.push(frame);
    this.total += cost;
    const oldestMs = frame.atMs - this.maxAgeMs;
    while (this.head < this.items.length) {
      const first = this.items[this.head] as RingFrame<O>;
      const overBudget = this.total > this.maxBytes;
      if (!overBudget && first.atMs >= oldestMs) break;
      if (overBudget && first.atMs >= oldestMs) this.droppedForBytes++;
      this.dropFirst();
    }
    this.compact();
  }

  /** Frames with atMs >= tMs, oldest first (a new array; the frames themselves are shared). */
  since(tMs: number): RingFrame<O>[] {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.items[mid] as RingFrame<O>).atMs < tMs) lo = mid + 1;
      else hi = mid;
    }
    return this.items.slice(lo);
  }

  /** The oldest frame, or null when empty. */
  oldest(): RingFrame<O> | null {
    return this.frames > 0 ? (this.items[this.head] as RingFrame<O>) : null;
  }

  /** The newest frame, or null when empty. */
  latest(): RingFrame<O> | null {
    return this.frames > 0 ? (this.items[this.items.length - 1] as RingFrame<O>) : null;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.total = 0;
  }

  private dropFirst(): void {
    const first = this.items[this.head] as RingFrame<O>;
    this.total -= frameCost(first);
    // Release the JPEG now rather than at the next compaction.
    (this.items as (RingFrame<O> | undefined)[])[this.head] = undefined;
    this.head++;
  }

  /** Shifts the live frames down once the dead prefix is large: amortized O(1) per push. */
  private compact(): void {
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
