/**
 * Writing one event, off the main thread (src/events/files.ts):
 * 1. the image and the thumbnail are written and fsynced to temp files, side by side;
 * 2. the image takes the first free name (the original's, then `_2`, `_3`... within one
 *    second): a name in the index is skipped, a file already in the folder, ours or not, is
 *    never overwritten (link() → EEXIST → next name); the thumbnail then takes the same name in
 *    thumbs/ (one already there is an orphan of a crash, replaced);
 * 3. both directories are fsynced, then the row is written (a crash before leaves an image that
 *    reconcile indexes at the next open; if the row fails, the files go again).
 * The archive runs one save at a time (src/events/archive.ts), so two saves never pick the same
 * name.
 */
import fsp from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { cleanDetections, type EventIndex, type NewEvent } from "./db.ts";
import { discard, fsyncDir, linkNoClobber, replace, stage } from "./files.ts";
import { eventFileName } from "./names.ts";
import type { Folders } from "./reconcile.ts";
import type { EventRecord, SaveInput } from "./types.ts";

export interface SaveTarget {
  index: EventIndex;
  dirs: Folders;
  log: Logger;
}

/** Most names tried within one second (`_2` ... `_10000`). */
const MAX_SUFFIX = 10000;

/** Links the staged image to the first free name; returns the name. */
async function nameImage(t: SaveTarget, input: SaveInput, tmp: string): Promise<string> {
  for (let n = 1; n <= MAX_SUFFIX; n++) {
    const file = eventFileName(input, n);
    if (t.index.hasFile(file)) continue;
    if (await linkNoClobber(tmp, join(t.dirs.outdir, file))) return file;
  }
  throw new Error("too many events in one second");
}

/** A failed thumbnail never fails the event: logged once, the event has none. */
function thumbFailed(t: SaveTarget, label: string, e: unknown): null {
  t.log.once("thumb", "warn", `thumbnail for ${label} not saved: ${errorMessage(e)}`);
  return null;
}

/** Stages the thumbnail; null when there is none or it failed. */
async function stageThumb(t: SaveTarget, data: SaveInput["thumbJpeg"], label: string) {
  if (!data || data.byteLength === 0) return null;
  return stage(t.dirs.thumbsDir, data, label).catch((e: unknown) => thumbFailed(t, label, e));
}

/** Names the staged thumbnail after its image; returns the name, or null if that failed. */
async function nameThumb(t: SaveTarget, tmp: string | null, file: string) {
  if (tmp === null) return null;
  try {
    await replace(tmp, join(t.dirs.thumbsDir, file));
    return file;
  } catch (e) {
    await discard(tmp);
    return thumbFailed(t, file, e);
  }
}

/** Writes both files, whole and durable; returns the image's name and the thumbnail's. */
async function writeFiles(t: SaveTarget, input: SaveInput) {
  const label = eventFileName(input);
  const [image, thumbTmp] = await Promise.allSettled([
    stage(t.dirs.outdir, input.jpeg, label),
    stageThumb(t, input.thumbJpeg, label),
  ]);
  const thumbStaged = thumbTmp.status === "fulfilled" ? thumbTmp.value : null;
  if (image.status === "rejected") {
    if (thumbStaged) await discard(thumbStaged);
    throw image.reason;
  }
  let file: string;
  try {
    file = await nameImage(t, input, image.value);
  } catch (e) {
    await Promise.all([discard(image.value), thumbStaged && discard(thumbStaged)]);
    throw e;
  }
  const [, thumb] = await Promise.all([discard(image.value), nameThumb(t, thumbStaged, file)]);
  await Promise.all([fsyncDir(t.dirs.outdir), thumb && fsyncDir(t.dirs.thumbsDir)]);
  return { file, thumb };
}

/** The stored values: finite numbers, whole non-negative people, detections without extras. */
function newEvent(input: SaveInput, file: string, thumb: string | null): NewEvent {
  return {
    time: input.at.getTime(),
    reason: input.reason,
    people: Math.max(0, Math.floor(input.people)),
    detections: cleanDetections(input.detections),
    inferMs: Number.isFinite(input.inferMs) ? input.inferMs : 0,
    fps: Number.isFinite(input.fps) ? input.fps : 0,
    file,
    thumb,
    bytes: input.jpeg.byteLength,
  };
}

/** Saves one event; see the module comment. */
export async function writeEvent(t: SaveTarget, input: SaveInput): Promise<EventRecord> {
  // outdir may have been deleted while running: recreate it.
  await fsp.mkdir(t.dirs.thumbsDir, { recursive: true });
  const { file, thumb } = await writeFiles(t, input);
  const ev = newEvent(input, file, thumb);
  try {
    return { id: t.index.insert(ev), ...ev };
  } catch (e) {
    await discard(join(t.dirs.outdir, file));
    if (thumb) await discard(join(t.dirs.thumbsDir, thumb));
    throw e;
  }
}
