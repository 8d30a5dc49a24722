/** What every frame source gives and promises; the concrete sources import only this. */
import { HcError } from "../shared/errors.ts";

export interface RawFrame {
  /** JPEG bytes, or packed YUYV (width*height*2 bytes). Valid until the next `next()` call. */
  data: Uint8Array;
  format: "jpeg" | "yuyv";
  width: number;
  height: number;
  /** Date.now() when the frame was taken from the source (ms). */
  grabbedAt: number;
  /** Frames the source skipped before this one (newest frame wins). */
  dropped: number;
}

export interface SourceInfo {
  /** Human-readable: "/dev/video0 MJPG 640x480", "file people.mjpeg (200 frames) @ 10 fps". */
  description: string;
  width: number;
  height: number;
  format: string;
  /** The requested size differs from what the source gives. */
  sizeNote: string | null;
}

export interface FrameSource {
  open(): Promise<SourceInfo>;
  /** Resolves with the next (newest) frame. Throws SourceLost when the source went away. */
  next(): Promise<RawFrame>;
  /** Idempotent. */
  close(): void;
}

/** The source went away (unplugged, stream ended, timeout): close it and reopen with backoff. */
export class SourceLost extends HcError {
  constructor(message: string, fix = "") {
    super("ESOURCE_LOST", message, fix);
  }
}

export interface SourceOptions {
  width: number;
  height: number;
  /** File sources: playback rate. Cameras: the rate asked of the driver (0 = its default). */
  fps: number;
}
