/**
 * The capture loop's part of issue 11, with the fakes of capture-loop.test.ts: the low persons
 * and the frame's JPEG travel with each result while everything else sees only the detections
 * at the threshold; masks drop detections everywhere; with --zones, the cooldown stills count
 * people in zones only. Also the detect Worker's split at the threshold and the best-snapshot
 * render, both pure.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Detection } from "../../src/shared/types.ts";
import { defaultLowScore } from "../../src/track/tracker.ts";
import { EMPTY_ZONES, type ZonesConfig } from "../../src/track/zones.ts";
import { CaptureLoop } from "../../src/workers/capture-loop.ts";
import type { DetectorInfo } from "../../src/workers/protocol.ts";
import { renderImages } from "../../src/workers/render.ts";
import { splitAtThreshold } from "../../src/workers/scores.ts";
import {
  ANNOTATED,
  DETECTOR,
  FakeCamera,
  FakeClock,
  fakeCodec,
  memoryLog,
  Posted,
  until,
} from "./fake-capture.ts";

/** A person whose feet are at (x, y). */
function person(x: number, y: number, score = 0.9): Detection {
  return {
    classId: 0,
    label: "person",
    score,
    box: { ymin: y - 0.4, xmin: x - 0.1, ymax: y, xmax: x + 0.1 },
  };
}

const square = (x0: number, y0: number, x1: number, y1: number): [number, number][] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];
const RIGHT_MASK: ZonesConfig = {
  zones: [],
  masks: [{ name: "tv", points: square(0.75, 0, 1, 1) }],
  lines: [],
};
const DOOR: ZonesConfig = {
  zones: [{ name: "door", points: square(0, 0.5, 0.5, 1) }],
  masks: [],
  lines: [],
};

const loops: { loop: CaptureLoop; running: Promise<void> }[] = [];
afterEach(async () => {
  for (const r of loops.splice(0)) {
    r.loop.stop();
    await r.running.catch(() => undefined);
  }
});

function rig() {
  const cam = new FakeCamera();
  const clock = new FakeClock();
  const posted = new Posted();
  const loop = new CaptureLoop({
    config: {
      source: { kind: "http", url: "http://cam.local/video" },
      fps: 10,
      letterbox: false,
      cooldownSec: 2,
    },
    openSource: () => cam.source(),
    codec: fakeCodec,
    clock,
    post: (m) => void posted.main.push(m),
    log: memoryLog(),
  });
  loop.setDetectPort(posted.port);
  const running = loop.run();
  loops.push({ loop, running });
  loop.onDetect({ type: "ready", info: DETECTOR });
  const frames = () => posted.of("frame");
  return {
    loop,
    posted,
    frames,
    /** A frame 3 s after the last (past the cooldown), answered with these detections. */
    async detect(tag: number, detections: Detection[], low: Detection[] = []): Promise<void> {
      const n = frames().length;
      clock.t += 3000;
      cam.push(tag, 3000);
      await until(() => frames().length > n, `frame ${tag}`);
      const seq = frames().at(-1)!.state.seq;
      const infer = posted.infers.find((m) => m.seq === seq);
      if (!infer) throw new Error(`frame ${seq} was never sent to the detector`);
      loop.onDetect({ type: "result", seq, detections, low, inferMs: 70, input: infer.input });
    },
    /** The next frame, carrying the latest result. */
    async frame(tag: number): Promise<void> {
      const n = frames().length;
      clock.t += 100;
      cam.push(tag);
      await until(() => frames().length > n, `frame ${tag}`);
    },
  };
}

describe("low scores", () => {
  test("the detector runs at max(0.1, threshold / 2), never above the threshold", () => {
    expect(defaultLowScore(0.5)).toBe(0.25);
    expect(defaultLowScore(0.15)).toBe(0.1);
    expect(defaultLowScore(0.05)).toBe(0.05);
  });

  test("split at the threshold: every class above it, only persons below", () => {
    const kite = { ...person(0.5, 0.5, 0.3), classId: 37, label: "kite" };
    const dets = [person(0.2, 0.9, 0.9), person(0.4, 0.9, 0.5), person(0.6, 0.9, 0.3), kite];
    const r = splitAtThreshold(dets, 0.5);
    expect(r.detections.map((d) => d.score)).toEqual([0.9, 0.5]);
    expect(r.low.map((d) => [d.label, d.score])).toEqual([["person", 0.3]]);
  });

  test("the result carries the low persons and its frame's JPEG; frames and counts do not", async () => {
    const r = rig();
    const high = person(0.3, 0.9);
    const low = person(0.7, 0.9, 0.3);
    await r.detect(42, [high], [low]);
    const res = r.posted.of("result")[0]!.result;
    expect(res.detections).toEqual([high]);
    expect(res.people).toBe(1);
    expect(res.low).toEqual([low]);
    expect([...res.jpeg]).toEqual([42, 1, 2, 3]);
    await r.frame(43);
    expect(r.frames().at(-1)!.state.detections).toEqual([high]);
    expect(r.frames().at(-1)!.state.people).toBe(1);
    expect(r.posted.of("event")[0]!.event.detections).toEqual([high]);
  });

  test("low persons alone save no still", async () => {
    const r = rig();
    await r.detect(42, [], [person(0.3, 0.9, 0.3)]);
    expect(r.posted.of("event")).toHaveLength(0);
  });
});

describe("masks", () => {
  test("a person whose feet are in a mask is dropped everywhere, the others kept", async () => {
    const r = rig();
    r.loop.setZones({ config: RIGHT_MASK, stillsInZones: false });
    const onTv = person(0.85, 0.9);
    const kiteOnTv = { ...person(0.9, 0.5), classId: 37, label: "kite" };
    const seen = person(0.3, 0.9);
    await r.detect(42, [onTv, seen, kiteOnTv], [person(0.8, 0.95, 0.3)]);
    const res = r.posted.of("result")[0]!.result;
    expect(res.detections).toEqual([seen]);
    expect(res.people).toBe(1);
    expect(res.low).toEqual([]);
    await r.frame(43);
    expect(r.frames().at(-1)!.state.detections).toEqual([seen]);
    const ev = r.posted.of("event")[0]!.event;
    expect(ev.people).toBe(1);
    expect(ev.detections).toEqual([seen]);
  });

  test("nobody outside the masks: no still at all", async () => {
    const r = rig();
    r.loop.setZones({ config: RIGHT_MASK, stillsInZones: false });
    await r.detect(42, [person(0.85, 0.9)]);
    expect(r.posted.of("result")[0]!.result.people).toBe(0);
    expect(r.posted.of("event")).toHaveLength(0);
  });

  test("zones changed live: the next result uses them", async () => {
    const r = rig();
    await r.detect(42, [person(0.85, 0.9)]);
    r.loop.setZones({ config: RIGHT_MASK, stillsInZones: false });
    await r.detect(43, [person(0.85, 0.9)]);
    r.loop.setZones({ config: EMPTY_ZONES, stillsInZones: false });
    await r.detect(44, [person(0.85, 0.9)]);
    expect(r.posted.of("result").map((m) => m.result.people)).toEqual([1, 0, 1]);
  });
});

describe("the cooldown stills with zones", () => {
  test("with --zones, only people in a zone start a still; the still shows everyone", async () => {
    const r = rig();
    r.loop.setZones({ config: DOOR, stillsInZones: true });
    await r.detect(42, [person(0.8, 0.9)]);
    expect(r.posted.of("event")).toHaveLength(0);
    await r.detect(43, [person(0.8, 0.9), person(0.3, 0.9)]);
    const events = r.posted.of("event");
    expect(events).toHaveLength(1);
    expect(events[0]!.event.people).toBe(2);
    expect(events[0]!.event.jpeg[0]).toBe(ANNOTATED);
  });

  test("without --zones (zones drawn on the dashboard), the stills count everyone", async () => {
    const r = rig();
    r.loop.setZones({ config: DOOR, stillsInZones: false });
    await r.detect(42, [person(0.8, 0.9)]);
    expect(r.posted.of("event")).toHaveLength(1);
  });

  test("with --zones but no zone in the file, everyone counts, as before", async () => {
    const r = rig();
    r.loop.setZones({ config: EMPTY_ZONES, stillsInZones: true });
    await r.detect(42, [person(0.8, 0.9)]);
    expect(r.posted.of("event")).toHaveLength(1);
  });
});

describe("the best snapshot's render", () => {
  test("annotated at the events' quality, the thumbnail of the frame as seen", () => {
    const jpeg = new Uint8Array([7, 1, 2, 3]);
    const out = renderImages(fakeCodec, {
      id: 1,
      jpeg,
      detections: [{ ...person(0.3, 0.9), label: "person #4" }],
      overlay: { people: 1, inferMs: 70, fps: 10, backend: "cpu" },
    });
    // The fake encoder writes [first RGB byte, quality].
    expect([...out.jpeg]).toEqual([ANNOTATED, 95]);
    expect([...out.thumbJpeg]).toEqual([7, 70]);
  });
});
