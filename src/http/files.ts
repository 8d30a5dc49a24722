/**
 * /out/<file>.jpg and /out/thumbs/<file>.jpg: only files of the archive, by exact name.
 * The raw (undecoded) path must match a strict name, the name must be in the index, the resolved
 * path must be exactly outdir/<name> (no symlink anywhere below outdir), and a regular file.
 * Anything else is 404: `..`, `%2e%2e%2f`, `%252e`, absolute paths, directories, other types.
 * Found files answer with an ETag (size and mtime), If-None-Match → 304, and Range → 206/416.
 */
import fs from "node:fs";
import { join } from "node:path";
import { THUMBS_DIR, type Archive } from "../events/archive.ts";
import { SAFE_JPEG_NAME } from "../events/names.ts";
import { sendBody } from "./send.ts";

/** Event images never change once written (new saves get new names). */
const IMMUTABLE = "public, max-age=31536000, immutable";

/** The bytes start..end (inclusive) of an open file. */
function readRange(fd: number, start: number, end: number): Uint8Array {
  const buf = new Uint8Array(Math.max(0, end - start + 1));
  let off = 0;
  while (off < buf.byteLength) {
    const n = fs.readSync(fd, buf, off, buf.byteLength - off, start + off);
    if (n === 0) break; // the file shrank: send what there is
    off += n;
  }
  return off === buf.byteLength ? buf : buf.subarray(0, off);
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
  return serveJpegAt(expected, request);
}

/**
 * The JPEG at the absolute path `expected` (no symlink anywhere on the way, a regular file),
 * immutable, with its ETag, 304 and Range; null for 404. Also serves the visit images.
 */
export function serveJpegAt(expected: string, request: Request): Response | null {
  let fd: number | null = null;
  try {
    if (fs.realpathSync(expected) !== expected) return null;
    fd = fs.openSync(expected, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return null;
    const file = fd;
    const body = {
      size: st.size,
      etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      lastModified: st.mtime.toUTCString(),
      read: (start: number, end: number) => readRange(file, start, end),
    };
    return sendBody(request, body, "image/jpeg", {
      "cache-control": IMMUTABLE,
      "x-content-type-options": "nosniff",
    });
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
