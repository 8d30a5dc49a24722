import { describe, expect, test } from "bun:test";
import {
  ClipPlan,
  type ClipAction,
  type FinishReason,
  type PlanOptions,
} from "../../src/clips/plan.ts";

/** A frame of a hand-written timeline: capture time in ms (from 0) and seq. */
interface F {
  atMs: number;
  seq: number;
}

interface Clip {
  clip: number;
  visitId: number;
  part: number;
  firstMs: number;
  times: number[];
  reason: FinishReason | null;
}

/** Visit events at a capture time: applied after the frames up to that time were given. */
type Ev = { at: number; open?: number; close?: number; openAtMs?: number; closeAtMs?: number };

/** Frames every `periodMs` from `fromMs` to `toMs`, each moved by up to ±jitterMs (seeded). */
function frames(fromMs: number, toMs: number, periodMs: number, jitterMs = 0, seed = 7): F[] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const out: F[] = [];
  for (let t = fromMs, i = 0; t <= toMs + 1e-9; t += periodMs, i++) {
    out.push({ atMs: Math.round((t + (rnd() * 2 - 1) * jitterMs) * 1000) / 1000, seq: i });
  }
  return out;
}

/** Runs a timeline through a plan the way recorder.ts does; returns the clips it made. */
function run(opts: Partial<PlanOptions>, timeline: F[], events: Ev[], stop = true): Clip[] {
  const plan = new ClipPlan<F>(opts);
  const clips = new Map<number, Clip>();
  const apply = (actions: ClipAction<F>[]): void => {
    for (const a of actions) {
      if (a.kind === "start") {
        expect(clips.has(a.clip)).toBe(false);
        clips.set(a.clip, { ...a, times: [], reason: null });
      } else if (a.kind === "append") {
        const c = clips.get(a.clip)!;
        expect(c.reason).toBeNull();
        c.times.push(...a.frames.map((f) => f.atMs));
      } else {
        const c = clips.get(a.clip)!;
        expect(c.reason).toBeNull();
        expect(a.lastMs).toBe(c.times[c.times.length - 1]!);
        c.reason = a.reason;
      }
    }
  };
  const seen: F[] = [];
  const pending = [...events].sort((a, b) => a.at - b.at);
  for (const f of timeline) {
    while (pending.length > 0 && pending[0]!.at < f.atMs) fire(pending.shift()!);
    seen.push(f);
    apply(plan.frame(f));
  }
  for (const e of pending) fire(e);
  if (stop) apply(plan.stop());
  return [...clips.values()];

  function fire(e: Ev): void {
    if (e.open !== undefined) apply(plan.open(e.open, e.openAtMs ?? e.at, seen));
    if (e.close !== undefined) apply(plan.close(e.close, e.closeAtMs ?? e.at));
  }
}

const all = { fps: 0 };

describe("clip plan", () => {
  test("a clip starts with the pre-roll and ends clip-post after the visit closes", () => {
    const tl = frames(0, 20_000, 100);
    // The open event comes 300 ms after the visit's start (detection lag).
    const clips = run(all, tl, [
      { at: 10_300, open: 1, openAtMs: 10_000 },
      { at: 12_000, close: 1 },
    ]);
    expect(clips).toHaveLength(1);
    const c = clips[0]!;
    expect(c).toMatchObject({ visitId: 1, part: 1, firstMs: 7_000, reason: "post-roll" });
    expect(c.times[0]).toBe(7_000);
    expect(c.times[c.times.length - 1]).toBe(15_000);
    expect(c.times).toHaveLength(81);
  });

  test("close after the post-roll is already over finishes at once", () => {
    const tl = frames(0, 20_000, 100);
    const clips = run({ ...all, postSec: 0 }, tl, [
      { at: 5_000, open: 1 },
      { at: 8_250, close: 1, closeAtMs: 8_000 },
    ]);
    expect(clips).toHaveLength(1);
    // Frames up to the close event were appended while the visit was open.
    expect(clips[0]!).toMatchObject({ firstMs: 2_000, reason: "post-roll" });
    expect(clips[0]!.times[clips[0]!.times.length - 1]).toBe(8_200);
  });

  test("tick ends a post-roll when the camera stopped delivering frames", () => {
    const plan = new ClipPlan<F>(all);
    const tl = frames(0, 2_000, 100);
    for (const f of tl) plan.frame(f);
    expect(plan.open(1, 1_000, tl).map((a) => a.kind)).toEqual(["start", "append"]);
    expect(plan.close(1, 2_000)).toEqual([]);
    expect(plan.tick(4_900)).toEqual([]);
    expect(plan.tick(5_001)).toEqual([
      { kind: "finish", clip: 1, reason: "post-roll", lastMs: 2_000 },
    ]);
    expect(plan.recording).toBeNull();
  });

  test("a long visit gets consecutive capped clips: no frame lost or duplicated", () => {
    const tl = frames(0, 50_000, 100, 20);
    const clips = run({ ...all, maxSec: 10 }, tl, [
      { at: 5_000, open: 9 },
      { at: 40_000, close: 9 },
    ]);
    expect(clips.map((c) => [c.visitId, c.part, c.reason])).toEqual([
      [9, 1, "capped"],
      [9, 2, "capped"],
      [9, 3, "capped"],
      [9, 4, "capped"],
      [9, 5, "post-roll"],
    ]);
    const joined = clips.flatMap((c) => c.times);
    const expected = tl.filter((f) => f.atMs >= 2_000 && f.atMs <= 43_000).map((f) => f.atMs);
    expect(joined).toEqual(expected);
    for (const c of clips) expect(c.times[c.times.length - 1]! - c.firstMs).toBeLessThan(10_000);
  });

  for (const [camFps, clipFps] of [
    [30, 10],
    [30, 15],
  ] as const) {
    test(`thins ${camFps} → ${clipFps} fps by capture time, with jitter`, () => {
      const tl = frames(0, 30_000, 1000 / camFps, 9);
      const clips = run({ fps: clipFps, maxSec: 120 }, tl, [
        { at: 4_000, open: 1 },
        { at: 20_000, close: 1 },
      ]);
      expect(clips).toHaveLength(1);
      const t = clips[0]!.times;
      const durationSec = (t[t.length - 1]! - t[0]!) / 1000;
      expect(Math.abs(t.length - durationSec * clipFps)).toBeLessThanOrEqual(1);
      // Evenly: no gap longer than a clip period plus one camera period (+ jitter).
      const gaps = t.slice(1).map((v, i) => v - t[i]!);
      expect(Math.max(...gaps)).toBeLessThan(1000 / clipFps + 1000 / camFps + 18);
    });
  }

  test("thinning follows time when the camera's rate changes", () => {
    // 30 fps for 5 s, then 60 fps for 5 s: a count-based 1-in-3 would double the rate.
    const tl = [...frames(0, 5_000, 1000 / 30), ...frames(5_010, 10_000, 1000 / 60)];
    const clips = run({ fps: 10, preSec: 0 }, tl, [{ at: 0, open: 1 }]);
    const t = clips[0]!.times;
    expect(clips[0]!.reason).toBe("stopping");
    expect(Math.abs(t.length - ((t[t.length - 1]! - t[0]!) / 1000) * 10)).toBeLessThanOrEqual(1);
    // One per 100 ms slot from 5.1 s to 9.9 s (the last frame is at 9.993 s).
    expect(t.filter((v) => v > 5_010)).toHaveLength(49);
  });

  test("a visit opening in the post-roll of the last one gets its own clip with full pre-roll", () => {
    const tl = frames(0, 30_000, 100);
    const clips = run(all, tl, [
      { at: 2_000, open: 1 },
      { at: 9_200, close: 1 },
      { at: 10_700, open: 2, openAtMs: 10_600 },
      { at: 20_000, close: 2 },
    ]);
    expect(clips.map((c) => [c.visitId, c.firstMs, c.reason])).toEqual([
      [1, 0, "next-visit"],
      [2, 7_600, "post-roll"],
    ]);
    // The first clip ran until the second visit's open event; its pre-roll repeats 3.1 s.
    expect(clips[0]!.times[clips[0]!.times.length - 1]).toBe(10_700);
    expect(clips[1]!.times[clips[1]!.times.length - 1]).toBe(23_000);
  });

  test("a visit opening after the post-roll starts a new clip, also with its pre-roll", () => {
    const tl = frames(0, 30_000, 100);
    const clips = run(all, tl, [
      { at: 3_000, open: 1 },
      { at: 5_000, close: 1 },
      { at: 9_000, open: 2 },
      { at: 10_000, close: 2 },
    ]);
    expect(clips.map((c) => [c.visitId, c.times[0], c.times.at(-1), c.reason])).toEqual([
      [1, 0, 8_000, "post-roll"],
      [2, 6_000, 13_000, "post-roll"],
    ]);
  });

  test("visits open at once share one clip until the last closes", () => {
    const tl = frames(0, 20_000, 100);
    const clips = run(all, tl, [
      { at: 5_000, open: 1 },
      { at: 6_000, open: 2 },
      { at: 7_000, close: 1 },
      { at: 10_000, close: 2 },
    ]);
    expect(clips.map((c) => [c.visitId, c.times[0], c.times.at(-1), c.reason])).toEqual([
      [1, 2_000, 13_000, "post-roll"],
    ]);
  });

  test("stop finishes the open clip; disabled plans do nothing", () => {
    const tl = frames(0, 10_000, 100);
    const ev: Ev[] = [{ at: 5_000, open: 1 }];
    expect(run(all, tl, ev).map((c) => c.reason)).toEqual(["stopping"]);
    expect(run({ ...all, enabled: false }, tl, ev)).toEqual([]);
    expect(run({ ...all, preSec: 0, postSec: 0 }, tl, ev)).toEqual([]);
    expect(new ClipPlan<F>({ preSec: 0, postSec: 0 }).enabled).toBe(false);
  });

  test("a visit without frames yet starts its clip with the first frame", () => {
    const plan = new ClipPlan<F>(all);
    expect(plan.open(1, 1_000, [])).toEqual([]);
    const f = { atMs: 1_050, seq: 1 };
    expect(plan.frame(f)).toEqual([
      { kind: "start", clip: 1, visitId: 1, visitStartMs: 1_000, part: 1, firstMs: 1_050 },
      { kind: "append", clip: 1, frames: [f] },
    ]);
    // The same frame again (it was in the ring and is passed again) is not duplicated.
    expect(plan.frame(f)).toEqual([]);
  });
});
