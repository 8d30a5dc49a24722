/**
 * /out/<file>.jpg and /out/thumbs/<file>.jpg: only files of the archive, by exact name.
 * The raw (undecoded) path must match a strict name, the name must be in the index, the resolved
 * path must be exactly outdir/<name> (no symlink anywhere below outdir), and a regular file.
 * Anything else is 404: `..`, `%2e%2e%2f`, `%252e`, absolute paths, directories, other types.
 */
import fs from "node:fs";
import { join } from "node:path";
import { THUMBS_DIR, type Archive } from "../events/archive.ts";
import { SAFE_JPEG_NAME } from "../events/names.ts";

/** Event images never change once written (new saves get new names). */
const IMMUTABLE = "public, max-age=31536000, immutable";

function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(",")
    .map((s) => s.trim().replace(/^W\//, ""))
    .some((s) => s === etag || s === "*");
}

/**
 * `rest` is the raw path after `/out/`, still percent-encoded. Returns null for 404.
 */
export function serveArchiveFile(
  archive: Archive,
  rest: string,
  request: Request,
): Response | null {
  let thumb = false;
  let name = rest;
  if (rest.startsWith(`${THUMBS_DIR}/`)) {
    thumb = true;
    name = rest.slice(THUMBS_DIR.length + 1);
  }
  if (!SAFE_JPEG_NAME.test(name) || name.includes("..")) return null;
  const rec = thumb ? archive.byThumb(name) : archive.byFile(name);
  if (!rec) return null;
  const expected = thumb ? join(archive.outdir, THUMBS_DIR, name) : join(archive.outdir, name);
  let fd: number | null = null;
  try {
    if (fs.realpathSync(expected) !== expected) return null;
    fd = fs.openSync(expected, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return null;
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const common = {
      etag,
      "cache-control": IMMUTABLE,
      "x-content-type-options": "nosniff",
    };
    if (etagMatches(request.headers.get("if-none-match"), etag)) {
      return new Response(null, { status: 304, headers: common });
    }
    const body = fs.readFileSync(fd);
    return new Response(body, {
      headers: {
        ...common,
        "content-type": "image/jpeg",
        "last-modified": st.mtime.toUTCString(),
      },
    });
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
