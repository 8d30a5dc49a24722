/** Shared shapes that cross module and thread boundaries (all plain data, structured-cloneable). */

/** Normalized box, 0..1 of the frame, as the SSD outputs it (ymin, xmin, ymax, xmax). */
export interface Box {
  ymin: number;
  xmin: number;
  ymax: number;
  xmax: number;
}

export interface Detection {
  classId: number;
  label: string;
  score: number;
  box: Box;
}

export type Backend = "edgetpu" | "cpu";

/** Per-frame stage timings in milliseconds. */
export interface StageMs {
  grab: number;
  decode: number;
  resize: number;
  infer: number;
}

/** The latest published pipeline state: what HTTP reads, never captures. */
export interface FrameState {
  seq: number;
  /** Date.now() when the frame was grabbed (ms since epoch). */
  grabbedAt: number;
  width: number;
  height: number;
  /** The camera's JPEG (or our encode of a YUYV frame). */
  jpeg: Uint8Array;
  detections: Detection[];
  /** Detections of class 0 at or above the threshold. */
  people: number;
  inferMs: number;
  /**
   * Detection results so far (1 after the first; 0 before): a frame repeats the latest result
   * until the next one, so a change of detectSeq is a new result, and its step the results since.
   */
  detectSeq: number;
  captureFps: number;
  detectFps: number;
  stageMs: StageMs;
}

/** One detection result, of the frame `frameSeq` (sent once per result, not per frame). */
export interface DetectionResult {
  /** FrameState.detectSeq of the frames that carry this result. */
  detectSeq: number;
  frameSeq: number;
  /** Date.now() when the detected frame was grabbed (ms since epoch). */
  grabbedAt: number;
  width: number;
  height: number;
  /**
   * At or above the threshold, feet in no mask; boxes normalized to the frame. What the
   * annotation, FrameState, the people count and the stills use.
   */
  detections: Detection[];
  people: number;
  inferMs: number;
  /**
   * Persons scoring from the tracker's low score (max(0.1, threshold / 2)) to under the
   * threshold, feet in no mask: only for the tracker's second pass (src/track/tracker.ts).
   */
  low: Detection[];
  /** The camera's JPEG of the detected frame (for a visit's best snapshot). */
  jpeg: Uint8Array;
}
