/**
 * Bindings of our C shim (ffi/hazardcam.h): V4L2 capture, JPEG (libjpeg-turbo) and pixel work.
 * The only module that loads libhazardcam.so. JS owns every buffer; C fills it. Images are packed
 * RGB24 (stride = width * 3). Loaded lazily, once per thread (a Worker has its own module copy).
 */
import { dlopen, FFIType, type Library, type Pointer } from "bun:ffi";
import { existsSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { HcError, errorMessage } from "../shared/errors.ts";
import { libPaths } from "./libs.ts";

/** HC_ABI_VERSION of the header these bindings were written against. */
const ABI_VERSION = 1;

const { i32, u32, i64, ptr } = FFIType;
const symbols = {
  hc_abi_version: { args: [], returns: i32 },
  hc_last_errno: { args: [], returns: i32 },
  hc_cam_open: { args: [ptr, ptr], returns: ptr },
  hc_cam_formats: { args: [ptr, ptr, i32], returns: i32 },
  hc_cam_start: { args: [ptr, i32, i32, u32, i32, i32], returns: i32 },
  hc_cam_width: { args: [ptr], returns: i32 },
  hc_cam_height: { args: [ptr], returns: i32 },
  hc_cam_fourcc: { args: [ptr], returns: u32 },
  hc_cam_buffer_size: { args: [ptr], returns: i32 },
  hc_cam_grab: { args: [ptr, ptr, i32, i32, ptr], returns: i32 },
  hc_cam_stop: { args: [ptr], returns: i32 },
  hc_cam_free: { args: [ptr], returns: FFIType.void },
  hc_jpeg_info: { args: [ptr, i32, ptr], returns: i32 },
  hc_jpeg_decode: { args: [ptr, i32, ptr, i32], returns: i32 },
  hc_jpeg_encode: { args: [ptr, i32, i32, i32, ptr, i32], returns: i32 },
  hc_jpeg_bound: { args: [i32, i32], returns: i32 },
  hc_yuyv_to_rgb: { args: [ptr, i32, i32, ptr, i32], returns: i32 },
  hc_resize: { args: [ptr, i32, i32, ptr, i32, i32, i32, ptr], returns: i32 },
  hc_draw_rect: { args: [ptr, i32, i32, i32, i32, i32, i32, u32, i32], returns: i32 },
  hc_draw_text: { args: [ptr, i32, i32, i32, i32, ptr, i32, u32, i64], returns: i32 },
  hc_tflite_reporter: { args: [], returns: ptr },
  hc_tflite_take_errors: { args: [ptr, i32], returns: i32 },
} as const;

type Shim = Library<typeof symbols>["symbols"];
let lib: Shim | null = null;

function shim(): Shim {
  if (lib) return lib;
  const path = libPaths().shim;
  const embedded = path.startsWith("/$bunfs");
  if (!embedded && !existsSync(path)) {
    throw new HcError(
      "SHIM_MISSING",
      `native shim not found: ${path}`,
      "build it with `bun run build:ffi` (source tree), or point HAZARDCAM_SHIM_LIB at libhazardcam.so",
    );
  }
  let l: Library<typeof symbols>;
  try {
    l = dlopen(path, symbols);
  } catch (e) {
    throw new HcError(
      "SHIM_LOAD",
      `cannot load the native shim ${path} (${errorMessage(e)})`,
      "rebuild it for this machine with `bun run build:ffi`",
    );
  }
  const abi = l.symbols.hc_abi_version();
  if (abi !== ABI_VERSION) {
    l.close();
    throw new HcError(
      "SHIM_ABI",
      `native shim ${path} has ABI ${abi}, these bindings need ${ABI_VERSION}`,
      "rebuild it with `bun run build:ffi`",
    );
  }
  lib = l.symbols;
  return lib;
}

// ---- errors ----------------------------------------------------------------------------------

const HC = {
  ENODEV: -1,
  EBUSY: -2,
  EFORMAT: -3,
  ETIMEOUT: -4,
  EGONE: -5,
  ENOTCAM: -6,
  EIO: -7,
  EJPEG: -8,
  EARG: -9,
  EPERM: -10,
  ENOMEM: -11,
  ESTATE: -12,
} as const;

export type ShimErrorName = keyof typeof HC;

const NAMES = new Map<number, ShimErrorName>(
  Object.entries(HC).map(([k, v]) => [v, k as ShimErrorName]),
);

/** A shim failure: `hcCode` is the negative HC_E* value, `hcName` (also `code`) e.g. "EGONE". */
export class ShimError extends HcError {
  readonly hcCode: number;
  readonly hcName: ShimErrorName;
  /** errno of the failing system call, when there was one (0 otherwise). */
  readonly errno: number;

  constructor(hcCode: number, message: string, fix: string, errno = 0) {
    const name = NAMES.get(hcCode) ?? "EIO";
    // Bad input from the user (a wrong device path, a broken image file): exit code 2.
    const input = name === "ENODEV" || name === "ENOTCAM" || name === "EJPEG" || name === "EFORMAT";
    super(name, message, fix, input ? 2 : 1);
    this.name = "ShimError";
    this.hcCode = hcCode;
    this.hcName = name;
    this.errno = errno;
  }
}

const BUG = "this is a bug in hazardcam: please report it";

function errnoName(n: number): string {
  const hit = Object.entries(osConstants.errno).find(([, v]) => v === n);
  return hit ? hit[0] : `errno ${n}`;
}

/** Builds the error for an HC_E* result. `what` names the object ("camera /dev/video0", "JPEG"). */
function shimError(
  code: number,
  what: string,
  ctx: { path?: string; timeoutMs?: number; errno?: number } = {},
): ShimError {
  const dev = ctx.path ?? "/dev/video0";
  const errno = ctx.errno ?? 0;
  const mk = (msg: string, fix: string): ShimError =>
    new ShimError(code, `${what}: ${msg}`, fix, errno);
  switch (NAMES.get(code)) {
    case "ENODEV":
      return mk(
        "no such device",
        "check that the camera is plugged in; list cameras with `hazardcam devices` or `v4l2-ctl --list-devices`",
      );
    case "EBUSY":
      return mk(
        "the camera is busy",
        `another program uses the camera: close it (\`fuser ${dev}\` shows which)`,
      );
    case "EFORMAT":
      return mk(
        "the camera offers neither MJPEG nor YUYV",
        `use a UVC webcam; \`v4l2-ctl -d ${dev} --list-formats-ext\` lists what this one offers`,
      );
    case "ETIMEOUT":
      return mk(
        `no frame within ${ctx.timeoutMs ?? 0} ms`,
        "check the camera's cable and power (a powered USB hub helps), or ask for a lower resolution",
      );
    case "EGONE":
      return mk(
        "the camera disappeared (unplugged?)",
        "check the USB cable and power, then open the camera again",
      );
    case "ENOTCAM":
      return mk(
        "not a V4L2 video capture device",
        "list cameras with `hazardcam devices` or `v4l2-ctl --list-devices`",
      );
    case "EJPEG":
      return mk(
        "corrupt or unsupported JPEG",
        "use a baseline or progressive JPEG in colour or greyscale",
      );
    case "EPERM":
      return mk(
        "permission denied",
        "add your user to the video group: sudo usermod -aG video $USER, then log in again",
      );
    case "ENOMEM":
      return mk("out of memory", "ask for a lower resolution or close other programs");
    case "EARG":
      return mk("bad argument or buffer too small", BUG);
    case "ESTATE":
      return mk("wrong call order", BUG);
    default:
      if (errno === osConstants.errno.ENOSPC) {
        return mk(
          "not enough USB bandwidth (ENOSPC)",
          "ask for a lower resolution, prefer MJPEG, or give the camera its own USB port",
        );
      }
      return mk(
        `I/O error${errno ? ` (${errnoName(errno)})` : ""}`,
        "check `dmesg` for USB errors; try another USB port or a lower resolution",
      );
  }
}

function badArg(what: string, msg: string): ShimError {
  return new ShimError(HC.EARG, `${what}: ${msg}`, BUG);
}

function checkDims(what: string, w: number, h: number): void {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 || w > 65500 || h > 65500) {
    throw badArg(what, `bad size ${w}x${h}`);
  }
}

function checkLen(what: string, buf: Uint8Array, need: number): void {
  if (buf.length < need) throw badArg(what, `needs ${need} bytes, got ${buf.length}`);
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}

// ---- camera ----------------------------------------------------------------------------------

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

// ---- JPEG ------------------------------------------------------------------------------------

/** Larger images are refused rather than allocated (RGB of 100 MP is 300 MB). */
const MAX_PIXELS = 100_000_000;

export interface DecodedImage {
  /** Packed RGB24, exactly width * height * 3 bytes (a view of dst when one was given). */
  rgb: Uint8Array;
  width: number;
  height: number;
}

const dims = new Int32Array(2);

export function jpegInfo(jpg: Uint8Array): FrameSize {
  if (jpg.length < 4) throw shimError(HC.EJPEG, "JPEG");
  const rc = shim().hc_jpeg_info(jpg, jpg.length, dims);
  if (rc < 0) throw shimError(rc, "JPEG");
  return { width: dims[0] ?? 0, height: dims[1] ?? 0 };
}

/** Decodes a JPEG to RGB24, into dst if it is big enough, else into a new array. */
export function jpegDecode(jpg: Uint8Array, dst?: Uint8Array): DecodedImage {
  const { width, height } = jpegInfo(jpg);
  if (width * height > MAX_PIXELS) {
    throw new ShimError(
      HC.EJPEG,
      `JPEG: ${width}x${height} is too large`,
      "use an image of at most 100 megapixels",
    );
  }
  const need = width * height * 3;
  const rgb = dst && dst.length >= need ? dst.subarray(0, need) : new Uint8Array(need);
  const rc = shim().hc_jpeg_decode(jpg, jpg.length, rgb, rgb.length);
  if (rc < 0) throw shimError(rc, "JPEG");
  return { rgb, width, height };
}

let encodeScratch = new Uint8Array(0);

/** Encodes RGB24 as a 4:2:0 JPEG at quality 1..100. Returns a right-sized copy. */
export function jpegEncode(
  rgb: Uint8Array,
  width: number,
  height: number,
  quality: number,
): Uint8Array {
  checkDims("jpegEncode", width, height);
  checkLen("jpegEncode", rgb, width * height * 3);
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw badArg("jpegEncode", `quality ${quality} is not 1..100`);
  }
  const s = shim();
  const bound = s.hc_jpeg_bound(width, height);
  if (bound < 0) throw shimError(bound, "jpegEncode");
  if (encodeScratch.length < bound) encodeScratch = new Uint8Array(bound);
  const n = s.hc_jpeg_encode(rgb, width, height, quality, encodeScratch, encodeScratch.length);
  if (n < 0) throw shimError(n, "jpegEncode");
  return encodeScratch.slice(0, n);
}

// ---- pixels ----------------------------------------------------------------------------------

/** YUYV 4:2:2 (w*h*2 bytes, w even) to RGB24, BT.601 full range. */
export function yuyvToRgb(
  yuyv: Uint8Array,
  width: number,
  height: number,
  dst?: Uint8Array,
): Uint8Array {
  checkDims("yuyvToRgb", width, height);
  if (width % 2 !== 0) throw badArg("yuyvToRgb", `width ${width} is odd`);
  checkLen("yuyvToRgb", yuyv, width * height * 2);
  const need = width * height * 3;
  const rgb = dst && dst.length >= need ? dst.subarray(0, need) : new Uint8Array(need);
  const rc = shim().hc_yuyv_to_rgb(yuyv, width, height, rgb, rgb.length);
  if (rc < 0) throw shimError(rc, "yuyvToRgb");
  return rgb;
}

export interface ResizeOptions {
  /** Keep the aspect ratio and pad with black, centred (see detect/ssd.ts letterboxFor). */
  letterbox?: boolean;
}

/**
 * Bilinear resize of RGB24 sw x sh to dw x dh: a stretch by default (as the original did). When
 * shrinking, each output pixel averages the inputs it covers, as ffmpeg's bilinear scaler does
 * (within +-1 of it: the reference detections were made with ffmpeg). Returns dst (or a new
 * array) trimmed to dw * dh * 3.
 */
export function resizeRgb(
  src: Uint8Array,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  opts: ResizeOptions = {},
  dst?: Uint8Array,
): Uint8Array {
  checkDims("resizeRgb source", sw, sh);
  checkDims("resizeRgb target", dw, dh);
  checkLen("resizeRgb source", src, sw * sh * 3);
  const need = dw * dh * 3;
  const out = dst && dst.length >= need ? dst.subarray(0, need) : new Uint8Array(need);
  if (out.buffer === src.buffer) {
    const a0 = src.byteOffset;
    const b0 = out.byteOffset;
    if (a0 < b0 + need && b0 < a0 + sw * sh * 3)
      throw badArg("resizeRgb", "source and target overlap");
  }
  const rc = shim().hc_resize(src, sw, sh, out, dw, dh, opts.letterbox ? 1 : 0, null);
  if (rc < 0) throw shimError(rc, "resizeRgb");
  return out;
}

/** Rectangle outline with inclusive corners, clipped to the image; color = 0xRRGGBB. */
export function drawRect(
  img: Uint8Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: number,
  thickness = 2,
): void {
  checkDims("drawRect", width, height);
  checkLen("drawRect", img, width * height * 3);
  const rc = shim().hc_draw_rect(
    img,
    width,
    height,
    Math.round(x0),
    Math.round(y0),
    Math.round(x1),
    Math.round(y1),
    color >>> 0,
    Math.max(1, Math.round(thickness)),
  );
  if (rc < 0) throw shimError(rc, "drawRect");
}

/**
 * Text in the built-in 8x8 font (ASCII; anything else is drawn as "?"), each pixel scaled to
 * scale x scale, on a box of `background` (0xRRGGBB, or -1 for none). Returns the width in pixels.
 */
export function drawText(
  img: Uint8Array,
  width: number,
  height: number,
  x: number,
  y: number,
  text: string,
  scale = 1,
  color = 0xffffff,
  background = -1,
): number {
  checkDims("drawText", width, height);
  checkLen("drawText", img, width * height * 3);
  if (!Number.isInteger(scale) || scale < 1 || scale > 64)
    throw badArg("drawText", `scale ${scale}`);
  const ascii = text.replace(/[^\x20-\x7e]/g, "?");
  const bg = background < 0 ? -1 : background & 0xffffff;
  const rc = shim().hc_draw_text(
    img,
    width,
    height,
    Math.round(x),
    Math.round(y),
    Buffer.from(`${ascii}\0`, "latin1"),
    scale,
    color >>> 0,
    bg,
  );
  if (rc < 0) throw shimError(rc, "drawText");
  return rc;
}

// ---- TFLite error reporter -------------------------------------------------------------------

/** For TfLiteInterpreterOptionsSetErrorReporter: collects messages per thread (user_data unused). */
export function tfliteReporterPtr(): Pointer {
  const p = shim().hc_tflite_reporter();
  if (!p) throw new HcError("SHIM_REPORTER", "the shim has no TFLite error reporter", BUG);
  return p as Pointer;
}

const errorBuf = new Uint8Array(4096);

/** Messages TFLite reported on this thread since the last call, newline-separated; clears them. */
export function takeTfliteErrors(): string {
  const n = shim().hc_tflite_take_errors(errorBuf, errorBuf.length);
  return n > 0 ? new TextDecoder().decode(errorBuf.subarray(0, n)) : "";
}
