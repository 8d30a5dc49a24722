/**
 * Writing one event: a free name (the original's, then `_2`, `_3`... within one second), the
 * image and the thumbnail written atomically off the main thread (src/events/files.ts), then the
 * row. The archive runs one save at a time (src/events/archive.ts), so two saves never pick the
 * same name; a file already in the folder, ours or not, is never overwritten either (link() →
 * EEXIST → next name).
 */
import fsp from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { cleanDetections, type EventIndex, type NewEvent } from "./db.ts";
import { errnoCode, nameTaken, unlinkQuietAsync, writeAtomic } from "./files.ts";
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

/** Writes the image under the first free name; returns the name. */
async function writeImage(t: SaveTarget, input: SaveInput): Promise<string> {
  for (let n = 1; n <= MAX_SUFFIX; n++) {
    const file = eventFileName(input, n);
    if (t.index.hasFile(file) || (await nameTaken(join(t.dirs.outdir, file)))) continue;
    try {
      await writeAtomic(t.dirs.outdir, file, input.jpeg);
      return file;
    } catch (e) {
      if (errnoCode(e) === "EEXIST") continue;
      throw e;
    }
  }
  throw new Error("too many events in one second");
}

/** The thumbnail under the image's name, or null: a failed thumbnail never fails the event. */
async function writeThumb(t: SaveTarget, file: string, data: SaveInput["thumbJpeg"]) {
  if (!data || data.byteLength === 0) return null;
  try {
    await writeAtomic(t.dirs.thumbsDir, file, data, true); // replaces an orphan from a crash
    return file;
  } catch (e) {
    t.log.once("thumb", "warn", `thumbnail for ${file} not saved: ${errorMessage(e)}`);
    return null;
  }
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

/**
 * Saves one event: files first, then the row (a crash in between leaves an image that reconcile
 * indexes at the next open). If the row cannot be written, the files go again.
 */
export async function writeEvent(t: SaveTarget, input: SaveInput): Promise<EventRecord> {
  // outdir may have been deleted while running: recreate it.
  await fsp.mkdir(t.dirs.thumbsDir, { recursive: true });
  const file = await writeImage(t, input);
  const thumb = await writeThumb(t, file, input.thumbJpeg);
  const ev = newEvent(input, file, thumb);
  try {
    return { id: t.index.insert(ev), ...ev };
  } catch (e) {
    await unlinkQuietAsync(join(t.dirs.outdir, file)).catch(() => undefined);
    if (thumb) await unlinkQuietAsync(join(t.dirs.thumbsDir, thumb)).catch(() => undefined);
    throw e;
  }
}
