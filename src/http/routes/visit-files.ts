/**
 * The visits' best snapshots (issue 11): /out/visits/<file>.jpg and /out/visits/thumbs/<file>.jpg,
 * with the same rules as /out (src/http/files.ts): the raw (undecoded) name must match
 * SAFE_JPEG_NAME, the file must be exactly where VisitsReader.pathOf puts it, with no symlink on
 * the way, and a regular file; ETag, If-None-Match → 304, Range → 206/416. Anything else, and
 * every such path without the scene analyzer, is 404.
 */
import { Elysia } from "elysia";
import { basename } from "node:path";
import { SAFE_JPEG_NAME } from "../../events/names.ts";
import { VISITS_DIR } from "../../events/visit-files.ts";
import type { VisitsReader } from "../../events/visit-types.ts";
import type { ServerDeps } from "../deps.ts";
import { serveJpegAt } from "../files.ts";
import { notFound, pageInfo, rawPath } from "../respond.tsx";

export type VisitFileDeps = Pick<ServerDeps, "config" | "scene">;

const PREFIX = `/out/${VISITS_DIR}/`;

export function visitFileRoutes(deps: VisitFileDeps) {
  const info = pageInfo(deps.config);
  return new Elysia().get(`${PREFIX}*`, ({ request }) => {
    const visits = deps.scene?.visits;
    const rest = rawPath(request).slice(PREFIX.length);
    return (visits && serveVisitImage(visits, rest, request)) ?? notFound(request, info);
  });
}

/** `rest`: the raw path after /out/visits/. Null for 404. */
function serveVisitImage(
  visits: Pick<VisitsReader, "pathOf">,
  rest: string,
  request: Request,
): Response | null {
  const thumb = rest.startsWith("thumbs/");
  const name = thumb ? rest.slice("thumbs/".length) : rest;
  if (!SAFE_JPEG_NAME.test(name) || name.includes("..")) return null;
  const path = visits.pathOf(name, thumb);
  if (basename(path) !== name) return null;
  return serveJpegAt(path, request);
}
