/**
 * Finishes the clips a crash (kill -9, power cut) left unfinished: at startup, before the
 * recorder runs, for every `<outdir>/clips/.part-<base>.*`.
 *
 * API:
 *   const done = await recoverClips(outdir);   // RecoveredClip[], one per unfinished clip
 *   log.info(recoverySummary(done));           // one line (skip when done is empty)
 *   then store.ts applyRecovery(db, done) brings the sqlite rows in line.
 *
 * A clip is kept up to its last whole frame: the longest prefix of index records that are
 * contiguous from offset 0, lie within the .mjpeg, and start with SOI (FFD8) and end with EOI
 * (FFD9) at the recorded offsets. The .mjpeg is truncated after that frame, the index after its
 * record (then a trailer "recovered" is added), both are fsynced and renamed into place. With no
 * whole frame (or no readable header) both files are removed. Data without an index record is
 * dropped: the index is the truth, and every frame it lists is a complete JPEG at its offset.
 *
 * Crash points covered (writer.ts order: data bytes, then index line; at the end trailer, fsync,
 * rename index, rename data): torn frame bytes, torn index line, data ahead of the index (bytes
 * without a record), index ahead of the data (a power cut can reorder unsynced writes), empty or
 * missing files, and a crash between the two renames (final index, `.part-` data): a clip that
 * was whole then comes back with status "complete".
 */
import { open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../shared/errors.ts";
import {
  CLIPS_DIR,
  baseOf,
  fileNames,
  parseIndex,
  trailerLine,
  type IndexFrame,
  type ParsedIndex,
} from "./format.ts";
import { syncDir, writeAll } from "./io.ts";

export interface RecoveredClip {
  /** "recovered": kept up to its last whole frame; "complete": it was whole (crash during its
   *  rename); "removed": nothing whole remained, its files are gone. */
  action: "recovered" | "complete" | "removed";
  /** Final names inside <outdir>/clips (also for "removed": the row to delete, if any). */
  file: string;
  index: string;
  /** From the index header; null when it was unreadable. */
  visitId: number | null;
  part: number;
  startMs: number | null;
  endMs: number | null;
  frames: number;
  /** Bytes of the .mjpeg plus its index, as kept. */
  bytes: number;
  /** Index records dropped, and bytes cut from the end of the .mjpeg. */
  droppedFrames: number;
  cutBytes: number;
  /** Why it could not be finished (an I/O error); the files are left as they were. */
  error: string | null;
}

const encoder = new TextEncoder();

export async function recoverClips(outdir: string): Promise<RecoveredClip[]> {
  const dir = join(outdir, CLIPS_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const present = new Set(names);
  const bases = new Set<string>();
  for (const n of names) {
    const b = baseOf(n);
    if (b?.part) bases.add(b.base);
  }
  const out: RecoveredClip[] = [];
  for (const base of [...bases].sort()) out.push(await recoverOne(dir, base, present));
  if (out.length > 0) await syncDir(dir);
  return out;
}

/** One line for the startup log. */
export function recoverySummary(done: readonly RecoveredClip[]): string {
  const count = (a: RecoveredClip["action"]): number => done.filter((d) => d.action === a).length;
  const failed = done.filter((d) => d.error !== null).length;
  return (
    `unfinished clips after a crash: ${count("recovered")} kept up to their last whole frame, ` +
    `${count("complete")} whole, ${count("removed")} removed` +
    (failed > 0 ? `, ${failed} left as they were (I/O error)` : "")
  );
}

async function recoverOne(dir: string, base: string, present: Set<string>): Promise<RecoveredClip> {
  const names = fileNames(base);
  const pick = (part: string, final: string): string | null =>
    present.has(part) ? part : present.has(final) ? final : null;
  const dataName = pick(names.partData, names.data);
  const indexName = pick(names.partIndex, names.index);
  const result: RecoveredClip = {
    action: "removed",
    file: names.data,
    index: names.index,
    visitId: null,
    part: 1,
    startMs: null,
    endMs: null,
    frames: 0,
    bytes: 0,
    droppedFrames: 0,
    cutBytes: 0,
    error: null,
  };
  try {
    const parsed = indexName ? parseIndex(await readFile(join(dir, indexName))) : null;
    const dataPath = dataName ? join(dir, dataName) : null;
    const dataSize = dataPath ? (await stat(dataPath)).size : 0;
    const whole = dataPath && parsed ? await wholeFrames(dataPath, dataSize, parsed.frames) : 0;
    if (parsed?.header) {
      result.visitId = parsed.header.visitId;
      result.part = parsed.header.part;
      result.droppedFrames = parsed.frames.length - whole;
    }
    if (!parsed?.header || whole === 0 || !dataName || !indexName) {
      result.cutBytes = dataSize;
      await Promise.allSettled([dataName, indexName].map((n) => n && unlink(join(dir, n))));
      return result;
    }
    await finishClip(dir, base, { dataName, indexName, dataSize, parsed, whole }, result);
  } catch (e) {
    result.error = errorMessage(e);
  }
  return result;
}

interface Found {
  dataName: string;
  indexName: string;
  dataSize: number;
  parsed: ParsedIndex;
  /** Frames kept: parsed.frames[0..whole). */
  whole: number;
}

/** Truncates, adds the trailer, fsyncs and renames into place; fills in `result`. */
async function finishClip(
  dir: string,
  base: string,
  f: Found,
  result: RecoveredClip,
): Promise<void> {
  const names = fileNames(base);
  const last = f.parsed.frames[f.whole - 1] as IndexFrame;
  const dataEnd = last.o + last.n;
  const wasWhole =
    f.parsed.trailer !== null && f.whole === f.parsed.frames.length && dataEnd === f.dataSize;
  let indexEnd = f.parsed.validBytes;
  const data = await open(join(dir, f.dataName), "r+");
  const index = await open(join(dir, f.indexName), "r+");
  try {
    if (!wasWhole) {
      indexEnd = f.parsed.frameEnds[f.whole - 1] as number;
      const trailer = encoder.encode(
        trailerLine({
          end: "recovered",
          frames: f.whole,
          bytes: dataEnd,
          endMs: last.t,
          reason: "crash",
        }),
      );
      await data.truncate(dataEnd);
      await index.truncate(indexEnd);
      await writeAll(index, trailer, indexEnd);
      indexEnd += trailer.length;
    }
    await Promise.all([data.sync(), index.sync()]);
  } finally {
    await Promise.allSettled([data.close(), index.close()]);
  }
  if (f.indexName !== names.index) await rename(join(dir, f.indexName), join(dir, names.index));
  if (f.dataName !== names.data) await rename(join(dir, f.dataName), join(dir, names.data));
  Object.assign(result, {
    action: wasWhole ? "complete" : "recovered",
    startMs: (f.parsed.frames[0] as IndexFrame).t,
    endMs: last.t,
    frames: f.whole,
    bytes: dataEnd + indexEnd,
    cutBytes: f.dataSize - dataEnd,
  });
}

/** How many of `frames` (from the first) are whole JPEGs at their offsets in the file. */
async function wholeFrames(path: string, size: number, frames: IndexFrame[]): Promise<number> {
  const fh = await open(path, "r");
  try {
    const soi = new Uint8Array(2);
    const eoi = new Uint8Array(2);
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i] as IndexFrame;
      if (f.o + f.n > size) return i;
      await Promise.all([fh.read(soi, 0, 2, f.o), fh.read(eoi, 0, 2, f.o + f.n - 2)]);
      if (soi[0] !== 0xff || soi[1] !== 0xd8 || eoi[0] !== 0xff || eoi[1] !== 0xd9) return i;
    }
    return frames.length;
  } finally {
    await fh.close();
  }
}
