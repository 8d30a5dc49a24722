/** What a detector is opened and run with, and the one check of `--threads`. */
import { inputError } from "../shared/errors.ts";
import type { Detection } from "../shared/types.ts";

export interface DetectorOptions {
  modelPath: string;
  /** CPU threads for TFLite (TfLiteInterpreterOptionsSetNumThreads); TFLite's default if unset. */
  threads?: number;
  /** For an `_edgetpu.tflite` model: when the Edge TPU can't be used, run the sibling CPU model. */
  cpuFallback?: boolean;
  /** Label file; default coco_labels.txt next to the model, else the copy built into hazardcam. */
  labelsPath?: string;
  /** detect(): keep the frame's aspect ratio (pad) instead of the bilinear stretch. */
  letterbox?: boolean;
}

export interface InferOptions {
  /** Keep detections with score >= threshold (default 0: every valid slot). */
  threshold?: number;
  /** At most this many, best first. */
  topK?: number;
  /** The input holds this frame letterboxed (hc_resize letterbox = 1): map boxes back to it. */
  letterboxFrom?: { width: number; height: number };
}

export interface InferResult {
  detections: Detection[];
  /** TfLiteInterpreterInvoke only. */
  inferMs: number;
}

export interface DetectResult extends InferResult {
  /** Resize of the frame to the model input (0 when it already has that size). */
  resizeMs: number;
}

/** `--threads` as `--help` states it: 1..16, default 1 (a Pi 4 or 5 has four cores). */
export const THREADS_DEFAULT = 1;
export const THREADS_MAX = 16;

/**
 * The one check of a thread count, for the flag (`raw` as typed; default when undefined) and for
 * Detector.open (a number). Bad input: EARG_THREADS, exit code 2.
 */
export function checkThreads(raw: string | number | undefined): number {
  if (raw === undefined) return THREADS_DEFAULT;
  const n = typeof raw === "number" ? raw : /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > THREADS_MAX) {
    throw inputError(
      "EARG_THREADS",
      `--threads "${raw}" is not valid: expected a whole number of threads from 1 to ${THREADS_MAX}`,
    );
  }
  return n;
}
