/**
 * The archive's index across versions and failures: an outdir written by the first release
 * (schema version 1, its SQL written out here by hand) keeps every event; an index from a newer
 * hazardcam is refused and left untouched; migrations run in order, once, all or nothing; and a
 * failing open never leaks the sqlite handle.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Archive, INDEX_FILE, THUMBS_DIR, type ArchiveOptions } from "../../src/events/archive.ts";
import {
  MIGRATIONS,
  checkMigrations,
  latestVersion,
  migrate,
  schemaVersion,
  type Migration,
} from "../../src/events/migrations.ts";
import { HcError } from "../../src/shared/errors.ts";
import { logger, setQuiet } from "../../src/shared/log.ts";

setQuiet(true);
const JPEG = new Uint8Array(
  fs.readFileSync(join(import.meta.dir, "../fixtures/kite_and_cold.jpg")),
);
const quietLog = { ...logger("events"), warn: () => undefined, info: () => undefined };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmpdir(): string {
  const d = fs.mkdtempSync(join(os.tmpdir(), "hazardcam-index-"));
  dirs.push(d);
  return d;
}

function open(dir: string, opts: ArchiveOptions = {}): Archive {
  return Archive.open(dir, { keepDays: 0, maxEvents: 0, minFreeMb: 0, log: quietLog, ...opts });
}

/** Open file descriptors of this process on files under `dir` (the index, its -wal, -shm). */
function openFiles(dir: string): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** The index exactly as the first release (schema version 1) created it. */
const V1_SQL = [
  "PRAGMA journal_mode=WAL",
  `CREATE TABLE IF NOT EXISTS events (
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
      )`,
  "CREATE INDEX IF NOT EXISTS events_time ON events(time, id)",
  "CREATE INDEX IF NOT EXISTS events_day ON events(day, time)",
  "PRAGMA user_version=1",
];

const V1_EVENTS = [
  // id 3 and 7: ids with gaps (events deleted by retention) must be kept as they are.
  {
    id: 3,
    time: new Date(2024, 4, 1, 12, 0, 0, 250).getTime(),
    day: "2024-05-01",
    reason: "auto",
    people: 2,
    detections: `[{"classId":0,"label":"person","score":0.81,"box":{"ymin":0.1,"xmin":0.2,"ymax":0.9,"xmax":0.6}}]`,
    infer_ms: 7.34,
    fps: 23.94,
    file: "20240501_120000_auto_people2_tpu7.3ms_fps23.9.jpg",
    thumb: "20240501_120000_auto_people2_tpu7.3ms_fps23.9.jpg",
  },
  {
    id: 7,
    time: new Date(2024, 4, 2, 9, 30, 5).getTime(),
    day: "2024-05-02",
    reason: "snapshot",
    people: 0,
    detections: "[]",
    infer_ms: 8,
    fps: 10,
    file: "20240502_093005_snapshot_people0_tpu8.0ms_fps10.0.jpg",
    thumb: null,
  },
  {
    id: 8,
    time: new Date(2023, 0, 2, 3, 4, 5).getTime(),
    day: "2023-01-02",
    reason: "import",
    people: 0,
    detections: "[]",
    infer_ms: 0,
    fps: 0,
    file: "holiday.jpg",
    thumb: null,
  },
];

/** An outdir as the first release left it: images, a thumbnail, the version-1 index. */
function writeV1Outdir(dir: string, sql = V1_SQL): void {
  fs.mkdirSync(join(dir, THUMBS_DIR), { recursive: true });
  const db = new Database(join(dir, INDEX_FILE), { create: true, strict: true });
  for (const s of sql) db.exec(s);
  const insert = db.query(
    `INSERT INTO events (id, time, day, reason, people, detections, infer_ms, fps, file, thumb, bytes)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const e of V1_EVENTS) {
    fs.writeFileSync(join(dir, e.file), JPEG);
    if (e.thumb) fs.writeFileSync(join(dir, THUMBS_DIR, e.thumb), JPEG.subarray(0, 500));
    const { id, time, day, reason, people, detections, infer_ms, fps, file, thumb } = e;
    insert.run(id, time, day, reason, people, detections, infer_ms, fps, file, thumb, JPEG.length);
  }
  db.close();
}

function schemaOf(path: string): { sql: string[]; version: number } {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.query("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name");
    return { sql: (rows.all() as { sql: string }[]).map((r) => r.sql), version: schemaVersion(db) };
  } finally {
    db.close();
  }
}

describe("an index made by schema version 1", () => {
  test("is migrated in place and keeps every event, with its id and detections", async () => {
    const dir = tmpdir();
    writeV1Outdir(dir);
    const a = open(dir);
    const events = a.list({ order: "asc" });
    expect(events.map((e) => [e.id, e.file, e.reason, e.people, e.thumb])).toEqual(
      [...V1_EVENTS]
        .sort((x, y) => x.time - y.time)
        .map((e) => [e.id, e.file, e.reason, e.people, e.thumb]),
    );
    expect(a.get(3)!.detections).toEqual([
      {
        classId: 0,
        label: "person",
        score: 0.81,
        box: { ymin: 0.1, xmin: 0.2, ymax: 0.9, xmax: 0.6 },
      },
    ]);
    expect(a.get(3)!.time).toBe(V1_EVENTS[0]!.time);
    expect(a.days().map((d) => d.day)).toEqual(["2024-05-02", "2024-05-01", "2023-01-02"]);
    // New events continue after the old ids.
    const rec = await a.save({
      jpeg: JPEG,
      reason: "auto",
      at: new Date(2024, 4, 3, 8, 0, 0),
      people: 1,
      detections: [],
      inferMs: 7,
      fps: 10,
    });
    expect(rec.id).toBe(9);
    await a.close();
    expect(schemaOf(join(dir, INDEX_FILE)).version).toBe(latestVersion());
    expect(fs.readdirSync(dir).some((n) => n.includes(".corrupt-"))).toBe(false);
  });

  test("a version-0 file that already has the table (a crash before user_version) too", () => {
    const dir = tmpdir();
    writeV1Outdir(dir, V1_SQL.slice(0, -1));
    expect(schemaOf(join(dir, INDEX_FILE)).version).toBe(0);
    const a = open(dir);
    expect(a.count()).toBe(V1_EVENTS.length);
    expect(a.get(3)!.detections).toHaveLength(1);
    void a.close();
    expect(schemaOf(join(dir, INDEX_FILE)).version).toBe(latestVersion());
  });
});

test("an index from a newer hazardcam is refused with a fix, and left as it is", () => {
  const dir = tmpdir();
  writeV1Outdir(dir, [...V1_SQL, "PRAGMA user_version=99"]);
  const path = join(dir, INDEX_FILE);
  const bytes = fs.readFileSync(path);
  let err: unknown = null;
  try {
    open(dir);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(HcError);
  expect((err as HcError).code).toBe("ARCHIVE_INDEX_TOO_NEW");
  expect((err as HcError).message).toContain("schema version 99");
  expect((err as HcError).fix).toMatch(/version that wrote it/);
  expect(fs.readFileSync(path).equals(bytes)).toBe(true);
  expect(fs.readdirSync(dir).some((n) => n.includes(".corrupt-"))).toBe(false);
  expect(schemaOf(path).version).toBe(99);
  expect(openFiles(dir)).toEqual([]);
});

describe("migrations", () => {
  test("the list is numbered 1, 2, 3... and migration 1 is the events table", () => {
    expect(() => checkMigrations(MIGRATIONS)).not.toThrow();
    expect(MIGRATIONS[0]!.version).toBe(1);
    expect(latestVersion()).toBe(MIGRATIONS.length);
    const gap: Migration[] = [MIGRATIONS[0]!, { version: 3, name: "gap", up: () => {} }];
    expect(() => checkMigrations(gap)).toThrow(/version 3, expected 2/);
  });

  test("run in order, once each; a failing one rolls back alone", () => {
    const db = new Database(":memory:");
    const ran: string[] = [];
    const two: Migration = {
      version: 2,
      name: "visits",
      up(d) {
        ran.push("visits");
        d.exec("CREATE TABLE visits (id INTEGER PRIMARY KEY, start INTEGER NOT NULL)");
      },
    };
    let fail = true;
    const three: Migration = {
      version: 3,
      name: "zones",
      up(d) {
        ran.push("zones");
        d.exec("CREATE TABLE zones (id INTEGER PRIMARY KEY)");
        if (fail) throw new Error("boom");
      },
    };
    const list = [MIGRATIONS[0]!, two, three];
    expect(() => migrate(db, list)).toThrow(/boom/);
    expect(schemaVersion(db)).toBe(2);
    const tables = () =>
      (db.query("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[])
        .map((r) => r.name)
        .filter((n) => !n.startsWith("sqlite_"))
        .sort();
    expect(tables()).toEqual(["events", "visits"]);
    fail = false;
    expect(migrate(db, list)).toEqual([3]);
    expect(migrate(db, list)).toEqual([]);
    expect(ran).toEqual(["visits", "zones", "zones"]);
    expect(tables()).toEqual(["events", "visits", "zones"]);
    db.close();
  });
});

describe("a failing open closes the index", () => {
  test("when reconcile throws", () => {
    const dir = tmpdir();
    open(dir).close();
    // A directory named like a crash's temp file: reconcile cannot delete it.
    fs.mkdirSync(join(dir, ".tmp-1-2-x.jpg", "sub"), { recursive: true });
    expect(() => open(dir)).toThrow();
    expect(openFiles(dir)).toEqual([]);
  });

  test("when retention throws", () => {
    const dir = tmpdir();
    const freeMb = () => {
      throw new Error("statfs exploded");
    };
    expect(() => open(dir, { minFreeMb: 10, freeMb })).toThrow(/statfs exploded/);
    expect(openFiles(dir)).toEqual([]);
    // And the folder opens fine afterwards.
    const a = open(dir);
    expect(a.count()).toBe(0);
    void a.close();
  });
});
