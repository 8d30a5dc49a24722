/** /video: multipart/x-mixed-replace MJPEG, one JPEG part per frame, no-signal parts offline. */
import type { FrameState } from "../../shared/types.ts";
import type { ClientLoop } from "./client.ts";

export const BOUNDARY = "frame";
/** While offline, the no-signal frame is repeated this often (ms). */
export const NO_SIGNAL_INTERVAL_MS = 1000;

export const MJPEG_HEADERS: Readonly<Record<string, string>> = {
  "content-type": `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
  "cache-control": "no-store, no-cache, must-revalidate, max-age=0",
  pragma: "no-cache",
  "x-accel-buffering": "no",
};

export interface VideoOptions {
  /** Send the camera's own JPEG instead of the annotated one. */
  raw: boolean;
  /** Max frames per second for this client, or null for every frame. */
  fps: number | null;
  signal?: AbortSignal;
}

const enc = new TextEncoder();

/** One part of the multipart stream: boundary, headers, the JPEG, CRLF (also the clip replay). */
export function multipartPart(jpeg: Uint8Array): Uint8Array {
  const head = enc.encode(
    `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.byteLength}\r\n\r\n`,
  );
  const out = new Uint8Array(head.byteLength + jpeg.byteLength + 2);
  out.set(head, 0);
  out.set(jpeg, head.byteLength);
  out[out.byteLength - 2] = 13;
  out[out.byteLength - 1] = 10;
  return out;
}

export interface MjpegSource {
  latest(): FrameState | null;
  annotatedJpeg(): Uint8Array | null;
  online(): boolean;
  offlineReason(): string;
  noSignalJpeg(reason: string): Uint8Array;
}

/** Encoded parts shared by every client: one per source buffer, one no-signal part per second. */
export class MjpegParts {
  private partCache = new WeakMap<Uint8Array, Uint8Array>();
  private noSignalCache: { key: string; part: Uint8Array } | null = null;

  constructor(readonly src: MjpegSource) {}

  /** The part for `frame`: annotated unless raw, the camera JPEG as fallback. */
  frame(frame: FrameState, raw: boolean): Uint8Array {
    const jpeg = raw ? frame.jpeg : (this.src.annotatedJpeg() ?? frame.jpeg);
    let p = this.partCache.get(jpeg);
    if (!p) {
      p = multipartPart(jpeg);
      this.partCache.set(jpeg, p);
    }
    return p;
  }

  /** The no-signal part, encoded at most once per second and reason for all clients. */
  noSignal(): Uint8Array {
    const reason = this.src.offlineReason();
    const key = `${Math.floor(Date.now() / NO_SIGNAL_INTERVAL_MS)}|${reason}`;
    if (this.noSignalCache?.key !== key) {
      this.noSignalCache = { key, part: multipartPart(this.src.noSignalJpeg(reason)) };
    }
    return this.noSignalCache.part;
  }
}

/** Each new frame at most `fps` times a second; the no-signal picture every second offline. */
export function mjpegLoop(parts: MjpegParts, opts: VideoOptions): ClientLoop {
  const minIntervalMs = opts.fps ? 1000 / opts.fps : 0;
  let lastSeq = -1;
  let lastSentAt = -Infinity;
  return {
    next(now) {
      const frame = parts.src.latest();
      if (frame && frame.seq !== lastSeq) {
        const dueIn = lastSentAt + minIntervalMs - now;
        if (dueIn > 0) return dueIn;
        lastSeq = frame.seq;
        lastSentAt = now;
        return parts.frame(frame, opts.raw);
      }
      const sinceMs = now - lastSentAt;
      // No new frame: while offline (or before the first frame) repeat the no-signal picture.
      if (sinceMs >= NO_SIGNAL_INTERVAL_MS && (!frame || !parts.src.online())) {
        lastSentAt = now;
        lastSeq = -1;
        return parts.noSignal();
      }
      const waitMs = NO_SIGNAL_INTERVAL_MS - sinceMs;
      return waitMs > 0 ? waitMs : NO_SIGNAL_INTERVAL_MS;
    },
  };
}
