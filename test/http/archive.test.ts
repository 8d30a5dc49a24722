import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import {
  Archive,
  INDEX_FILE,
  THUMBS_DIR,
  eventJson,
  type ArchiveOptions,
  type SaveInput,
} from "../../src/events/archive.ts";
import { eventFileName } from "../../src/events/names.ts";
import { logger, setQuiet } from "../../src/shared/log.ts";
import type { Detection } from "../../src/shared/types.ts";

setQuiet(true);
const JPEG = new Uint8Array(
  fs.readFileSync(join(import.meta.dir, "../fixtures/kite_and_cold.jpg")),
);
const THUMB = JPEG.subarray(0, 2000);
const quietLog = { ...logger("events"), warn: () => undefined, info: () => undefined };

const dirs: string[] = [];
const open: Archive[] = [];
afterEach(() => {
  for (const a of open.splice(0)) a.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmpdir(): string {
  const d = fs.mkdtempSync(join(os.tmpdir(), "hazardcam-archive-"));
  dirs.push(d);
  return d;
}

function openArchive(dir: string, opts: ArchiveOptions = {}): Archive {
  // Fixed 2024 dates: the default keep-days (30) would delete them at once.
  const a = Archive.open(dir, { keepDays: 0, minFreeMb: 0, log: quietLog, ...opts });
  open.push(a);
  return a;
}

const person: Detection = {
  classId: 0,
  label: "person",
  score: 0.789,
  box: { ymin: 0.1, xmin: 0.2, ymax: 0.9, xmax: 0.6 },
};

function input(over: Partial<SaveInput> = {}): SaveInput {
  return {
    jpeg: JPEG,
    thumbJpeg: THUMB,
    reason: "auto",
    at: new Date(2024, 4, 1, 12, 0, 0, 250),
    people: 1,
    detections: [person],
    inferMs: 7.34,
    fps: 23.94,
    ...over,
  };
}

const visible = (dir: string): string[] => fs.readdirSync(dir).filter((n) => !n.startsWith("."));

describe("save", () => {
  test("writes image, thumbnail and row; nothing temporary remains", async () => {
    const dir = tmpdir();
    const a = openArchive(join(dir, "out")); // created on open
    const rec = await a.save(input());
    expect(rec.file).toBe("20240501_120000_auto_people1_tpu7.3ms_fps23.9.jpg");
    expect(rec.thumb).toBe(rec.file);
    expect(new Uint8Array(fs.readFileSync(join(a.outdir, rec.file)))).toEqual(JPEG);
    expect(fs.readFileSync(join(a.outdir, THUMBS_DIR, rec.file)).byteLength).toBe(2000);
    expect(fs.readdirSync(a.outdir).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
    expect(fs.readdirSync(join(a.outdir, THUMBS_DIR))).toEqual([rec.file]);
    const got = a.get(rec.id)!;
    expect(got.time).toBe(input().at.getTime());
    expect(got.detections).toEqual([person]);
    expect(got.people).toBe(1);
    expect(got.reason).toBe("auto");
    expect(a.byFile(rec.file)?.id).toBe(rec.id);
    expect(a.stats().total).toBe(1);
    expect(fs.existsSync(join(a.outdir, INDEX_FILE))).toBe(true);
  });

  test("two saves in one second never overwrite each other", async () => {
    const a = openArchive(tmpdir());
    const r1 = await a.save(input());
    const r2 = await a.save(input({ at: new Date(2024, 4, 1, 12, 0, 0, 900) }));
    const r3 = await a.save(input());
    expect(r2.file).toBe(r1.file.replace(".jpg", "_2.jpg"));
    expect(r3.file).toBe(r1.file.replace(".jpg", "_3.jpg"));
    expect(visible(a.outdir).filter((n) => n.endsWith(".jpg"))).toHaveLength(3);
  });

  test("a file already in the folder (not indexed) is not overwritten", async () => {
    const dir = tmpdir();
    const a = openArchive(dir);
    const name = eventFileName(input());
    fs.writeFileSync(join(dir, name), "mine");
    const rec = await a.save(input());
    expect(rec.file).toBe(name.replace(".jpg", "_2.jpg"));
    expect(fs.readFileSync(join(dir, name), "utf8")).toBe("mine");
  });

  test("a thumbnail left by a crash under the new name is replaced", async () => {
    const a = openArchive(tmpdir());
    fs.writeFileSync(join(a.thumbsDir, eventFileName(input())), "stale");
    const rec = await a.save(input());
    expect(rec.thumb).toBe(eventFileName(input()));
    expect(fs.readFileSync(join(a.thumbsDir, rec.file)).byteLength).toBe(THUMB.byteLength);
  });

  test("listeners hear every save, once its row and files are there", async () => {
    const a = openArchive(tmpdir());
    const heard: number[] = [];
    const off = a.onSaved((e) => {
      expect(a.get(e.id)?.file).toBe(e.file);
      expect(fs.statSync(join(a.outdir, e.file)).size).toBe(JPEG.byteLength);
      expect(fs.existsSync(join(a.thumbsDir, e.file))).toBe(true);
      heard.push(e.id);
    });
    const r = await a.save(input());
    off();
    await a.save(input({ reason: "snapshot" }));
    expect(heard).toEqual([r.id]);
  });

  test("save() returns before writing: the files come later, on the thread pool", async () => {
    const a = openArchive(tmpdir());
    const saving = a.save(input());
    expect(visible(a.outdir).filter((n) => n.endsWith(".jpg"))).toEqual([]);
    const rec = await saving;
    expect(visible(a.outdir)).toContain(rec.file);
  });

  test("concurrent saves in one second never pick the same name", async () => {
    const a = openArchive(tmpdir());
    const at = new Date(2024, 4, 1, 12, 0, 0, 100);
    const recs = await Promise.all([
      a.save(input({ at, jpeg: JPEG.subarray(0, 1000) })),
      a.save(input({ at, reason: "snapshot" })),
      a.save(input({ at, jpeg: JPEG.subarray(0, 2000) })),
      a.save(input({ at, jpeg: JPEG.subarray(0, 3000) })),
    ]);
    const base = eventFileName(input());
    expect(recs.map((r) => r.file)).toEqual([
      base,
      eventFileName(input({ reason: "snapshot" })),
      base.replace(".jpg", "_2.jpg"),
      base.replace(".jpg", "_3.jpg"),
    ]);
    // Each name holds its own image, whole; ids follow the calls.
    for (const r of recs) expect(fs.statSync(join(a.outdir, r.file)).size).toBe(r.bytes);
    expect(recs.map((r) => r.bytes)).toEqual([1000, JPEG.byteLength, 2000, 3000]);
    expect(recs.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(a.count()).toBe(4);
  });

  test("refuses an empty image", async () => {
    const a = openArchive(tmpdir());
    await expect(a.save(input({ jpeg: new Uint8Array(0) }))).rejects.toThrow(/empty/);
  });

  test("saving recreates a deleted outdir", async () => {
    const dir = join(tmpdir(), "out");
    const a = openArchive(dir);
    fs.rmSync(dir, { recursive: true });
    const rec = await a.save(input());
    expect(fs.existsSync(join(dir, rec.file))).toBe(true);
  });
});

describe("queries", () => {
  async function seeded(): Promise<Archive> {
    const a = openArchive(tmpdir());
    for (let i = 0; i < 10; i++) {
      await a.save(
        input({
          at: new Date(2024, 4, 1 + (i % 2), 10, i, 0),
          reason: i % 3 === 0 ? "snapshot" : "auto",
          people: i,
        }),
      );
    }
    return a;
  }

  test("newest first, filters, paging, days", async () => {
    const a = await seeded();
    const all = a.list();
    expect(all).toHaveLength(10);
    for (let i = 1; i < all.length; i++)
      expect(all[i - 1]!.time).toBeGreaterThanOrEqual(all[i]!.time);
    expect(a.count({ reason: "snapshot" })).toBe(4);
    expect(a.list({ reason: "snapshot" }).every((e) => e.reason === "snapshot")).toBe(true);
    expect(a.count({ day: "2024-05-01" })).toBe(5);
    expect(a.count({ day: "2024-05-03" })).toBe(0);
    expect(a.days()).toEqual([
      { day: "2024-05-02", count: 5 },
      { day: "2024-05-01", count: 5 },
    ]);
    const cut = new Date(2024, 4, 1, 10, 5, 0).getTime();
    expect(a.list({ before: cut }).every((e) => e.time < cut)).toBe(true);
    expect(a.list({ after: cut }).every((e) => e.time > cut)).toBe(true);
    const p1 = a.list({ limit: 4 });
    const p2 = a.list({ limit: 4, offset: 4 });
    expect(new Set([...p1, ...p2].map((e) => e.id)).size).toBe(8);
    const asc = a.list({ order: "asc" });
    expect(asc[0]!.id).toBe(all[all.length - 1]!.id);
    expect(a.list({ limit: 100_000 })).toHaveLength(10); // capped at 500, not an error
  });

  test("neighbors", async () => {
    const a = await seeded();
    const all = a.list();
    const mid = all[3]!;
    const n = a.neighbors(mid);
    expect(n.newer?.id).toBe(all[2]!.id);
    expect(n.older?.id).toBe(all[4]!.id);
    expect(a.neighbors(all[0]!).newer).toBeNull();
    expect(a.neighbors(all[9]!).older).toBeNull();
  });

  test("event JSON carries URLs", async () => {
    const a = await seeded();
    const e = a.list({ limit: 1 })[0]!;
    const j = eventJson(e, "http://pi:8080");
    expect(j.image_url).toBe(`http://pi:8080/out/${e.file}`);
    expect(j.thumb_url).toBe(`http://pi:8080/out/thumbs/${e.file}`);
    expect(j.detections[0]).toEqual({ label: "person", score: 0.789, box: person.box });
  });
});

describe("reconcile at open", () => {
  test("hand-added images appear, deleted ones vanish, orphans and temp files go", async () => {
    const dir = tmpdir();
    let a = openArchive(dir);
    const keep = await a.save(input());
    const gone = await a.save(input({ at: new Date(2024, 4, 1, 12, 0, 5) }));
    a.close();

    fs.unlinkSync(join(dir, gone.file));
    // Ours by name, without thumbnail; and a foreign image.
    const ours = "20240502_080910_snapshot_people3_tpu9.5ms_fps12.0_2.jpg";
    fs.writeFileSync(join(dir, ours), JPEG);
    fs.writeFileSync(join(dir, "holiday.jpg"), JPEG);
    const mtime = new Date(2023, 0, 2, 3, 4, 5);
    fs.utimesSync(join(dir, "holiday.jpg"), mtime, mtime);
    // Things that must not be indexed.
    fs.writeFileSync(join(dir, "notes.txt"), "x");
    fs.writeFileSync(join(dir, "weird name.jpg"), JPEG);
    fs.mkdirSync(join(dir, "folder.jpg"));
    fs.symlinkSync("/etc/passwd", join(dir, "link.jpg"));
    // A crash mid-save: partial temp files in both folders, and an orphan thumbnail.
    fs.writeFileSync(
      join(dir, ".tmp-999-1-20240501_120009_auto_people1_tpu7.3ms_fps23.9.jpg"),
      JPEG.subarray(0, 100),
    );
    fs.writeFileSync(join(dir, THUMBS_DIR, ".tmp-999-2-x.jpg"), "x");
    fs.writeFileSync(join(dir, THUMBS_DIR, "orphan.jpg"), "x");

    a = openArchive(dir);
    const files = a
      .list()
      .map((e) => e.file)
      .sort();
    expect(files).toEqual([keep.file, ours, "holiday.jpg"].sort());
    const o = a.byFile(ours)!;
    expect(o.reason).toBe("snapshot");
    expect(o.people).toBe(3);
    expect(o.inferMs).toBe(9.5);
    expect(o.fps).toBe(12);
    expect(o.thumb).toBeNull();
    expect(o.time).toBe(new Date(2024, 4, 2, 8, 9, 10).getTime());
    const h = a.byFile("holiday.jpg")!;
    expect(h.reason).toBe("import");
    expect(h.time).toBe(mtime.getTime());
    expect(a.byFile(keep.file)!.detections).toEqual([person]); // rows survive reopen
    expect(fs.readdirSync(dir).some((n) => n.startsWith(".tmp-"))).toBe(false);
    expect(fs.readdirSync(join(dir, THUMBS_DIR)).sort()).toEqual([keep.file]);
  });

  test("a deleted thumbnail leaves the event, without thumbnail", async () => {
    const dir = tmpdir();
    let a = openArchive(dir);
    const r = await a.save(input());
    a.close();
    fs.unlinkSync(join(dir, THUMBS_DIR, r.file));
    a = openArchive(dir);
    expect(a.byFile(r.file)!.thumb).toBeNull();
  });

  test("a corrupt index is moved aside and rebuilt from the files", async () => {
    const dir = tmpdir();
    let a = openArchive(dir);
    const r1 = await a.save(input());
    const r2 = await a.save(input({ reason: "snapshot", at: new Date(2024, 4, 1, 12, 1, 0) }));
    a.close();
    fs.rmSync(join(dir, INDEX_FILE + "-wal"), { force: true });
    fs.rmSync(join(dir, INDEX_FILE + "-shm"), { force: true });
    fs.writeFileSync(join(dir, INDEX_FILE), Buffer.alloc(8192, 0x41));
    a = openArchive(dir);
    expect(
      a
        .list()
        .map((e) => e.file)
        .sort(),
    ).toEqual([r1.file, r2.file].sort());
    expect(a.byFile(r2.file)!.reason).toBe("snapshot");
    expect(a.byFile(r1.file)!.thumb).toBe(r1.file);
    expect(fs.readdirSync(dir).some((n) => n.startsWith(`${INDEX_FILE}.corrupt-`))).toBe(true);
    // And the rebuilt index works.
    await a.save(input({ at: new Date(2024, 4, 1, 13, 0, 0) }));
    expect(a.stats().total).toBe(3);
  });

  test("a deleted index is rebuilt", async () => {
    const dir = tmpdir();
    let a = openArchive(dir);
    await a.save(input());
    a.close();
    for (const ext of ["", "-wal", "-shm"]) fs.rmSync(join(dir, INDEX_FILE + ext), { force: true });
    a = openArchive(dir);
    expect(a.stats().total).toBe(1);
  });
});

describe("retention", () => {
  const DAY = 86_400_000;

  test("keep-days deletes older events with their thumbnails", async () => {
    const dir = tmpdir();
    let now = new Date(2024, 4, 10, 12, 0, 0).getTime();
    const a = openArchive(dir, { keepDays: 3, now: () => now });
    const old = await a.save(input({ at: new Date(now - 5 * DAY) }));
    const mid = await a.save(input({ at: new Date(now - 2 * DAY) }));
    const fresh = await a.save(input({ at: new Date(now - 1000) }));
    expect(a.byFile(old.file)).toBeNull(); // the save's own enforce() removed it
    expect(fs.existsSync(join(dir, old.file))).toBe(false);
    expect(fs.existsSync(join(dir, THUMBS_DIR, old.file))).toBe(false);
    now += 1.5 * DAY;
    expect(a.enforce()).toBe(1);
    expect(a.list().map((e) => e.id)).toEqual([fresh.id]);
    expect(fs.existsSync(join(dir, mid.file))).toBe(false);
  });

  test("max-events keeps the newest N", async () => {
    const dir = tmpdir();
    const a = openArchive(dir, { maxEvents: 3 });
    const recs = [];
    for (let i = 0; i < 5; i++)
      recs.push(await a.save(input({ at: new Date(2024, 4, 1, 12, i, 0) })));
    expect(a.list().map((e) => e.id)).toEqual(
      recs
        .slice(2)
        .reverse()
        .map((r) => r.id),
    );
    expect(visible(dir).filter((n) => n.endsWith(".jpg"))).toHaveLength(3);
    expect(fs.readdirSync(join(dir, THUMBS_DIR))).toHaveLength(3);
  });

  test("max-events applies at open too (images added by hand)", async () => {
    const dir = tmpdir();
    for (let i = 0; i < 4; i++) fs.writeFileSync(join(dir, `import${i}.jpg`), JPEG);
    const a = openArchive(dir, { maxEvents: 2 });
    expect(a.stats().total).toBe(2);
  });

  test("min-free-mb deletes oldest first until enough space is free", async () => {
    const dir = tmpdir();
    let a = openArchive(dir, { keepDays: 0, maxEvents: 0 });
    for (let i = 0; i < 6; i++) await a.save(input({ at: new Date(2024, 4, 1, 12, i, 0) }));
    a.close();
    // Fake disk: 100 MB free plus 10 MB per deleted event; we want 130 MB.
    a = openArchive(dir, {
      keepDays: 0,
      maxEvents: 0,
      minFreeMb: 130,
      freeMb: () => 100 + 10 * (6 - visible(dir).filter((n) => n.endsWith(".jpg")).length),
    });
    const left = a.list({ order: "asc" });
    expect(left.length).toBeLessThanOrEqual(3);
    expect(left.length).toBeGreaterThan(0);
    expect(left[left.length - 1]!.time).toBe(new Date(2024, 4, 1, 12, 5, 0).getTime());
    expect(a.stats().diskFreeMb).toBeGreaterThanOrEqual(130);
  });

  test("0 disables a rule", async () => {
    const a = openArchive(tmpdir(), { keepDays: 0, maxEvents: 0, minFreeMb: 0, freeMb: () => 1 });
    await a.save(input({ at: new Date(2000, 0, 1) }));
    await a.save(input({ at: new Date(2000, 0, 2) }));
    expect(a.enforce()).toBe(0);
    expect(a.stats().total).toBe(2);
  });

  test("rejects nonsense retention", async () => {
    expect(() => openArchive(tmpdir(), { keepDays: -1 })).toThrow(/keepDays/);
    expect(() => openArchive(tmpdir(), { maxEvents: NaN })).toThrow(/maxEvents/);
  });
});

test("close is idempotent and later calls fail clearly", async () => {
  const a = openArchive(tmpdir());
  a.close();
  a.close();
  expect(a.closed).toBe(true);
  expect(() => a.list()).toThrow(/closed/);
  await expect(a.save(input())).rejects.toThrow(/closed/);
});

test("close while saves are in flight: they finish, then the index closes", async () => {
  const dir = tmpdir();
  const a = openArchive(dir);
  const heard: number[] = [];
  a.onSaved((e) => heard.push(e.id));
  const saves = [0, 1, 2].map((i) => a.save(input({ at: new Date(2024, 4, 1, 12, i, 0) })));
  const closing = a.close();
  expect(a.close()).toBe(closing);
  expect(a.closed).toBe(true);
  expect(() => a.count()).toThrow(/closed/);
  await expect(a.save(input())).rejects.toThrow(/closed/);
  const recs = await Promise.all(saves);
  await closing;
  expect(heard).toEqual([]); // close() unsubscribed the listeners
  expect(fs.readdirSync(dir).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
  const b = openArchive(dir);
  expect(b.list({ order: "asc" }).map((e) => e.file)).toEqual(recs.map((r) => r.file));
});

test("reconcile() refuses to run under a save: it would delete its temp files", async () => {
  const a = openArchive(tmpdir());
  const saving = a.save(input());
  expect(() => a.reconcile()).toThrow(/being saved/);
  await saving;
  expect(a.reconcile()).toEqual({ added: 0, removed: 0, tmpRemoved: 0 });
});

test("stats", async () => {
  const a = openArchive(tmpdir(), { freeMb: () => 1234 });
  expect(a.stats()).toEqual({
    total: 0,
    diskFreeMb: 1234,
    oldest: null,
    newest: null,
    lastError: null,
  });
  const r = await a.save(input());
  expect(a.stats().oldest).toBe(r.time);
  expect(a.stats().newest).toBe(r.time);
  // The real statfs answers a number.
  const b = openArchive(tmpdir());
  expect(typeof b.stats().diskFreeMb).toBe("number");
});
