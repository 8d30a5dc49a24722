/** Frame sources: a V4L2 camera, an MJPEG file or folder of JPEGs (looped), or an MJPEG URL. */
import type { SourceSpec } from "../config.ts";
import { HcError } from "../errors.ts";
import { FileSource, DirSource } from "./file.ts";
import { HttpMjpegSource } from "./http.ts";
import { V4l2Source } from "./v4l2.ts";

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

export function createSource(spec: SourceSpec, opts: SourceOptions): FrameSource {
  switch (spec.kind) {
    case "v4l2":
      return new V4l2Source(spec.device, opts);
    case "mjpeg-file":
      return new FileSource(spec.path, opts);
    case "jpeg-dir":
      return new DirSource(spec.path, opts);
    case "http":
      return new HttpMjpegSource(spec.url, opts);
  }
}
