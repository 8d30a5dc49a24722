/**
 * kill -9 while a clip is being written, at every interesting point: recovery keeps the clip up
 * to its last whole frame or removes it, and what remains always plays (every frame in the index
 * is a complete JPEG at its offset, the .mjpeg ends with the last of them).
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import { fileNames, parseIndex } from "../../src/clips/format.ts";
import { recoverClips, recoverySummary } from "../../src/clips/recover.ts";
import { ClipWriter } from "../../src/clips/writer.ts";
import {
  T0,
  clipsDir,
  expectPlays,
  ffprobeFrames,
  hasFfprobe,
  listClips,
  quietLog,
  removeTmpOutdirs,
  ringFrame,
  tmpOutdir,
} from "./clips-lib.ts";

afterEach(removeTmpOutdirs);

const BASE = "20240501_120000_clip";
const N = 6;
const names = fileNames(BASE);
/** What a kill -9 after N frames leaves: the .part files' bytes. */
let data: Uint8Array;
let index: Uint8Array;
/** End of each frame in data; end of the header and of each record in index. */
let frameEnds: number[];
let lineEnds: number[];

beforeAll(async () => {
  const outdir = tmpOutdir();
  const w = new ClipWriter({ outdir, log: quietLog });
  w.start(1, { visitId: 3, visitStartMs: T0, part: 1, firstMs: T0 });
  w.append(
    1,
    Array.from({ length: N }, (_, i) => ringFrame(i)),
  );
  await w.idle();
  await w.abort();
  data = new Uint8Array(fs.readFileSync(join(clipsDir(outdir), names.partData)));
  index = new Uint8Array(fs.readFileSync(join(clipsDir(outdir), names.partIndex)));
  const parsed = parseIndex(index);
  expect(parsed.frames).toHaveLength(N);
  frameEnds = parsed.frames.map((f) => f.o + f.n);
  lineEnds = [parsed.headerEnd, ...parsed.frameEnds];
});

/** Puts (possibly damaged) unfinished files of the clip into a fresh outdir. */
function crashed(files: { data?: Uint8Array | null; index?: Uint8Array | null }): string {
  const outdir = tmpOutdir();
  fs.mkdirSync(clipsDir(outdir));
  if (files.data) fs.writeFileSync(join(clipsDir(outdir), names.partData), files.data);
  if (files.index) fs.writeFileSync(join(clipsDir(outdir), names.partIndex), files.index);
  return outdir;
}

/** Recovers and checks the result against the frames expected to survive. */
async function expectRecovered(outdir: string, whole: number): Promise<void> {
  const done = await recoverClips(outdir);
  expect(done).toHaveLength(1);
  const d = done[0]!;
  expect(d.error).toBeNull();
  if (whole === 0) {
    expect(d.action).toBe("removed");
    expect(listClips(outdir)).toEqual([]);
    return;
  }
  expect(listClips(outdir)).toEqual([names.index, names.data]);
  expect(expectPlays(outdir, BASE)).toHaveLength(whole);
  expect(d).toMatchObject({
    file: names.data,
    visitId: 3,
    part: 1,
    frames: whole,
    startMs: T0,
    endMs: T0 + (whole - 1) * 100,
  });
  const bytes = ["data", "index"].map(
    (k) => fs.statSync(join(clipsDir(outdir), k === "data" ? names.data : names.index)).size,
  );
  expect(d.bytes).toBe(bytes[0]! + bytes[1]!);
}

/** Frames whose bytes end within `dataLen` and whose record ends within `indexLen`. */
function expectedWhole(dataLen: number, indexLen: number): number {
  let k = 0;
  while (k < N && frameEnds[k]! <= dataLen && lineEnds[k + 1]! <= indexLen) k++;
  return k;
}

describe("clip recovery after kill -9", () => {
  test("a clean kill keeps every frame; the clip is marked recovered", async () => {
    const outdir = crashed({ data, index });
    await expectRecovered(outdir, N);
    const idx = parseIndex(fs.readFileSync(join(clipsDir(outdir), names.index)));
    expect(idx.trailer).toMatchObject({ end: "recovered", frames: N, reason: "crash" });
  });

  test("every cut of the data and of the index plays (frame and record boundaries ±1)", async () => {
    const cuts = (ends: number[], len: number): number[] =>
      [...new Set([0, 1, len, ...ends.flatMap((e) => [e - 1, e, e + 1])])].filter(
        (c) => c >= 0 && c <= len,
      );
    let runs = 0;
    for (const d of cuts(frameEnds, data.length)) {
      for (const i of cuts(lineEnds, index.length)) {
        const outdir = crashed({ data: data.subarray(0, d), index: index.subarray(0, i) });
        await expectRecovered(outdir, expectedWhole(d, i));
        runs++;
      }
    }
    expect(runs).toBeGreaterThan(200);
  });

  test("data ahead of the index: bytes without a record are cut off", async () => {
    const outdir = crashed({ data, index: index.subarray(0, lineEnds[3]) });
    await expectRecovered(outdir, 3);
  });

  test("index ahead of the data (a power cut reorders writes): records past it are dropped", async () => {
    const outdir = crashed({ data: data.subarray(0, frameEnds[1]! + 500), index });
    await expectRecovered(outdir, 2);
  });

  test("a record pointing at bytes that are not a whole JPEG ends the clip there", async () => {
    const damaged = data.slice();
    damaged[frameEnds[3]! - 1] = 0x00; // frame 3's EOI
    await expectRecovered(crashed({ data: damaged, index }), 3);
    const zeroed = data.slice();
    zeroed.fill(0, frameEnds[0]!, frameEnds[1]); // never written (a power cut): zeros
    await expectRecovered(crashed({ data: zeroed, index }), 1);
  });

  test("empty or missing files leave nothing behind", async () => {
    await expectRecovered(crashed({ data: new Uint8Array(0), index: new Uint8Array(0) }), 0);
    await expectRecovered(crashed({ data, index: null }), 0);
    await expectRecovered(crashed({ data: null, index }), 0);
    await expectRecovered(crashed({ data, index: index.subarray(0, lineEnds[0]) }), 0);
    const garbage = new TextEncoder().encode("not json\n");
    await expectRecovered(crashed({ data, index: garbage }), 0);
  });

  test("a crash between the two renames comes back whole", async () => {
    const outdir = tmpOutdir();
    const w = new ClipWriter({ outdir, log: quietLog });
    w.start(1, { visitId: 3, visitStartMs: T0, part: 1, firstMs: T0 });
    w.append(
      1,
      Array.from({ length: N }, (_, i) => ringFrame(i)),
    );
    w.finish(1, "post-roll");
    await w.idle();
    // Undo the data's rename: the index is in place, the data still .part.
    fs.renameSync(join(clipsDir(outdir), names.data), join(clipsDir(outdir), names.partData));
    const done = await recoverClips(outdir);
    expect(done.map((d) => [d.action, d.frames])).toEqual([["complete", N]]);
    expect(parseIndex(fs.readFileSync(join(clipsDir(outdir), names.index))).trailer?.end).toBe(
      "complete",
    );
    expect(expectPlays(outdir, BASE)).toHaveLength(N);
  });

  test("finished clips are left alone; no clips folder is fine", async () => {
    const outdir = tmpOutdir();
    expect(await recoverClips(outdir)).toEqual([]);
    const w = new ClipWriter({ outdir, log: quietLog });
    w.start(1, { visitId: 3, visitStartMs: T0, part: 1, firstMs: T0 });
    w.append(1, [ringFrame(0)]);
    w.finish(1, "post-roll");
    await w.idle();
    const before = listClips(outdir).map((n) => fs.readFileSync(join(clipsDir(outdir), n)));
    expect(await recoverClips(outdir)).toEqual([]);
    const after = listClips(outdir).map((n) => fs.readFileSync(join(clipsDir(outdir), n)));
    expect(after).toEqual(before);
  });

  test("the summary is one line", async () => {
    const outdir = crashed({ data: data.subarray(0, frameEnds[2]! - 3), index });
    fs.writeFileSync(join(clipsDir(outdir), ".part-20240501_130000_clip.mjpeg"), "x");
    const done = await recoverClips(outdir);
    expect(recoverySummary(done)).toBe(
      "unfinished clips after a crash: 1 kept up to their last whole frame, 0 whole, 1 removed",
    );
  });

  test.skipIf(!hasFfprobe())("ffprobe reads a recovered clip to its last whole frame", async () => {
    const outdir = crashed({ data: data.subarray(0, frameEnds[4]! - 100), index });
    await expectRecovered(outdir, 4);
    expect(ffprobeFrames(join(clipsDir(outdir), names.data))).toBe(4);
  });
});
