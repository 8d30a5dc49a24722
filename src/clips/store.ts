/**
 * The clips' sqlite table and its queries. Every function takes the archive's bun:sqlite
 * Database (opened by the caller, any `strict` setting: only positional parameters are used).
 *
 * API:
 *   db.exec(CLIPS_SCHEMA_SQL)                 // as a numbered migration of the archive
 *   recordClipEvent(db, e)                    // the writer's onEvent: row per clip, kept current
 *   await reconcileClips(db, outdir, done)    // at startup, after recoverClips(): rows = files
 *   getClip / clipByFile / clipsForVisit / clipsInRange
 *   oldestClips / clipsBefore / clipCount / totalClipBytes / deleteClip / deleteClipRow
 *                                             // retention (src/events/retention.ts), /status
 *
 * A row per clip file pair (<file>.mjpeg + its index), status recording → complete, or
 * recovered (finished by recover.ts after a crash). visit_id is the visit that opened the clip;
 * since a clip may cover the start of the next visit and a long visit has several clips
 * (plan.ts), "the clips of a visit" is best asked by time: clipsInRange(visit.start, visit.end).
 * visit_id has no foreign key, so the table does not depend on the visits' migration.
 */
import type { Database } from "bun:sqlite";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { unlinkQuiet } from "../events/files.ts";
import { CLIPS_DIR, baseOf, fileNames, parseIndex, type ClipStatus } from "./format.ts";
import type { RecoveredClip } from "./recover.ts";
import type { ClipEvent, ClipInfo } from "./writer.ts";

export const CLIPS_SCHEMA_SQL = `
CREATE TABLE clips (
  id INTEGER PRIMARY KEY,
  visit_id INTEGER,
  part INTEGER NOT NULL DEFAULT 1,
  file TEXT NOT NULL UNIQUE,
  index_file TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  frames INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'recovered')),
  reason TEXT,
  error TEXT
);
CREATE INDEX clips_start_ms ON clips (start_ms);
CREATE INDEX clips_visit_id ON clips (visit_id);
`;

export interface ClipRow {
  id: number;
  visitId: number | null;
  part: number;
  /** .mjpeg and index names inside <outdir>/clips. */
  file: string;
  index: string;
  /** Capture times of the first and last frames, ms since epoch. */
  startMs: number;
  endMs: number;
  frames: number;
  /** .mjpeg + index bytes. */
  bytes: number;
  status: ClipStatus;
  /** Why it ended (plan.ts FinishReason, or "crash"); null while recording. */
  reason: string | null;
  /** "CODE: message" of a write error, or null. */
  error: string | null;
}

interface Raw {
  id: number;
  visit_id: number | null;
  part: number;
  file: string;
  index_file: string;
  start_ms: number;
  end_ms: number;
  frames: number;
  bytes: number;
  status: ClipStatus;
  reason: string | null;
  error: string | null;
}

function toRow(r: Raw): ClipRow {
  return {
    id: r.id,
    visitId: r.visit_id,
    part: r.part,
    file: r.file,
    index: r.index_file,
    startMs: r.start_ms,
    endMs: r.end_ms,
    frames: r.frames,
    bytes: r.bytes,
    status: r.status,
    reason: r.reason,
    error: r.error,
  };
}

type Upsert = Omit<ClipRow, "id">;

const UPSERT = `
INSERT INTO clips (visit_id, part, file, index_file, start_ms, end_ms, frames, bytes, status,
                   reason, error)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (file) DO UPDATE SET
  visit_id = excluded.visit_id, part = excluded.part, index_file = excluded.index_file,
  start_ms = excluded.start_ms, end_ms = excluded.end_ms, frames = excluded.frames,
  bytes = excluded.bytes, status = excluded.status, reason = excluded.reason,
  error = excluded.error`;

/** Inserts or replaces the row of `r.file`. */
export function upsertClip(db: Database, r: Upsert): void {
  db.query(UPSERT).run(
    r.visitId,
    r.part,
    r.file,
    r.index,
    r.startMs,
    r.endMs,
    r.frames,
    r.bytes,
    r.status,
    r.reason,
    r.error,
  );
}

function fromInfo(
  c: ClipInfo,
  status: ClipStatus,
  reason: string | null,
  error: string | null,
): Upsert {
  const { visitId, part, file, index, startMs, endMs, frames, bytes } = c;
  return { visitId, part, file, index, startMs, endMs, frames, bytes, status, reason, error };
}

/** Keeps the table in step with the writer: pass as (part of) its onEvent. */
export function recordClipEvent(db: Database, e: ClipEvent): void {
  if (e.kind === "started") upsertClip(db, fromInfo(e.clip, "recording", null, null));
  else if (e.kind === "finished") {
    const error = e.error ? `${e.error.code}: ${e.error.message}` : null;
    upsertClip(db, fromInfo(e.clip, e.status, e.reason, error));
  } else if (e.file) db.query("DELETE FROM clips WHERE file = ?").run(e.file);
}

export function getClip(db: Database, id: number): ClipRow | null {
  const r = db.query("SELECT * FROM clips WHERE id = ?").get(id) as Raw | null;
  return r ? toRow(r) : null;
}

export function clipByFile(db: Database, file: string): ClipRow | null {
  const r = db.query("SELECT * FROM clips WHERE file = ? OR index_file = ?").get(file, file);
  return r ? toRow(r as Raw) : null;
}

/** The clips opened by a visit, in time order. */
export function clipsForVisit(db: Database, visitId: number): ClipRow[] {
  const rows = db
    .query("SELECT * FROM clips WHERE visit_id = ? ORDER BY start_ms, id")
    .all(visitId) as Raw[];
  return rows.map(toRow);
}

/** Clips with frames in [fromMs, toMs] (overlapping the range), in time order. */
export function clipsInRange(db: Database, fromMs: number, toMs: number): ClipRow[] {
  const rows = db
    .query("SELECT * FROM clips WHERE start_ms <= ? AND end_ms >= ? ORDER BY start_ms, id")
    .all(toMs, fromMs) as Raw[];
  return rows.map(toRow);
}

/** The oldest finished clips first (never one being recorded): what retention deletes. */
export function oldestClips(db: Database, limit: number): ClipRow[] {
  const rows = db
    .query("SELECT * FROM clips WHERE status != 'recording' ORDER BY start_ms, id LIMIT ?")
    .all(limit) as Raw[];
  return rows.map(toRow);
}

/** Finished clips that ended before `ms` (keep-days), oldest first. */
export function clipsBefore(db: Database, ms: number): ClipRow[] {
  const rows = db
    .query("SELECT * FROM clips WHERE status != 'recording' AND end_ms < ? ORDER BY start_ms, id")
    .all(ms) as Raw[];
  return rows.map(toRow);
}

export function clipCount(db: Database): number {
  return (db.query("SELECT COUNT(*) AS n FROM clips").get() as { n: number }).n;
}

/** Bytes of all clips and their indexes (/status `clips_bytes`; recording ones as of now). */
export function totalClipBytes(db: Database): number {
  return (db.query("SELECT COALESCE(SUM(bytes), 0) AS n FROM clips").get() as { n: number }).n;
}

/**
 * Deletes a clip's two files (a missing one is fine), then its row; an error deleting a file
 * leaves the row, so the clip is tried again. Synchronous: retention runs on the main thread
 * between two saves, as the events' does.
 */
export function deleteClip(db: Database, outdir: string, clip: ClipRow): void {
  const dir = join(outdir, CLIPS_DIR);
  unlinkQuiet(join(dir, clip.file));
  unlinkQuiet(join(dir, clip.index));
  db.query("DELETE FROM clips WHERE id = ?").run(clip.id);
}

export interface ReconcileResult {
  /** Rows written from recoverClips() results. */
  recovered: number;
  /** Rows left "recording" by a crash after their clip was renamed into place: now complete. */
  settled: number;
  /** Finished clips in the folder without a row (the index was rebuilt): rows added. */
  added: number;
  /** Rows whose files are gone: deleted. */
  removed: number;
}

/**
 * Makes the table agree with the folder, at startup after recoverClips(outdir): applies its
 * results, then reads the folder's finished clips (their index headers and trailers) for rows
 * that are missing or stale. Clips are only read here, never changed.
 */
export async function reconcileClips(
  db: Database,
  outdir: string,
  done: readonly RecoveredClip[],
): Promise<ReconcileResult> {
  const res: ReconcileResult = { recovered: 0, settled: 0, added: 0, removed: 0 };
  for (const d of done) {
    if (d.error !== null) continue;
    res.recovered++;
    if (d.action === "removed" || d.startMs === null || d.endMs === null) {
      db.query("DELETE FROM clips WHERE file = ?").run(d.file);
      continue;
    }
    const { file, index, visitId, part, startMs, endMs, frames, bytes } = d;
    upsertClip(db, {
      ...{ file, index, visitId, part, startMs, endMs, frames, bytes },
      status: d.action === "complete" ? "complete" : "recovered",
      reason: "crash",
      error: null,
    });
  }
  const dir = join(outdir, CLIPS_DIR);
  const files = new Set(await readdir(dir).catch(() => [] as string[]));
  const rows = (db.query("SELECT * FROM clips").all() as Raw[]).map(toRow);
  const known = new Set(rows.map((r) => r.file));
  for (const r of rows) {
    if (!files.has(r.file) || !files.has(r.index)) {
      if (files.has(fileNames(r.file.replace(/\.mjpeg$/, "")).partData)) continue;
      db.query("DELETE FROM clips WHERE id = ?").run(r.id);
      res.removed++;
    } else if (r.status === "recording" && (await readFinished(dir, r.file, db))) res.settled++;
  }
  for (const f of files) {
    const b = baseOf(f);
    if (b && !b.part && b.kind === "data" && !known.has(f) && (await readFinished(dir, f, db))) {
      res.added++;
    }
  }
  return res;
}

/** Writes the row of a finished clip from its files; false when they are not a clip. */
async function readFinished(dir: string, file: string, db: Database): Promise<boolean> {
  const names = fileNames(file.replace(/\.mjpeg$/, ""));
  try {
    const idx = parseIndex(await readFile(join(dir, names.index)));
    const data = await stat(join(dir, names.data));
    const first = idx.frames[0];
    const last = idx.frames[idx.frames.length - 1];
    if (!idx.header || !first || !last) return false;
    const recovered = idx.trailer?.end === "recovered";
    upsertClip(db, {
      visitId: idx.header.visitId,
      part: idx.header.part,
      file: names.data,
      index: names.index,
      startMs: first.t,
      endMs: last.t,
      frames: idx.frames.length,
      bytes: data.size + idx.validBytes,
      status: recovered ? "recovered" : "complete",
      reason: idx.trailer?.reason ?? null,
      error: null,
    });
    return true;
  } catch {
    return false;
  }
}
