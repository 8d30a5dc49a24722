/**
 * The event archive: annotated JPEGs in outdir (names as the original), thumbnails in
 * outdir/thumbs (same name), and a bun:sqlite index outdir/.hazardcam-index.sqlite (WAL).
 *
 * - Files appear whole or not at all: write `.tmp-*`, fsync, link/rename, fsync the directory.
 * - At open the index is reconciled with the folder: images added by hand appear (reason from the
 *   name, or "import" with the file's mtime), rows whose image is gone vanish, `.tmp-*` leftovers
 *   of a crash are deleted, and an unreadable index is moved aside and rebuilt from the files.
 * - Retention (oldest first): keepDays, maxEvents, minFreeMb; 0 disables a rule.
 *
 * All I/O is synchronous: a save is two ~60 KB files and one row, at most once per cooldown.
 */
import { Database } from "bun:sqlite";
import fs from "node:fs";
import { join, resolve } from "node:path";
import { HcError, errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { Box, Detection } from "../shared/types.ts";
import {
  SAFE_JPEG_NAME,
  eventFileName,
  isDay,
  localDay,
  parseEventFileName,
  type SaveReason,
} from "./names.ts";

/** "import": an image put into outdir by hand whose name is not one of ours. */
export type EventReason = SaveReason | "import";
export const EVENT_REASONS: readonly EventReason[] = ["auto", "snapshot", "import"];

export interface EventRecord {
  id: number;
  /** ms since epoch. */
  time: number;
  reason: EventReason;
  people: number;
  detections: Detection[];
  inferMs: number;
  fps: number;
  /** Image file name inside outdir. */
  file: string;
  /** Thumbnail file name inside outdir/thumbs, or null (imported images have none). */
  thumb: string | null;
  /** Image size in bytes. */
  bytes: number;
}

export interface SaveInput {
  /** Annotated JPEG (quality 95). */
  jpeg: Uint8Array;
  thumbJpeg?: Uint8Array | null;
  reason: SaveReason;
  at: Date;
  people: number;
  detections: Detection[];
  inferMs: number;
  fps: number;
}

export interface RetentionOptions {
  /** Delete events older than this many days; 0 keeps them forever. */
  keepDays: number;
  /** Keep at most this many events; 0 means no limit. */
  maxEvents: number;
  /** Delete the oldest events while the outdir file system has less free space; 0 disables. */
  minFreeMb: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionOptions> = {
  keepDays: 30,
  maxEvents: 10000,
  minFreeMb: 500,
};

export interface ArchiveOptions extends Partial<RetentionOptions> {
  /** Clock for retention (ms since epoch); tests inject one. */
  now?: () => number;
  /** Free MB on the file system holding `dir`, or null if unknown; tests inject one. */
  freeMb?: (dir: string) => number | null;
  log?: Logger;
}

export interface EventQuery {
  /** Only events with time < before (ms since epoch). */
  before?: number;
  /** Only events with time > after (ms since epoch). */
  after?: number;
  reason?: EventReason;
  /** Local day `YYYY-MM-DD`. */
  day?: string;
  /** Default 100, at most 500. */
  limit?: number;
  offset?: number;
  /** Default "desc" (newest first). */
  order?: "asc" | "desc";
}

export interface ArchiveStats {
  total: number;
  diskFreeMb: number | null;
  /** Times (ms) of the oldest and newest events, null when empty. */
  oldest: number | null;
  newest: number | null;
  /** Last storage error (e.g. ENOSPC), cleared by the next successful save. */
  lastError: string | null;
}

export interface ReconcileResult {
  added: number;
  removed: number;
  tmpRemoved: number;
}

export const INDEX_FILE = ".hazardcam-index.sqlite";
export const THUMBS_DIR = "thumbs";
export const MAX_LIMIT = 500;
const SCHEMA_VERSION = 1;

interface Row {
  id: number;
  time: number;
  reason: string;
  people: number;
  detections: string;
  infer_ms: number;
  fps: number;
  file: string;
  thumb: string | null;
  bytes: number;
}

function defaultFreeMb(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return Math.floor((s.bavail * s.bsize) / (1024 * 1024));
  } catch {
    return null;
  }
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** ENOSPC from a file write, SQLITE_FULL from the index: the card is full either way. */
function diskFull(e: unknown): boolean {
  const c = code(e);
  return c === "ENOSPC" || c === "SQLITE_FULL" || c === "EDQUOT";
}

function unlinkQuiet(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch (e) {
    if (code(e) !== "ENOENT") throw e;
  }
}

function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some file systems (vfat on a USB stick) refuse fsync on a directory: the rename still holds.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

let tmpCounter = 0;

/**
 * Writes `data` to dir/name so the name never shows a partial file and an existing file is never
 * overwritten (EEXIST). Temp files are `.tmp-*`, deleted by the next open if we crash.
 */
function writeAtomic(dir: string, name: string, data: Uint8Array): void {
  const tmp = join(dir, `.tmp-${process.pid}-${++tmpCounter}-${name}`);
  const final = join(dir, name);
  const fd = fs.openSync(tmp, "wx", 0o644);
  try {
    try {
      let off = 0;
      while (off < data.byteLength) off += fs.writeSync(fd, data, off, data.byteLength - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      // link() fails with EEXIST instead of replacing: two saves can never clobber each other.
      fs.linkSync(tmp, final);
      fs.unlinkSync(tmp);
    } catch (e) {
      const c = code(e);
      if (c !== "EPERM" && c !== "ENOTSUP" && c !== "EOPNOTSUPP" && c !== "ENOSYS") throw e;
      // vfat/exfat have no hard links: rename after checking (single writer).
      if (fs.existsSync(final))
        throw Object.assign(new Error(`${final} exists`), { code: "EEXIST" });
      fs.renameSync(tmp, final);
    }
  } catch (e) {
    unlinkQuiet(tmp);
    throw e;
  }
  fsyncDir(dir);
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

function toRecord(r: Row): EventRecord {
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

function cleanDetections(ds: Detection[]): Detection[] {
  return ds.map((d) => {
    const b: Box = { ymin: d.box.ymin, xmin: d.box.xmin, ymax: d.box.ymax, xmax: d.box.xmax };
    return { classId: d.classId, label: d.label, score: d.score, box: b };
  });
}

export class Archive {
  readonly outdir: string;
  readonly thumbsDir: string;
  readonly indexPath: string;
  readonly retention: Readonly<RetentionOptions>;
  private db: Database | null;
  private readonly now: () => number;
  private readonly freeMbFn: (dir: string) => number | null;
  private readonly log: Logger;
  private readonly listeners = new Set<(e: EventRecord) => void>();
  private lastError: string | null = null;

  private constructor(outdir: string, db: Database, opts: ArchiveOptions, log: Logger) {
    this.outdir = outdir;
    this.thumbsDir = join(outdir, THUMBS_DIR);
    this.indexPath = join(outdir, INDEX_FILE);
    this.db = db;
    this.log = log;
    this.now = opts.now ?? Date.now;
    this.freeMbFn = opts.freeMb ?? defaultFreeMb;
    this.retention = {
      keepDays: opts.keepDays ?? DEFAULT_RETENTION.keepDays,
      maxEvents: opts.maxEvents ?? DEFAULT_RETENTION.maxEvents,
      minFreeMb: opts.minFreeMb ?? DEFAULT_RETENTION.minFreeMb,
    };
  }

  /** Creates outdir (and thumbs), opens or rebuilds the index, reconciles, applies retention. */
  static open(outdir: string, opts: ArchiveOptions = {}): Archive {
    const log = opts.log ?? logger("events");
    for (const [k, v] of Object.entries({
      keepDays: opts.keepDays,
      maxEvents: opts.maxEvents,
      minFreeMb: opts.minFreeMb,
    })) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw new HcError("ARCHIVE_RETENTION", `${k} must be a number >= 0, got ${v}`, "", 2);
      }
    }
    let dir: string;
    try {
      fs.mkdirSync(join(outdir, THUMBS_DIR), { recursive: true });
      dir = fs.realpathSync(resolve(outdir));
    } catch (e) {
      throw new HcError(
        "OUTDIR",
        `cannot create output directory ${outdir}: ${errorMessage(e)}`,
        "pass a writable directory as <outdir>",
        2,
      );
    }
    const db = Archive.openDb(join(dir, INDEX_FILE), log);
    const archive = new Archive(dir, db, opts, log);
    const r = archive.reconcile();
    if (r.added || r.removed || r.tmpRemoved) {
      log.info(
        `reconciled ${dir}: ${r.added} added, ${r.removed} removed, ${r.tmpRemoved} temp files deleted`,
      );
    }
    archive.enforce();
    return archive;
  }

  private static openDb(path: string, log: Logger): Database {
    try {
      return Archive.tryOpenDb(path);
    } catch (e) {
      const aside = `${path}.corrupt-${Date.now()}`;
      log.warn(`index ${path} unreadable (${errorMessage(e)}): moved to ${aside}, rebuilding`);
      try {
        fs.renameSync(path, aside);
      } catch (e2) {
        if (code(e2) !== "ENOENT") unlinkQuiet(path);
      }
      for (const ext of ["-wal", "-shm"]) {
        try {
          fs.renameSync(path + ext, aside + ext);
        } catch {
          unlinkQuiet(path + ext);
        }
      }
      return Archive.tryOpenDb(path);
    }
  }

  private static tryOpenDb(path: string): Database {
    const db = new Database(path, { create: true, strict: true });
    try {
      db.exec("PRAGMA journal_mode=WAL");
      // WAL + NORMAL stays consistent on power loss; a lost last row is restored by reconcile.
      db.exec("PRAGMA synchronous=NORMAL");
      db.exec("PRAGMA busy_timeout=2000");
      const check = db.query("PRAGMA quick_check").get() as Record<string, unknown> | null;
      const verdict = check ? Object.values(check)[0] : null;
      if (verdict !== "ok") throw new Error(`quick_check: ${String(verdict)}`);
      const uv = db.query("PRAGMA user_version").get() as { user_version: number };
      if (uv.user_version !== 0 && uv.user_version !== SCHEMA_VERSION) {
        throw new Error(`schema version ${uv.user_version}, expected ${SCHEMA_VERSION}`);
      }
      db.exec(`CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time INTEGER NOT NULL,
        day TEXT NOT NULL,
        reason TEXT NOT NULL,
        people INTEGER NOT NULL,
        detections TEXT NOT NULL,
        infer_ms REAL NOT NULL,
        fps REAL NOT NULL,
        file TEXT NOT NULL UNIQUE,
        thumb TEXT,
        bytes INTEGER NOT NULL DEFAULT 0
      )`);
      db.exec("CREATE INDEX IF NOT EXISTS events_time ON events(time, id)");
      db.exec("CREATE INDEX IF NOT EXISTS events_day ON events(day, time)");
      db.exec(`PRAGMA user_version=${SCHEMA_VERSION}`);
      return db;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  private get conn(): Database {
    if (!this.db) throw new HcError("ARCHIVE_CLOSED", "the event archive is closed");
    return this.db;
  }

  get closed(): boolean {
    return this.db === null;
  }

  /** Idempotent. */
  close(): void {
    if (!this.db) return;
    this.listeners.clear();
    try {
      this.db.close();
    } finally {
      this.db = null;
    }
  }

  /** Called after every successful save (auto and snapshot); returns the unsubscribe. */
  onSaved(cb: (e: EventRecord) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Syncs the index with the folder; see the module comment. */
  reconcile(): ReconcileResult {
    const db = this.conn;
    const result: ReconcileResult = { added: 0, removed: 0, tmpRemoved: 0 };
    const images = new Set<string>();
    const thumbs = new Set<string>();
    let skipped = 0;
    for (const [dir, set] of [
      [this.outdir, images],
      [this.thumbsDir, thumbs],
    ] as const) {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        if (code(e) !== "ENOENT") throw e;
        fs.mkdirSync(dir, { recursive: true });
        entries = [];
      }
      for (const ent of entries) {
        if (ent.name.startsWith(".tmp-")) {
          unlinkQuiet(join(dir, ent.name));
          result.tmpRemoved++;
        } else if (ent.isFile() && SAFE_JPEG_NAME.test(ent.name)) {
          // Dirent types do not follow symlinks: a link pointing out of outdir is never indexed.
          set.add(ent.name);
        } else if (/\.jpe?g$/i.test(ent.name) && dir === this.outdir) {
          skipped++;
        }
      }
    }
    if (skipped) {
      this.log.warn(
        `${skipped} image(s) in ${this.outdir} not indexed: names must match ${SAFE_JPEG_NAME.source} and be regular files`,
      );
    }

    const rows = db.query("SELECT id, file, thumb FROM events").all() as Pick<
      Row,
      "id" | "file" | "thumb"
    >[];
    const referencedThumbs = new Set<string>();
    const known = new Set<string>();
    const insert = db.query(
      `INSERT INTO events (time, day, reason, people, detections, infer_ms, fps, file, thumb, bytes)
       VALUES (?, ?, ?, ?, '[]', ?, ?, ?, ?, ?)`,
    );
    db.transaction(() => {
      for (const r of rows) {
        if (!images.has(r.file)) {
          db.query("DELETE FROM events WHERE id = ?").run(r.id);
          result.removed++;
          continue;
        }
        known.add(r.file);
        if (r.thumb !== null) {
          if (thumbs.has(r.thumb)) referencedThumbs.add(r.thumb);
          else db.query("UPDATE events SET thumb = NULL WHERE id = ?").run(r.id);
        }
      }
      for (const file of [...images].sort()) {
        if (known.has(file)) continue;
        let st: fs.Stats;
        try {
          st = fs.statSync(join(this.outdir, file));
        } catch {
          continue;
        }
        const parsed = parseEventFileName(file);
        let time = Math.floor(st.mtimeMs);
        if (parsed) {
          const sec = parsed.at.getTime();
          // The name has second resolution; the mtime refines it when it agrees.
          if (time < sec || time >= sec + 1000) time = sec;
        }
        const thumb = thumbs.has(file) ? file : null;
        if (thumb) referencedThumbs.add(thumb);
        insert.run(
          time,
          localDay(time),
          parsed ? parsed.reason : "import",
          parsed ? parsed.people : 0,
          parsed ? parsed.inferMs : 0,
          parsed ? parsed.fps : 0,
          file,
          thumb,
          st.size,
        );
        result.added++;
      }
    })();
    for (const t of thumbs) {
      if (!referencedThumbs.has(t)) unlinkQuiet(join(this.thumbsDir, t));
    }
    return result;
  }

  /** Saves an event; never overwrites (suffix `_2`, `_3`... within one second). */
  save(input: SaveInput): EventRecord {
    const db = this.conn;
    if (!(input.jpeg instanceof Uint8Array) || input.jpeg.byteLength === 0) {
      throw new HcError("ARCHIVE_EMPTY_JPEG", "refusing to save an empty image");
    }
    try {
      return this.saveOnce(this.reopenIfGone(db), input);
    } catch (e) {
      if (!diskFull(e)) {
        this.lastError = `save failed: ${errorMessage(e)}`;
        throw new HcError(
          "STORAGE_WRITE",
          `could not save the event in ${this.outdir}: ${errorMessage(e)}`,
          "check that outdir is writable",
        );
      }
      // Disk full: retention frees the oldest events, then one more try.
      this.enforce();
      try {
        return this.saveOnce(this.conn, input);
      } catch (e2) {
        this.lastError = `disk full: ${errorMessage(e2)}`;
        throw new HcError(
          "STORAGE_FULL",
          `no space left to save the event in ${this.outdir}`,
          "free space on the card, or lower --keep-days / --max-events, or raise --min-free-mb",
        );
      }
    }
  }

  /**
   * outdir (and the index in it) deleted while running: the open index is an unlinked file that
   * no restart would see. Make a new one from what is in the folder (nothing, usually).
   */
  private reopenIfGone(db: Database): Database {
    if (fs.existsSync(this.indexPath)) return db;
    this.log.warn(`${this.indexPath} was deleted while running: recreating outdir and the index`);
    fs.mkdirSync(this.thumbsDir, { recursive: true });
    try {
      db.close();
    } catch {
      // The old handle only matters to the deleted file.
    }
    this.db = Archive.openDb(this.indexPath, this.log);
    this.reconcile();
    return this.db;
  }

  private saveOnce(db: Database, input: SaveInput): EventRecord {
    // outdir may have been deleted while running: recreate it.
    fs.mkdirSync(this.thumbsDir, { recursive: true });
    const time = input.at.getTime();
    const detections = cleanDetections(input.detections);
    let file = "";
    for (let n = 1; ; n++) {
      if (n > 10000) throw new Error("too many events in one second");
      file = eventFileName(input, n);
      if (
        fs.existsSync(join(this.outdir, file)) ||
        db.query("SELECT 1 FROM events WHERE file = ?").get(file)
      ) {
        continue;
      }
      try {
        writeAtomic(this.outdir, file, input.jpeg);
        break;
      } catch (e) {
        if (code(e) === "EEXIST") continue;
        throw e;
      }
    }
    let thumb: string | null = null;
    if (input.thumbJpeg && input.thumbJpeg.byteLength > 0) {
      try {
        unlinkQuiet(join(this.thumbsDir, file)); // an orphan from a crash
        writeAtomic(this.thumbsDir, file, input.thumbJpeg);
        thumb = file;
      } catch (e) {
        this.log.once("thumb", "warn", `thumbnail for ${file} not saved: ${errorMessage(e)}`);
      }
    }
    let id: number;
    try {
      const res = db
        .query(
          `INSERT INTO events (time, day, reason, people, detections, infer_ms, fps, file, thumb, bytes)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          time,
          localDay(time),
          input.reason,
          Math.max(0, Math.floor(input.people)),
          JSON.stringify(detections),
          Number.isFinite(input.inferMs) ? input.inferMs : 0,
          Number.isFinite(input.fps) ? input.fps : 0,
          file,
          thumb,
          input.jpeg.byteLength,
        );
      id = Number(res.lastInsertRowid);
    } catch (e) {
      unlinkQuiet(join(this.outdir, file));
      if (thumb) unlinkQuiet(join(this.thumbsDir, thumb));
      throw e;
    }
    this.lastError = null;
    this.log.clear("thumb");
    const rec: EventRecord = {
      id,
      time,
      reason: input.reason,
      people: Math.max(0, Math.floor(input.people)),
      detections,
      inferMs: Number.isFinite(input.inferMs) ? input.inferMs : 0,
      fps: Number.isFinite(input.fps) ? input.fps : 0,
      file,
      thumb,
      bytes: input.jpeg.byteLength,
    };
    try {
      this.enforce();
    } catch (e) {
      this.log.once("retention", "warn", `retention failed: ${errorMessage(e)}`);
    }
    for (const cb of this.listeners) {
      try {
        cb(rec);
      } catch (e) {
        this.log.once("listener", "warn", `event listener failed: ${errorMessage(e)}`);
      }
    }
    return rec;
  }

  private deleteRows(rows: Pick<Row, "id" | "file" | "thumb">[]): number {
    const db = this.conn;
    let n = 0;
    for (const r of rows) {
      try {
        unlinkQuiet(join(this.outdir, r.file));
        if (r.thumb) unlinkQuiet(join(this.thumbsDir, r.thumb));
      } catch (e) {
        this.log.once("delete", "warn", `cannot delete ${r.file}: ${errorMessage(e)}`);
        continue;
      }
      db.query("DELETE FROM events WHERE id = ?").run(r.id);
      n++;
    }
    return n;
  }

  private oldest(limit: number): Pick<Row, "id" | "file" | "thumb">[] {
    return this.conn
      .query("SELECT id, file, thumb FROM events ORDER BY time ASC, id ASC LIMIT ?")
      .all(limit) as Pick<Row, "id" | "file" | "thumb">[];
  }

  /** Applies retention, oldest first; returns how many events were deleted. */
  enforce(): number {
    const db = this.conn;
    const { keepDays, maxEvents, minFreeMb } = this.retention;
    let deleted = 0;
    if (keepDays > 0) {
      const cutoff = this.now() - keepDays * 86_400_000;
      const old = db
        .query("SELECT id, file, thumb FROM events WHERE time < ? ORDER BY time ASC, id ASC")
        .all(cutoff) as Pick<Row, "id" | "file" | "thumb">[];
      deleted += this.deleteRows(old);
    }
    if (maxEvents > 0) {
      const excess = this.count() - maxEvents;
      if (excess > 0) deleted += this.deleteRows(this.oldest(excess));
    }
    if (minFreeMb > 0) {
      for (let guard = 0; guard < 100_000; guard++) {
        const free = this.freeMbFn(this.outdir);
        if (free === null || free >= minFreeMb) break;
        // The newest event stays: deleting what was just saved would save nothing at all.
        const batch = this.oldest(Math.max(0, Math.min(5, this.count() - 1)));
        if (batch.length === 0) {
          this.log.once(
            "lowdisk",
            "warn",
            `only ${free} MB free in ${this.outdir} (--min-free-mb ${minFreeMb}) and no events left to delete`,
          );
          break;
        }
        const n = this.deleteRows(batch);
        if (n === 0) break;
        deleted += n;
      }
    }
    if (deleted) this.log.info(`retention deleted ${deleted} old event(s)`);
    return deleted;
  }

  private where(q: EventQuery): { sql: string; params: (string | number)[] } {
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

  list(q: EventQuery = {}): EventRecord[] {
    const { sql, params } = this.where(q);
    const limit = Math.min(MAX_LIMIT, Math.max(0, Math.floor(q.limit ?? 100)));
    const offset = Math.max(0, Math.floor(q.offset ?? 0));
    const dir = q.order === "asc" ? "ASC" : "DESC";
    const rows = this.conn
      .query(`SELECT * FROM events ${sql} ORDER BY time ${dir}, id ${dir} LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as Row[];
    return rows.map(toRecord);
  }

  count(q: EventQuery = {}): number {
    const { sql, params } = this.where(q);
    const r = this.conn.query(`SELECT COUNT(*) AS n FROM events ${sql}`).get(...params) as {
      n: number;
    };
    return r.n;
  }

  get(id: number): EventRecord | null {
    const r = this.conn.query("SELECT * FROM events WHERE id = ?").get(id) as Row | null;
    return r ? toRecord(r) : null;
  }

  byFile(file: string): EventRecord | null {
    const r = this.conn.query("SELECT * FROM events WHERE file = ?").get(file) as Row | null;
    return r ? toRecord(r) : null;
  }

  byThumb(thumb: string): EventRecord | null {
    const r = this.conn.query("SELECT * FROM events WHERE thumb = ?").get(thumb) as Row | null;
    return r ? toRecord(r) : null;
  }

  /** The events just newer and just older than `e` in (time, id) order. */
  neighbors(e: EventRecord): { newer: EventRecord | null; older: EventRecord | null } {
    const newer = this.conn
      .query(
        "SELECT * FROM events WHERE time > ? OR (time = ? AND id > ?) ORDER BY time ASC, id ASC LIMIT 1",
      )
      .get(e.time, e.time, e.id) as Row | null;
    const older = this.conn
      .query(
        "SELECT * FROM events WHERE time < ? OR (time = ? AND id < ?) ORDER BY time DESC, id DESC LIMIT 1",
      )
      .get(e.time, e.time, e.id) as Row | null;
    return { newer: newer ? toRecord(newer) : null, older: older ? toRecord(older) : null };
  }

  /** Local days that have events, newest first, with their counts (for the day filter). */
  days(): { day: string; count: number }[] {
    return this.conn
      .query("SELECT day, COUNT(*) AS count FROM events GROUP BY day ORDER BY day DESC")
      .all() as { day: string; count: number }[];
  }

  stats(): ArchiveStats {
    const r = this.conn
      .query("SELECT COUNT(*) AS n, MIN(time) AS oldest, MAX(time) AS newest FROM events")
      .get() as { n: number; oldest: number | null; newest: number | null };
    return {
      total: r.n,
      diskFreeMb: this.freeMbFn(this.outdir),
      oldest: r.oldest,
      newest: r.newest,
      lastError: this.lastError,
    };
  }

  /** Absolute path of an image (or thumbnail) file name; the caller checks the name first. */
  pathOf(file: string, thumb = false): string {
    return join(thumb ? this.thumbsDir : this.outdir, file);
  }
}

/** The JSON shape of an event for /api/events (and later MQTT and webhooks). */
export interface EventJson {
  id: number;
  time: number;
  time_iso: string;
  reason: EventReason;
  people: number;
  infer_ms: number;
  fps: number;
  file: string;
  image_url: string;
  thumb_url: string;
  page_url: string;
  bytes: number;
  detections: { label: string; score: number; box: Box }[];
}

/** URLs are relative to the server root; `base` (e.g. "http://pi:8080") makes them absolute. */
export function eventJson(e: EventRecord, base = ""): EventJson {
  return {
    id: e.id,
    time: e.time,
    time_iso: new Date(e.time).toISOString(),
    reason: e.reason,
    people: e.people,
    infer_ms: Math.round(e.inferMs * 100) / 100,
    fps: Math.round(e.fps * 100) / 100,
    file: e.file,
    image_url: `${base}/out/${e.file}`,
    thumb_url: `${base}${thumbUrl(e)}`,
    page_url: `${base}/events/${e.id}`,
    bytes: e.bytes,
    detections: e.detections.map((d) => ({ label: d.label, score: d.score, box: d.box })),
  };
}

/** The thumbnail URL, or the full image for events without a thumbnail. */
export function thumbUrl(e: EventRecord): string {
  return e.thumb ? `/out/${THUMBS_DIR}/${e.thumb}` : `/out/${e.file}`;
}
