/**
 * Splits a byte stream of concatenated JPEGs (an .mjpeg file, or a multipart body) into frames.
 * Walks the JPEG marker structure rather than searching for FFD9, so an EXIF thumbnail's EOI
 * inside an APP segment does not end the frame. Bytes between frames are skipped.
 */

type State = "seek" | "segments" | "entropy";

/** Refuse to buffer a single frame beyond this (a stream without EOI would grow forever). */
const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export class MjpegSplitter {
  private buf = new Uint8Array(64 * 1024);
  private len = 0;
  /** Offset of the current frame's SOI in buf, valid unless state is "seek". */
  private start = 0;
  /** Where scanning resumes. */
  private pos = 0;
  private state: State = "seek";
  private readonly maxFrameBytes: number;
  /** Frames given up on: corrupt marker structure, or larger than maxFrameBytes. */
  dropped = 0;

  constructor(opts: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Adds bytes; returns the frames completed by them (each a copy, SOI..EOI inclusive). */
  push(chunk: Uint8Array): Uint8Array[] {
    this.append(chunk);
    const frames: Uint8Array[] = [];
    for (;;) {
      const end = this.scan();
      if (end < 0) break;
      frames.push(this.buf.slice(this.start, end));
      this.state = "seek";
      this.pos = end;
    }
    if (this.state !== "seek" && this.len - this.start > this.maxFrameBytes) {
      this.dropped++;
      this.resync();
    }
    this.compact();
    return frames;
  }

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.state === "seek" ? 0 : this.len - this.start;
  }

  private append(chunk: Uint8Array): void {
    if (this.len + chunk.length > this.buf.length) {
      let cap = this.buf.length;
      while (cap < this.len + chunk.length) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
  }

  /** Drops consumed bytes so the buffer holds only the current frame (or the last byte). */
  private compact(): void {
    const keep = this.state === "seek" ? Math.max(this.pos, this.len - 1) : this.start;
    if (keep <= 0) return;
    this.buf.copyWithin(0, keep, this.len);
    this.len -= keep;
    this.pos -= keep;
    this.start = Math.max(0, this.start - keep);
  }

  /** The frame is corrupt: look for the next SOI after its start. */
  private resync(): void {
    this.state = "seek";
    this.pos = this.start + 1;
  }

  /** Advances the state machine; returns the end offset (after EOI) of a frame, or -1. */
  private scan(): number {
    const b = this.buf;
    const len = this.len;
    for (;;) {
      if (this.state === "seek") {
        let i = this.pos;
        while (i + 1 < len && !(b[i] === 0xff && b[i + 1] === 0xd8)) i++;
        if (i + 1 >= len) {
          this.pos = i;
          return -1;
        }
        this.start = i;
        this.pos = i + 2;
        this.state = "segments";
      } else if (this.state === "segments") {
        let p = this.pos;
        if (p >= len) return -1;
        if (b[p] !== 0xff) {
          this.dropped++;
          this.resync();
          continue;
        }
        while (p < len && b[p] === 0xff) p++; // fill bytes
        if (p >= len) return -1;
        const marker = b[p]!;
        if (marker === 0xd9) return p + 1;
        if (marker === 0xd8 || marker === 0x00) {
          // A new SOI before this frame ended: the frame was cut off.
          this.dropped++;
          this.resync();
          continue;
        }
        if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
          this.pos = p + 1;
          continue;
        }
        if (p + 2 >= len) return -1;
        const segLen = (b[p + 1]! << 8) | b[p + 2]!;
        if (segLen < 2) {
          this.dropped++;
          this.resync();
          continue;
        }
        if (p + 1 + segLen > len) return -1;
        this.pos = p + 1 + segLen;
        if (marker === 0xda) this.state = "entropy";
      } else {
        // Entropy-coded data: FF is stuffed as FF00; RSTn markers stay inside the scan.
        let i = this.pos;
        for (;;) {
          while (i < len && b[i] !== 0xff) i++;
          if (i + 1 >= len) {
            this.pos = i;
            return -1;
          }
          const m = b[i + 1]!;
          if (m === 0x00 || (m >= 0xd0 && m <= 0xd7)) i += 2;
          else if (m === 0xff) i += 1;
          else break;
        }
        if (b[i + 1] === 0xd9) return i + 2;
        // Another marker (e.g. the next scan of a progressive JPEG): back to segments.
        this.pos = i;
        this.state = "segments";
      }
    }
  }
}

/** All complete JPEG frames in buf, in order. */
export function splitJpegs(buf: Uint8Array): Uint8Array[] {
  return new MjpegSplitter({ maxFrameBytes: Math.max(DEFAULT_MAX_FRAME_BYTES, buf.length) }).push(
    buf,
  );
}
