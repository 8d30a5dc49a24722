/** The tracker on hand-written box sequences (normalized boxes, times in ms). */
import { describe, expect, test } from "bun:test";
import type { Box, Detection } from "../../src/shared/types.ts";
import { Tracker, type TrackState, type TrackerUpdate } from "../../src/track/tracker.ts";

/** A person box by centre and size. */
function box(cx: number, cy: number, w = 0.12, h = 0.4): Box {
  return { ymin: cy - h / 2, xmin: cx - w / 2, ymax: cy + h / 2, xmax: cx + w / 2 };
}

function det(b: Box, score = 0.9): Detection {
  return { classId: 0, label: "person", score, box: b };
}

const cx = (t: TrackState): number => (t.box.xmin + t.box.xmax) / 2;
const confirmed = (u: TrackerUpdate): TrackState[] => u.tracks.filter((t) => t.confirmed);

describe("Tracker", () => {
  test("two people crossing keep their ids, also when they merge into one box", () => {
    for (const merge of [false, true]) {
      const tr = new Tracker({ threshold: 0.5 });
      // A walks left to right, B (a little shorter) right to left, on one level. 10 results/s.
      const ids = new Map<string, number>();
      for (let i = 0; i <= 16; i++) {
        const a = box(0.1 + 0.05 * i, 0.5);
        const b = box(0.9 - 0.05 * i, 0.5, 0.12, 0.38);
        const atCrossing = i === 8;
        const dets = merge && atCrossing ? [det(a)] : [det(a), det(b)];
        const u = tr.update(dets, i * 100);
        expect(u.ended).toEqual([]);
        if (i < 3) continue;
        for (const t of confirmed(u)) {
          if (!t.matched) continue;
          // The track nearer A's true position must always carry A's id (and B's likewise).
          const who =
            Math.abs(cx(t) - (0.1 + 0.05 * i)) < Math.abs(cx(t) - (0.9 - 0.05 * i)) ? "A" : "B";
          if (atCrossing) continue; // both at x 0.5: either reading is right
          if (!ids.has(who)) ids.set(who, t.id);
          expect(t.id).toBe(ids.get(who)!);
        }
      }
      expect(ids.size).toBe(2);
    }
  });

  test("a person hidden for 5 results keeps the id and coasts on the prediction", () => {
    const tr = new Tracker({ threshold: 0.5 });
    let id = 0;
    for (let i = 0; i < 25; i++) {
      const hidden = i >= 10 && i < 15;
      const u = tr.update(hidden ? [] : [det(box(0.2 + 0.01 * i, 0.5))], i * 100);
      expect(u.ended).toEqual([]);
      expect(u.tracks).toHaveLength(1);
      const t = u.tracks[0]!;
      if (i === 3) id = t.id;
      if (i >= 3) expect(t.id).toBe(id);
      expect(t.matched).toBe(!hidden);
      // While hidden the box moves on with the walk (0.1 per second).
      if (hidden) expect(cx(t)).toBeCloseTo(0.2 + 0.01 * i, 2);
    }
  });

  test("two people side by side, jittering, are two tracks for good", () => {
    const tr = new Tracker({ threshold: 0.5 });
    const seen = new Set<number>();
    let jitter = 0.004;
    for (let i = 0; i < 40; i++) {
      jitter = -jitter;
      const u = tr.update(
        [det(box(0.4 + jitter, 0.5, 0.13)), det(box(0.52 - jitter, 0.5 + jitter, 0.13), 0.7)],
        i * 66,
      );
      expect(u.ended).toEqual([]);
      for (const t of u.tracks) seen.add(t.id);
      if (i >= 2) expect(confirmed(u).map((t) => t.matched)).toEqual([true, true]);
    }
    expect([...seen]).toEqual([1, 2]);
  });

  test("a one-result false positive is never confirmed and ends at the next result", () => {
    const tr = new Tracker({ threshold: 0.5 });
    const fp = box(0.8, 0.3, 0.1, 0.2);
    for (let i = 0; i < 10; i++) {
      const dets = [det(box(0.3, 0.5))];
      if (i === 4) dets.push(det(fp, 0.95));
      const u = tr.update(dets, i * 100);
      if (i === 4) expect(u.tracks.find((t) => t.id === 2)?.confirmed).toBe(false);
      if (i === 5) expect(u.ended.map((t) => [t.id, t.confirmed])).toEqual([[2, false]]);
      else expect(u.ended).toEqual([]);
      expect(confirmed(u).every((t) => t.id === 1)).toBe(true);
    }
  });

  test("low scores never start a track", () => {
    const tr = new Tracker({ threshold: 0.5 });
    for (let i = 0; i < 10; i++)
      expect(tr.update([det(box(0.3, 0.5), 0.4)], i * 100).tracks).toEqual([]);
  });

  test("a score jittering around the threshold: one track, matched every result", () => {
    const tr = new Tracker({ threshold: 0.5 });
    const scores = [0.55, 0.45, 0.52, 0.44, 0.58, 0.3, 0.49, 0.51, 0.47, 0.6];
    for (let i = 0; i < 60; i++) {
      const j = (i % 3) * 0.003;
      const u = tr.update([det(box(0.5 + j, 0.5 - j), scores[i % scores.length]!)], i * 100);
      expect(u.ended).toEqual([]);
      expect(u.tracks.map((t) => [t.id, t.matched])).toEqual([[1, true]]);
      // Confirmed at the third result at or above the threshold (i = 4), never before.
      expect(u.tracks[0]!.confirmed).toBe(i >= 4);
    }
  });

  test("irregular time steps: a fast walker is followed through the velocity in time", () => {
    const tr = new Tracker({ threshold: 0.5 });
    // 0.5 picture widths per second with 0.1-wide boxes: after 300 ms the new box does not
    // overlap the old one at all, only the time-based prediction finds it.
    const steps = [0, 40, 80, 120, 160, 460, 500, 800, 833, 1033, 1433, 1466];
    for (const t of steps) {
      const u = tr.update([det(box(0.1 + 0.0005 * t, 0.5, 0.1, 0.3))], t);
      expect(u.tracks.map((x) => x.id)).toEqual([1]);
      expect(u.tracks[0]!.matched).toBe(true);
    }
  });

  test("a confirmed track ends lostSec after it was last seen, in time, not in results", () => {
    const tr = new Tracker({ threshold: 0.5, lostSec: 2, firstId: 41 });
    for (let i = 0; i < 5; i++) tr.update([det(box(0.5, 0.5))], i * 100);
    // Last seen at 400 ms. Results now come slowly.
    expect(tr.update([], 1000).tracks.map((t) => [t.id, t.matched])).toEqual([[41, false]]);
    expect(tr.update([], 2399).ended).toEqual([]);
    const u = tr.update([], 2400);
    expect(u.tracks).toEqual([]);
    expect(u.ended.map((t) => [t.id, t.confirmed, t.firstSeenMs, t.lastSeenMs, t.hits])).toEqual([
      [41, true, 0, 400, 5],
    ]);
    // A new person gets a new id: ids are never reused.
    expect(tr.update([det(box(0.5, 0.5))], 2500).tracks[0]!.id).toBe(42);
  });

  test("a time before the last one counts as no time passing", () => {
    const tr = new Tracker({ threshold: 0.5, lostSec: 1 });
    for (let i = 0; i < 4; i++) tr.update([det(box(0.5, 0.5))], 10_000 + i * 100);
    expect(tr.update([], 5_000).tracks).toHaveLength(1);
    expect(tr.update([det(box(0.5, 0.5))], 10_400).tracks.map((t) => [t.id, t.matched])).toEqual([
      [1, true],
    ]);
  });
});
