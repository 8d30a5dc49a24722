/**
 * Pictures: /out/<file>.jpg and /out/thumbs/<file>.jpg (archive files only, ETag, immutable) and
 * /latest.jpg (the current frame, annotated when available, no-store, saves nothing).
 */
import { Elysia } from "elysia";
import type { ServerDeps } from "../deps.ts";
import { serveArchiveFile } from "../files.ts";
import { NO_STORE, notFound, pageInfo, rawPath } from "../respond.tsx";
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
    .get("/latest.jpg", () => {
      hub.noteLatestDemand();
      return latestJpeg(deps);
    });
}

function latestJpeg(deps: FileDeps): Response {
  const frame = deps.latest();
  const body = frame
    ? (deps.annotatedJpeg() ?? frame.jpeg)
    : deps.noSignalJpeg(deps.status().offlineReason ?? "no frames yet");
  return new Response(body, {
    headers: {
      "content-type": "image/jpeg",
      "cache-control": NO_STORE,
      pragma: "no-cache",
      "x-hazardcam-online": frame ? "1" : "0",
    },
  });
}
