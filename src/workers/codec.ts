/**
 * The pixel work the capture loop needs, as one injectable object: the shim's JPEG, YUYV and
 * resize functions and the annotation drawing. Tests of the loop pass a fake one.
 */
import { annotate, type OverlayInfo } from "../image/annotate.ts";
import { jpegDecode, jpegEncode, resizeRgb, ShimError, yuyvToRgb } from "../native/shim.ts";
import type { DecodedImage, ResizeOptions } from "../native/shim.ts";
import type { Detection } from "../shared/types.ts";

export interface CaptureCodec {
  /** JPEG to RGB24, into dst when it is big enough. */
  jpegDecode(jpg: Uint8Array, dst?: Uint8Array): DecodedImage;
  /** YUYV 4:2:2 to RGB24, into dst when it is big enough. */
  yuyvToRgb(yuyv: Uint8Array, width: number, height: number, dst?: Uint8Array): Uint8Array;
  /** RGB24 to a JPEG of quality 1..100 (a right-sized copy). */
  jpegEncode(rgb: Uint8Array, width: number, height: number, quality: number): Uint8Array;
  resizeRgb(
    src: Uint8Array,
    sw: number,
    sh: number,
    dw: number,
    dh: number,
    opts: ResizeOptions,
    dst?: Uint8Array,
  ): Uint8Array;
  /** Boxes, labels and the overlay line, drawn in place. */
  annotate(
    rgb: Uint8Array,
    width: number,
    height: number,
    detections: readonly Detection[],
    info: OverlayInfo,
  ): void;
  /** True for a frame that cannot be decoded (skipped and counted), false for anything else. */
  isCorrupt(e: unknown): boolean;
}

export const shimCodec: CaptureCodec = {
  jpegDecode,
  yuyvToRgb,
  jpegEncode,
  resizeRgb,
  annotate,
  isCorrupt: (e) => e instanceof ShimError,
};
