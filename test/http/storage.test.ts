/**
 * Storage faults of the event archive on a real full file system (a 2 MB tmpfs; these tests are
 * skipped where mounting is not allowed): retention frees space when the card is full, a full
 * card with nothing to delete is reported and saving resumes by itself, no partial file is ever
 * visible. Also an outdir deleted while running.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Archive, INDEX_FILE } from "../../src/events/archive.ts";
import type { Logger } from "../../src/shared/log.ts";
import { fillDisk, mountTmpfs, unmountAll } from "./tmpfs.ts";

const quiet: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
  once: () => {},
  clear: () => false,
};

function image(kb: number, seed: number): Uint8Array {
  const b = new Uint8Array(kb * 1024);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

let at = new Date(2024, 4, 1, 8, 0, 0).getTime();
function event(kb = 100): Parameters<Archive["save"]>[0] {
  at += 1000;
  return {
    jpeg: image(kb, at),
    thumbJpeg: image(8, at + 1),
    reason: "auto",
    at: new Date(at),
    people: 1,
    detections: [],
    inferMs: 70,
    fps: 10,
  };
}

/** Names in outdir that are not finished event files, index or thumbs. */
function strays(dir: string): string[] {
  return [...fs.readdirSync(dir), ...fs.readdirSync(join(dir, "thumbs"))].filter(
    (n) => n.startsWith(".tmp-") || n.endsWith(".partial"),
  );
}

/** Every image the index lists is on disk at its full size, and nothing else is. */
function agrees(a: Archive, dir: string): void {
  const files = fs.readdirSync(dir).filter((n) => n.endsWith(".jpg"));
  const rows = a.list({ limit: 500 });
  expect(rows.map((r) => r.file).sort()).toEqual(files.sort());
  for (const r of rows) expect(fs.statSync(join(dir, r.file)).size).toBe(r.bytes);
}

afterAll(unmountAll);

const tmpfs = mountTmpfs(2);
const why = tmpfs ? "" : " (skipped: cannot mount a tmpfs here)";

describe(`a full card${why}`, () => {
  test.skipIf(!tmpfs)("retention deletes the oldest events so the new one fits", async () => {
    const dir = join(tmpfs!, "a");
    const a = Archive.open(dir, { keepDays: 0, maxEvents: 0, minFreeMb: 1, log: quiet });
    for (let i = 0; i < 5; i++) await a.save(event());
    const before = a.count();
    const ballast = fillDisk(tmpfs!);
    const rec = await a.save(event());
    expect(fs.statSync(join(dir, rec.file)).size).toBe(100 * 1024);
    expect(a.count()).toBeLessThan(before + 1);
    expect(a.stats().lastError).toBeNull();
    // The newest is never the one retention takes.
    expect(a.list({ limit: 1 })[0]!.file).toBe(rec.file);
    expect(strays(dir)).toEqual([]);
    agrees(a, dir);
    a.close();
    fs.rmSync(ballast);
    fs.rmSync(dir, { recursive: true });
  });

  test.skipIf(!tmpfs)(
    "nothing to delete: a clear error, no partial file, and saving resumes by itself",
    async () => {
      const dir = join(tmpfs!, "b");
      const a = Archive.open(dir, { keepDays: 0, maxEvents: 0, minFreeMb: 0, log: quiet });
      await a.save(event());
      const ballast = fillDisk(tmpfs!);
      for (let i = 0; i < 3; i++) {
        let err: Error | null = null;
        try {
          await a.save(event());
        } catch (e) {
          err = e as Error;
        }
        expect((err as { code?: string } | null)?.code).toBe("STORAGE_FULL");
        expect(err?.message).toContain("free space on the card");
      }
      expect(a.stats().lastError).toMatch(/^disk full/);
      expect(strays(dir)).toEqual([]);
      agrees(a, dir);
      expect(a.count()).toBe(1);
      // Space comes back (the user cleaned up): the next save works, the error clears.
      fs.rmSync(ballast);
      const rec = await a.save(event());
      expect(fs.existsSync(join(dir, rec.file))).toBe(true);
      expect(a.stats().lastError).toBeNull();
      agrees(a, dir);
      a.close();
      fs.rmSync(dir, { recursive: true });
    },
  );
});

describe(`saves queued on a full card${why}`, () => {
  test.skipIf(!tmpfs)(
    "each fails on its own, cleanly; the next one after space is back works",
    async () => {
      const dir = join(tmpfs!, "c");
      const a = Archive.open(dir, { keepDays: 0, maxEvents: 0, minFreeMb: 0, log: quiet });
      await a.save(event());
      const ballast = fillDisk(tmpfs!);
      const results = await Promise.allSettled([a.save(event()), a.save(event()), a.save(event())]);
      for (const r of results) {
        expect(r.status).toBe("rejected");
        expect(((r as PromiseRejectedResult).reason as { code?: string }).code).toBe(
          "STORAGE_FULL",
        );
      }
      expect(a.stats().lastError).toMatch(/^disk full/);
      expect(strays(dir)).toEqual([]);
      agrees(a, dir);
      fs.rmSync(ballast);
      const [ok1, ok2] = await Promise.all([a.save(event()), a.save(event())]);
      expect(a.stats().lastError).toBeNull();
      expect(a.count()).toBe(3);
      expect([ok1!.file, ok2!.file].every((f) => fs.existsSync(join(dir, f)))).toBe(true);
      agrees(a, dir);
      await a.close();
      fs.rmSync(dir, { recursive: true });
    },
  );
});

describe("outdir deleted while running", () => {
  test("the next save recreates the folder and the index; a restart agrees", async () => {
    const dir = join(fs.mkdtempSync(join(os.tmpdir(), "hazardcam-gone-")), "out");
    const a = Archive.open(dir, { keepDays: 0, maxEvents: 0, minFreeMb: 0, log: quiet });
    await a.save(event(5));
    await a.save(event(5));
    fs.rmSync(dir, { recursive: true });
    const rec = await a.save(event(5));
    expect(fs.existsSync(join(dir, INDEX_FILE))).toBe(true);
    expect(fs.existsSync(join(dir, "thumbs", rec.file))).toBe(true);
    // The deleted events are gone from the live index too.
    expect(a.list().map((e) => e.file)).toEqual([rec.file]);
    agrees(a, dir);
    a.close();
    const b = Archive.open(dir, { keepDays: 0, maxEvents: 0, minFreeMb: 0, log: quiet });
    expect(b.list().map((e) => e.file)).toEqual([rec.file]);
    b.close();
  });
});
