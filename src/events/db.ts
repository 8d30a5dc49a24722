/**
 * The archive's index: outdir/.hazardcam-index.sqlite (bun:sqlite, WAL), one row per event.
 * openIndex opens it (schema through src/events/migrations.ts), moves an unreadable file aside
 * and starts a new one (reconcile then refills it from the images), and refuses one written by a
 * newer schema. EventIndex holds every query; it knows rows, not files.
 */
import { Database } from "bun:sqlite";
import fs from "node:fs";
import { HcError, errorMessage } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { Box, Detection } from "../shared/types.ts";
import { errnoCode, unlinkQuiet } from "./files.ts";
import { INDEX_TOO_NEW, migrate, refuseNewer } from "./migrations.ts";
import { isDay, localDay } from "./names.ts";
import { EVENT_REASONS, type EventQuery, type EventReason, type EventRecord } from "./types.ts";

/** A row of `events` (migration 1). */
export interface Row {
  id: number;
  time: number;
  reason: string;
  people: number;
  /** JSON array of Detection. */
  detections: string;
  infer_ms: number;
  fps: number;
  file: string;
  thumb: string | null;
  bytes: number;
}

/** What retention and reconcile need of a row. */
export type FileRow = Pick<Row, "id" | "file" | "thumb">;

/** A row to insert: an event without its id (the day is derived from the time). */
export type NewEvent = Omit<EventRecord, "id">;

/** Opens the index at `path`, creating or migrating it; see the module comment. */
export function openIndex(path: string, log: Logger): EventIndex {
  try {
    return new EventIndex(tryOpen(path));
  } catch (e) {
    if (e instanceof HcError && e.code === INDEX_TOO_NEW) throw e;
    moveAside(path, e, log);
    return new EventIndex(tryOpen(path));
  }
}

function tryOpen(path: string): Database {
  const db = new Database(path, { create: true, strict: true });
  try {
    db.exec("PRAGMA busy_timeout=2000");
    const check = db.query("PRAGMA quick_check").get() as Record<string, unknown> | null;
    const verdict = check ? Object.values(check)[0] : null;
    if (verdict !== "ok") throw new Error(`quick_check: ${String(verdict)}`);
    // Before anything writes to it: a newer hazardcam's index is left exactly as it is.
    refuseNewer(db, path);
    db.exec("PRAGMA journal_mode=WAL");
    // WAL + NORMAL stays consistent on power loss; a lost last row is restored by reconcile.
    db.exec("PRAGMA synchronous=NORMAL");
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

function moveAside(path: string, why: unknown, log: Logger): void {
  const aside = `${path}.corrupt-${Date.now()}`;
  log.warn(`index ${path} unreadable (${errorMessage(why)}): moved to ${aside}, rebuilding`);
  try {
    fs.renameSync(path, aside);
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") unlinkQuiet(path);
  }
  for (const ext of ["-wal", "-shm"]) {
    try {
      fs.renameSync(path + ext, aside + ext);
    } catch {
      unlinkQuiet(path + ext);
    }
  }
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function isDetection(d: unknown): d is Detection {
  const x = d as Detection | null;
  return (
    typeof x === "object" &&
    x !== null &&
    typeof x.label === "string" &&
    isNum(x.score) &&
    typeof x.box === "object" &&
    x.box !== null &&
    isNum(x.box.ymin) &&
    isNum(x.box.xmin) &&
    isNum(x.box.ymax) &&
    isNum(x.box.xmax)
  );
}

export function toRecord(r: Row): EventRecord {
  let detections: Detection[] = [];
  try {
    const parsed: unknown = JSON.parse(r.detections);
    if (Array.isArray(parsed)) detections = parsed.filter(isDetection);
  } catch {
    // A hand-edited row: show the event without detections.
  }
  return {
    id: r.id,
    time: r.time,
    reason: (EVENT_REASONS as readonly string[]).includes(r.reason)
      ? (r.reason as EventReason)
      : "import",
    people: r.people,
    detections,
    inferMs: r.infer_ms,
    fps: r.fps,
    file: r.file,
    thumb: r.thumb,
    bytes: r.bytes,
  };
}

/** Only the fields of a Detection (and its Box), as stored. */
export function cleanDetections(ds: Detection[]): Detection[] {
  return ds.map((d) => {
    const b: Box = { ymin: d.box.ymin, xmin: d.box.xmin, ymax: d.box.ymax, xmax: d.box.xmax };
    return { classId: d.classId, label: d.label, score: d.score, box: b };
  });
}

function where(q: EventQuery): { sql: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  if (q.before !== undefined) {
    parts.push("time < ?");
    params.push(q.before);
  }
  if (q.after !== undefined) {
    parts.push("time > ?");
    params.push(q.after);
  }
  if (q.reason !== undefined) {
    parts.push("reason = ?");
    params.push(q.reason);
  }
  if (q.day !== undefined) {
    if (!isDay(q.day)) throw new HcError("ARCHIVE_QUERY", `bad day ${q.day}`, "use YYYY-MM-DD");
    parts.push("day = ?");
    params.push(q.day);
  }
  return { sql: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
}

const one = (r: Row | null): EventRecord | null => (r ? toRecord(r) : null);

/** The queries of the index; owns the Database handle (close() is idempotent). */
export class EventIndex {
  private open = true;

  constructor(private readonly db: Database) {}

  /** The handle, for the tables of other modules in the same file (the clips, migration 3). */
  database(): Database {
    return this.db;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.db.close();
  }

  /** Runs `fn` in one transaction. */
  transaction(fn: () => void): void {
    this.db.transaction(fn)();
  }

  /** Inserts an event; returns its id. Throws on a duplicate file name (UNIQUE). */
  insert(e: NewEvent): number {
    const res = this.db
      .query(
        `INSERT INTO events (time, day, reason, people, detections, infer_ms, fps, file, thumb, bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        e.time,
        localDay(e.time),
        e.reason,
        e.people,
        JSON.stringify(e.detections),
        e.inferMs,
        e.fps,
        e.file,
        e.thumb,
        e.bytes,
      );
    return Number(res.lastInsertRowid);
  }

  delete(id: number): void {
    this.db.query("DELETE FROM events WHERE id = ?").run(id);
  }

  clearThumb(id: number): void {
    this.db.query("UPDATE events SET thumb = NULL WHERE id = ?").run(id);
  }

  hasFile(file: string): boolean {
    return this.db.query("SELECT 1 FROM events WHERE file = ?").get(file) !== null;
  }

  fileRows(): FileRow[] {
    return this.db.query("SELECT id, file, thumb FROM events").all() as FileRow[];
  }

  /** The `limit` oldest events, in (time, id) order. */
  oldest(limit: number): FileRow[] {
    return this.db
      .query("SELECT id, file, thumb FROM events ORDER BY time ASC, id ASC LIMIT ?")
      .all(limit) as FileRow[];
  }

  /** Events with time < cutoffMs, oldest first. */
  olderThan(cutoffMs: number): FileRow[] {
    return this.db
      .query("SELECT id, file, thumb FROM events WHERE time < ? ORDER BY time ASC, id ASC")
      .all(cutoffMs) as FileRow[];
  }

  list(q: EventQuery, limit: number, offset: number): EventRecord[] {
    const { sql, params } = where(q);
    const dir = q.order === "asc" ? "ASC" : "DESC";
    const rows = this.db
      .query(`SELECT * FROM events ${sql} ORDER BY time ${dir}, id ${dir} LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as Row[];
    return rows.map(toRecord);
  }

  count(q: EventQuery = {}): number {
    const { sql, params } = where(q);
    const r = this.db.query(`SELECT COUNT(*) AS n FROM events ${sql}`).get(...params) as {
      n: number;
    };
    return r.n;
  }

  get(id: number): EventRecord | null {
    return one(this.db.query("SELECT * FROM events WHERE id = ?").get(id) as Row | null);
  }

  byFile(file: string): EventRecord | null {
    return one(this.db.query("SELECT * FROM events WHERE file = ?").get(file) as Row | null);
  }

  byThumb(thumb: string): EventRecord | null {
    return one(this.db.query("SELECT * FROM events WHERE thumb = ?").get(thumb) as Row | null);
  }

  /** The events just newer and just older than `e` in (time, id) order. */
  neighbors(e: EventRecord): { newer: EventRecord | null; older: EventRecord | null } {
    const newer = this.db
      .query(
        "SELECT * FROM events WHERE time > ? OR (time = ? AND id > ?) ORDER BY time ASC, id ASC LIMIT 1",
      )
      .get(e.time, e.time, e.id) as Row | null;
    const older = this.db
      .query(
        "SELECT * FROM events WHERE time < ? OR (time = ? AND id < ?) ORDER BY time DESC, id DESC LIMIT 1",
      )
      .get(e.time, e.time, e.id) as Row | null;
    return { newer: one(newer), older: one(older) };
  }

  /** Local days that have events, newest first, with their counts. */
  days(): { day: string; count: number }[] {
    return this.db
      .query("SELECT day, COUNT(*) AS count FROM events GROUP BY day ORDER BY day DESC")
      .all() as { day: string; count: number }[];
  }

  /** Count and the oldest and newest times (null when empty). */
  totals(): { n: number; oldest: number | null; newest: number | null } {
    return this.db
      .query("SELECT COUNT(*) AS n, MIN(time) AS oldest, MAX(time) AS newest FROM events")
      .get() as { n: number; oldest: number | null; newest: number | null };
  }
}
