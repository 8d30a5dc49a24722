/**
 * The best snapshots of visits (issue 11): `<outdir>/visits/<name>.jpg` and its thumbnail
 * `<outdir>/visits/thumbs/<name>.jpg`, where <name> is `YYYYmmdd_HHMMSS_visit<id>` of the
 * visit's start in local time (sorts by time; letters, digits and "_" only, so safe in a URL
 * and matching SAFE_JPEG_NAME). Written as the event images are (src/events/files.ts): temp
 * file, fsync, rename, fsync of the folder, off the main thread. At open, the folder is made to
 * agree with the rows (reconcileVisitFiles).
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, fsyncDir, replace, stage, unlinkQuiet } from "./files.ts";
import { SAFE_JPEG_NAME, stamp } from "./names.ts";
import { THUMBS_DIR, TMP_PREFIX } from "./types.ts";

export const VISITS_DIR = "visits";

export interface VisitDirs {
  /** <outdir>/visits */
  visitsDir: string;
  /** <outdir>/visits/thumbs */
  thumbsDir: string;
}

export function visitDirs(outdir: string): VisitDirs {
  const visitsDir = join(outdir, VISITS_DIR);
  return { visitsDir, thumbsDir: join(visitsDir, THUMBS_DIR) };
}

/** `20240524_104000_visit42.jpg` for visit 42 that started at 10:40:00 local time. */
export function visitFileName(startMs: number, id: number): string {
  return `${stamp(new Date(startMs))}_visit${Math.floor(id)}.jpg`;
}

export interface VisitImages {
  /** Annotated JPEG. */
  jpeg: Uint8Array;
  /** Its thumbnail; null: none. */
  thumbJpeg: Uint8Array | null;
}

/** Writes the image (and thumbnail) whole and durable under `name`; returns their names. */
export async function writeVisitImages(
  dirs: VisitDirs,
  name: string,
  images: VisitImages,
): Promise<{ image: string; thumb: string | null }> {
  await fsp.mkdir(dirs.thumbsDir, { recursive: true });
  const thumbData = images.thumbJpeg && images.thumbJpeg.byteLength > 0 ? images.thumbJpeg : null;
  const [tmp, thumbTmp] = await Promise.all([
    stage(dirs.visitsDir, images.jpeg, name),
    thumbData ? stage(dirs.thumbsDir, thumbData, name) : null,
  ]);
  await Promise.all([
    replace(tmp, join(dirs.visitsDir, name)),
    thumbTmp && replace(thumbTmp, join(dirs.thumbsDir, name)),
  ]);
  await Promise.all([fsyncDir(dirs.visitsDir), thumbTmp && fsyncDir(dirs.thumbsDir)]);
  return { image: name, thumb: thumbTmp ? name : null };
}

/** Deletes a visit's files; a file already gone is fine. */
export function deleteVisitImages(dirs: VisitDirs, image: string | null, thumb: string | null) {
  if (image) unlinkQuiet(join(dirs.visitsDir, image));
  if (thumb) unlinkQuiet(join(dirs.thumbsDir, thumb));
}

/** Image names in a folder (regular files with safe names); deletes `.tmp-*` leftovers. */
function listImages(dir: string): Set<string> {
  const out = new Set<string>();
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return out;
    throw e;
  }
  for (const ent of entries) {
    if (ent.name.startsWith(TMP_PREFIX)) unlinkQuiet(join(dir, ent.name));
    else if (ent.isFile() && SAFE_JPEG_NAME.test(ent.name)) out.add(ent.name);
  }
  return out;
}

export interface VisitFileRow {
  id: number;
  image: string | null;
  thumb: string | null;
}

/**
 * At open: temp files of a crash go, images no row names go (a crash between the file and its
 * row); returns the rows whose image or thumbnail is missing, with what is still there.
 */
export function reconcileVisitFiles(dirs: VisitDirs, rows: VisitFileRow[]): VisitFileRow[] {
  fs.mkdirSync(dirs.thumbsDir, { recursive: true });
  const images = listImages(dirs.visitsDir);
  const thumbs = listImages(dirs.thumbsDir);
  const named = new Set<string>();
  const thumbNamed = new Set<string>();
  const changed: VisitFileRow[] = [];
  for (const r of rows) {
    const image = r.image && images.has(r.image) ? r.image : null;
    const thumb = r.thumb && thumbs.has(r.thumb) ? r.thumb : null;
    if (image) named.add(image);
    if (thumb) thumbNamed.add(thumb);
    if (image !== r.image || thumb !== r.thumb) changed.push({ id: r.id, image, thumb });
  }
  for (const n of images) if (!named.has(n)) unlinkQuiet(join(dirs.visitsDir, n));
  for (const n of thumbs) if (!thumbNamed.has(n)) unlinkQuiet(join(dirs.thumbsDir, n));
  return changed;
}
