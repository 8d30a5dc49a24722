/**
 * The clip writer on a real disk: whole clips renamed into place, names that sort, the index
 * written as the clip grows, a bounded queue, and a full disk (a 1 MB tmpfs, skipped where it
 * cannot be mounted) ending the clip cleanly at its last whole frame.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import { parseIndex } from "../../src/clips/format.ts";
import { ClipWriter, type ClipEvent } from "../../src/clips/writer.ts";
import {
  T0,
  clipsDir,
  eventLog,
  expectPlays,
  ffprobeFrames,
  hasFfprobe,
  listClips,
  quietLog,
  removeTmpOutdirs,
  ringFrame,
  tmpOutdir,
} from "./clips-lib.ts";
import { mountTmpfs, unmountAll } from "./tmpfs.ts";

const writers: ClipWriter[] = [];
afterEach(async () => {
  for (const w of writers.splice(0)) await w.abort();
  removeTmpOutdirs();
  quietLog.lines.length = 0;
});
afterAll(unmountAll);

function writer(outdir: string, over: Partial<ConstructorParameters<typeof ClipWriter>[0]> = {}) {
  const log = eventLog();
  const w = new ClipWriter({ outdir, log: quietLog, onEvent: log.onEvent, ...over });
  writers.push(w);
  return { w, events: log.events };
}

const meta = (part = 1, visitStartMs = T0) => ({ visitId: 7, visitStartMs, part, firstMs: T0 });
const frames = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ringFrame(from + i));

describe("clip writer", () => {
  test("writes a whole clip, renamed into place, that plays", async () => {
    const outdir = tmpOutdir();
    const { w, events } = writer(outdir);
    w.start(1, meta());
    w.append(1, frames(0, 50));
    w.finish(1, "post-roll");
    await w.idle();
    expect(listClips(outdir)).toEqual(["20240501_120000_clip.jsonl", "20240501_120000_clip.mjpeg"]);
    const index = expectPlays(outdir, "20240501_120000_clip");
    expect(index.map((f) => f.t)).toEqual(frames(0, 50).map((f) => f.atMs));
    expect(index[3]!.d).toEqual({ people: 0, boxes: [[0.1, 0.2, 0.5, 0.9]] });
    expect(events.map((e) => e.kind)).toEqual(["started", "finished"]);
    const done = events[1] as Extract<ClipEvent, { kind: "finished" }>;
    const dataBytes = fs.statSync(join(clipsDir(outdir), done.clip.file)).size;
    const indexBytes = fs.statSync(join(clipsDir(outdir), done.clip.index)).size;
    expect(done).toMatchObject({ status: "complete", reason: "post-roll", error: null });
    expect(done.clip).toMatchObject({
      clip: 1,
      visitId: 7,
      part: 1,
      file: "20240501_120000_clip.mjpeg",
      startMs: T0,
      endMs: T0 + 4900,
      frames: 50,
      bytes: dataBytes + indexBytes,
    });
    expect(w.stats()).toMatchObject({ writtenFrames: 50, droppedFrames: 0, queuedBytes: 0 });
  });

  test("the zones go into the index on each clip's first frame and where they change", async () => {
    const outdir = tmpOutdir();
    const { w } = writer(outdir);
    const before = { zones: [], masks: [], lines: [] };
    const after = { zones: [], masks: [], lines: [{ name: "gate", a: [0.8, 0], b: [0.8, 1] }] };
    const zoned = (from: number, n: number, z: unknown) =>
      frames(from, n).map((f) => ({ ...f, zones: z }));
    w.start(1, meta());
    w.append(1, [...zoned(0, 3, before), ...zoned(3, 3, after)]);
    w.finish(1, "capped");
    w.start(2, meta(2));
    w.append(2, zoned(6, 2, after));
    w.finish(2, "post-roll");
    await w.idle();
    const zs = (base: string) =>
      parseIndex(
        new Uint8Array(fs.readFileSync(join(clipsDir(outdir), `${base}.jsonl`))),
      ).frames.map((f) => f.z);
    const u = undefined;
    expect(zs("20240501_120000_clip")).toEqual([before, u, u, after, u, u]);
    // A new clip starts with the zones in force, though they did not change.
    expect(zs("20240501_120000_clip_p002")).toEqual([after, u]);
  });

  test.skipIf(!hasFfprobe())("ffprobe reads the clip and counts its frames", async () => {
    const outdir = tmpOutdir();
    const { w } = writer(outdir);
    w.start(1, meta());
    w.append(1, frames(0, 73));
    w.finish(1, "post-roll");
    await w.idle();
    expect(ffprobeFrames(join(clipsDir(outdir), "20240501_120000_clip.mjpeg"))).toBe(73);
  });
  if (!hasFfprobe()) {
    console.warn(
      "clips-writer: ffprobe not installed: skipping the ffprobe check (apt-get install ffmpeg)",
    );
  }

  test("names sort by the visit's start; parts and taken names get suffixes", async () => {
    const outdir = tmpOutdir();
    const { w } = writer(outdir);
    for (const [clip, m] of [
      [1, meta(1)],
      [2, meta(2)],
      [3, meta(1)],
      [4, meta(1, T0 + 61_000)],
    ] as const) {
      w.start(clip, m);
      w.append(clip, frames(clip, 2));
      w.finish(clip, "post-roll");
    }
    await w.idle();
    expect(listClips(outdir).filter((n) => n.endsWith(".mjpeg"))).toEqual([
      "20240501_120000_clip.mjpeg",
      "20240501_120000_clip_2.mjpeg",
      "20240501_120000_clip_p002.mjpeg",
      "20240501_120101_clip.mjpeg",
    ]);
  });

  test("while recording, .part files hold whole frames with their index records", async () => {
    const outdir = tmpOutdir();
    const { w, events } = writer(outdir);
    w.start(1, meta());
    w.append(1, frames(0, 10));
    await w.idle();
    expect(listClips(outdir)).toEqual([
      ".part-20240501_120000_clip.jsonl",
      ".part-20240501_120000_clip.mjpeg",
    ]);
    const idx = parseIndex(
      fs.readFileSync(join(clipsDir(outdir), ".part-20240501_120000_clip.jsonl")),
    );
    const size = fs.statSync(join(clipsDir(outdir), ".part-20240501_120000_clip.mjpeg")).size;
    expect(idx.frames).toHaveLength(10);
    expect(idx.frames[9]!.o + idx.frames[9]!.n).toBe(size);
    expect(events.map((e) => e.kind)).toEqual(["started"]);
    w.append(1, frames(10, 5));
    await w.close();
    expect(expectPlays(outdir, "20240501_120000_clip")).toHaveLength(15);
    expect(events[1]).toMatchObject({ kind: "finished", reason: "stopping" });
    w.append(1, frames(15, 1));
    expect(w.stats().lostFrames).toBe(1);
  });

  test("a slow disk does not grow memory: the queue is bounded, drops are counted once", async () => {
    const outdir = tmpOutdir();
    const { w } = writer(outdir, { maxQueueBytes: 100_000 });
    w.start(1, meta());
    w.append(1, frames(0, 60)); // ~1.2 MB at once: far more than the queue holds
    expect(w.stats().queuedBytes).toBeLessThanOrEqual(100_000);
    w.finish(1, "post-roll");
    await w.idle();
    const s = w.stats();
    expect(s.droppedFrames).toBeGreaterThan(40);
    expect(s.writtenFrames + s.droppedFrames).toBe(60);
    expect(quietLog.lines.filter((l) => l.includes("dropping clip frames"))).toHaveLength(1);
    expect(expectPlays(outdir, "20240501_120000_clip")).toHaveLength(s.writtenFrames);
  });

  test("a failing listener does not stop the writer", async () => {
    const outdir = tmpOutdir();
    const { w } = writer(outdir, {
      onEvent: () => {
        throw new Error("listener bug");
      },
    });
    w.start(1, meta());
    w.append(1, frames(0, 3));
    w.finish(1, "post-roll");
    await w.idle();
    expect(expectPlays(outdir, "20240501_120000_clip")).toHaveLength(3);
  });
});

describe("clip writer on a full disk", () => {
  const mnt = mountTmpfs(1);
  if (!mnt)
    console.warn("clips-writer: cannot mount a tmpfs (not root): skipping the full-disk test");

  test.skipIf(!mnt)(
    "ENOSPC ends the clip at its last whole frame, with a code and a fix",
    async () => {
      const outdir = tmpOutdir(mnt!);
      const { w, events } = writer(outdir);
      w.start(1, meta());
      w.append(1, frames(0, 80)); // ~1.6 MB into 1 MB
      w.finish(1, "post-roll");
      await w.idle();
      const done = events.find((e) => e.kind === "finished") as Extract<
        ClipEvent,
        { kind: "finished" }
      >;
      expect(done).toMatchObject({ status: "complete", reason: "error" });
      expect(done.error?.code).toBe("CLIP_DISK_FULL");
      expect(done.error?.fix).toContain("--keep-days");
      const kept = expectPlays(outdir, "20240501_120000_clip");
      expect(kept.length).toBe(done.clip.frames);
      expect(kept.length).toBeGreaterThan(20);
      expect(w.stats().lastError?.code).toBe("CLIP_DISK_FULL");
      expect(quietLog.lines.filter((l) => l.includes("CLIP_DISK_FULL"))).toHaveLength(1);

      // Space freed (retention): the next clip is written again.
      fs.rmSync(join(clipsDir(outdir), done.clip.file));
      w.start(2, meta(2));
      w.append(2, frames(0, 5));
      w.finish(2, "post-roll");
      await w.idle();
      expect(expectPlays(outdir, "20240501_120000_clip_p002")).toHaveLength(5);
    },
  );
});
