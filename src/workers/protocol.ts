/** Messages between the main thread, the capture Worker and the detect Worker. */
import type { SourceInfo } from "../camera/types.ts";
import type { OverlayInfo } from "../image/annotate.ts";
import type { Config } from "../shared/config.ts";
import type { LibPaths } from "../native/libs.ts";
import type { ZonesConfig } from "../track/zones.ts";
import type { Backend, Detection, DetectionResult, FrameState } from "../shared/types.ts";
import { HcError } from "../shared/errors.ts";

/** An HcError across threads: what went wrong and the fix apart, as in HcError. */
export interface WireError {
  code: string;
  message: string;
  fix: string;
  exitCode: number;
}

export interface CaptureStatus {
  online: boolean;
  offlineReason: string | null;
  captureFps: number;
  framesCorrupt: number;
  framesDropped: number;
  lastError: string | null;
}

export interface EventData {
  reason: "auto" | "snapshot";
  /** Annotated JPEG, quality 95. */
  jpeg: Uint8Array;
  thumbJpeg: Uint8Array;
  /** ms since epoch when the frame was grabbed. */
  at: number;
  people: number;
  detections: Detection[];
  inferMs: number;
  fps: number;
}

/** Where a restarted capture Worker goes on from: its numbers continue the dead one's. */
export interface CaptureResume {
  /** The last FrameState.seq published. */
  frameSeq: number;
  /** The last FrameState.detectSeq published. */
  detectSeq: number;
}

/** What the capture loop needs of the zones file (src/pipeline/zones-file.ts). */
export interface CaptureZones {
  /** Detections whose feet are in one of its masks are dropped everywhere. */
  config: ZonesConfig;
  /** With zones in `config`, the cooldown stills count people in zones only (--zones given). */
  stillsInZones: boolean;
}

/**
 * A visit's best snapshot to draw (src/workers/render.ts): decoded, annotated and encoded here,
 * never on the HTTP thread. `jpeg` is transferred.
 */
export interface RenderRequest {
  id: number;
  /** The camera's JPEG of the frame. */
  jpeg: Uint8Array;
  /** Boxes to draw, with their labels as given (the best person's names its track id). */
  detections: Detection[];
  overlay: OverlayInfo;
}

/** A render request before the pipeline numbers it. */
export type RenderInput = Omit<RenderRequest, "id">;

export interface RenderedImages {
  /** Annotated, quality 95, as the event images. */
  jpeg: Uint8Array;
  /** At most 320 pixels wide, of the frame as the camera saw it (as the event thumbnails). */
  thumbJpeg: Uint8Array;
}

export type ToCapture =
  | {
      type: "init";
      config: Config;
      libs: LibPaths;
      detectPort: MessagePort;
      /** null at startup (a camera that cannot open is fatal); set on a restart (retried). */
      resume: CaptureResume | null;
      wantAnnotated: boolean;
      /** Masks and the cooldown's zones (again on a restart). */
      zones: CaptureZones;
    }
  /** The detect Worker was restarted: talk to the new one on this port. */
  | { type: "detect-port"; port: MessagePort }
  | { type: "want-annotated"; on: boolean }
  | { type: "snapshot"; id: number }
  /** The zones file changed (applied live). */
  | { type: "zones"; zones: CaptureZones }
  | { type: "render"; request: RenderRequest }
  | { type: "stop" };

export type FromCapture =
  | { type: "source"; info: SourceInfo }
  | { type: "frame"; state: FrameState; annotated: Uint8Array | null; status: CaptureStatus }
  | { type: "status"; status: CaptureStatus }
  | { type: "result"; result: DetectionResult }
  | { type: "event"; event: EventData; snapshotId: number | null }
  | { type: "snapshot-none"; id: number }
  /** The answer to a "render": the images, or null with why. */
  | { type: "rendered"; id: number; images: RenderedImages | null; error: string | null }
  | { type: "fatal"; error: WireError }
  | { type: "stopped" };

export interface DetectorInfo {
  backend: Backend;
  tfliteVersion: string;
  edgetpuVersion: string | null;
  modelPath: string;
  warnings: string[];
  inputWidth: number;
  inputHeight: number;
}

export type ToDetect =
  | { type: "init"; config: Config; libs: LibPaths; capturePort: MessagePort }
  /** The capture Worker was restarted: answer it on this port (a "ready" with the detector). */
  | { type: "capture-port"; capturePort: MessagePort }
  | { type: "stop" };

/** The detector in use changed (null: none open, reopening), or a new error happened. */
export type DetectorChange = {
  type: "detector";
  info: DetectorInfo | null;
  lastError: string | null;
};

export type FromDetect =
  | { type: "ready"; info: DetectorInfo }
  | { type: "error"; message: string }
  | DetectorChange
  | { type: "fatal"; error: WireError }
  | { type: "stopped" };

/** Over the capture <-> detect MessagePort. */
/** `input` is the frame resized to the model; frameWidth x frameHeight is the frame's own size. */
export type CaptureToDetect = {
  type: "infer";
  seq: number;
  input: Uint8Array;
  frameWidth: number;
  frameHeight: number;
};
export type DetectToCapture =
  | { type: "ready"; info: DetectorInfo }
  | {
      type: "result";
      seq: number;
      /** At or above the threshold (every class). */
      detections: Detection[];
      /** Persons with the tracker's low score ≤ score < threshold (absent: none). */
      low?: Detection[];
      inferMs: number;
      input: Uint8Array;
    }
  | { type: "failed"; seq: number; message: string; input: Uint8Array }
  /** Not detected: a newer input came before the detector was free (the input comes back). */
  | { type: "skipped"; seq: number; input: Uint8Array }
  | DetectorChange;

export function toWireError(e: unknown): WireError {
  const err = e as { code?: unknown; message?: unknown; exitCode?: unknown };
  return {
    code: typeof err?.code === "string" ? err.code : "EINTERNAL",
    message:
      e instanceof HcError ? e.what : typeof err?.message === "string" ? err.message : String(e),
    fix: e instanceof HcError ? e.fix : "",
    exitCode: typeof err?.exitCode === "number" ? err.exitCode : 1,
  };
}
