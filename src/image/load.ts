/** Loads a still image for `hazardcam detect`: JPEG (through the shim) or BMP, by magic bytes. */
import { readFileSync } from "node:fs";
import { errorMessage, inputError, type HcError } from "../shared/errors.ts";
import { jpegDecode } from "../native/shim.ts";
import { decodeBmp, type RgbImage } from "./bmp.ts";

export type { RgbImage } from "./bmp.ts";

const SUPPORTED = "hazardcam reads JPEG and 24/32-bit uncompressed BMP images";

function sniff(buf: Uint8Array): string {
  const b = (i: number): number => buf[i] ?? -1;
  if (buf.length === 0) return "an empty file";
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return "a PNG image";
  if (b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46) return "a GIF image";
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46)
    return "a RIFF (WebP?) file";
  if (b(4) === 0x66 && b(5) === 0x74 && b(6) === 0x79 && b(7) === 0x70)
    return "an ISO media (HEIC/AVIF?) file";
  return "not a JPEG or BMP";
}

function unsupported(path: string, why: string): HcError {
  return inputError("IMAGE_UNSUPPORTED", `${path}: ${why}`, SUPPORTED);
}

export function decodeImage(buf: Uint8Array, path: string): RgbImage {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) {
    try {
      return jpegDecode(buf);
    } catch (e) {
      throw inputError(
        "IMAGE_CORRUPT",
        `${path}: corrupt or unsupported JPEG (${errorMessage(e)})`,
        SUPPORTED,
      );
    }
  }
  if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) return decodeBmp(buf, path);
  throw unsupported(path, sniff(buf));
}

/** Reads and decodes an image file to packed RGB24. Bad input is an HcError with exit code 2. */
export function loadImage(path: string): RgbImage {
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw inputError("IMAGE_MISSING", `image not found: ${path}`, SUPPORTED);
    }
    if (code === "EISDIR") throw unsupported(path, "is a directory");
    throw inputError(
      "IMAGE_UNREADABLE",
      `cannot read image ${path} (${errorMessage(e)})`,
      SUPPORTED,
    );
  }
  return decodeImage(buf, path);
}
