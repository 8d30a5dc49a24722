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
  captureFps: number;
  detectFps: number;
  stageMs: StageMs;
}
