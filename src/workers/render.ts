/**
 * A visit's best snapshot (issue 11), drawn in the capture Worker on request from the main
 * thread: the kept frame's JPEG is decoded, the thumbnail made of the frame as the camera saw it
 * (as the event thumbnails), then the boxes and the overlay line drawn and the image encoded at
 * the events' quality. Pure over an injected codec.
 */
import type { CaptureCodec } from "./codec.ts";
import { EVENT_QUALITY, thumbnail } from "./capture-frames.ts";
import type { RenderedImages, RenderRequest } from "./protocol.ts";

export function renderImages(codec: CaptureCodec, req: RenderRequest): RenderedImages {
  const { rgb, width, height } = codec.jpegDecode(req.jpeg);
  const thumbJpeg = thumbnail(codec, { seq: 0, grabbedAt: 0, width, height, rgb, jpeg: req.jpeg });
  codec.annotate(rgb, width, height, req.detections, req.overlay);
  return { jpeg: codec.jpegEncode(rgb, width, height, EVENT_QUALITY), thumbJpeg };
}
