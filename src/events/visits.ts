/**
 * The visits store (issue 11): visits, their tracks, line crossings and per-minute activity in
 * the archive's index file (tables of migration 2, src/events/migrations.ts), through a
 * connection of its own (the Archive owns the events'; both are on the main thread, so their
 * transactions never interleave), and the best snapshots under <outdir>/visits/
 * (src/events/visit-files.ts). It implements VisitsReader (src/events/visit-types.ts).
 *
 * Writes, from the scene (src/pipeline/visit-recorder.ts):
 * - `begin(v)` when a visit opens: its row (open = 1) and tracks; cooldown stills already saved
 *   since its (backdated) start are linked to it.
 * - `progress(v)` while open (the caller calls it at most once a second): end, people, zones.
 * - `finish(v, images)` at close: the images written, then the final row (open = 0).
 * - `addCrossings`, `addMinutes` as they happen; `linkStill` after each saved event.
 * Crash recovery at open: a visit left open (kill -9, power cut) is closed at its last stored
 * end, never lost; images without a row and temp files go.
 *
 * Retention (src/events/retention.ts enforceVisits): by age (keepDays), and oldest images first
 * under free-space pressure; `enforce()` runs at open, after each visit and on the caller's timer.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { errorMessage, HcError } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { MinuteActivity } from "../track/activity.ts";
import { defaultFreeMb } from "./files.ts";
import { enforceVisits } from "./retention.ts";
import {
  deleteVisitImages,
  reconcileVisitFiles,
  visitDirs,
  visitFileName,
  writeVisitImages,
  type VisitDirs,
  type VisitFileRow,
  type VisitImages,
} from "./visit-files.ts";
import {
  activityBuckets,
  countVisits,
  listVisits,
  openVisit,
  visitAt,
  visitDetail,
} from "./visit-queries.ts";
import { minuteRows } from "./visit-activity.ts";
import type {
  ActivityBucket,
  ActivityQuery,
  CrossingRecord,
  LineCounts,
  VisitDetail,
  VisitQuery,
  VisitRecord,
  VisitsReader,
  VisitTrackRecord,
} from "./visit-types.ts";

/** A visit as the scene knows it (open or final). */
export interface VisitState {
  id: number;
  start: number;
  end: number;
  zones: string[];
  maxPeople: number;
  crossings: Record<string, LineCounts>;
  /** People seen: one per track. */
  tracks: VisitTrackRecord[];
}

export interface NewCrossing extends CrossingRecord {
  visitId: number | null;
}

export interface VisitsOptions {
  /** Days a visit is kept (0: forever); as the events' --keep-days. */
  keepDays?: number;
  /** Free MB under which the oldest visit images are deleted (0: never). */
  minFreeMb?: number;
  log?: Logger;
  now?: () => number;
  freeMb?: (dir: string) => number | null;
}

export const VISITS_SCHEMA = 2;

const closedError = (): HcError => new HcError("VISITS_CLOSED", "the visits store is closed");

export class VisitsStore implements VisitsReader {
  readonly dirs: VisitDirs;
  /** Visits found open at open (the last run stopped during them), closed at their last end. */
  readonly recovered: number[];
  #db: Database | null;
  readonly #o: VisitsOptions;
  readonly #log: Logger;
  #live: (() => MinuteActivity | null) | null = null;

  private constructor(db: Database, outdir: string, o: VisitsOptions) {
    this.#db = db;
    this.#o = o;
    this.#log = o.log ?? logger("visits");
    this.dirs = visitDirs(outdir);
    this.recovered = this.#recover();
  }

  /** Opens the visits tables of an index the Archive has opened (and migrated). */
  static open(indexPath: string, outdir: string, o: VisitsOptions = {}): VisitsStore {
    const db = new Database(indexPath, { strict: true });
    try {
      db.exec("PRAGMA busy_timeout=2000");
      db.exec("PRAGMA synchronous=NORMAL");
      const v = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
      if (v < VISITS_SCHEMA)
        throw new HcError("VISITS_SCHEMA", `${indexPath} has no visits tables (schema ${v})`);
      const store = new VisitsStore(db, outdir, o);
      store.enforce();
      return store;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  get #conn(): Database {
    if (!this.#db) throw closedError();
    return this.#db;
  }

  /** Idempotent. */
  close(): void {
    this.#db?.close();
    this.#db = null;
  }

  get closed(): boolean {
    return this.#db === null;
  }

  #recover(): number[] {
    const db = this.#conn;
    const open = db.query("SELECT id, end_ms FROM visits WHERE open = 1").all() as {
      id: number;
      end_ms: number;
    }[];
    db.query("UPDATE visits SET open = 0 WHERE open = 1").run();
    for (const v of open) {
      this.#log.warn(
        `visit ${v.id} was open when hazardcam stopped: closed at its last known time, ${new Date(v.end_ms).toISOString()}`,
      );
    }
    const rows = db.query("SELECT id, image, thumb FROM visits").all() as VisitFileRow[];
    const fix = db.query("UPDATE visits SET image = ?, thumb = ? WHERE id = ?");
    db.transaction(() => {
      for (const r of reconcileVisitFiles(this.dirs, rows)) fix.run(r.image, r.thumb, r.id);
    })();
    return open.map((v) => v.id);
  }

  // ---- ids and totals for the analyzer at start ------------------------------------------------

  /** The next visit id: never one used before, even by visits retention deleted. */
  nextVisitId(): number {
    const db = this.#conn;
    const seq = db.query("SELECT seq FROM sqlite_sequence WHERE name = 'visits'").get() as {
      seq: number;
    } | null;
    const max = db.query("SELECT MAX(id) AS m FROM visits").get() as { m: number | null };
    return Math.max(seq?.seq ?? 0, max.m ?? 0) + 1;
  }

  /** A track id above every stored one, so ids stay unique across restarts. */
  nextTrackId(): number {
    const r = this.#conn
      .query(
        "SELECT MAX(m) AS m FROM (SELECT MAX(track_id) AS m FROM visit_tracks UNION ALL SELECT MAX(track_id) FROM crossings)",
      )
      .get() as { m: number | null };
    return (r.m ?? 0) + 1;
  }

  /** Crossings per line since `fromMs` (local midnight: the day's totals after a restart). */
  lineTotalsSince(fromMs: number): Record<string, LineCounts> {
    const rows = this.#conn
      .query(
        "SELECT line, direction, COUNT(*) AS n FROM crossings WHERE time >= ? GROUP BY line, direction",
      )
      .all(fromMs) as { line: string; direction: string; n: number }[];
    const out: Record<string, LineCounts> = {};
    for (const r of rows) {
      const c = (out[r.line] ??= { in: 0, out: 0 });
      if (r.direction === "in" || r.direction === "out") c[r.direction] += r.n;
    }
    return out;
  }

  // ---- writes ----------------------------------------------------------------------------------

  /** A visit opened: its row, its tracks, and the stills saved since its start. */
  begin(v: VisitState): VisitRecord {
    const db = this.#conn;
    db.transaction(() => {
      db.query(
        `INSERT INTO visits (id, start_ms, end_ms, open, zones, people, max_people, crossings)
         VALUES (?, ?, ?, 1, ?, ?, ?, ?)`,
      ).run(v.id, v.start, v.end, ...this.#fields(v));
      this.#tracks(v);
      db.query("UPDATE events SET visit_id = ? WHERE visit_id IS NULL AND time >= ?").run(
        v.id,
        v.start,
      );
    })();
    return this.#stored(v.id);
  }

  /** An open visit's latest state (its end so far). */
  progress(v: VisitState): void {
    const db = this.#conn;
    db.transaction(() => {
      db.query(
        "UPDATE visits SET end_ms = ?, zones = ?, people = ?, max_people = ?, crossings = ? WHERE id = ?",
      ).run(v.end, ...this.#fields(v), v.id);
      this.#tracks(v);
    })();
  }

  /**
   * A visit closed: its images (if any) written whole, then the final row. A failed image write
   * closes the visit without one (logged once).
   */
  async finish(v: VisitState, images: VisitImages | null): Promise<VisitRecord> {
    let files: { image: string | null; thumb: string | null } = { image: null, thumb: null };
    if (images && images.jpeg.byteLength > 0) {
      try {
        files = await writeVisitImages(this.dirs, visitFileName(v.start, v.id), images);
        this.#log.clear("image");
      } catch (e) {
        this.#log.once(
          "image",
          "warn",
          `visit ${v.id}: snapshot not saved: ${(e as Error).message}`,
        );
      }
    }
    const db = this.#conn;
    db.transaction(() => {
      db.query(
        `UPDATE visits SET end_ms = ?, zones = ?, people = ?, max_people = ?, crossings = ?,
           open = 0, image = ?, thumb = ? WHERE id = ?`,
      ).run(v.end, ...this.#fields(v), files.image, files.thumb, v.id);
      this.#tracks(v);
    })();
    return this.#stored(v.id);
  }

  addCrossings(list: readonly NewCrossing[]): void {
    if (list.length === 0) return;
    const db = this.#conn;
    const q = db.query(
      "INSERT INTO crossings (time, line, direction, track_id, visit_id) VALUES (?, ?, ?, ?, ?)",
    );
    db.transaction(() => {
      for (const c of list) q.run(c.time, c.line, c.direction, c.trackId, c.visitId);
    })();
  }

  /** Closed minutes of the ActivityAggregator; a minute stored before is added to. */
  addMinutes(list: readonly MinuteActivity[]): void {
    if (list.length === 0) return;
    const db = this.#conn;
    const zq = db.query(
      `INSERT INTO activity (minute, zone, people_max, person_sec) VALUES (?, ?, ?, ?)
       ON CONFLICT (minute, zone) DO UPDATE SET people_max = MAX(people_max, excluded.people_max),
         person_sec = person_sec + excluded.person_sec`,
    );
    const lq = db.query(
      `INSERT INTO activity_lines (minute, line, n_in, n_out) VALUES (?, ?, ?, ?)
       ON CONFLICT (minute, line) DO UPDATE SET n_in = n_in + excluded.n_in,
         n_out = n_out + excluded.n_out`,
    );
    db.transaction(() => {
      for (const m of list) {
        const rows = minuteRows(m);
        for (const r of rows.zones) zq.run(r.minute, r.zone, r.people_max, r.person_sec);
        for (const r of rows.lines) lq.run(r.minute, r.line, r.n_in, r.n_out);
      }
    })();
  }

  /**
   * Links a saved event to the visit it fell in: the open one when it is at or after its start,
   * else a stored visit whose [start, end] holds it. Returns the visit id, or null.
   */
  linkStill(
    eventId: number,
    time: number,
    open: { id: number; start: number } | null,
  ): number | null {
    const visit = open && time >= open.start ? open.id : (visitAt(this.#conn, time)?.id ?? null);
    if (visit !== null) {
      this.#conn.query("UPDATE events SET visit_id = ? WHERE id = ?").run(visit, eventId);
    }
    return visit;
  }

  /** The aggregator's minute under way, added to activity() (it is stored when it closes). */
  setLiveMinute(fn: (() => MinuteActivity | null) | null): void {
    this.#live = fn;
  }

  /** Applies retention (src/events/retention.ts enforceVisits); returns the visits deleted. */
  enforce(): number {
    const o = this.#o;
    return enforceVisits({
      store: this,
      rules: { keepDays: o.keepDays ?? 0, minFreeMb: o.minFreeMb ?? 0 },
      now: o.now ?? Date.now,
      freeMb: o.freeMb ?? defaultFreeMb,
      log: this.#log,
    });
  }

  // ---- what retention needs --------------------------------------------------------------------

  /** Closed visits that ended before `cutoffMs`, oldest first. */
  endedBefore(cutoffMs: number): VisitFileRow[] {
    return this.#conn
      .query(
        "SELECT id, image, thumb FROM visits WHERE open = 0 AND end_ms < ? ORDER BY end_ms, id",
      )
      .all(cutoffMs) as VisitFileRow[];
  }

  /** Deletes visits (their files first), and crossings and activity older than `cutoffMs`. */
  deleteVisits(rows: readonly VisitFileRow[], cutoffMs: number): void {
    const db = this.#conn;
    for (const r of rows) {
      try {
        deleteVisitImages(this.dirs, r.image, r.thumb);
      } catch (e) {
        this.#log.once("delete", "warn", `cannot delete ${r.image}: ${errorMessage(e)}`);
      }
    }
    db.transaction(() => {
      for (const r of rows) {
        db.query("DELETE FROM visits WHERE id = ?").run(r.id);
        db.query("DELETE FROM visit_tracks WHERE visit_id = ?").run(r.id);
        db.query("UPDATE events SET visit_id = NULL WHERE visit_id = ?").run(r.id);
      }
      db.query("DELETE FROM crossings WHERE time < ?").run(cutoffMs);
      db.query("DELETE FROM activity WHERE minute < ?").run(cutoffMs);
      db.query("DELETE FROM activity_lines WHERE minute < ?").run(cutoffMs);
    })();
  }

  /** The oldest visits that still have an image, the newest visit never among them. */
  oldestImages(limit: number): VisitFileRow[] {
    return this.#conn
      .query(
        `SELECT id, image, thumb FROM visits WHERE image IS NOT NULL
           AND id <> (SELECT MAX(id) FROM visits) ORDER BY start_ms, id LIMIT ?`,
      )
      .all(limit) as VisitFileRow[];
  }

  /** Deletes a visit's images; the visit stays. */
  dropImages(r: VisitFileRow): void {
    deleteVisitImages(this.dirs, r.image, r.thumb);
    this.#conn.query("UPDATE visits SET image = NULL, thumb = NULL WHERE id = ?").run(r.id);
  }

  // ---- VisitsReader (src/events/visit-queries.ts) ---------------------------------------------

  list(q: VisitQuery = {}): VisitRecord[] {
    return listVisits(this.#conn, q);
  }

  count(q: VisitQuery = {}): number {
    return countVisits(this.#conn, q);
  }

  get(id: number): VisitDetail | null {
    return visitDetail(this.#conn, id);
  }

  current(): VisitRecord | null {
    return openVisit(this.#conn);
  }

  at(time: number): VisitRecord | null {
    return visitAt(this.#conn, time);
  }

  activity(q: ActivityQuery): ActivityBucket[] {
    return activityBuckets(this.#conn, q, this.#live?.() ?? null);
  }

  pathOf(file: string, thumb = false): string {
    return join(thumb ? this.dirs.thumbsDir : this.dirs.visitsDir, file);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** The visit just written; throws when its row is not there (its open failed). */
  #stored(id: number): VisitRecord {
    const rec = this.get(id);
    if (!rec) throw new HcError("VISITS_MISSING", `visit ${id} is not in the index`);
    return rec;
  }

  /** zones, people, max_people, crossings of a visit, as stored. */
  #fields(v: VisitState): [string, number, number, string] {
    return [JSON.stringify(v.zones), v.tracks.length, v.maxPeople, JSON.stringify(v.crossings)];
  }

  #tracks(v: VisitState): void {
    const q = this.#conn.query(
      `INSERT INTO visit_tracks (visit_id, track_id, first_ms, last_ms, zones) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (visit_id, track_id) DO UPDATE SET first_ms = excluded.first_ms,
         last_ms = excluded.last_ms, zones = excluded.zones`,
    );
    for (const t of v.tracks)
      q.run(v.id, t.trackId, t.firstSeen, t.lastSeen, JSON.stringify(t.zones));
  }
}
