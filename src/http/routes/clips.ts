/**
 * The visit clips over HTTP (issue 12):
 *
 *   GET|HEAD /out/clips/<file>            a clip's .mjpeg or its .jsonl index (the player's Range
 *                                         requests): ETag, If-None-Match → 304, Range → 206/416
 *   GET /api/visits/:id/clips             the visit's clips as JSON: ClipJson[] (clipJson is
 *                                         exported for the visit's own JSON)
 *   GET|HEAD /api/visits/:id/clip.mjpeg   the clip replayed in real time (live/replay.ts)
 *
 * /out/clips/ takes the same strict names as /out: the raw path must match SAFE_CLIP_NAME (no
 * separator, no `%`, no leading dot: a clip being written, `.part-*`, is never served), the name
 * must be a clip of the index, and the file exactly <outdir>/clips/<name>, a regular file with no
 * symlink on the way. Anything else is 404. Bodies are read by Bun from the file (a slice of it),
 * never into memory on the main thread.
 *
 * Without deps.clips (not started yet, or a test without clips) these routes answer 404; with
 * the scene (deps.scene), a visit the store does not know is 404 too.
 */
import { Elysia } from "elysia";
import fs from "node:fs";
import { join } from "node:path";
import { SAFE_CLIP_NAME } from "../../clips/format.ts";
import type { ClipRow, ClipsService } from "../../pipeline/clips-api.ts";
import type { ServerDeps } from "../deps.ts";
import { MJPEG_HEADERS } from "../live/mjpeg.ts";
import { loadFrames, replayStream } from "../live/replay.ts";
import { ID_RE, json, notFound, pageInfo, rawPath } from "../respond.tsx";
import { sendBody } from "../send.ts";

export type ClipRouteDeps = Pick<ServerDeps, "config" | "clips" | "scene">;

/** Clip files never change once they have their final name (a new clip gets a new name). */
const IMMUTABLE = "public, max-age=31536000, immutable";
const PREFIX = "/out/clips/";

export interface ClipJson {
  id: number;
  visit_id: number | null;
  /** 1, or 2.. for the consecutive clips of a visit longer than --clip-max. */
  part: number;
  file: string;
  /** The .mjpeg and its index under /out/clips/ (404 while the clip is being recorded). */
  url: string;
  index_url: string;
  /** Capture times of the first and last frames, ms since epoch. */
  start: number;
  end: number;
  frames: number;
  /** .mjpeg + index bytes. */
  bytes: number;
  /** recording, complete, or recovered (kept up to its last whole frame after a crash). */
  status: ClipRow["status"];
  /** Why it ended: post-roll, capped, next-visit, stopping, error, crash; null while recording. */
  reason: string | null;
}

/** URLs are relative to the server root; `base` (e.g. "http://pi:8080") makes them absolute. */
export function clipJson(c: ClipRow, base = ""): ClipJson {
  return {
    id: c.id,
    visit_id: c.visitId,
    part: c.part,
    file: c.file,
    url: `${base}${PREFIX}${c.file}`,
    index_url: `${base}${PREFIX}${c.index}`,
    start: c.startMs,
    end: c.endMs,
    frames: c.frames,
    bytes: c.bytes,
    status: c.status,
    reason: c.reason,
  };
}

/** A visit's clips as the visit's JSON carries them (/api/visits/:id `clips`); [] without clips. */
export function visitClipsJson(deps: Pick<ServerDeps, "clips">, visitId: number): ClipJson[] {
  return deps.clips?.forVisit(visitId).map((c) => clipJson(c)) ?? [];
}

/** The visit's clips, or null for 404 (no clips service, a bad id, a visit the store lacks). */
function visitClips(deps: ClipRouteDeps, id: string): ClipRow[] | null {
  const svc = deps.clips;
  if (!svc || !ID_RE.test(id)) return null;
  const visits = deps.scene?.visits;
  if (visits && !visits.get(Number(id))) return null;
  return svc.forVisit(Number(id));
}

/** The file behind `/out/clips/<name>` (raw path), or null for 404. */
function clipFile(svc: ClipsService, name: string): { path: string; st: fs.Stats } | null {
  if (!SAFE_CLIP_NAME.test(name) || name.includes("..") || !svc.byFile(name)) return null;
  const path = join(svc.dir, name);
  try {
    if (fs.realpathSync(path) !== path) return null;
    const st = fs.lstatSync(path);
    return st.isFile() ? { path, st } : null;
  } catch {
    return null;
  }
}

/** The answer to GET `/out/clips/<name>` and the file's size (for HEAD), or null for 404. */
function serveClipFile(
  deps: ClipRouteDeps,
  request: Request,
): { res: Response; size: number } | null {
  const svc = deps.clips;
  const name = rawPath(request).slice(PREFIX.length);
  const f = svc ? clipFile(svc, name) : null;
  if (!f) return null;
  const body = {
    size: f.st.size,
    etag: `"${f.st.size.toString(16)}-${Math.floor(f.st.mtimeMs).toString(16)}"`,
    lastModified: f.st.mtime.toUTCString(),
    read: (start: number, end: number) => Bun.file(f.path).slice(start, end + 1),
  };
  const type = name.endsWith(".jsonl")
    ? "application/x-ndjson; charset=utf-8"
    : "video/x-motion-jpeg";
  const res = sendBody(request, body, type, {
    "cache-control": IMMUTABLE,
    "x-content-type-options": "nosniff",
  });
  return { res, size: f.st.size };
}

/** HEAD: the GET answer's status and headers, with the length its body would have. */
function headOf(res: Response, size: number): Response {
  const headers = new Headers(res.headers);
  const range = /^bytes (\d+)-(\d+)\//.exec(headers.get("content-range") ?? "");
  const length = res.status === 206 && range ? Number(range[2]) - Number(range[1]) + 1 : size;
  if (res.status === 200 || res.status === 206) headers.set("content-length", String(length));
  return new Response(null, { status: res.status, headers });
}

export function clipRoutes(deps: ClipRouteDeps) {
  const info = pageInfo(deps.config);
  /** Replays under way, ended when the server stops. */
  const replays = new Set<{ close(): void }>();
  const noClip = (id: string): Response =>
    json({ error: "not_found", reason: `visit ${id} has no clip` }, 404);
  return new Elysia()
    .get(
      "/out/clips/*",
      ({ request }) => serveClipFile(deps, request)?.res ?? notFound(request, info),
    )
    .head("/out/clips/*", ({ request }) => {
      const got = serveClipFile(deps, request);
      return got ? headOf(got.res, got.size) : new Response(null, { status: 404 });
    })
    .get("/api/visits/:id/clips", ({ params }) => {
      const clips = visitClips(deps, params.id);
      if (!clips) return json({ error: "not_found", id: params.id }, 404);
      return json(clips.map((c) => clipJson(c)));
    })
    .head("/api/visits/:id/clip.mjpeg", ({ params }) => {
      const clips = visitClips(deps, params.id);
      if (!clips || clips.length === 0) return new Response(null, { status: 404 });
      return new Response(null, { headers: { ...MJPEG_HEADERS } });
    })
    .get("/api/visits/:id/clip.mjpeg", async ({ params, request }) => {
      const svc = deps.clips;
      const clips = visitClips(deps, params.id);
      if (!svc || !clips || clips.length === 0) return noClip(params.id);
      const frames = await loadFrames(svc.dir, clips);
      if (frames.length === 0 && !clips.some((c) => c.status === "recording")) {
        return noClip(params.id);
      }
      const id = Number(params.id);
      const replay = replayStream({ dir: svc.dir, clips: () => svc.forVisit(id) }, frames, {
        signal: request.signal,
        onClose: () => replays.delete(replay),
      });
      replays.add(replay);
      return new Response(replay.stream, { headers: { ...MJPEG_HEADERS } });
    })
    .onStop(() => {
      for (const r of [...replays]) r.close();
    });
}
