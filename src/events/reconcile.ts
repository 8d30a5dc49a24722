/**
 * Syncs the index with the folder, at open (and when the index had to be recreated):
 * - images added by hand appear: reason, people, inference time and fps from the name when it is
 *   one of ours (time from the name, refined by the mtime), else reason "import" at the mtime;
 * - rows whose image is gone vanish; a row whose thumbnail is gone keeps its image, without one;
 * - `.tmp-*` leftovers of a crash are deleted, and thumbnails no row references;
 * - only regular files with safe names (SAFE_JPEG_NAME) are indexed: never a symlink out of
 *   outdir, never a name a URL could misread.
 * Synchronous: it runs before the archive serves anything.
 */
import fs from "node:fs";
import { join } from "node:path";
import type { Logger } from "../shared/log.ts";
import type { EventIndex } from "./db.ts";
import { errnoCode, unlinkQuiet } from "./files.ts";
import { SAFE_JPEG_NAME, parseEventFileName } from "./names.ts";
import { TMP_PREFIX, type ReconcileResult } from "./types.ts";

export interface Folders {
  outdir: string;
  thumbsDir: string;
}

interface Scan {
  /** Safe image names, regular files. */
  names: Set<string>;
  tmpRemoved: number;
  /** Images not indexed for their name or type. */
  skipped: number;
}

/** Lists one folder, deleting `.tmp-*` leftovers; creates it when missing. */
function scan(dir: string): Scan {
  const out: Scan = { names: new Set(), tmpRemoved: 0, skipped: 0 };
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") throw e;
    fs.mkdirSync(dir, { recursive: true });
    entries = [];
  }
  for (const ent of entries) {
    if (ent.name.startsWith(TMP_PREFIX)) {
      unlinkQuiet(join(dir, ent.name));
      out.tmpRemoved++;
    } else if (ent.isFile() && SAFE_JPEG_NAME.test(ent.name)) {
      // Dirent types do not follow symlinks: a link pointing out of outdir is never indexed.
      out.names.add(ent.name);
    } else if (/\.jpe?g$/i.test(ent.name)) {
      out.skipped++;
    }
  }
  return out;
}

/** Drops rows without an image and thumbnails that are gone; returns the files indexed. */
function dropMissing(
  index: EventIndex,
  images: Set<string>,
  thumbs: Set<string>,
  referenced: Set<string>,
): { known: Set<string>; removed: number } {
  const known = new Set<string>();
  let removed = 0;
  for (const r of index.fileRows()) {
    if (!images.has(r.file)) {
      index.delete(r.id);
      removed++;
      continue;
    }
    known.add(r.file);
    if (r.thumb !== null) {
      if (thumbs.has(r.thumb)) referenced.add(r.thumb);
      else index.clearThumb(r.id);
    }
  }
  return { known, removed };
}

/** Indexes one image found in outdir; false when it vanished meanwhile. */
function addImage(index: EventIndex, outdir: string, file: string, thumb: string | null): boolean {
  let st: fs.Stats;
  try {
    st = fs.statSync(join(outdir, file));
  } catch {
    return false;
  }
  const parsed = parseEventFileName(file);
  let time = Math.floor(st.mtimeMs);
  if (parsed) {
    const sec = parsed.at.getTime();
    // The name has second resolution; the mtime refines it when it agrees.
    if (time < sec || time >= sec + 1000) time = sec;
  }
  index.insert({
    time,
    reason: parsed ? parsed.reason : "import",
    people: parsed ? parsed.people : 0,
    detections: [],
    inferMs: parsed ? parsed.inferMs : 0,
    fps: parsed ? parsed.fps : 0,
    file,
    thumb,
    bytes: st.size,
  });
  return true;
}

/** Syncs `index` with the folders; see the module comment. */
export function reconcile(index: EventIndex, dirs: Folders, log: Logger): ReconcileResult {
  const images = scan(dirs.outdir);
  const thumbs = scan(dirs.thumbsDir);
  if (images.skipped) {
    log.warn(
      `${images.skipped} image(s) in ${dirs.outdir} not indexed: names must match ${SAFE_JPEG_NAME.source} and be regular files`,
    );
  }
  const result: ReconcileResult = {
    added: 0,
    removed: 0,
    tmpRemoved: images.tmpRemoved + thumbs.tmpRemoved,
  };
  const referenced = new Set<string>();
  index.transaction(() => {
    const { known, removed } = dropMissing(index, images.names, thumbs.names, referenced);
    result.removed = removed;
    for (const file of [...images.names].sort()) {
      if (known.has(file)) continue;
      const thumb = thumbs.names.has(file) ? file : null;
      if (!addImage(index, dirs.outdir, file, thumb)) continue;
      if (thumb) referenced.add(thumb);
      result.added++;
    }
  });
  for (const t of thumbs.names) {
    if (!referenced.has(t)) unlinkQuiet(join(dirs.thumbsDir, t));
  }
  return result;
}
