/**
 * The recorder (ring + plan + writer) on the bundled clip, with the visits issue 11 describes for
 * its first pass at 10 fps: the man's visit from frame 0 (gone after frame 42, closed 5 s later),
 * the woman's from frame 106 until the man of the next pass has left.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseIndex } from "../../src/clips/format.ts";
import { ClipRecorder } from "../../src/clips/recorder.ts";
import type { RingFrame } from "../../src/clips/ring.ts";
import type { ClipEvent } from "../../src/clips/writer.ts";
import {
  JPEGS,
  T0,
  clipsDir,
  eventLog,
  expectPlays,
  ffprobeFrames,
  hasFfprobe,
  listClips,
  quietLog,
  removeTmpOutdirs,
  tmpOutdir,
} from "./clips-lib.ts";
import fs from "node:fs";

afterEach(removeTmpOutdirs);

/** Frame i of the looping clip at `fps`, ms from T0. */
function frame(i: number, fps: number): RingFrame {
  return {
    seq: i + 1,
    atMs: T0 + Math.round((i * 1000) / fps),
    jpeg: JPEGS[i % JPEGS.length]!,
    overlay: { detections: [] },
  };
}

/** Feeds `seconds` of the clip; visit events fire at their capture times (+ detection lag). */
function feed(rec: ClipRecorder, fps: number, seconds: number, lagMs = 300): void {
  const events: [number, () => void][] = [
    [0 + lagMs, () => rec.visitOpened(1, T0)],
    [9_200, () => rec.visitClosed(1, T0 + 9_200)],
    [10_600 + lagMs, () => rec.visitOpened(2, T0 + 10_600)],
    [29_200, () => rec.visitClosed(2, T0 + 29_200)],
  ];
  for (let i = 0; i < seconds * fps; i++) {
    const f = frame(i, fps);
    while (events.length > 0 && T0 + events[0]![0] <= f.atMs) events.shift()![1]();
    rec.frame(f);
  }
}

const finished = (events: ClipEvent[]) => events.flatMap((e) => (e.kind === "finished" ? [e] : []));

describe("clip recorder on the bundled clip", () => {
  test("the woman's clip starts clip-pre before her visit and ends clip-post after it", async () => {
    const outdir = tmpOutdir();
    const log = eventLog();
    const rec = new ClipRecorder({ outdir, onEvent: log.onEvent, log: quietLog });
    feed(rec, 10, 40);
    await rec.close();
    const done = finished(log.events);
    expect(done.map((e) => [e.clip.visitId, e.reason, e.clip.frames])).toEqual([
      [1, "next-visit", 109], // frames 0..108: until the woman's open event (at 10.9 s)
      [2, "post-roll", 247], // frames 76..322: 7.6 s to 29.2 + 3 s
    ]);
    const woman = done[1]!.clip;
    expect([woman.startMs - T0, woman.endMs - T0]).toEqual([7_600, 32_200]);
    expect(woman.file).toBe("20240501_120010_clip.mjpeg");
    const index = expectPlays(outdir, "20240501_120010_clip");
    expect(index.map((f) => f.s - 1)).toEqual(Array.from({ length: 247 }, (_, i) => 76 + i));
    if (hasFfprobe()) expect(ffprobeFrames(join(clipsDir(outdir), woman.file))).toBe(247);
    expect(listClips(outdir).filter((n) => n.startsWith("."))).toEqual([]);
  });

  test("at 30 fps the clip holds clip-fps (15) frames per second, within one", async () => {
    const outdir = tmpOutdir();
    const log = eventLog();
    const rec = new ClipRecorder({ outdir, onEvent: log.onEvent, log: quietLog });
    feed(rec, 30, 40);
    await rec.close();
    for (const e of finished(log.events)) {
      const idx = parseIndex(fs.readFileSync(join(clipsDir(outdir), e.clip.index)));
      const t = idx.frames.map((f) => f.t);
      const durationSec = (t[t.length - 1]! - t[0]!) / 1000;
      expect(Math.abs(t.length - durationSec * 15)).toBeLessThanOrEqual(1);
      if (hasFfprobe()) expect(ffprobeFrames(join(clipsDir(outdir), e.clip.file))).toBe(t.length);
    }
    expect(finished(log.events)[1]!.clip.startMs - T0).toBe(7_600);
  });

  test("reports its buffer; disabled, it neither buffers nor writes", async () => {
    const outdir = tmpOutdir();
    const rec = new ClipRecorder({ outdir, log: quietLog, options: { bufferMb: 1 } });
    for (let i = 0; i < 100; i++) rec.frame(frame(i, 10));
    const s = rec.stats();
    expect(s.bufferBytes).toBeLessThanOrEqual(2 ** 20);
    expect(s.bufferFrames).toBeGreaterThan(30);
    expect(s.recording).toBeNull();
    await rec.close();

    const off = new ClipRecorder({ outdir, log: quietLog, options: { preSec: 0, postSec: 0 } });
    expect(off.enabled).toBe(false);
    feed(off, 10, 15);
    await off.close();
    expect(off.stats()).toMatchObject({ enabled: false, bufferFrames: 0, writtenFrames: 0 });
    expect(listClips(outdir)).toEqual([]);
  });
});
