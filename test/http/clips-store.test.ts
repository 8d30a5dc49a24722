/**
 * The clips' sqlite rows follow the writer and the folder: a row per clip kept current from the
 * writer's events, reconciled at startup after a crash, and what retention and /status need.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import { recoverClips } from "../../src/clips/recover.ts";
import {
  CLIPS_SCHEMA_SQL,
  clipByFile,
  clipCount,
  clipsBefore,
  clipsForVisit,
  clipsInRange,
  deleteClip,
  getClip,
  oldestClips,
  reconcileClips,
  recordClipEvent,
  totalClipBytes,
  type ClipRow,
} from "../../src/clips/store.ts";
import { ClipWriter } from "../../src/clips/writer.ts";
import {
  T0,
  clipsDir,
  listClips,
  quietLog,
  removeTmpOutdirs,
  ringFrame,
  tmpOutdir,
} from "./clips-lib.ts";

const dbs: Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  removeTmpOutdirs();
});

function openDb(strict = false): Database {
  const db = new Database(":memory:", { strict });
  db.exec(CLIPS_SCHEMA_SQL);
  dbs.push(db);
  return db;
}

/** Writes `count` clips of 5 frames, one per minute from T0 (visit ids 1..), with rows. */
async function record(outdir: string, db: Database, count: number, finish = true) {
  const w = new ClipWriter({ outdir, log: quietLog, onEvent: (e) => recordClipEvent(db, e) });
  for (let c = 1; c <= count; c++) {
    const start = T0 + (c - 1) * 60_000;
    w.start(c, { visitId: c, visitStartMs: start, part: 1, firstMs: start });
    w.append(
      c,
      Array.from({ length: 5 }, (_, i) => ({ ...ringFrame(i), atMs: start + i * 100 })),
    );
    if (finish || c < count) w.finish(c, "post-roll");
  }
  await w.idle();
  return w;
}

const sizeOf = (outdir: string, r: ClipRow): number =>
  fs.statSync(join(clipsDir(outdir), r.file)).size +
  fs.statSync(join(clipsDir(outdir), r.index)).size;

describe("clips table", () => {
  for (const strict of [false, true]) {
    test(`a row per clip follows the writer (strict ${strict})`, async () => {
      const outdir = tmpOutdir();
      const db = openDb(strict);
      const w = await record(outdir, db, 2, false);
      const rows = oldestClips(db, 10);
      expect(rows).toHaveLength(1); // the second is still recording
      expect(rows[0]).toMatchObject({
        visitId: 1,
        part: 1,
        file: "20240501_120000_clip.mjpeg",
        index: "20240501_120000_clip.jsonl",
        startMs: T0,
        endMs: T0 + 400,
        frames: 5,
        status: "complete",
        reason: "post-roll",
        error: null,
      });
      expect(rows[0]!.bytes).toBe(sizeOf(outdir, rows[0]!));
      expect(clipByFile(db, "20240501_120100_clip.mjpeg")).toMatchObject({
        status: "recording",
        frames: 0,
      });
      await w.close();
      const second = clipByFile(db, "20240501_120100_clip.jsonl")!;
      expect(second).toMatchObject({ status: "complete", reason: "stopping", frames: 5 });
      expect(getClip(db, second.id)).toEqual(second);
      expect(clipCount(db)).toBe(2);
      expect(totalClipBytes(db)).toBe(sizeOf(outdir, rows[0]!) + sizeOf(outdir, second));
    });
  }

  test("queries by visit and by time; retention deletes files and rows, oldest first", async () => {
    const outdir = tmpOutdir();
    const db = openDb();
    await record(outdir, db, 4);
    expect(clipsForVisit(db, 2).map((r) => r.file)).toEqual(["20240501_120100_clip.mjpeg"]);
    expect(clipsInRange(db, T0 + 300, T0 + 60_050).map((r) => r.visitId)).toEqual([1, 2]);
    expect(clipsInRange(db, T0 + 500, T0 + 59_000)).toEqual([]);
    expect(clipsBefore(db, T0 + 120_000).map((r) => r.visitId)).toEqual([1, 2]);
    const total = totalClipBytes(db);
    const [oldest] = oldestClips(db, 1);
    await deleteClip(db, outdir, oldest!);
    expect(clipCount(db)).toBe(3);
    expect(totalClipBytes(db)).toBe(total - oldest!.bytes);
    expect(listClips(outdir)).not.toContain(oldest!.file);
    expect(listClips(outdir)).not.toContain(oldest!.index);
    // Files already gone: the row still goes.
    const [next] = oldestClips(db, 1);
    fs.rmSync(join(clipsDir(outdir), next!.file));
    await deleteClip(db, outdir, next!);
    expect(clipCount(db)).toBe(2);
  });

  test("after kill -9 the index and the folder agree", async () => {
    const outdir = tmpOutdir();
    const db = openDb();
    const w = await record(outdir, db, 3, false);
    await w.abort(); // the third clip is left .part, its row "recording"
    // A row whose files vanished, and finished files whose row is missing.
    fs.rmSync(join(clipsDir(outdir), "20240501_120000_clip.mjpeg"));
    db.query("DELETE FROM clips WHERE file = ?").run("20240501_120100_clip.mjpeg");

    const done = await recoverClips(outdir);
    expect(done.map((d) => [d.file, d.action])).toEqual([
      ["20240501_120200_clip.mjpeg", "recovered"],
    ]);
    const res = await reconcileClips(db, outdir, done);
    expect(res).toEqual({ recovered: 1, settled: 0, added: 1, removed: 1 });
    const rows = oldestClips(db, 10);
    expect(rows.map((r) => [r.file, r.status, r.frames])).toEqual([
      ["20240501_120100_clip.mjpeg", "complete", 5],
      ["20240501_120200_clip.mjpeg", "recovered", 5],
    ]);
    for (const r of rows) expect(r.bytes).toBe(sizeOf(outdir, r));
    expect(rows[1]).toMatchObject({ visitId: 3, startMs: T0 + 120_000, endMs: T0 + 120_400 });
    // Nothing left to do the next time.
    expect(await reconcileClips(db, outdir, await recoverClips(outdir))).toEqual({
      recovered: 0,
      settled: 0,
      added: 0,
      removed: 0,
    });
  });

  test("a row left recording by a crash after its rename is settled from the files", async () => {
    const outdir = tmpOutdir();
    const db = openDb();
    await record(outdir, db, 1);
    db.query("UPDATE clips SET status = 'recording', frames = 0, bytes = 0").run();
    const res = await reconcileClips(db, outdir, []);
    expect(res.settled).toBe(1);
    expect(oldestClips(db, 1)[0]).toMatchObject({ status: "complete", frames: 5 });
  });
});
