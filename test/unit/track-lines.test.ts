/** Counting lines: hysteresis, direction, the segment's extent, held crossings. */
import { describe, expect, test } from "bun:test";
import type { Point } from "../../src/track/geometry.ts";
import { LineCounter, type LineCrossing } from "../../src/track/lines.ts";
import type { Line } from "../../src/track/zones.ts";

/** A vertical line at x = 0.5 drawn top to bottom: `in` is walking from right to left. */
const down: Line = { name: "door", a: [0.5, 0.1], b: [0.5, 0.9] };
const up: Line = { name: "door", a: [0.5, 0.9], b: [0.5, 0.1] };

/** Feeds a walk (feet points, one per 100 ms) for track 1; returns every crossing. */
function walk(
  counter: LineCounter,
  points: Point[],
  trackId = 1,
  confirmed = true,
): LineCrossing[] {
  return points.flatMap((p, i) => counter.update(trackId, p, i * 100, confirmed));
}

/** x from x0 to x1 in steps of 0.01 at height y. */
function xs(x0: number, x1: number, y = 0.5): Point[] {
  const n = Math.round(Math.abs(x1 - x0) / 0.01);
  return Array.from({ length: n + 1 }, (_, i) => [x0 + ((x1 - x0) * i) / n, y] as Point);
}

describe("LineCounter", () => {
  test("one crossing counts once, in the documented direction", () => {
    // Clearly across (more than the 0.02 deadband) at x 0.525, the 23rd point.
    expect(walk(new LineCounter([down]), xs(0.305, 0.705))).toEqual([
      { line: "door", trackId: 1, direction: "out", atMs: 2200 },
    ]);
    expect(walk(new LineCounter([down]), xs(0.7, 0.3)).map((c) => c.direction)).toEqual(["in"]);
  });

  test("swapping a and b reverses the direction", () => {
    expect(walk(new LineCounter([up]), xs(0.3, 0.7)).map((c) => c.direction)).toEqual(["in"]);
  });

  test("walking back counts the other way", () => {
    const c = new LineCounter([down]);
    const path = [...xs(0.3, 0.7), ...xs(0.7, 0.3), ...xs(0.3, 0.7)];
    expect(walk(c, path).map((x) => x.direction)).toEqual(["out", "in", "out"]);
  });

  test("jitter on the line counts nothing", () => {
    const c = new LineCounter([down]);
    const path: Point[] = [...xs(0.3, 0.49)];
    for (let i = 0; i < 60; i++) path.push([0.5 + (i % 2 ? 0.018 : -0.018), 0.5 + 0.001 * i]);
    expect(walk(c, path)).toEqual([]);
    // Then really across: once.
    expect(walk(c, xs(0.5, 0.6)).map((x) => x.direction)).toEqual(["out"]);
  });

  test("only crossings of the segment count, not of its extension", () => {
    expect(walk(new LineCounter([down]), xs(0.3, 0.7, 0.95))).toEqual([]);
    expect(walk(new LineCounter([down]), xs(0.3, 0.7, 0.05))).toEqual([]);
    // Round the end and back through the segment: only the second crossing counts.
    const c = new LineCounter([down]);
    const path = [...xs(0.3, 0.7, 0.95), ...xs(0.7, 0.3, 0.5)];
    expect(walk(c, path).map((x) => x.direction)).toEqual(["in"]);
  });

  test("a big step across (slow results) still counts", () => {
    expect(
      walk(new LineCounter([down]), [
        [0.3, 0.5],
        [0.7, 0.55],
      ]).length,
    ).toBe(1);
  });

  test("a track that ends on the line counts nothing, and is forgotten", () => {
    const c = new LineCounter([down]);
    expect(walk(c, [...xs(0.3, 0.49), [0.505, 0.5], [0.51, 0.5]])).toEqual([]);
    c.endTrack(1);
    expect(c.trackCount).toBe(0);
    // Seen first on the line and leaving it: no side before, nothing counted.
    expect(walk(c, [[0.5, 0.5], ...xs(0.5, 0.7)], 2)).toEqual([]);
  });

  test("crossings of an unconfirmed track are held until it confirms, with their times", () => {
    const c = new LineCounter([down]);
    expect(walk(c, xs(0.455, 0.605), 7, false)).toEqual([]);
    expect(c.update(7, [0.61, 0.5], 5000, true)).toEqual([
      { line: "door", trackId: 7, direction: "out", atMs: 700 },
    ]);
    // A track that ends unconfirmed never counts.
    expect(walk(c, xs(0.45, 0.6), 8, false)).toEqual([]);
    c.endTrack(8);
    expect(c.update(8, [0.3, 0.5], 9000, true)).toEqual([]);
  });

  test("setLines keeps the sides of unchanged lines and forgets moved ones", () => {
    const other: Line = { name: "gate", a: [0.2, 0.5], b: [0.8, 0.5] };
    const c = new LineCounter([down, other]);
    walk(c, xs(0.3, 0.45));
    c.setLines([down, { ...other, a: [0.2, 0.6] }]);
    expect(c.update(1, [0.6, 0.5], 2000, true).map((x) => x.line)).toEqual(["door"]);
    c.setLines([{ ...down, a: [0.5, 0] }]);
    expect(c.update(1, [0.3, 0.5], 3000, true)).toEqual([]);
  });
});
