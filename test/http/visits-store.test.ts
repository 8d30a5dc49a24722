/**
 * The visits store (issue 11) on a real outdir next to the Archive: an index made by today's
 * release (schema 1) is migrated keeping every event; visits written at open, while open and at
 * close read back whole (tracks, crossings, stills, images); a visit left open by a crash is
 * closed at its last stored end; stills are linked to the visit they fell in; activity minutes
 * sum into minute/hour/day buckets on local boundaries; retention by age and free space.
 */
import { Database } from "bun:sqlite";
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Archive, INDEX_FILE, THUMBS_DIR } from "../../src/events/archive.ts";
import { latestVersion, migrate, MIGRATIONS } from "../../src/events/migrations.ts";
import { visitFileName } from "../../src/events/visit-files.ts";
import { VisitsStore, type VisitState, type VisitsOptions } from "../../src/events/visits.ts";
import { setQuiet } from "../../src/shared/log.ts";
import type { MinuteActivity } from "../../src/track/activity.ts";
import { memoryLog } from "../unit/fake-capture.ts";

setQuiet(true);
const JPEG = new Uint8Array(
  fs.readFileSync(join(import.meta.dir, "../fixtures/kite_and_cold.jpg")),
);
const T0 = new Date(2024, 4, 31, 10, 0, 0).getTime();
const HOUR = 3_600_000;

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function outdir(): string {
  const d = fs.mkdtempSync(join(os.tmpdir(), "hazardcam-visits-"));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function openAll(dir: string, o: VisitsOptions = {}) {
  const archive = Archive.open(dir, { keepDays: 0, maxEvents: 0, minFreeMb: 0 });
  const log = memoryLog();
  const visits = VisitsStore.open(archive.indexPath, archive.outdir, { log, ...o });
  const close = async (): Promise<void> => {
    visits.close();
    await archive.close();
  };
  cleanup.push(close);
  return { archive, visits, log, close };
}

function still(archive: Archive, at: number) {
  return archive.save({
    jpeg: JPEG,
    reason: "auto",
    at: new Date(at),
    people: 1,
    detections: [],
    inferMs: 70,
    fps: 10,
  });
}

function visit(id: number, start: number, end: number, over: Partial<VisitState> = {}): VisitState {
  return {
    id,
    start,
    end,
    zones: ["door"],
    maxPeople: 1,
    crossings: {},
    tracks: [{ trackId: 7, firstSeen: start, lastSeen: end, zones: ["door"] }],
    ...over,
  };
}

describe("an outdir made by today's release (schema 1)", () => {
  test("is migrated in place: every event kept, unlinked; visits start from there", async () => {
    const dir = outdir();
    // The index as the released migration 1 makes it (no visits tables, user_version 1).
    const db = new Database(join(dir, INDEX_FILE), { create: true, strict: true });
    db.exec("PRAGMA journal_mode=WAL");
    migrate(db, MIGRATIONS.slice(0, 1));
    const files = ["20240530_090000_auto_people1_tpu7.0ms_fps10.0.jpg", "holiday.jpg"];
    files.forEach((f, i) => {
      fs.writeFileSync(join(dir, f), JPEG);
      db.query(
        "INSERT INTO events (id, time, day, reason, people, detections, infer_ms, fps, file, bytes) VALUES (?, ?, '2024-05-30', 'auto', 1, '[]', 7, 10, ?, ?)",
      ).run(i + 4, T0 - HOUR * (i + 1), f, JPEG.length);
    });
    db.close();
    fs.mkdirSync(join(dir, THUMBS_DIR));

    const { archive, visits } = openAll(dir);
    expect(archive.list({ order: "asc" }).map((e) => [e.id, e.file])).toEqual([
      [5, "holiday.jpg"],
      [4, files[0]!],
    ]);
    expect(visits.list()).toEqual([]);
    expect(visits.nextVisitId()).toBe(1);
    const check = new Database(join(dir, INDEX_FILE), { readonly: true });
    const v = check.query("PRAGMA user_version").get() as { user_version: number };
    const linked = check.query("SELECT COUNT(*) AS n FROM events WHERE visit_id IS NULL").get();
    check.close();
    expect(v.user_version).toBe(latestVersion());
    expect(linked).toEqual({ n: 2 });
    visits.begin(visit(1, T0, T0 + 1000));
    expect(visits.get(1)?.stillIds).toEqual([]);
  });
});

describe("a visit's life", () => {
  test("begin, progress, finish: read back with tracks, crossings, stills and images", async () => {
    const { archive, visits } = openAll(outdir());
    const first = visits.begin(visit(1, T0, T0 + 500));
    expect(first).toMatchObject({ id: 1, open: true, start: T0, people: 1, image: null });
    expect(visits.current()?.id).toBe(1);
    const tracks = [
      { trackId: 7, firstSeen: T0, lastSeen: T0 + 4000, zones: ["door"] },
      { trackId: 9, firstSeen: T0 + 1000, lastSeen: T0 + 3000, zones: ["door", "hall"] },
    ];
    visits.progress(visit(1, T0, T0 + 2000, { tracks, maxPeople: 2, zones: ["door", "hall"] }));
    expect(visits.get(1)).toMatchObject({ end: T0 + 2000, people: 2, maxPeople: 2, open: true });
    visits.addCrossings([
      { time: T0 + 2500, line: "gate", direction: "out", trackId: 7, visitId: 1 },
      { time: T0 + 9e6, line: "gate", direction: "in", trackId: 30, visitId: null },
    ]);
    const rec = await still(archive, T0 + 3000);
    expect(visits.linkStill(rec.id, rec.time, { id: 1, start: T0 })).toBe(1);
    const crossings = { gate: { in: 0, out: 1 } };
    const done = await visits.finish(visit(1, T0, T0 + 4200, { tracks, maxPeople: 2, crossings }), {
      jpeg: JPEG,
      thumbJpeg: JPEG.subarray(0, 100),
    });
    const name = visitFileName(T0, 1);
    expect(name).toMatch(/^20240531_100000_visit1\.jpg$/);
    expect(done).toMatchObject({
      id: 1,
      open: false,
      end: T0 + 4200,
      durationMs: 4200,
      people: 2,
      maxPeople: 2,
      crossings,
      image: name,
      thumb: name,
      stills: 1,
    });
    expect(fs.readFileSync(visits.pathOf(name)).length).toBe(JPEG.length);
    expect(fs.readFileSync(visits.pathOf(name, true)).length).toBe(100);
    const d = visits.get(1)!;
    expect(d.tracks.map((t) => [t.trackId, t.zones])).toEqual([
      [7, ["door"]],
      [9, ["door", "hall"]],
    ]);
    expect(d.crossingList).toEqual([
      { time: T0 + 2500, line: "gate", direction: "out", trackId: 7 },
    ]);
    expect(d.stillIds).toEqual([rec.id]);
    expect(visits.current()).toBeNull();
    expect(visits.nextTrackId()).toBe(31);
    expect(visits.lineTotalsSince(T0)).toEqual({ gate: { in: 1, out: 1 } });
    expect(visits.lineTotalsSince(T0 + 3000)).toEqual({ gate: { in: 1, out: 0 } });
  });

  test("list and count: overlap of [from, to), zone, order and paging", async () => {
    const { visits } = openAll(outdir());
    for (let i = 1; i <= 5; i++) {
      const v = visit(i, T0 + i * HOUR, T0 + i * HOUR + 60_000, { zones: i % 2 ? ["door"] : [] });
      visits.begin(v);
      await visits.finish(v, null);
    }
    const ids = (q: Parameters<VisitsStore["list"]>[0]) => visits.list(q).map((v) => v.id);
    expect(ids({})).toEqual([5, 4, 3, 2, 1]);
    expect(ids({ order: "asc", limit: 2, offset: 1 })).toEqual([2, 3]);
    expect(ids({ from: T0 + 2 * HOUR + 30_000, to: T0 + 4 * HOUR })).toEqual([3, 2]);
    expect(ids({ zone: "door" })).toEqual([5, 3, 1]);
    expect(visits.count({ zone: "door", from: T0 + 2 * HOUR })).toBe(2);
    expect(visits.at(T0 + 3 * HOUR + 1000)?.id).toBe(3);
    expect(visits.at(T0 + 3 * HOUR + 120_000)).toBeNull();
    expect(visits.get(99)).toBeNull();
  });
});

describe("crash recovery", () => {
  test("a visit left open is closed at its last stored end, never lost", async () => {
    const dir = outdir();
    const a = openAll(dir);
    a.visits.begin(visit(1, T0, T0 + 500));
    a.visits.progress(visit(1, T0, T0 + 3000));
    await a.close(); // as kill -9 leaves it: open = 1, the last end stored
    const b = openAll(dir);
    expect(b.visits.recovered).toEqual([1]);
    expect(b.visits.get(1)).toMatchObject({ open: false, end: T0 + 3000 });
    expect(b.visits.current()).toBeNull();
    expect(b.log.lines.some((l) => l.includes("visit 1 was open"))).toBe(true);
    expect(b.visits.nextVisitId()).toBe(2);
  });

  test("the images folder agrees with the rows: orphans and temp files go, lost images clear", async () => {
    const dir = outdir();
    const a = openAll(dir);
    const v = visit(1, T0, T0 + 500);
    a.visits.begin(v);
    await a.visits.finish(v, { jpeg: JPEG, thumbJpeg: JPEG });
    await a.close();
    const name = visitFileName(T0, 1);
    fs.unlinkSync(join(dir, "visits", "thumbs", name));
    fs.writeFileSync(join(dir, "visits", visitFileName(T0, 2)), JPEG); // no row: a crash
    fs.writeFileSync(join(dir, "visits", ".tmp-1-1-x.part"), JPEG);
    const b = openAll(dir);
    expect(b.visits.get(1)).toMatchObject({ image: name, thumb: null });
    expect(fs.readdirSync(join(dir, "visits")).sort()).toEqual([name, "thumbs"]);
  });
});

describe("stills linked to their visit", () => {
  test("saved before the visit opened but after its backdated start; during; after", async () => {
    const { archive, visits } = openAll(outdir());
    const before = await still(archive, T0 - 5000);
    const early = await still(archive, T0 + 200);
    visits.begin(visit(1, T0, T0 + 1000));
    const during = await still(archive, T0 + 2000);
    visits.linkStill(during.id, during.time, { id: 1, start: T0 });
    await visits.finish(visit(1, T0, T0 + 4000), null);
    // A save that completes after the close, of a frame inside the visit.
    const late = await still(archive, T0 + 3500);
    expect(visits.linkStill(late.id, late.time, null)).toBe(1);
    const after = await still(archive, T0 + 60_000);
    expect(visits.linkStill(after.id, after.time, null)).toBeNull();
    expect(visits.get(1)!.stillIds).toEqual([early.id, during.id, late.id]);
    expect(visits.get(1)!.stills).toBe(3);
    expect(visits.at(before.time)).toBeNull();
  });
});

describe("activity", () => {
  const tz = process.env.TZ;
  afterAll(() => {
    process.env.TZ = tz;
  });

  function minute(ms: number, people: number, sec: number, over: Partial<MinuteActivity> = {}) {
    return { minuteMs: ms, maxPeople: people, personSec: sec, zones: {}, lines: {}, ...over };
  }

  test("minutes sum into hours and local days; a minute stored twice adds up", () => {
    process.env.TZ = "Europe/Berlin";
    const { visits } = openAll(outdir());
    // 2024-03-31 is the spring-forward day in Berlin: 23 hours.
    const day = new Date(2024, 2, 31).getTime();
    const next = new Date(2024, 3, 1).getTime();
    expect(next - day).toBe(23 * HOUR);
    const m1 = day + 60_000; // 00:01 local
    const m2 = day + 4 * HOUR; // 05:00 local (after the switch)
    visits.addMinutes([
      minute(m1, 1, 30, { zones: { door: { maxPeople: 1, personSec: 30 } } }),
      minute(m2, 2, 60, { lines: { gate: { in: 1, out: 0 } } }),
      minute(next + 60_000, 3, 10),
    ]);
    visits.addMinutes([minute(m1, 2, 15, { lines: { gate: { in: 0, out: 2 } } })]);
    const minutes = visits.activity({ from: day, to: next, bucket: "minute" });
    expect(minutes.map((b) => [b.start, b.total])).toEqual([
      [m1, { peopleMax: 2, personSeconds: 45 }],
      [m2, { peopleMax: 2, personSeconds: 60 }],
    ]);
    expect(minutes[0]!.zones).toEqual({ door: { peopleMax: 1, personSeconds: 30 } });
    const hours = visits.activity({ from: day, to: next + HOUR, bucket: "hour" });
    expect(hours.map((b) => new Date(b.start).getHours())).toEqual([0, 5, 0]);
    const days = visits.activity({ from: day - HOUR, to: next + HOUR, bucket: "day" });
    expect(days.map((b) => b.start)).toEqual([day, next]);
    expect(days[0]).toMatchObject({
      total: { peopleMax: 2, personSeconds: 105 },
      lines: { gate: { in: 1, out: 2 } },
    });
  });

  test("the repeated hour of a change back from summer time is two hour buckets", () => {
    process.env.TZ = "Europe/Berlin";
    const { visits } = openAll(outdir());
    // 2024-10-27: 02:00-03:00 local twice (CEST, then CET), 00:00 UTC and 01:00 UTC.
    const first = Date.UTC(2024, 9, 27, 0, 30);
    const second = Date.UTC(2024, 9, 27, 1, 30);
    expect(new Date(first).getHours()).toBe(new Date(second).getHours());
    visits.addMinutes([minute(first, 1, 10), minute(second, 1, 20)]);
    const hours = visits.activity({ from: first - HOUR, to: second + HOUR, bucket: "hour" });
    expect(hours.map((b) => [b.start, b.total.personSeconds])).toEqual([
      [Date.UTC(2024, 9, 27, 0), 10],
      [Date.UTC(2024, 9, 27, 1), 20],
    ]);
  });

  test("the minute under way counts too", () => {
    const { visits } = openAll(outdir());
    visits.addMinutes([minute(T0, 1, 20)]);
    visits.setLiveMinute(() => minute(T0, 2, 5));
    expect(visits.activity({ from: T0, to: T0 + 60_000, bucket: "minute" })[0]!.total).toEqual({
      peopleMax: 2,
      personSeconds: 25,
    });
  });
});

describe("retention", () => {
  test("keepDays: old visits go with their images, links, crossings and minutes", async () => {
    const dir = outdir();
    let now = T0;
    const { archive, visits } = openAll(dir, { keepDays: 1, now: () => now });
    const old = visit(1, T0, T0 + 1000);
    visits.begin(old);
    const rec = await still(archive, T0 + 500);
    visits.linkStill(rec.id, rec.time, { id: 1, start: T0 });
    visits.addCrossings([
      { time: T0 + 600, line: "gate", direction: "in", trackId: 7, visitId: 1 },
    ]);
    visits.addMinutes([{ minuteMs: T0, maxPeople: 1, personSec: 1, zones: {}, lines: {} }]);
    await visits.finish(old, { jpeg: JPEG, thumbJpeg: JPEG });
    const fresh = visit(2, T0 + 2 * 86_400_000, T0 + 2 * 86_400_000 + 1000);
    visits.begin(fresh);
    await visits.finish(fresh, null);
    now = T0 + 2 * 86_400_000 + 5000;
    expect(visits.enforce()).toBe(1);
    expect(visits.list().map((v) => v.id)).toEqual([2]);
    expect(fs.existsSync(visits.pathOf(visitFileName(T0, 1)))).toBe(false);
    expect(visits.lineTotalsSince(0)).toEqual({});
    expect(visits.activity({ from: 0, to: now, bucket: "day" })).toEqual([]);
    expect(archive.get(rec.id)).not.toBeNull(); // the event follows its own rules
    expect(visits.nextVisitId()).toBe(3);
  });

  test("low free space: the oldest visit images go, never the newest visit's", async () => {
    let free = 100;
    const { visits } = openAll(outdir(), { minFreeMb: 500, freeMb: () => free });
    for (let i = 1; i <= 3; i++) {
      const v = visit(i, T0 + i * 1000, T0 + i * 1000 + 500);
      visits.begin(v);
      free = 1000;
      await visits.finish(v, { jpeg: JPEG, thumbJpeg: JPEG });
    }
    free = 100;
    visits.enforce();
    expect(visits.list({ order: "asc" }).map((v) => v.image !== null)).toEqual([
      false,
      false,
      true,
    ]);
    expect(visits.count()).toBe(3);
  });
});
