/** Helpers of the clips' file-system tests: real frames, temp outdirs, "does it play" checks. */
import { expect } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { splitJpegs } from "../../src/camera/mjpeg.ts";
import { CLIPS_DIR, parseIndex, type IndexFrame } from "../../src/clips/format.ts";
import type { RingFrame } from "../../src/clips/ring.ts";
import type { ClipEvent } from "../../src/clips/writer.ts";
import type { Logger } from "../../src/shared/log.ts";

/** The 200 frames (640x480) of the bundled clip. */
export const JPEGS: Uint8Array[] = splitJpegs(
  new Uint8Array(fs.readFileSync(join(import.meta.dir, "../fixtures/people_640x480_q5.mjpeg"))),
);

/** A fixed local time, so that names are known: 2024-05-01 12:00:00.000. */
export const T0 = new Date(2024, 4, 1, 12, 0, 0).getTime();

export const quietLog: Logger & { lines: string[] } = {
  lines: [],
  info: () => {},
  warn(m) {
    quietLog.lines.push(m);
  },
  error(m) {
    quietLog.lines.push(m);
  },
  once(key, _level, m) {
    if (!onceKeys.has(key)) quietLog.lines.push(m);
    onceKeys.add(key);
  },
  clear: (key) => onceKeys.delete(key),
};
const onceKeys = new Set<string>();

/** Frame i of a 10 fps timeline from T0, with its overlay. */
export function ringFrame(i: number, periodMs = 100): RingFrame {
  return {
    seq: i + 1,
    atMs: T0 + i * periodMs,
    jpeg: JPEGS[i % JPEGS.length]!,
    overlay: { people: i % 3, boxes: [[0.1, 0.2, 0.5, 0.9]] },
  };
}

const dirs: string[] = [];
export function tmpOutdir(root = os.tmpdir()): string {
  const d = fs.mkdtempSync(join(root, "hazardcam-clips-"));
  dirs.push(d);
  return d;
}
export function removeTmpOutdirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function clipsDir(outdir: string): string {
  return join(outdir, CLIPS_DIR);
}

export function listClips(outdir: string): string[] {
  const d = clipsDir(outdir);
  return fs.existsSync(d) ? fs.readdirSync(d).sort() : [];
}

/** Collects a writer's events. */
export function eventLog(): { events: ClipEvent[]; onEvent: (e: ClipEvent) => void } {
  const events: ClipEvent[] = [];
  return { events, onEvent: (e) => events.push(e) };
}

/**
 * Asserts what a player relies on: the index lists contiguous frames from 0 that end exactly at
 * the end of the .mjpeg, and every one is a complete JPEG (SOI..EOI) equal to a frame we gave.
 * Returns the index frames.
 */
export function expectPlays(outdir: string, base: string): IndexFrame[] {
  const data = new Uint8Array(fs.readFileSync(join(clipsDir(outdir), `${base}.mjpeg`)));
  const idx = parseIndex(new Uint8Array(fs.readFileSync(join(clipsDir(outdir), `${base}.jsonl`))));
  expect(idx.header).not.toBeNull();
  expect(idx.trailer).not.toBeNull();
  expect(idx.frames.length).toBeGreaterThan(0);
  let offset = 0;
  for (const f of idx.frames) {
    expect(f.o).toBe(offset);
    const bytes = data.subarray(f.o, f.o + f.n);
    expect([bytes[0], bytes[1], bytes[f.n - 2], bytes[f.n - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    expect(Buffer.compare(bytes, JPEGS[(f.s - 1) % JPEGS.length]!)).toBe(0);
    offset += f.n;
  }
  expect(data.length).toBe(offset);
  expect(idx.trailer!.frames).toBe(idx.frames.length);
  return idx.frames;
}

let ffprobe: boolean | null = null;
export function hasFfprobe(): boolean {
  ffprobe ??= spawnSync("ffprobe", ["-version"]).status === 0;
  return ffprobe;
}

/** Frames ffprobe counts in an .mjpeg (ffprobe must be installed). */
export function ffprobeFrames(path: string): number {
  const r = spawnSync("ffprobe", [
    ...["-v", "error", "-count_frames", "-select_streams", "v:0"],
    ...["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", "-f", "mjpeg", path],
  ]);
  expect(r.stderr.toString()).toBe("");
  return Number(r.stdout.toString().trim());
}
