/**
 * Pure BMP decoder: 24-bit and 32-bit uncompressed (BI_RGB, or BI_BITFIELDS masks for 32-bit),
 * bottom-up or top-down, to packed RGB24. Anything else is a clear error (exit code 2).
 */
import { inputError, type HcError } from "../shared/errors.ts";

export interface RgbImage {
  /** Packed RGB24, stride = width * 3. */
  rgb: Uint8Array;
  width: number;
  height: number;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const COMPRESSION_NAMES: Record<number, string> = {
  1: "RLE8",
  2: "RLE4",
  4: "embedded JPEG",
  5: "embedded PNG",
  6: "alpha bitfields",
};
/** Larger sides are not camera frames or photos we can run on; refuse before allocating. */
const MAX_SIDE = 32768;
const SUPPORTED = "hazardcam reads 24-bit and 32-bit uncompressed BMP (and JPEG)";

function bad(name: string, what: string): HcError {
  return inputError("IMAGE_BMP_UNSUPPORTED", `${name}: ${what}`, SUPPORTED);
}

/** A 32-bit channel mask: shift and bit width, to scale the channel to 8 bits. */
function channel(mask: number): { mask: number; shift: number; max: number } {
  if (mask === 0) return { mask: 0, shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { mask, shift, max: mask >>> shift };
}

export function decodeBmp(buf: Uint8Array, name = "image"): RgbImage {
  if (buf.length < 26 || buf[0] !== 0x42 || buf[1] !== 0x4d) throw bad(name, "not a BMP file");
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  let width: number;
  let height: number;
  let bpp: number;
  let compression = BI_RGB;
  if (headerSize === 12) {
    // BITMAPCOREHEADER (OS/2): u16 sizes, always bottom-up.
    width = dv.getUint16(18, true);
    height = dv.getUint16(20, true);
    bpp = dv.getUint16(24, true);
  } else if (headerSize >= 40) {
    if (buf.length < 14 + 40) throw bad(name, "truncated BMP header");
    width = dv.getInt32(18, true);
    height = dv.getInt32(22, true);
    bpp = dv.getUint16(28, true);
    compression = dv.getUint32(30, true);
  } else {
    throw bad(name, `unknown BMP header size ${headerSize}`);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  if (width <= 0 || height <= 0 || width > MAX_SIDE || height > MAX_SIDE) {
    throw bad(name, `bad BMP size ${width}x${height}`);
  }
  if (bpp !== 24 && bpp !== 32) {
    throw bad(name, `${bpp}-bit BMP is not supported`);
  }
  // Masks as stored for BI_BITFIELDS; the defaults are BGRA / BGR byte order.
  let masks = [0x00ff0000, 0x0000ff00, 0x000000ff];
  if (compression === BI_BITFIELDS && bpp === 32) {
    // After a 40-byte header the masks follow it; V2..V5 headers contain them at the same place.
    if (buf.length < 14 + 40 + 12) throw bad(name, "truncated BMP header");
    masks = [dv.getUint32(54, true), dv.getUint32(58, true), dv.getUint32(62, true)];
  } else if (compression !== BI_RGB) {
    const what = COMPRESSION_NAMES[compression] ?? `compression ${compression}`;
    throw bad(name, `compressed BMP (${what}) is not supported`);
  }
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (dataOffset < 14 + headerSize || dataOffset + stride * height > buf.length) {
    throw bad(name, `truncated BMP: ${width}x${height} needs ${stride * height} bytes of pixels`);
  }

  const rgb = new Uint8Array(width * height * 3);
  const px = bpp / 8;
  const standard = masks[0] === 0x00ff0000 && masks[1] === 0x0000ff00 && masks[2] === 0x000000ff;
  const [r, g, b] = masks.map(channel) as [
    ReturnType<typeof channel>,
    ReturnType<typeof channel>,
    ReturnType<typeof channel>,
  ];
  const scale = (v: number, c: ReturnType<typeof channel>): number =>
    c.max === 0 ? 0 : c.max === 255 ? v : Math.round((v * 255) / c.max);
  for (let y = 0; y < height; y++) {
    const srcRow = dataOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    if (standard) {
      for (let x = 0, s = srcRow; x < width; x++, s += px) {
        rgb[o++] = buf[s + 2]!;
        rgb[o++] = buf[s + 1]!;
        rgb[o++] = buf[s]!;
      }
    } else {
      for (let x = 0, s = srcRow; x < width; x++, s += 4) {
        const v = dv.getUint32(s, true);
        rgb[o++] = scale((v & r.mask) >>> r.shift, r);
        rgb[o++] = scale((v & g.mask) >>> g.shift, g);
        rgb[o++] = scale((v & b.mask) >>> b.shift, b);
      }
    }
  }
  return { rgb, width, height };
}
