/** The SceneAnalyzer composed: masks, zones, lines, totals, visits, live zone changes. */
import { describe, expect, test } from "bun:test";
import type { Detection } from "../../src/shared/types.ts";
import { SceneAnalyzer, offsetDayKey, type SceneUpdate } from "../../src/track/scene.ts";
import type { ZonesConfig } from "../../src/track/zones.ts";

/** A person whose feet are at (fx, fy). */
function person(fx: number, fy: number, score = 0.9): Detection {
  return {
    classId: 0,
    label: "person",
    score,
    box: { ymin: fy - 0.3, xmin: fx - 0.05, ymax: fy, xmax: fx + 0.05 },
  };
}

const square = (x0: number, y0: number, x1: number, y1: number): [number, number][] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];

const zones: ZonesConfig = {
  zones: [
    { name: "door", points: square(0, 0.5, 0.4, 1) },
    { name: "yard", points: square(0.6, 0.5, 1, 1) },
  ],
  masks: [{ name: "tv", points: square(0.4, 0, 0.6, 0.4) }],
  lines: [{ name: "gate", a: [0.5, 0.45], b: [0.5, 1] }],
};

const DAY0 = Date.UTC(2024, 4, 31, 23, 59, 50);

/** Feeds `frames` results 100 ms apart from t0; returns every update. */
function feed(s: SceneAnalyzer, frames: Detection[][], t0 = DAY0): SceneUpdate[] {
  return frames.map((dets, i) => s.update(dets, t0 + i * 100));
}

const repeat = <T>(n: number, f: (i: number) => T): T[] =>
  Array.from({ length: n }, (_, i) => f(i));

describe("SceneAnalyzer", () => {
  test("a detection with its feet in a mask is ignored, everywhere", () => {
    const s = new SceneAnalyzer({ threshold: 0.5, zones, dayKey: offsetDayKey(0) });
    const tv = person(0.5, 0.35);
    const us = feed(
      s,
      repeat(10, () => [tv]),
    );
    expect(us.at(-1)).toMatchObject({ tracks: [], tentative: 0, people: 0, masked: 1 });
    expect(us.some((u) => u.visit.opened)).toBe(false);
    expect(s.cooldownPeople([tv, person(0.2, 0.9)])).toBe(1);
  });

  test("zones: people per zone, and only people in a zone open a visit", () => {
    const s = new SceneAnalyzer({ threshold: 0.5, zones, dayKey: offsetDayKey(0) });
    const onTv = person(0.5, 0.3); // feet in the tv mask
    let us = feed(
      s,
      repeat(5, () => [person(0.5, 0.48)]),
    );
    expect(us.at(-1)).toMatchObject({
      people: 1,
      peopleInZones: 0,
      zonePeople: { door: 0, yard: 0 },
    });
    expect(us.some((u) => u.visit.opened)).toBe(false);
    us = feed(
      s,
      repeat(5, () => [person(0.5, 0.48), person(0.2, 0.9)]),
      DAY0 + 500,
    );
    const last = us.at(-1)!;
    expect(last).toMatchObject({ people: 2, peopleInZones: 1, zonePeople: { door: 1, yard: 0 } });
    expect(last.tracks.map((t) => [t.id, t.zones, t.inZone])).toEqual([
      [1, [], false],
      [2, ["door"], true],
    ]);
    const opened = us.find((u) => u.visit.opened)!.visit.opened!;
    // Opened when track 2 confirmed (third result), started when its feet entered the zone.
    expect([opened.startMs - DAY0, opened.trackIds, opened.zones]).toEqual([500, [2], ["door"]]);
    expect(s.cooldownPeople([onTv, person(0.2, 0.9), person(0.8, 0.9, 0.4)])).toBe(1);
  });

  test("no zones: the whole picture is the zone, as today", () => {
    const s = new SceneAnalyzer({ threshold: 0.5, dayKey: offsetDayKey(0) });
    const us = feed(
      s,
      repeat(4, (i) => [person(0.5, 0.3 + 0.01 * i)]),
    );
    expect(us.map((u) => !!u.visit.opened)).toEqual([false, false, true, false]);
    expect(us[2]!.visit.opened!.startMs).toBe(DAY0);
    expect(us[3]).toMatchObject({ people: 1, peopleInZones: 1, zonePeople: {} });
    expect(s.cooldownPeople([person(0.5, 0.3), person(0.1, 0.3, 0.3)])).toBe(1);
  });

  test("the detector must run at lowScore: max(0.1, threshold / 2) unless given", () => {
    expect(new SceneAnalyzer({ threshold: 0.5 }).lowScore).toBe(0.25);
    expect(new SceneAnalyzer({ threshold: 0.15 }).lowScore).toBe(0.1);
    expect(new SceneAnalyzer({ threshold: 0.6, lowScore: 0.2 }).lowScore).toBe(0.2);
  });

  test("line totals since local midnight restart with the day", () => {
    const s = new SceneAnalyzer({
      threshold: 0.5,
      zones,
      dayKey: offsetDayKey(0),
      lineTotals: { day: "2024-05-31", lines: { gate: { in: 4, out: 7 }, old: { in: 1, out: 1 } } },
    });
    // Walk right to left across the gate, 5 s before midnight UTC: `in` (a→b runs downwards).
    const walk = (x0: number, dx: number): Detection[][] =>
      repeat(30, (i) => [person(x0 + dx * i, 0.8)]);
    let us = feed(s, walk(0.8, -0.02), DAY0);
    expect(us.flatMap((u) => u.crossings.map((c) => c.direction))).toEqual(["in"]);
    expect(us.at(-1)!.lineTotals).toEqual({
      day: "2024-05-31",
      lines: { gate: { in: 5, out: 7 } },
    });
    us = feed(s, walk(0.22, 0.02), DAY0 + 10_000);
    expect(us.at(-1)!.lineTotals).toEqual({
      day: "2024-06-01",
      lines: { gate: { in: 0, out: 1 } },
    });
  });

  test("setZones applies live: ids go on, counts of unchanged lines go on", () => {
    const s = new SceneAnalyzer({ threshold: 0.5, zones, dayKey: offsetDayKey(0) });
    let us = feed(
      s,
      repeat(30, (i) => [person(0.2 + 0.02 * i, 0.8)]),
    );
    expect(us.at(-1)!.lineTotals.lines).toEqual({ gate: { in: 0, out: 1 } });
    const id = us.at(-1)!.tracks[0]!.id;
    s.setZones({
      zones: [{ name: "all", points: square(0, 0, 1, 1) }],
      masks: [],
      lines: [zones.lines[0]!, { name: "new", a: [0.1, 0.2], b: [0.9, 0.2] }],
    });
    us = feed(
      s,
      repeat(3, () => [person(0.78, 0.8)]),
      DAY0 + 3000,
    );
    expect(us.at(-1)).toMatchObject({ zonePeople: { all: 1 }, peopleInZones: 1 });
    expect(us.at(-1)!.tracks.map((t) => t.id)).toEqual([id]);
    expect(us.at(-1)!.lineTotals.lines).toEqual({
      gate: { in: 0, out: 1 },
      new: { in: 0, out: 0 },
    });
  });

  test("ended tracks are reported once; a clock step back ends all and closes the visit", () => {
    const s = new SceneAnalyzer({ threshold: 0.5, lostSec: 1, dayKey: offsetDayKey(0) });
    feed(
      s,
      repeat(5, () => [person(0.5, 0.5)]),
    );
    let us = feed(
      s,
      repeat(15, () => []),
      DAY0 + 500,
    );
    expect(us.flatMap((u) => u.ended.map((t) => t.id))).toEqual([1]);
    feed(
      s,
      repeat(5, () => [person(0.5, 0.5)]),
      DAY0 + 2000,
    );
    const u = s.update([person(0.5, 0.5)], DAY0 - 60_000);
    expect(u.ended.map((t) => t.id)).toEqual([2]);
    expect(u.visit.closed?.endMs).toBe(DAY0 + 2400);
    expect(u.tracks).toEqual([]);
    expect(u.tentative).toBe(1);
    us = feed(
      s,
      repeat(3, () => [person(0.5, 0.5)]),
      DAY0 - 59_900,
    );
    expect(us.at(-1)!.tracks.map((t) => t.id)).toEqual([3]);
    expect(s.flush().ended.map((t) => t.id)).toEqual([3]);
  });
});
