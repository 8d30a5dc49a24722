/**
 * The hand-off of frames to the detect Worker, with hand-written timelines: which frames are
 * resized and sent, when (ahead of the end of an invoke), and which frame each answer belongs to.
 * A fake port records the inputs; the test answers for the detector. No Worker, no clock.
 */
import { describe, expect, test } from "bun:test";
import type { Detection } from "../../src/shared/types.ts";
import type { Frame } from "../../src/workers/capture-frames.ts";
import {
  DETECT_INPUTS,
  DetectHandoff,
  PREFETCH_SLACK_MS,
} from "../../src/workers/detect-handoff.ts";
import type { CaptureToDetect } from "../../src/workers/protocol.ts";
import { DETECTOR, PERSON } from "./fake-capture.ts";

/** A camera at 60 fps; invokes of 70 ms. */
const FRAME_MS = 1000 / 60;
const INFER_MS = 70;

function frame(seq: number): Frame {
  return {
    seq,
    grabbedAt: 1_700_000_000_000 + seq,
    width: 4,
    height: 2,
    rgb: new Uint8Array(24),
    jpeg: new Uint8Array([seq]),
  };
}

function rig() {
  const sent: CaptureToDetect[] = [];
  let resizes = 0;
  const h = new DetectHandoff((f, w, hh, out) => {
    resizes++;
    out.fill(f.seq);
  });
  h.setPort({ postMessage: (m) => void sent.push(m) });
  const frames = new Map<number, Frame>();
  const input = (seq: number): Uint8Array => {
    const m = sent.find((s) => s.seq === seq);
    if (!m) throw new Error(`frame ${seq} was never sent`);
    return m.input;
  };
  return {
    h,
    sent: () => sent.map((m) => m.seq),
    resizes: () => resizes,
    ready: () => h.receive({ type: "ready", info: DETECTOR }, 0),
    /** Frame `seq` decoded at `atMs`: whether it was sent. */
    offer(seq: number, atMs: number): boolean {
      const f = frame(seq);
      frames.set(seq, f);
      return h.offer(f, atMs, FRAME_MS);
    },
    frame: (seq: number) => frames.get(seq) as Frame,
    result: (seq: number, atMs: number, detections: Detection[] = []) =>
      h.receive({ type: "result", seq, detections, inferMs: INFER_MS, input: input(seq) }, atMs),
    skipped: (seq: number, atMs: number) =>
      h.receive({ type: "skipped", seq, input: input(seq) }, atMs),
  };
}

describe("detect hand-off", () => {
  test("nothing is sent before the detector is ready; then an idle detector gets the frame", () => {
    const r = rig();
    expect(r.offer(1, 0)).toBe(false);
    r.ready();
    expect(r.offer(2, 17)).toBe(true);
    expect(r.sent()).toEqual([2]);
    expect(r.offer(2, 18)).toBe(false); // already there
  });

  test("frames early in an invoke are not resized; the ones near its end are sent ahead", () => {
    const r = rig();
    r.ready();
    r.offer(1, 0);
    // The first result teaches the invoke time; frame 5 came meanwhile and starts at once.
    r.offer(5, 60);
    expect(r.result(1, 70).kind).toBe("result");
    expect(r.sent()).toEqual([1, 5]);
    const resizes = r.resizes();
    // Invoke of frame 5: 70 → 140 ms as seen here. Frames until 140 - 16.7 - slack wait.
    const opensAt = 140 - FRAME_MS - PREFETCH_SLACK_MS;
    expect(r.offer(6, 80)).toBe(false);
    expect(r.offer(7, opensAt - 1)).toBe(false);
    expect(r.resizes()).toBe(resizes);
    expect(r.offer(8, opensAt + 1)).toBe(true);
    expect(r.offer(9, 125)).toBe(true); // newer: replaces 8 at the detector
    expect(r.sent()).toEqual([1, 5, 8, 9]);
    // The detector ran 9 next and handed 8 back: results map to their own frames.
    const res5 = r.result(5, 141, [PERSON]);
    expect(res5.kind === "result" && res5.frame).toBe(r.frame(5));
    expect(r.skipped(8, 141)).toEqual({ kind: "dropped", frame: r.frame(8) });
    expect(r.h.holds(r.frame(9))).toBe(true);
    const res9 = r.result(9, 211);
    expect(res9.kind === "result" && res9.frame.grabbedAt).toBe(r.frame(9).grabbedAt);
    expect(r.h.holds(r.frame(9))).toBe(false);
  });

  test("past the expected end with a frame queued, no more are sent until the result is read", () => {
    const r = rig();
    r.ready();
    r.offer(1, 0);
    r.result(1, 70); // nothing newer: idle
    r.offer(2, 75); // invoke 75 → 145
    expect(r.offer(3, 135)).toBe(true);
    // The result of 2 is late to be read; 3 has most likely started: 4 would wait a whole invoke.
    expect(r.offer(4, 150)).toBe(false);
    r.result(2, 155);
    expect(r.offer(4, 160)).toBe(false); // early in 3's invoke (155 → 225)
    expect(r.offer(5, 200)).toBe(true);
    expect(r.sent()).toEqual([1, 2, 3, 5]);
  });

  test("input buffers are bounded: at most four at the detector, each one back per answer", () => {
    const r = rig();
    r.ready();
    r.offer(1, 0);
    r.result(1, 70);
    r.offer(2, 75); // invoke 75 → 145: frames from 113 ms on are sent ahead
    for (const [seq, atMs] of [
      [3, 114],
      [4, 125],
      [5, 135],
    ])
      expect(r.offer(seq!, atMs!)).toBe(true);
    expect(r.sent().slice(1)).toHaveLength(DETECT_INPUTS); // 2 to 5 are at the detector
    expect(r.offer(6, 140)).toBe(false); // no input free
    r.result(2, 146);
    r.skipped(3, 146);
    r.skipped(4, 146);
    // 5 runs now; inputs are free again, but it is early in its invoke.
    expect(r.offer(7, 150)).toBe(false);
    expect(r.offer(8, 190)).toBe(true);
    expect(r.sent()).toEqual([1, 2, 3, 4, 5, 8]);
  });

  test("before the first result (invoke time unknown), one frame at most is sent ahead", () => {
    const r = rig();
    r.ready();
    for (let seq = 1; seq <= 4; seq++) r.offer(seq, seq * FRAME_MS);
    expect(r.sent()).toEqual([1, 2]);
  });

  test("a stale or failed answer frees its frame and the detector takes the next one", () => {
    const r = rig();
    r.ready();
    r.offer(1, 0);
    const back = r.h.receive(
      { type: "failed", seq: 1, message: "invoke failed", input: new Uint8Array(12) },
      70,
    );
    expect(back).toEqual({ kind: "dropped", frame: r.frame(1) });
    expect(r.offer(2, 80)).toBe(true);
    expect(
      r.h.receive(
        { type: "result", seq: 99, detections: [], inferMs: 5, input: new Uint8Array(12) },
        90,
      ),
    ).toEqual({
      kind: "dropped",
      frame: r.frame(2),
    });
    expect(r.offer(3, 100)).toBe(true);
  });

  test("a restarted detect Worker: the frames at the old one come back, nothing is sent before ready", () => {
    const r = rig();
    r.ready();
    r.offer(1, 0);
    r.offer(2, 60);
    const second: number[] = [];
    expect(r.h.setPort({ postMessage: (m) => void second.push(m.seq) })).toEqual([
      r.frame(1),
      r.frame(2),
    ]);
    expect(r.offer(3, 70)).toBe(false);
    r.h.receive({ type: "detector", info: DETECTOR, lastError: null }, 80);
    expect(r.offer(4, 90)).toBe(true);
    expect(second).toEqual([4]);
  });

  test("a detector of another input size: new inputs; the old ones that come back are dropped", () => {
    const sizes: number[] = [];
    const h = new DetectHandoff(() => undefined);
    h.setPort({ postMessage: (m) => void sizes.push(m.input.length) });
    h.receive({ type: "ready", info: DETECTOR }, 0);
    h.offer(frame(1), 0, FRAME_MS);
    const big = { ...DETECTOR, inputWidth: 3, inputHeight: 3 };
    h.receive({ type: "detector", info: big, lastError: null }, 10);
    h.receive({ type: "failed", seq: 1, message: "wrong size", input: new Uint8Array(12) }, 20);
    for (let seq = 2; seq <= 6; seq++) h.offer(frame(seq), 20 + seq, FRAME_MS);
    expect(sizes).toEqual([12, 27, 27]);
  });
});
