/**
 * The pure parts of the clips wiring: the per-frame overlay, the open delay the pre-roll ring
 * must cover, Config.clips → recorder options, the ring's age bound changed while running, and
 * the clip flags on the command line.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameRing } from "../../src/clips/ring.ts";
import { parseArgv } from "../../src/config/argv.ts";
import { buildConfig, runArgs } from "../../src/config/run.ts";
import {
  ASSUMED_RESULT_INTERVAL_MS,
  MAX_OPEN_DELAY_MS,
  OpenDelay,
  OverlayCache,
} from "../../src/pipeline/clip-overlay.ts";
import { DEFAULT_CLIP_FPS, recorderOptions } from "../../src/pipeline/clips.ts";
import { HcError } from "../../src/shared/errors.ts";
import type { Detection } from "../../src/shared/types.ts";

const person = (score: number): Detection => ({
  classId: 0,
  label: "person",
  score,
  box: { ymin: 0.123456, xmin: 0.2, ymax: 0.9, xmax: 0.5 },
});

describe("OverlayCache", () => {
  test("detections at or above the threshold, boxes as arrays of 4 decimals", () => {
    const o = new OverlayCache(0.5);
    expect(o.of({ detectSeq: 4, detections: [person(0.81234), person(0.3)] })).toEqual({
      r: 4,
      det: [{ label: "person", score: 0.812, box: [0.1235, 0.2, 0.9, 0.5] }],
    });
  });

  test("frames repeating a result share one overlay; a new result or scene update makes a new one", () => {
    const o = new OverlayCache(0.5);
    const a = o.of({ detectSeq: 1, detections: [person(0.9)] });
    // Each frame's detections are a fresh copy from the Worker: the result number decides.
    expect(o.of({ detectSeq: 1, detections: [person(0.9)] })).toBe(a);
    const b = o.of({ detectSeq: 2, detections: [] });
    expect(b).not.toBe(a);
    o.scene({
      tracks: [{ id: 7, score: 0.9, box: person(0.9).box, zones: ["door"] } as never],
    });
    const c = o.of({ detectSeq: 2, detections: [] });
    expect(c).not.toBe(b);
    expect(c.tracks).toEqual([
      { id: 7, score: 0.9, box: [0.1235, 0.2, 0.9, 0.5], zones: ["door"] },
    ]);
  });
});

test("OverlayCache: rt is the time of the frame the result is of (a frame shows an older result)", () => {
  const o = new OverlayCache(0.5);
  o.result({ detectSeq: 9, grabbedAt: 1000 });
  expect(o.of({ detectSeq: 9, detections: [] })).toEqual({ r: 9, rt: 1000, det: [] });
  // Unknown (results from before the clips started): absent.
  expect(o.of({ detectSeq: 3, detections: [] })).toEqual({ r: 3, det: [] });
  for (let i = 10; i < 30; i++) o.result({ detectSeq: i, grabbedAt: i * 100 });
  expect(o.of({ detectSeq: 9, detections: [] }).rt).toBeUndefined();
  expect(o.of({ detectSeq: 29, detections: [] }).rt).toBe(2900);
});

describe("OpenDelay", () => {
  test("before any result it assumes a slow detector", () => {
    expect(new OpenDelay(3).delayMs()).toBe(5 * ASSUMED_RESULT_INTERVAL_MS + 1000);
  });

  test("(min-frames + 2) results at the longest recent interval, plus 1 s", () => {
    const d = new OpenDelay(3);
    for (let t = 0; t <= 1000; t += 100) d.result(t);
    expect(d.delayMs()).toBe(5 * 100 + 1000);
    d.result(1400);
    expect(d.delayMs()).toBe(5 * 400 + 1000);
    // The slow interval leaves the window after 16 more results.
    for (let t = 1500; t <= 3100; t += 100) d.result(t);
    expect(d.delayMs()).toBe(1500);
  });

  test("a stall is not a rate, and the delay is capped", () => {
    const d = new OpenDelay(30);
    d.result(0);
    d.result(60_000);
    expect(d.delayMs()).toBe(32 * ASSUMED_RESULT_INTERVAL_MS + 1000);
    d.result(64_000);
    expect(d.delayMs()).toBe(MAX_OPEN_DELAY_MS);
  });
});

describe("FrameRing age bound", () => {
  const frame = (i: number) => ({ seq: i, atMs: i * 100, jpeg: new Uint8Array(10), overlay: null });

  test("setMaxAge widens or narrows what the ring keeps; oldest() is the first kept", () => {
    const ring = new FrameRing({ maxBytes: 2 ** 20, maxAgeMs: 1000 });
    for (let i = 0; i < 50; i++) ring.push(frame(i));
    expect(ring.oldest()!.atMs).toBe(3900);
    ring.setMaxAge(3000);
    for (let i = 50; i < 100; i++) ring.push(frame(i));
    expect(ring.oldest()!.atMs).toBe(6900);
    ring.setMaxAge(500);
    ring.push(frame(100));
    expect([ring.oldest()!.atMs, ring.maxAge]).toEqual([9500, 500]);
    expect(() => ring.setMaxAge(-1)).toThrow(RangeError);
  });
});

test("Config.clips → recorder options: no --clip-fps means the camera's rate, at most 15", () => {
  const c = { enabled: true, preSec: 3, postSec: 3, maxSec: 120, fps: null, bufferMb: 32 };
  expect(recorderOptions(c)).toEqual({ ...c, fps: DEFAULT_CLIP_FPS });
  expect(DEFAULT_CLIP_FPS).toBe(15);
  expect(recorderOptions({ ...c, fps: 5 }).fps).toBe(5);
});

describe("the clip flags", () => {
  const MODEL = "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite";
  const OUT = join(mkdtempSync(join(tmpdir(), "hazardcam-clipflags-")), "out");
  const clips = (...flags: string[]) =>
    buildConfig(parseArgv([MODEL, "0", "0.5", "640", "480", "8080", OUT, "2", ...flags], runArgs))
      .clips;
  const failure = (...flags: string[]): HcError => {
    try {
      clips(...flags);
    } catch (e) {
      if (e instanceof HcError) return e;
      throw e;
    }
    throw new Error(`accepted: ${flags.join(" ")}`);
  };

  test("defaults: 3 s before, 3 s after, 120 s at most, the camera's fps, 32 MB", () => {
    expect(clips()).toEqual({
      enabled: true,
      preSec: 3,
      postSec: 3,
      maxSec: 120,
      fps: null,
      bufferMb: 32,
    });
  });

  test("each flag", () => {
    expect(
      clips(
        ...["--clip-pre", "5", "--clip-post", "1.5", "--clip-max", "60"],
        ...["--clip-fps", "7.5", "--clip-buffer-mb", "64"],
      ),
    ).toEqual({ enabled: true, preSec: 5, postSec: 1.5, maxSec: 60, fps: 7.5, bufferMb: 64 });
  });

  test("--no-clips, or --clip-pre 0 --clip-post 0, turns clips off", () => {
    expect(clips("--no-clips").enabled).toBe(false);
    expect(clips("--clip-pre", "0", "--clip-post", "0").enabled).toBe(false);
    expect(clips("--clip-pre", "0").enabled).toBe(true);
  });

  test("out-of-range values fail with the flag's code", () => {
    expect(failure("--clip-pre", "31").code).toBe("EARG_CLIP_PRE");
    expect(failure("--clip-post", "-1").code).toBe("EARG_CLIP_POST");
    expect(failure("--clip-max", "2").code).toBe("EARG_CLIP_MAX");
    expect(failure("--clip-fps", "0").code).toBe("EARG_CLIP_FPS");
    expect(failure("--clip-buffer-mb", "0.5").code).toBe("EARG_CLIP_BUFFER_MB");
    expect(failure("--clip-buffer-mb", "2000").message).toContain("--clip-buffer-mb");
  });
});
