/**
 * Issue 11's acceptance on the bundled clip, first pass only: the SceneAnalyzer replays the CPU
 * model's person detections of every frame (test/fixtures/people_clip_detections.json, made by
 * scripts/clip-detections.ts at threshold 0.1) at 10 fps. A man stands with his feet near
 * (0.63, 0.85), walks out to the right (feet across x = 0.8 at frame 38-39, last seen at frame 42
 * with a low score), nobody until frame 106, then a woman walks in from the bottom and stays.
 * Also with only every 2nd and every 3rd frame having a result (a detector slower than the
 * camera). The loop's cut (frame 199 → frame 0) is never fed.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Box, Detection } from "../../src/shared/types.ts";
import { ActivityAggregator } from "../../src/track/activity.ts";
import { SceneAnalyzer, offsetDayKey, type SceneUpdate } from "../../src/track/scene.ts";
import type { Visit } from "../../src/track/visits.ts";
import type { Line, ZonesConfig } from "../../src/track/zones.ts";

interface ClipFrame {
  index: number;
  people: { score: number; box: Box }[];
}

const clip = JSON.parse(
  readFileSync(join(import.meta.dir, "../fixtures/people_clip_detections.json"), "utf8"),
) as { fps: number; threshold: number; frames: ClipFrame[] };

const T0 = Date.UTC(2024, 4, 31, 12, 0, 0);
const GAP_SEC = 5;
const down: Line = { name: "x80", a: [0.8, 0], b: [0.8, 1] };
const up: Line = { name: "x80", a: [0.8, 1], b: [0.8, 0] };
const rightMask = {
  name: "right",
  points: [
    [0.75, 0],
    [1, 0],
    [1, 1],
    [0.75, 1],
  ] as [number, number][],
};

interface Run {
  updates: SceneUpdate[];
  opened: Visit[];
  closed: { visit: Visit; atMs: number }[];
  directions: string[];
}

function replay(zones: ZonesConfig, every: number): Run {
  const s = new SceneAnalyzer({
    threshold: 0.5,
    visitGapSec: GAP_SEC,
    zones,
    dayKey: offsetDayKey(0),
  });
  const run: Run = { updates: [], opened: [], closed: [], directions: [] };
  for (const f of clip.frames) {
    if (f.index % every !== 0) continue;
    const dets: Detection[] = f.people.map((p) => ({ classId: 0, label: "person", ...p }));
    const u = s.update(dets, T0 + f.index * 100);
    run.updates.push(u);
    if (u.visit.opened) run.opened.push(u.visit.opened);
    if (u.visit.closed) run.closed.push({ visit: u.visit.closed, atMs: u.atMs });
    run.directions.push(...u.crossings.map((c) => c.direction));
  }
  return run;
}

const sec = (ms: number): number => (ms - T0) / 1000;

test("the fixture is the whole clip at a low threshold", () => {
  expect(clip.frames.map((f) => f.index)).toEqual([...Array(200).keys()]);
  expect(clip.threshold).toBeLessThanOrEqual(0.1);
});

describe.each([1, 2, 3])("the bundled clip with a result every %i frame(s)", (every) => {
  test("two visits: the man's closes visitGapSec after ~4.2 s, the woman's opens at 10.6 s", () => {
    const r = replay({ zones: [], masks: [], lines: [down] }, every);
    expect(r.opened).toHaveLength(2);
    expect(r.closed).toHaveLength(1);
    const [man] = r.closed.map((c) => c.visit);
    expect(man!.trackIds).toHaveLength(1);
    expect(man!.maxPeople).toBe(1);
    expect(sec(man!.startMs)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(sec(man!.endMs) - 4.2)).toBeLessThanOrEqual(0.3);
    const closedAfter = (r.closed[0]!.atMs - man!.endMs) / 1000;
    expect(closedAfter).toBeGreaterThanOrEqual(GAP_SEC);
    expect(closedAfter).toBeLessThanOrEqual(GAP_SEC + 0.1 * every);
    expect(man!.best?.uncut).toBe(true);
    const woman = r.opened[1]!;
    expect(Math.abs(sec(woman.startMs) - 10.6)).toBeLessThanOrEqual(1);
    expect(woman.trackIds).toHaveLength(1);
    expect(woman.trackIds[0]).not.toBe(man!.trackIds[0]);
    // The woman is tracked to the end as one person.
    const last = r.updates.at(-1)!;
    expect(last.tracks.map((t) => t.id)).toEqual(woman.trackIds);
    expect(last.visit.open?.id).toBe(woman.id);
  });

  test("a vertical line at x = 0.8 counts the man once; swapping a and b reverses it", () => {
    const r = replay({ zones: [], masks: [], lines: [down] }, every);
    expect(r.directions).toEqual(["out"]);
    expect(r.closed[0]!.visit.crossings).toEqual({ x80: { in: 0, out: 1 } });
    expect(r.updates.at(-1)!.lineTotals.lines).toEqual({ x80: { in: 0, out: 1 } });
    expect(replay({ zones: [], masks: [], lines: [up] }, every).directions).toEqual(["in"]);
  });

  test("with a mask over x ≥ 0.75 the line counts nothing and both visits remain", () => {
    const r = replay({ zones: [], masks: [rightMask], lines: [down] }, every);
    expect(r.directions).toEqual([]);
    expect(r.opened).toHaveLength(2);
    expect(r.closed).toHaveLength(1);
    expect(r.closed[0]!.visit.trackIds).toHaveLength(1);
    expect(Math.abs(sec(r.opened[1]!.startMs) - 10.6)).toBeLessThanOrEqual(1);
    expect(r.updates.some((u) => u.masked > 0)).toBe(true);
  });

  test("with a zone around the table, both visits name it; a zone elsewhere opens none", () => {
    const square = (x0: number, y0: number, x1: number, y1: number): [number, number][] => [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
    ];
    const table = { name: "table", points: square(0.55, 0.8, 0.75, 1) };
    const r = replay({ zones: [table], masks: [], lines: [] }, every);
    expect(r.opened.map((v) => v.zones)).toEqual([["table"], ["table"]]);
    expect(Math.abs(sec(r.closed[0]!.visit.endMs) - 3.7)).toBeLessThanOrEqual(0.3);
    expect(r.updates.at(-1)!.zonePeople).toEqual({ table: 1 });
    const door = { name: "door", points: square(0, 0, 0.3, 0.5) };
    expect(replay({ zones: [door], masks: [], lines: [] }, every).opened).toEqual([]);
  });

  test("activity: one minute, one person at most, the crossing, person-seconds of both", () => {
    const r = replay({ zones: [], masks: [], lines: [down] }, every);
    const a = new ActivityAggregator();
    for (const u of r.updates) expect(a.update(u)).toEqual([]);
    const [m] = a.flush();
    expect(m).toMatchObject({ minuteMs: T0, maxPeople: 1, lines: { x80: { in: 0, out: 1 } } });
    // The man from ~0.2 s until his track ends 2 s (lostSec) after he was last seen at 4.2 s,
    // the woman from ~10.8 s to the last result (19.9 s): about 6 + 9 person-seconds.
    expect(m!.personSec).toBeGreaterThan(14);
    expect(m!.personSec).toBeLessThan(16.5);
  });
});
