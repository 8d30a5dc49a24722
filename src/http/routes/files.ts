/**
 * Pictures: /out/<file>.jpg and /out/thumbs/<file>.jpg (archive files only, ETag, immutable) and
 * /latest.jpg (the current frame, annotated when available, no-store, saves nothing). Both
 * answer If-None-Match with 304 and Range with 206 (src/http/send.ts).
 */
import { Elysia } from "elysia";
import type { ServerDeps } from "../deps.ts";
import { serveArchiveFile } from "../files.ts";
import { NO_STORE, notFound, pageInfo, rawPath } from "../respond.tsx";
import { sendBody } from "../send.ts";
import type { StreamHub } from "../streams.ts";

export type FileDeps = Pick<
  ServerDeps,
  "config" | "archive" | "latest" | "annotatedJpeg" | "status" | "noSignalJpeg"
>;

export function fileRoutes(deps: FileDeps, hub: Pick<StreamHub, "noteLatestDemand">) {
  const info = pageInfo(deps.config);
  return new Elysia()
    .get("/out/*", ({ request }) => {
      const rest = rawPath(request).slice("/out/".length);
      return serveArchiveFile(deps.archive, rest, request) ?? notFound(request, info);
    })
    .get("/latest.jpg", ({ request }) => {
      hub.noteLatestDemand();
      return latestJpeg(deps, request);
    });
}

/** Tags of recent bodies: pollers ask for the same buffer many times per frame. */
const tags = new WeakMap<Uint8Array, string>();

/**
 * A strong ETag from the bytes themselves (64-bit wyhash). Not the frame's seq: the body is the
 * annotated JPEG (which may be of an older frame, or arrive later for the same one), the camera's,
 * or a no-signal picture that changes every second; only the bytes name what was sent, so a
 * Range continued with If-Range can never splice two frames.
 */
export function jpegTag(jpeg: Uint8Array): string {
  let tag = tags.get(jpeg);
  if (!tag) {
    tag = `"${Bun.hash.wyhash(jpeg).toString(36)}-${jpeg.byteLength.toString(36)}"`;
    tags.set(jpeg, tag);
  }
  return tag;
}

function latestJpeg(deps: FileDeps, request: Request): Response {
  const frame = deps.latest();
  const jpeg = frame
    ? (deps.annotatedJpeg() ?? frame.jpeg)
    : deps.noSignalJpeg(deps.status().offlineReason ?? "no frames yet");
  const body = {
    size: jpeg.byteLength,
    etag: jpegTag(jpeg),
    read: (start: number, end: number) => jpeg.subarray(start, end + 1),
  };
  return sendBody(request, body, "image/jpeg", {
    "cache-control": NO_STORE,
    pragma: "no-cache",
    "x-hazardcam-online": frame ? "1" : "0",
  });
}
