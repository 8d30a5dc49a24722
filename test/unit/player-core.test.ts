/**
 * The clip player's pure logic (src/http/client/player-core.js), evaluated as the browser does
 * (the script's text, one global): the index read in pieces as it streams in and cut where a
 * crash cut it, the zones in force per frame, where a time or a frame is across the consecutive
 * parts of a long visit, frame steps, the playback clock at each speed, the byte ranges fetched
 * ahead, and what is drawn of an overlay. Hand-written data, no DOM.
 */
import { describe, expect, test } from "bun:test";
import { frameLine, headerLine, trailerLine } from "../../src/clips/format.ts";
import { PLAYER_CORE_JS } from "../../src/http/client/player.ts";

interface Frame {
  o: number;
  n: number;
  t: number;
  s: number;
  d: unknown;
  z?: unknown;
  zs: unknown;
}
interface Part {
  start: number;
  end: number;
  count: number;
  frames: Frame[];
  complete: boolean;
}
interface Pos {
  p: number;
  i: number;
}
interface Reader {
  header: { startMs: number } | null;
  frames: Frame[];
  trailer: { end: string } | null;
  done: boolean;
  push(text: string): number;
}
interface Clock {
  playing: boolean;
  speed: number;
  now(wall: number): number;
  set(t: number, wall: number): void;
  play(wall: number): void;
  pause(wall: number): void;
  setSpeed(s: number, wall: number): void;
}
interface Batch {
  a: number;
  b: number;
  start: number;
  end: number;
  range: string;
}
interface Core {
  SPEEDS: number[];
  IndexReader: new () => Reader;
  parseIndexText(text: string): Reader;
  total(parts: Part[]): number;
  toGlobal(parts: Part[], pos: Pos): number;
  fromGlobal(parts: Part[], g: number): Pos;
  frameAt(frames: Frame[], t: number): number;
  locate(parts: Part[], t: number): Pos;
  step(parts: Part[], pos: Pos, delta: number): Pos;
  timeOf(parts: Part[], pos: Pos): number | null;
  isLast(parts: Part[], pos: Pos): boolean;
  Clock: new () => Clock;
  nextBatch(
    frames: Frame[],
    from: number,
    to: number,
    has: (i: number) => boolean,
    maxFrames: number,
    maxBytes: number,
  ): Batch | null;
  slices(
    frames: Frame[],
    a: number,
    b: number,
    base: number,
  ): { i: number; start: number; end: number }[];
  boxesOf(d: unknown): { kind: string; box: number[]; label: string }[];
  zoneNames(z: unknown): string[];
  fmtClip(ms: number): string;
}

const core = new Function(`${PLAYER_CORE_JS}\nreturn hazardcamClipCore;`)() as Core;

const T0 = 1_714_557_600_000;
const DOOR = {
  zones: [
    {
      name: "door",
      points: [
        [0, 0],
        [1, 0],
        [1, 1],
      ],
    },
  ],
  masks: [],
  lines: [],
};
const GATE = { ...DOOR, lines: [{ name: "gate", a: [0.8, 0], b: [0.8, 1] }] };

/** An index of `n` frames of 1000 bytes at 10 fps from `t0`; zones given per frame number. */
function indexText(
  n: number,
  t0 = T0,
  zones: Record<number, unknown> = {},
  trailer = true,
): string {
  let text = headerLine({ visitId: 1, visitStartMs: t0 + 3000, part: 1, startMs: t0 });
  for (let i = 0; i < n; i++) {
    text += frameLine({
      o: i * 1000,
      n: 1000,
      t: t0 + i * 100,
      s: i + 1,
      d: { r: i, det: [] },
      z: zones[i],
    });
  }
  if (trailer) {
    text += trailerLine({
      end: "complete",
      frames: n,
      bytes: n * 1000,
      endMs: t0 + (n - 1) * 100,
      reason: "post-roll",
    });
  }
  return text;
}

function part(n: number, t0 = T0): Part {
  const frames = core.parseIndexText(indexText(n, t0)).frames;
  return { start: t0, end: t0 + (n - 1) * 100, count: n, frames, complete: true };
}

describe("the index, read as it streams in", () => {
  test("in pieces of any size, split anywhere (even inside a line)", () => {
    const text = indexText(30, T0, { 0: DOOR });
    for (const size of [1, 7, 100, 4096]) {
      const r = new core.IndexReader();
      let added = 0;
      for (let k = 0; k < text.length; k += size) added += r.push(text.slice(k, k + size));
      expect(added).toBe(30);
      expect(r.frames.map((f) => f.t)).toEqual(Array.from({ length: 30 }, (_, i) => T0 + i * 100));
      expect(r.trailer).toMatchObject({ end: "complete" });
      expect(r.done).toBe(true);
    }
  });

  test("frames are usable before the rest arrives; a last line without its newline waits", () => {
    const text = indexText(5);
    const lines = text.split("\n");
    const r = new core.IndexReader();
    expect(r.push(lines.slice(0, 3).join("\n"))).toBe(1); // header, frame 0, half of frame 1
    expect(r.frames).toHaveLength(1);
    expect(r.push("\n")).toBe(1);
    expect(r.frames).toHaveLength(2);
  });

  test("stops where a crash cut it: torn, unparsable or non-contiguous lines end it", () => {
    const text = indexText(5, T0, {}, false);
    const lines = text.split("\n");
    // A torn line followed by nothing: 4 whole frames.
    expect(core.parseIndexText(text.slice(0, -20)).frames).toHaveLength(4);
    // Garbage in the middle ends it there.
    const bad = [...lines.slice(0, 3), "{oops", ...lines.slice(3)].join("\n");
    expect(core.parseIndexText(bad).frames).toHaveLength(2);
    // A frame that does not follow the one before (offset) ends it.
    const gap = [lines[0], lines[1], lines[3], lines[2]].join("\n") + "\n";
    expect(core.parseIndexText(gap).frames).toHaveLength(1);
    // No header, no frames.
    expect(core.parseIndexText(lines.slice(1).join("\n")).frames).toHaveLength(0);
  });

  test("each frame knows the zones in force: the last z so far; none in an old index", () => {
    const r = core.parseIndexText(indexText(6, T0, { 0: DOOR, 3: GATE }));
    expect(r.frames.map((f) => f.zs)).toEqual([DOOR, DOOR, DOOR, GATE, GATE, GATE]);
    expect(core.parseIndexText(indexText(3)).frames.map((f) => f.zs)).toEqual([null, null, null]);
    expect(core.zoneNames(GATE)).toEqual(["door", "gate"]);
    expect(core.zoneNames(null)).toEqual([]);
  });
});

describe("positions across the parts of a long visit", () => {
  // Part 1: 10 frames at T0..T0+900; part 2: 5 frames from T0+1000.
  const parts = [part(10), part(5, T0 + 1000)];

  test("global frame numbers count across parts, clamped at both ends", () => {
    expect(core.total(parts)).toBe(15);
    expect(core.toGlobal(parts, { p: 1, i: 2 })).toBe(12);
    expect(core.fromGlobal(parts, 12)).toEqual({ p: 1, i: 2 });
    expect(core.fromGlobal(parts, 9)).toEqual({ p: 0, i: 9 });
    expect(core.fromGlobal(parts, 10)).toEqual({ p: 1, i: 0 });
    expect(core.fromGlobal(parts, -3)).toEqual({ p: 0, i: 0 });
    expect(core.fromGlobal(parts, 99)).toEqual({ p: 1, i: 4 });
  });

  test("a part whose index is not read yet counts the frames the server said", () => {
    const later: Part = { start: T0 + 1000, end: T0 + 1400, count: 5, frames: [], complete: false };
    expect(core.total([parts[0]!, later])).toBe(15);
    expect(core.fromGlobal([parts[0]!, later], 12)).toEqual({ p: 1, i: 2 });
    expect(core.timeOf([parts[0]!, later], { p: 1, i: 2 })).toBeNull();
  });

  test("the frame shown at a time is the last one shot by then", () => {
    expect(core.locate(parts, T0 - 50)).toEqual({ p: 0, i: 0 });
    expect(core.locate(parts, T0 + 250)).toEqual({ p: 0, i: 2 });
    expect(core.locate(parts, T0 + 300)).toEqual({ p: 0, i: 3 });
    expect(core.locate(parts, T0 + 1000)).toEqual({ p: 1, i: 0 });
    expect(core.locate(parts, T0 + 99_000)).toEqual({ p: 1, i: 4 });
    // Irregular times (a dropped frame): still the last one shot by then.
    const frames = [0, 100, 400, 500].map((dt, i) => ({ t: T0 + dt, o: i, n: 1 }) as Frame);
    expect([350, 399, 400, 450].map((dt) => core.frameAt(frames, T0 + dt))).toEqual([1, 1, 2, 2]);
  });

  test("a frame step crosses into the next part and back, and stops at the ends", () => {
    expect(core.step(parts, { p: 0, i: 9 }, 1)).toEqual({ p: 1, i: 0 });
    expect(core.step(parts, { p: 1, i: 0 }, -1)).toEqual({ p: 0, i: 9 });
    expect(core.step(parts, { p: 0, i: 0 }, -1)).toEqual({ p: 0, i: 0 });
    expect(core.step(parts, { p: 1, i: 4 }, 1)).toEqual({ p: 1, i: 4 });
    expect(core.isLast(parts, { p: 1, i: 4 })).toBe(true);
    expect(core.isLast(parts, { p: 0, i: 9 })).toBe(false);
  });
});

describe("the playback clock", () => {
  test("runs at the chosen speed from where it was set; paused it stays", () => {
    const c = new core.Clock();
    c.set(T0, 1000);
    expect(c.now(5000)).toBe(T0);
    c.play(1000);
    expect(c.now(1500)).toBe(T0 + 500);
    c.setSpeed(2, 1500);
    expect(c.now(2000)).toBe(T0 + 1500);
    c.setSpeed(0.5, 2000);
    expect(c.now(3000)).toBe(T0 + 2000);
    c.pause(3000);
    expect(c.now(9000)).toBe(T0 + 2000);
    c.setSpeed(4, 9000);
    c.play(10_000);
    expect(c.now(10_250)).toBe(T0 + 3000);
    expect(core.SPEEDS).toEqual([0.5, 1, 2, 4]);
  });
});

describe("fetching ahead by byte ranges", () => {
  const frames = part(20).frames;

  test("consecutive frames not had yet, in one range, at most so many frames and bytes", () => {
    const none = () => false;
    expect(core.nextBatch(frames, 0, 7, none, 6, 1e6)).toEqual({
      a: 0,
      b: 5,
      start: 0,
      end: 5999,
      range: "bytes=0-5999",
    });
    expect(core.nextBatch(frames, 4, 7, none, 6, 1e6)).toMatchObject({
      a: 4,
      b: 7,
      range: "bytes=4000-7999",
    });
    // The byte budget caps it (the first frame always goes).
    expect(core.nextBatch(frames, 0, 19, none, 6, 2500)).toMatchObject({ a: 0, b: 1 });
    expect(core.nextBatch(frames, 0, 19, none, 6, 10)).toMatchObject({ a: 0, b: 0 });
  });

  test("skips what is had or on its way, stops before the next one had, null when all are", () => {
    const had = new Set([0, 1, 4]);
    const has = (i: number) => had.has(i);
    expect(core.nextBatch(frames, 0, 10, has, 6, 1e6)).toMatchObject({ a: 2, b: 3 });
    had.add(2).add(3);
    expect(core.nextBatch(frames, 0, 10, has, 6, 1e6)).toMatchObject({ a: 5, b: 10 });
    expect(core.nextBatch(frames, 0, 4, has, 6, 1e6)).toBeNull();
    // Past the last frame: nothing.
    expect(core.nextBatch(frames, 20, 30, () => false, 6, 1e6)).toBeNull();
  });

  test("each frame's bytes in the body: from the range's start, or the whole file", () => {
    expect(core.slices(frames, 4, 6, 4000)).toEqual([
      { i: 4, start: 0, end: 1000 },
      { i: 5, start: 1000, end: 2000 },
      { i: 6, start: 2000, end: 3000 },
    ]);
    expect(core.slices(frames, 4, 4, 0)).toEqual([{ i: 4, start: 4000, end: 5000 }]);
  });
});

describe("the overlay drawn", () => {
  test("confirmed tracks with their ids, then the detections with their scores", () => {
    const d = {
      r: 3,
      det: [{ label: "person", score: 0.874, box: [0.1, 0.2, 0.9, 0.5] }],
      tracks: [{ id: 7, score: 0.9, box: [0.1, 0.2, 0.9, 0.5], zones: ["door"] }],
    };
    expect(core.boxesOf(d)).toEqual([
      { kind: "track", box: [0.1, 0.2, 0.9, 0.5], label: "#7" },
      { kind: "det", box: [0.1, 0.2, 0.9, 0.5], label: "person 87%" },
    ]);
    expect(core.boxesOf({ r: 1, det: [] })).toEqual([]);
    expect(core.boxesOf(null)).toEqual([]);
    expect(core.boxesOf({ people: 1 })).toEqual([]);
  });

  test("clip times as m:ss.t", () => {
    expect(core.fmtClip(0)).toBe("0:00.0");
    expect(core.fmtClip(3250)).toBe("0:03.2");
    expect(core.fmtClip(65_300)).toBe("1:05.3");
    expect(core.fmtClip(-5)).toBe("0:00.0");
  });
});
