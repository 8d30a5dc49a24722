/** Visit rules from hand-written track timelines (times in ms, results every 100 ms). */
import { describe, expect, test } from "bun:test";
import type { Box } from "../../src/shared/types.ts";
import type { LineCrossing } from "../../src/track/lines.ts";
import {
  VisitTracker,
  type Visit,
  type VisitTrack,
  type VisitUpdate,
} from "../../src/track/visits.ts";

const BOX: Box = { ymin: 0.2, xmin: 0.4, ymax: 0.8, xmax: 0.6 };

function tr(id: number, over: Partial<VisitTrack> = {}): VisitTrack {
  return {
    id,
    box: BOX,
    score: 0.9,
    matched: true,
    inZone: true,
    zones: [],
    inZoneSinceMs: 0,
    ...over,
  };
}

/** Who is there at time t (ms). */
type Timeline = (t: number) => VisitTrack[];

/** Runs a timeline from 0 to endMs every 100 ms; returns every update with its time. */
function run(v: VisitTracker, timeline: Timeline, endMs: number): (VisitUpdate & { t: number })[] {
  const out: (VisitUpdate & { t: number })[] = [];
  for (let t = 0; t <= endMs; t += 100) out.push({ ...v.update(t, timeline(t)), t });
  return out;
}

const opened = (us: VisitUpdate[]): Visit[] => us.flatMap((u) => (u.opened ? [u.opened] : []));
const closed = (us: (VisitUpdate & { t: number })[]): (Visit & { at: number })[] =>
  us.flatMap((u) => (u.closed ? [{ ...u.closed, at: u.t }] : []));

const between = (t: number, from: number, to: number): boolean => t >= from && t < to;

describe("VisitTracker", () => {
  test("a gap shorter than visitGapSec: one visit, closed visitGapSec after the last time in", () => {
    const us = run(
      new VisitTracker({ visitGapSec: 5 }),
      (t) =>
        between(t, 1000, 3000) || between(t, 6000, 8000) ? [tr(1, { inZoneSinceMs: 1000 })] : [],
      20_000,
    );
    expect(opened(us).map((v) => [v.id, v.startMs])).toEqual([[1, 1000]]);
    expect(closed(us).map((v) => [v.id, v.startMs, v.endMs, v.at, v.trackIds])).toEqual([
      [1, 1000, 7900, 12_900, [1]],
    ]);
  });

  test("a gap longer than visitGapSec: two visits", () => {
    const v = new VisitTracker({ visitGapSec: 5, firstVisitId: 10 });
    const us = run(
      v,
      (t) =>
        between(t, 0, 2000)
          ? [tr(1, { inZoneSinceMs: 0 })]
          : between(t, 9000, 10_000)
            ? [tr(2, { inZoneSinceMs: 8800 })]
            : [],
      12_000,
    );
    expect(opened(us).map((x) => [x.id, x.startMs, x.trackIds])).toEqual([
      [10, 0, [1]],
      [11, 8800, [2]],
    ]);
    expect(closed(us).map((x) => [x.id, x.endMs, x.at])).toEqual([[10, 1900, 6900]]);
    expect(v.open?.endMs).toBe(9900);
    expect(v.flush()?.id).toBe(11);
    expect(v.open).toBeNull();
  });

  test("two people overlapping in time: one visit, both tracks, two at once", () => {
    const us = run(
      new VisitTracker(),
      (t) => [
        ...(between(t, 0, 6000) ? [tr(1)] : []),
        ...(between(t, 4000, 10_000) ? [tr(2, { inZoneSinceMs: 4000 })] : []),
      ],
      16_000,
    );
    expect(closed(us).map((v) => [v.startMs, v.endMs, v.trackIds, v.maxPeople])).toEqual([
      [0, 9900, [1, 2], 2],
    ]);
  });

  test("with zones: people outside every zone open nothing; zones are listed in order", () => {
    const street = (t: number): VisitTrack[] => [
      tr(1, { inZone: false, inZoneSinceMs: null }),
      ...(t >= 3000 && t < 5000 ? [tr(2, { zones: ["path", "door"], inZoneSinceMs: 3000 })] : []),
    ];
    const us = run(new VisitTracker(), street, 4000);
    expect(opened(us).map((v) => [v.startMs, v.zones, v.trackIds, v.maxPeople])).toEqual([
      [3000, ["path", "door"], [2], 1],
    ]);
    expect(us.at(-1)!.open).toMatchObject({ endMs: 4000, trackIds: [2], maxPeople: 1 });
  });

  test("a coasting track neither opens nor extends a visit, but counts as present", () => {
    const v = new VisitTracker();
    expect(v.update(0, [tr(1, { matched: false })]).opened).toBeNull();
    v.update(100, [tr(1)]);
    const u = v.update(200, [tr(1, { matched: false }), tr(2)]);
    expect(u.open).toMatchObject({ endMs: 200, maxPeople: 2 });
    expect(v.update(5300, [tr(1, { matched: false })]).closed?.endMs).toBe(200);
  });

  test("a result after a long stall closes the old visit and opens a new one", () => {
    const v = new VisitTracker();
    v.update(0, [tr(1)]);
    const u = v.update(30_000, [tr(2, { inZoneSinceMs: 30_000 })]);
    expect(u.closed?.endMs).toBe(0);
    expect(u.opened).toMatchObject({ id: 2, startMs: 30_000, trackIds: [2] });
  });

  test("tick closes by time alone", () => {
    const v = new VisitTracker({ visitGapSec: 2 });
    v.update(0, [tr(1)]);
    expect(v.tick(1999)).toBeNull();
    expect(v.tick(2000)?.endMs).toBe(0);
  });

  test("line crossings count while the visit is open", () => {
    const v = new VisitTracker();
    const x = (direction: "in" | "out", line = "gate"): LineCrossing => ({
      line,
      trackId: 1,
      direction,
      atMs: 0,
    });
    v.update(0, [], [x("in")]);
    v.update(100, [tr(1)], [x("in"), x("out", "door")]);
    const u = v.update(200, [], [x("out")]);
    expect(u.open?.crossings).toEqual({ gate: { in: 1, out: 1 }, door: { in: 0, out: 1 } });
  });

  test("the best snapshot: the largest best-scoring uncut box; cut boxes only until then", () => {
    const v = new VisitTracker();
    const cut: Box = { ymin: 0.1, xmin: 0.7, ymax: 1, xmax: 1 };
    const small: Box = { ymin: 0.4, xmin: 0.4, ymax: 0.7, xmax: 0.5 };
    const big: Box = { ymin: 0.2, xmin: 0.3, ymax: 0.9, xmax: 0.6 };
    const steps: [VisitTrack[], boolean][] = [
      [[tr(1, { box: cut })], true],
      [[tr(1, { box: small })], true], // uncut beats any cut
      [[tr(1, { box: cut, score: 0.99 })], false],
      [[tr(1, { box: big, score: 0.6 }), tr(2, { box: small, score: 0.8 })], false], // best score is the small one
      [[tr(1, { box: big })], true],
      [[tr(1, { box: small })], false],
      [[tr(1, { box: big, matched: false })], false],
    ];
    steps.forEach(([tracks, best], i) => {
      const u = v.update(i * 100, tracks);
      expect([i, u.newBest]).toEqual([i, best]);
    });
    expect(v.open?.best).toMatchObject({ atMs: 400, trackId: 1, box: big, uncut: true });
  });

  test("returned visits are copies", () => {
    const v = new VisitTracker();
    const u = v.update(0, [tr(1)]);
    u.open!.trackIds.push(99);
    expect(v.open?.trackIds).toEqual([1]);
  });
});
