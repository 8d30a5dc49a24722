/**
 * The schema of the archive's index, as numbered migrations.
 *
 * The version of an index file is its `PRAGMA user_version`: 0 for a new (empty) file, N once
 * migrations 1..N have run. At open (src/events/db.ts), every migration above the file's version
 * runs in order, each in one transaction together with its bump of user_version: a crash or a
 * failure leaves the file at the last complete version, never half-migrated. An index whose
 * version is above the last one known here was written by a newer hazardcam: it is refused
 * (ARCHIVE_INDEX_TOO_NEW), never migrated down, moved aside or rebuilt.
 *
 * Migration 1 is the schema of the first release (the `events` table); its index files carry
 * user_version 1 and open unchanged. Migration 2 adds the visits, their tracks, line crossings,
 * per-minute activity and events.visit_id (issue 11; every event is kept).
 *
 * To change the schema (e.g. the visits tables), append to MIGRATIONS:
 *
 *   { version: 2, name: "visits", up(db) { db.exec("CREATE TABLE visits (...)"); } },
 *
 * - versions are 1, 2, 3... in order, with no gaps (checkMigrations, tested);
 * - never edit, renumber or remove a migration that was released: files in the field have run
 *   it; write a new one that changes what it made;
 * - `up` runs inside the transaction: no BEGIN/COMMIT and no `PRAGMA journal_mode` in it, and
 *   plain `CREATE TABLE` (not IF NOT EXISTS) so a mistake shows at once;
 * - `up` must not read the image files: reconcile does that after every open;
 * - add a test opening an index made by the previous version (see test/http/archive.test.ts,
 *   "an index made by schema version 1").
 */
import type { Database } from "bun:sqlite";
import { CLIPS_SCHEMA_SQL } from "../clips/store.ts";
import { HcError } from "../shared/errors.ts";

export interface Migration {
  /** 1, 2, 3...: the user_version the index has once this migration ran. */
  version: number;
  /** What it does, for the log and the error messages. */
  name: string;
  /** Changes the schema; runs inside a transaction (throw to roll it back). */
  up(db: Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "events",
    up(db) {
      // IF NOT EXISTS: the first release ran these outside a transaction, so a crash before its
      // user_version=1 left a version-0 file that already has the table.
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
    },
  },
  {
    version: 2,
    name: "visits",
    up(db) {
      // Issue 11 (src/events/visits.ts). Times in ms since the epoch; JSON in TEXT columns.
      // A visit row is written when it opens (open = 1), its end at most once a second while
      // open, and final at close; a crash leaves open = 1, closed at its last end at the next
      // open. Ids are the analyzer's (AUTOINCREMENT keeps them from being reused).
      db.exec(`CREATE TABLE visits (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        open INTEGER NOT NULL,
        zones TEXT NOT NULL,
        people INTEGER NOT NULL,
        max_people INTEGER NOT NULL,
        crossings TEXT NOT NULL,
        image TEXT,
        thumb TEXT
      )`);
      db.exec("CREATE INDEX visits_start ON visits(start_ms)");
      db.exec("CREATE INDEX visits_end ON visits(end_ms)");
      db.exec(`CREATE TABLE visit_tracks (
        visit_id INTEGER NOT NULL,
        track_id INTEGER NOT NULL,
        first_ms INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        zones TEXT NOT NULL,
        PRIMARY KEY (visit_id, track_id)
      ) WITHOUT ROWID`);
      // Every line crossing, in a visit or not (visit_id NULL): the day's totals after a restart.
      db.exec(`CREATE TABLE crossings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time INTEGER NOT NULL,
        line TEXT NOT NULL,
        direction TEXT NOT NULL,
        track_id INTEGER NOT NULL,
        visit_id INTEGER
      )`);
      db.exec("CREATE INDEX crossings_time ON crossings(time)");
      db.exec("CREATE INDEX crossings_visit ON crossings(visit_id)");
      // Per minute (src/track/activity.ts): zone "" is the whole picture (or all zones).
      db.exec(`CREATE TABLE activity (
        minute INTEGER NOT NULL,
        zone TEXT NOT NULL,
        people_max INTEGER NOT NULL,
        person_sec REAL NOT NULL,
        PRIMARY KEY (minute, zone)
      ) WITHOUT ROWID`);
      db.exec(`CREATE TABLE activity_lines (
        minute INTEGER NOT NULL,
        line TEXT NOT NULL,
        n_in INTEGER NOT NULL,
        n_out INTEGER NOT NULL,
        PRIMARY KEY (minute, line)
      ) WITHOUT ROWID`);
      // The cooldown stills (and snapshots) of a visit; NULL for the events of before.
      db.exec("ALTER TABLE events ADD COLUMN visit_id INTEGER");
      db.exec("CREATE INDEX events_visit ON events(visit_id)");
    },
  },
  {
    version: 3,
    name: "clips",
    up(db) {
      // Visit clips (issue 12): one row per .mjpeg + index pair in <outdir>/clips, see
      // src/clips/store.ts. No foreign key to the visits: the order of 2 and 3 does not matter.
      db.exec(CLIPS_SCHEMA_SQL);
    },
  },
];

/** Throws unless the versions are 1, 2, 3... in order (a programming error, caught by a test). */
export function checkMigrations(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`migration "${m.name}" has version ${m.version}, expected ${i + 1}`);
    }
  });
}

/** The version the last migration gives an index. */
export function latestVersion(list: readonly Migration[] = MIGRATIONS): number {
  return list.length === 0 ? 0 : (list[list.length - 1] as Migration).version;
}

/** The index's user_version. */
export function schemaVersion(db: Database): number {
  const r = db.query("PRAGMA user_version").get() as { user_version: number };
  return r.user_version;
}

export const INDEX_TOO_NEW = "ARCHIVE_INDEX_TOO_NEW";

/** Throws ARCHIVE_INDEX_TOO_NEW when the file was made by a newer schema than `list` knows. */
export function refuseNewer(db: Database, path: string, list = MIGRATIONS): void {
  const v = schemaVersion(db);
  const latest = latestVersion(list);
  if (v <= latest) return;
  throw new HcError(
    INDEX_TOO_NEW,
    `the event index ${path} has schema version ${v}, newer than this hazardcam knows (${latest}); it was left as it is`,
    "run the hazardcam version that wrote it (or newer), or move the index file away to rebuild it from the images (their detections are lost)",
    1,
  );
}

/**
 * Runs the migrations above the index's version, in order, each in its own transaction with its
 * user_version; returns the versions applied. Call refuseNewer first.
 */
export function migrate(db: Database, list: readonly Migration[] = MIGRATIONS): number[] {
  checkMigrations(list);
  const applied: number[] = [];
  for (const m of list) {
    if (m.version <= schemaVersion(db)) continue;
    db.transaction(() => {
      m.up(db);
      // user_version lives in the file header, written with the transaction: both or neither.
      db.exec(`PRAGMA user_version=${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}
