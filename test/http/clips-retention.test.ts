/**
 * The clips in the archive's index (migration 3) and its retention (src/events/retention.ts
 * enforceClips): age, count and free space, clips before events, never the clip being recorded.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import { Archive, INDEX_FILE } from "../../src/events/archive.ts";
import { latestVersion, schemaVersion } from "../../src/events/migrations.ts";
import { memoryLog } from "../unit/fake-capture.ts";
import {
  T0,
  closeRig,
  play,
  removeTmpOutdirs,
  rig,
  tmpOutdir,
  type Rig,
} from "../pipeline/clips-wire-lib.ts";
import { JPEGS } from "./clips-lib.ts";

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await closeRig(r);
  removeTmpOutdirs();
});

async function started(o: Parameters<typeof rig>[0]): Promise<Rig> {
  const r = await rig(o);
  rigs.push(r);
  return r;
}

const DAY_MS = 86_400_000;
const clipFiles = (r: Rig): string[] => fs.readdirSync(join(r.dir, "clips")).sort();

async function saveEvent(r: Rig, at: number): Promise<void> {
  await r.archive.save({
    jpeg: JPEGS[0]!,
    reason: "auto",
    at: new Date(at),
    people: 1,
    detections: [],
    inferMs: 10,
    fps: 10,
  });
}

describe("clip retention", () => {
  test("keep-days: a clip whose last frame is older goes, with both files and its row", async () => {
    let now = T0;
    const r = await started({ archive: { keepDays: 1, now: () => now } });
    play(r.store, r.feed, { from: 0, to: 300, fps: 10 });
    await r.clips.idle();
    const [man] = r.clips.service.forVisit(1);
    const [woman] = r.clips.service.forVisit(2);
    expect(clipFiles(r)).toHaveLength(4);
    now = man!.endMs + DAY_MS + 1;
    r.archive.enforce();
    expect(r.clips.service.forVisit(1)).toEqual([]);
    expect(r.clips.service.forVisit(2)).toEqual([woman!]);
    expect(clipFiles(r)).toEqual([woman!.file, woman!.index].sort());
    expect(r.log.lines).toContain(
      "info retention deleted 1 old clip(s), " + Math.round(man!.bytes / 2 ** 20) + " MB",
    );
  });

  test("max-events also caps the clips: the oldest go first", async () => {
    const r = await started({ archive: { maxEvents: 1, now: () => T0 } });
    play(r.store, r.feed, { from: 0, to: 300, fps: 10 });
    await r.clips.idle();
    expect(r.clips.service.status().total).toBe(1);
    expect(r.clips.service.forVisit(2)).toHaveLength(1);
  });

  test("low free space deletes the oldest clips before any event, never the clip being recorded", async () => {
    let free = 1000;
    const r = await started({ archive: { minFreeMb: 500, now: () => T0, freeMb: () => free } });
    for (let i = 0; i < 3; i++) await saveEvent(r, T0 - DAY_MS + i * 1000);
    // The man's clip is finished, the woman's is being recorded (her visit is open).
    play(r.store, r.feed, { from: 0, to: 150, fps: 10 });
    await r.clips.idle();
    expect(r.clips.service.status().total).toBe(2);
    free = 100;
    r.archive.enforce();
    expect(r.clips.service.forVisit(1)).toEqual([]);
    expect(r.clips.service.forVisit(2)[0]!.status).toBe("recording");
    // Still low with no finished clip left: the events rule takes over (keeping the newest).
    expect(r.archive.count()).toBe(1);
  });

  test("the clips go first: when deleting them is enough, every event stays", async () => {
    let r: Rig | null = null;
    // Low while a finished clip is on the disk (deleting them is what frees enough).
    const finished = (): string[] =>
      r ? fs.readdirSync(join(r.dir, "clips")).filter((n) => !n.startsWith(".")) : [];
    const free = (): number => (finished().length > 0 ? 100 : 1000);
    r = await started({ archive: { minFreeMb: 500, now: () => T0, freeMb: free } });
    for (let i = 0; i < 3; i++) await saveEvent(r, T0 - DAY_MS + i * 1000);
    play(r.store, r.feed, { from: 0, to: 300, fps: 10 });
    await r.clips.idle();
    expect(r.clips.service.status().total).toBe(0);
    expect(clipFiles(r)).toEqual([]);
    expect(r.archive.count()).toBe(3);
  });
});

describe("migration 3", () => {
  test("an index made by schema version 1 gains the clips table and keeps its events", async () => {
    const dir = tmpOutdir();
    const db = new Database(join(dir, INDEX_FILE), { create: true });
    db.exec(`CREATE TABLE events (
      id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, day TEXT NOT NULL,
      reason TEXT NOT NULL, people INTEGER NOT NULL, detections TEXT NOT NULL,
      infer_ms REAL NOT NULL, fps REAL NOT NULL, file TEXT NOT NULL UNIQUE, thumb TEXT,
      bytes INTEGER NOT NULL DEFAULT 0)`);
    db.exec("PRAGMA user_version=1");
    db.close();
    fs.writeFileSync(join(dir, "20240501_080000_auto_people1_tpu7ms_fps10.jpg"), JPEGS[0]!);
    const a = Archive.open(dir, { keepDays: 0, minFreeMb: 0, log: memoryLog() });
    try {
      expect(a.count()).toBe(1);
      expect(schemaVersion(a.database())).toBe(latestVersion());
      expect(latestVersion()).toBeGreaterThanOrEqual(3);
      expect(a.database().query("SELECT COUNT(*) AS n FROM clips").get()).toEqual({ n: 0 });
    } finally {
      await a.close();
    }
  });
});
