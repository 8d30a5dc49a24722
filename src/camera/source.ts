/** Frame sources: a V4L2 camera, an MJPEG file or folder of JPEGs (looped), or an MJPEG URL. */
import type { SourceSpec } from "../shared/config.ts";
import { DirSource, FileSource } from "./file.ts";
import { HttpMjpegSource } from "./http.ts";
import type { FrameSource, SourceOptions } from "./types.ts";
import { V4l2Source } from "./v4l2.ts";

export type { FrameSource, RawFrame, SourceInfo, SourceOptions } from "./types.ts";
export { SourceLost } from "./types.ts";

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
