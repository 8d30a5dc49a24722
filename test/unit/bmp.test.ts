import { describe, expect, test } from "bun:test";
import { decodeBmp } from "../../src/image/bmp.ts";
import { HcError } from "../../src/shared/errors.ts";

/** A BMP with a 40-byte info header; pixels given top row first as [r,g,b]. */
function makeBmp(
  pixels: [number, number, number][][],
  opts: { bpp?: 24 | 32; topDown?: boolean; compression?: number; masks?: number[] } = {},
): Uint8Array {
  const bpp = opts.bpp ?? 24;
  const h = pixels.length;
  const w = pixels[0]!.length;
  const stride = Math.floor((bpp * w + 31) / 32) * 4;
  const masks = opts.masks ?? [];
  const offset = 14 + 40 + masks.length * 4;
  const buf = new Uint8Array(offset + stride * h);
  const dv = new DataView(buf.buffer);
  buf[0] = 0x42;
  buf[1] = 0x4d;
  dv.setUint32(2, buf.length, true);
  dv.setUint32(10, offset, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, w, true);
  dv.setInt32(22, opts.topDown ? -h : h, true);
  dv.setUint16(26, 1, true);
  dv.setUint16(28, bpp, true);
  dv.setUint32(30, opts.compression ?? 0, true);
  masks.forEach((m, i) => dv.setUint32(54 + i * 4, m, true));
  pixels.forEach((row, y) => {
    const base = offset + (opts.topDown ? y : h - 1 - y) * stride;
    row.forEach(([r, g, b], x) => {
      const s = base + x * (bpp / 8);
      if (opts.masks) {
        // RGBA byte order in memory: R in the low byte.
        dv.setUint32(s, r | (g << 8) | (b << 16) | (0xff << 24), true);
      } else {
        buf[s] = b;
        buf[s + 1] = g;
        buf[s + 2] = r;
        if (bpp === 32) buf[s + 3] = 0xff;
      }
    });
  });
  return buf;
}

// 3x2: odd width exercises the 4-byte row padding of 24-bit rows.
const img: [number, number, number][][] = [
  [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ],
  [
    [1, 2, 3],
    [250, 251, 252],
    [128, 64, 32],
  ],
];
const expected = Uint8Array.from(img.flat(2));

describe("decodeBmp", () => {
  test("24-bit bottom-up, with row padding", () => {
    const out = decodeBmp(makeBmp(img));
    expect([out.width, out.height]).toEqual([3, 2]);
    expect(out.rgb).toEqual(expected);
  });

  test("24-bit top-down", () => {
    expect(decodeBmp(makeBmp(img, { topDown: true })).rgb).toEqual(expected);
  });

  test("32-bit BGRA, both row orders", () => {
    expect(decodeBmp(makeBmp(img, { bpp: 32 })).rgb).toEqual(expected);
    expect(decodeBmp(makeBmp(img, { bpp: 32, topDown: true })).rgb).toEqual(expected);
  });

  test("32-bit with BI_BITFIELDS masks (RGBA byte order)", () => {
    const bmp = makeBmp(img, {
      bpp: 32,
      compression: 3,
      masks: [0x000000ff, 0x0000ff00, 0x00ff0000],
    });
    expect(decodeBmp(bmp).rgb).toEqual(expected);
  });

  function rejects(buf: Uint8Array, text: string): void {
    let err: unknown;
    try {
      decodeBmp(buf, "x.bmp");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HcError);
    expect((err as HcError).exitCode).toBe(2);
    expect((err as HcError).message).toContain("x.bmp");
    expect((err as HcError).message).toContain(text);
    expect((err as HcError).message).toContain("24-bit and 32-bit uncompressed BMP");
  }

  test("palette, RLE, truncated and non-BMP data are clear errors", () => {
    const eight = makeBmp(img);
    new DataView(eight.buffer).setUint16(28, 8, true);
    rejects(eight, "8-bit BMP is not supported");
    const rle = makeBmp(img, { compression: 1 });
    rejects(rle, "RLE8");
    const full = makeBmp(img);
    rejects(full.subarray(0, full.length - 4), "truncated BMP");
    rejects(full.subarray(0, 20), "not a BMP file");
    rejects(new TextEncoder().encode("hello, world: not an image"), "not a BMP file");
    const huge = makeBmp(img);
    new DataView(huge.buffer).setInt32(18, 100000, true);
    rejects(huge, "bad BMP size");
  });
});
