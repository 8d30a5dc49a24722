/** JPEG (libjpeg-turbo) and pixel work through the shim. Images are packed RGB24 (stride = width * 3). */
import { HC, ShimError, badArg, checkDims, checkLen, shimError } from "./errors.ts";
import type { FrameSize } from "./camera.ts";
import { shim } from "./lib.ts";

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
