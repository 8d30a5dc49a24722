/** V4L2 capture through the shim: open, negotiate (MJPEG first, then YUYV), grab the newest frame. */
import type { Pointer } from "bun:ffi";
import { BUG, HC, ShimError, badArg, checkDims, cstr, shimError } from "./errors.ts";
import { shim } from "./lib.ts";

export type Fourcc = "MJPG" | "YUYV";
const FOURCC: Record<Fourcc, number> = { MJPG: 0x47504a4d, YUYV: 0x56595559 };

export interface FrameSize {
  width: number;
  height: number;
}

export interface CameraFormat {
  /** Pixel format as four characters: "MJPG", "YUYV", "H264", ... */
  fourcc: string;
  /** As the driver lists them: "640x480", or a stepwise range "160x120-1920x1080". */
  sizes: string[];
  /** The discrete sizes, parsed. */
  discrete: FrameSize[];
}

export interface StartOptions {
  width: number;
  height: number;
  /** Force a format; by default MJPEG, else YUYV. */
  fourcc?: Fourcc;
  /** Frames per second to ask for; 0 or absent = the driver's default. */
  fps?: number;
  /** mmap buffers (at least 3). */
  buffers?: number;
}

export interface StartedFormat {
  /** What the driver gave, which may differ from what was asked. */
  width: number;
  height: number;
  fourcc: Fourcc;
  /** The largest frame grab() can return: size grab's dst with this. */
  frameBytes: number;
}

export interface GrabResult {
  bytes: number;
  /** Driver frame counter (gaps = frames the driver dropped). */
  seq: number;
  /** Driver timestamp, CLOCK_MONOTONIC in microseconds. */
  timestampUs: number;
  /** Older frames this call discarded so the newest wins. */
  dropped: number;
}

/** Parses hc_cam_formats' text: one "FOURCC WxH WxH ..." line per format. */
export function parseFormats(text: string): CameraFormat[] {
  const out: CameraFormat[] = [];
  for (const line of text.split("\n")) {
    const [fourcc, ...sizes] = line.trim().split(/\s+/);
    if (!fourcc) continue;
    const discrete: FrameSize[] = [];
    for (const s of sizes) {
      const m = /^(\d+)x(\d+)$/.exec(s);
      if (m) discrete.push({ width: Number(m[1]), height: Number(m[2]) });
    }
    out.push({ fourcc, sizes, discrete });
  }
  return out;
}

/** A V4L2 capture device. One owner; close() is idempotent; every method throws after close. */
export class Camera {
  readonly path: string;
  #handle: Pointer | null;
  #stopped = false;
  #started: StartedFormat | null = null;
  readonly #meta = new BigInt64Array(3);

  private constructor(path: string, handle: Pointer) {
    this.path = path;
    this.#handle = handle;
  }

  /** Opens a device path such as /dev/video0 (no streaming yet). */
  static open(path: string): Camera {
    const s = shim();
    const err = new Int32Array(1);
    const h = s.hc_cam_open(cstr(path), err);
    if (!h) {
      throw shimError(err[0] || HC.EIO, `camera ${path}`, { path, errno: s.hc_last_errno() });
    }
    return new Camera(path, h as Pointer);
  }

  get isOpen(): boolean {
    return this.#handle !== null;
  }

  /** The format streaming runs with, or null before start(). */
  get started(): StartedFormat | null {
    return this.#started;
  }

  #live(): Pointer {
    if (!this.#handle) {
      throw new ShimError(HC.ESTATE, `camera ${this.path} is closed`, "open it again");
    }
    if (this.#stopped) {
      throw new ShimError(HC.ESTATE, `camera ${this.path} was stopped`, "open it again");
    }
    return this.#handle;
  }

  #fail(code: number, timeoutMs?: number): ShimError {
    return shimError(code, `camera ${this.path}`, {
      path: this.path,
      timeoutMs,
      errno: shim().hc_last_errno(),
    });
  }

  /** Formats and frame sizes the device offers. */
  formats(): CameraFormat[] {
    const h = this.#live();
    const buf = new Uint8Array(32768);
    const n = shim().hc_cam_formats(h, buf, buf.length);
    if (n < 0) throw this.#fail(n);
    return parseFormats(new TextDecoder().decode(buf.subarray(0, n)));
  }

  /** Negotiates the format (MJPEG first, then YUYV), maps buffers and starts streaming. */
  start(opts: StartOptions): StartedFormat {
    const h = this.#live();
    if (this.#started) throw new ShimError(HC.ESTATE, `camera ${this.path} already streams`, BUG);
    checkDims(`camera ${this.path}`, opts.width, opts.height);
    const fps = opts.fps ?? 0;
    if (!Number.isInteger(fps) || fps < 0) throw badArg(`camera ${this.path}`, `bad fps ${fps}`);
    const fourcc = opts.fourcc ? FOURCC[opts.fourcc] : 0;
    const s = shim();
    const rc = s.hc_cam_start(h, opts.width, opts.height, fourcc, fps, opts.buffers ?? 4);
    if (rc < 0) throw this.#fail(rc);
    const got = s.hc_cam_fourcc(h);
    this.#started = {
      width: s.hc_cam_width(h),
      height: s.hc_cam_height(h),
      fourcc: got === FOURCC.YUYV ? "YUYV" : "MJPG",
      frameBytes: s.hc_cam_buffer_size(h),
    };
    return { ...this.#started };
  }

  /**
   * Waits up to timeoutMs for a frame and copies the newest into dst (older ones are dropped).
   * Throws ShimError: ETIMEOUT (no frame yet: try again), EGONE (unplugged: close and reopen).
   */
  grab(dst: Uint8Array, timeoutMs: number): GrabResult {
    const h = this.#live();
    if (!this.#started) throw new ShimError(HC.ESTATE, `camera ${this.path} is not started`, BUG);
    if (dst.length === 0) throw badArg(`camera ${this.path}`, "empty frame buffer");
    if (!Number.isInteger(timeoutMs))
      throw badArg(`camera ${this.path}`, `bad timeout ${timeoutMs}`);
    const n = shim().hc_cam_grab(h, dst, dst.length, timeoutMs, this.#meta);
    if (n < 0) throw this.#fail(n, timeoutMs);
    const m = this.#meta;
    return {
      bytes: n,
      seq: Number(m[0]),
      timestampUs: Number(m[1]),
      dropped: Number(m[2]),
    };
  }

  /** STREAMOFF, munmap and close the device. The object is then only good for close(). */
  stop(): void {
    if (!this.#handle || this.#stopped) return;
    shim().hc_cam_stop(this.#handle);
    this.#stopped = true;
    this.#started = null;
  }

  /** Stops if needed and frees the handle. Idempotent. */
  close(): void {
    const h = this.#handle;
    if (!h) return;
    this.#handle = null;
    this.#started = null;
    shim().hc_cam_free(h);
  }
}
