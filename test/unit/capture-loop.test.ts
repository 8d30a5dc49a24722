/**
 * The capture loop with a fake camera, a fake codec, a fake detector port and a fake clock: what
 * the main thread and the detector receive, frame by frame. No Worker, no native code, no sleep.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { SourceSpec } from "../../src/shared/config.ts";
import type { Detection } from "../../src/shared/types.ts";
import { CaptureLoop } from "../../src/workers/capture-loop.ts";
import type { CaptureResume, DetectorInfo } from "../../src/workers/protocol.ts";
import {
  ANNOTATED,
  CORRUPT,
  DETECTOR,
  FakeCamera,
  FakeClock,
  fakeCodec,
  memoryLog,
  PERSON,
  Posted,
  until,
} from "./fake-capture.ts";

const KITE: Detection = { ...PERSON, classId: 37, label: "kite" };

interface RigOptions {
  cooldownSec?: number;
  source?: SourceSpec;
  resume?: CaptureResume | null;
  plan?: ("ok" | "lost" | "bad" | "hang")[];
  hold?: boolean;
}

const rigs: { loop: CaptureLoop; running: Promise<void> }[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.loop.stop();
    await r.running.catch(() => undefined);
  }
});

function rig(o: RigOptions = {}) {
  const cam = new FakeCamera();
  cam.plan.push(...(o.plan ?? []));
  const clock = new FakeClock();
  clock.hold = o.hold ?? false;
  const posted = new Posted();
  const log = memoryLog();
  const loop = new CaptureLoop({
    config: {
      source: o.source ?? { kind: "http", url: "http://cam.local/video" },
      fps: 10,
      letterbox: false,
      cooldownSec: o.cooldownSec ?? 2,
    },
    openSource: () => cam.source(),
    codec: fakeCodec,
    clock,
    post: (m) => void posted.main.push(m),
    resume: o.resume ?? null,
    log,
  });
  loop.setDetectPort(posted.port);
  const running = loop.run();
  rigs.push({ loop, running });
  const frames = () => posted.of("frame");
  return {
    cam,
    clock,
    posted,
    log,
    loop,
    running,
    frames,
    /** The detector is loaded (two input buffers of 2x2). */
    ready: () => loop.onDetect({ type: "ready", info: DETECTOR }),
    /** One frame tagged `tag`, 100 ms after the last; resolves once the loop published it. */
    async frame(tag: number): Promise<void> {
      const n = frames().length;
      clock.t += 100;
      cam.push(tag);
      await until(() => frames().length > n, `frame ${tag}`);
    },
    /** The detector's answer for frame `seq`, on the input it was sent. */
    result(seq: number, detections: Detection[], inferMs = 70): void {
      const infer = posted.infers.find((m) => m.seq === seq);
      if (!infer) throw new Error(`frame ${seq} was never sent to the detector`);
      loop.onDetect({ type: "result", seq, detections, inferMs, input: infer.input });
    },
    status: () => posted.of("status").at(-1)?.status,
  };
}

describe("frames", () => {
  test("flow: opened, online, each frame published with its JPEG and numbers", async () => {
    const r = rig();
    await r.frame(11);
    await r.frame(12);
    await r.frame(13);
    expect(r.posted.of("source")[0]?.info.description).toBe("fake camera 4x2");
    expect(r.status()?.online).toBe(true);
    const states = r.frames().map((f) => f.state);
    expect(states.map((s) => s.seq)).toEqual([1, 2, 3]);
    expect(states.map((s) => s.jpeg[0])).toEqual([11, 12, 13]);
    expect(states[2]?.captureFps).toBeCloseTo(10, 5);
    expect(states[0]?.detectSeq).toBe(0);
    expect(r.frames()[2]?.annotated).toBeNull();
  });

  test("annotated copies only while someone wants them", async () => {
    const r = rig();
    await r.frame(11);
    r.loop.setWantAnnotated(true);
    await r.frame(12);
    expect(r.frames()[0]?.annotated).toBeNull();
    expect(r.frames()[1]?.annotated?.[0]).toBe(ANNOTATED);
  });

  test("a corrupt frame is counted and skipped, logged once; numbering goes on", async () => {
    const r = rig();
    await r.frame(11);
    r.cam.push(CORRUPT);
    r.cam.push(CORRUPT);
    await r.frame(12);
    expect(r.frames().map((f) => f.state.seq)).toEqual([1, 2]);
    expect(r.frames()[1]?.status.framesCorrupt).toBe(2);
    expect(r.log.lines.filter((l) => l.includes("corrupt"))).toHaveLength(1);
  });

  test("a restarted loop goes on from the numbers it is given", async () => {
    const r = rig({ resume: { frameSeq: 41, detectSeq: 7 } });
    r.ready();
    await r.frame(11);
    expect(r.frames()[0]?.state.seq).toBe(42);
    r.result(42, [PERSON]);
    expect(r.posted.of("result")[0]?.result.detectSeq).toBe(8);
  });
});

describe("detection", () => {
  test("while the detector is busy, the newest frame is sent next, at once", async () => {
    const r = rig();
    await r.frame(11);
    expect(r.posted.infers).toHaveLength(0); // not ready yet
    r.ready();
    await r.frame(12);
    expect(r.posted.infers.map((m) => m.seq)).toEqual([2]);
    expect(r.posted.infers[0]?.input[0]).toBe(12); // the frame's pixels, resized
    r.result(2, [], 250); // invokes take 250 ms; frames come every 100 ms
    await r.frame(13); // idle: sent at once
    await r.frame(14); // early in the invoke of 3: not even resized
    expect(r.posted.infers.map((m) => m.seq)).toEqual([2, 3]);
    await r.frame(15); // the next frame would come after the end: sent ahead
    expect(r.posted.infers.map((m) => m.seq)).toEqual([2, 3, 5]);
    // The detector skipped nothing and ran 5 right after 3: both results map to their frames.
    r.result(3, [PERSON], 250);
    r.result(5, [], 250);
    expect(r.posted.of("result").map((m) => m.result.frameSeq)).toEqual([2, 3, 5]);
  });

  test("a frame the detector skipped (a newer one came) is no result", async () => {
    const r = rig();
    r.ready();
    await r.frame(11);
    await r.frame(12); // sent ahead: the invoke time is not known yet
    expect(r.posted.infers.map((m) => m.seq)).toEqual([1, 2]);
    r.result(1, [PERSON]);
    const input = r.posted.infers[1]?.input as Uint8Array;
    r.loop.onDetect({ type: "skipped", seq: 2, input });
    expect(r.posted.of("result").map((m) => m.result.frameSeq)).toEqual([1]);
    await r.frame(13);
    expect(r.posted.infers.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  test("each result maps to its frame: a result message, then frames carry it", async () => {
    const r = rig();
    r.ready();
    await r.frame(11);
    await r.frame(12);
    r.result(1, [PERSON, KITE], 71.5);
    const res = r.posted.of("result");
    expect(res).toHaveLength(1);
    expect(res[0]?.result).toMatchObject({
      detectSeq: 1,
      frameSeq: 1,
      people: 1,
      inferMs: 71.5,
      width: 4,
      height: 2,
    });
    expect(res[0]?.result.grabbedAt).toBe(r.frames()[0]?.state.grabbedAt as number);
    await r.frame(13);
    const s = r.frames()[2]?.state;
    expect(s?.detections).toEqual([PERSON, KITE]);
    expect(s?.people).toBe(1);
    expect(s?.detectSeq).toBe(1);
    expect(s?.stageMs.infer).toBe(71.5);
  });

  test("a failed or stale answer is no result, and the detector gets the next frame", async () => {
    const r = rig();
    r.ready();
    await r.frame(11);
    const input = r.posted.infers[0]?.input as Uint8Array;
    r.loop.onDetect({ type: "failed", seq: 1, message: "invoke failed", input });
    expect(r.posted.of("result")).toHaveLength(0);
    await r.frame(12);
    r.loop.onDetect({
      type: "result",
      seq: 99,
      detections: [PERSON],
      inferMs: 5,
      input: r.posted.infers[1]?.input as Uint8Array,
    });
    expect(r.posted.of("result")).toHaveLength(0);
    await r.frame(13);
    expect(r.posted.infers.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  test("no detector (reopening): no stale boxes or counts on the frames", async () => {
    const r = rig();
    r.ready();
    await r.frame(11);
    r.result(1, [PERSON]);
    r.loop.onDetect({ type: "detector", info: null, lastError: "edgetpu: gone" });
    await r.frame(12);
    expect(r.frames()[1]?.state.people).toBe(0);
    expect(r.frames()[1]?.state.detections).toEqual([]);
  });

  test("a new detect port (the detect Worker restarted): frames go there after its ready", async () => {
    const r = rig();
    r.ready();
    await r.frame(11);
    const second = new Posted();
    r.loop.setDetectPort(second.port);
    await r.frame(12);
    expect(second.infers).toHaveLength(0);
    // A detector that is back says "detector" (a restarted capture side takes it as ready).
    r.loop.onDetect({ type: "detector", info: DETECTOR, lastError: null });
    await r.frame(13);
    expect(second.infers.map((m) => m.seq)).toEqual([3]);
  });
});

describe("events", () => {
  test("people in a result save an event, then not again within the cooldown", async () => {
    const r = rig({ cooldownSec: 2 });
    r.ready();
    const detectFrame = async (tag: number, dets: Detection[], afterMs: number) => {
      const n = r.frames().length;
      r.clock.t += afterMs;
      r.cam.push(tag, afterMs);
      await until(() => r.frames().length > n);
      const seq = r.frames().at(-1)?.state.seq as number;
      r.result(seq, dets);
    };
    await detectFrame(11, [PERSON], 100);
    await detectFrame(12, [PERSON], 1000); // 1 s later: cooling down
    await detectFrame(13, [KITE], 1500); // 2.5 s later, nobody
    await detectFrame(14, [PERSON], 100); // 2.6 s after the save
    const events = r.posted.of("event");
    expect(events.map((e) => e.event.jpeg[0])).toEqual([ANNOTATED, ANNOTATED]);
    expect(events.map((e) => e.snapshotId)).toEqual([null, null]);
    const frames = r.frames();
    expect(events.map((e) => e.event.at)).toEqual([
      frames[0]?.state.grabbedAt as number,
      frames[3]?.state.grabbedAt as number,
    ]);
    expect(events[0]?.event).toMatchObject({ reason: "auto", people: 1, inferMs: 70 });
    expect(events[0]?.event.thumbJpeg.length).toBeGreaterThan(0);
  });

  test("snapshots: none without a frame, the frame without boxes, then with the result", async () => {
    const r = rig({ plan: ["hang"] });
    r.loop.requestSnapshot(1);
    expect(r.posted.of("snapshot-none").map((m) => m.id)).toEqual([1]);

    const s = rig();
    s.ready();
    await s.frame(11);
    s.loop.requestSnapshot(2);
    await s.frame(12);
    s.result(1, [PERSON, KITE]);
    s.loop.requestSnapshot(3);
    await s.frame(13);
    const snaps = s.posted.of("event").filter((e) => e.event.reason === "snapshot");
    expect(snaps.map((e) => e.snapshotId)).toEqual([2, 3]);
    expect(snaps[0]?.event.detections).toEqual([]);
    // The newest frame with detections, with its boxes.
    expect(snaps[1]?.event.detections).toEqual([PERSON, KITE]);
    expect(snaps[1]?.event.at).toBe(s.frames()[0]?.state.grabbedAt as number);
  });

  test("a snapshot while the camera is stalled answers from the last frame", async () => {
    const r = rig();
    await r.frame(11);
    r.clock.t += 2000;
    r.loop.watchStall();
    r.loop.requestSnapshot(5);
    const snap = r.posted.of("event")[0];
    expect(snap?.snapshotId).toBe(5);
    expect(snap?.event.at).toBe(r.frames()[0]?.state.grabbedAt as number);
  });
});

describe("camera faults", () => {
  test("stall: offline after 1.5 s without a frame, online again with the next", async () => {
    const r = rig();
    await r.frame(11);
    await r.frame(12);
    r.clock.t += 1400;
    r.loop.watchStall();
    expect(r.status()?.online).toBe(true);
    r.clock.t += 200;
    r.loop.watchStall();
    expect(r.status()).toMatchObject({
      online: false,
      offlineReason: "no frame from the camera for 1.5 s",
      lastError: "no frame from the camera for 1.5 s",
    });
    await r.frame(13);
    expect(r.frames()[2]?.status.online).toBe(true);
  });

  test("lost: offline with the reason, reopened with backoff, frames again", async () => {
    const r = rig();
    await r.frame(11);
    r.cam.plan.push("lost", "lost", "lost");
    r.cam.lose("the camera disappeared");
    await until(() => r.cam.opens === 5, "the reopen");
    expect(r.clock.sleeps).toEqual([500, 1000, 2000]);
    expect(r.cam.closes).toBeGreaterThanOrEqual(4);
    const offline = r.posted.of("status").filter((m) => !m.status.online);
    expect(offline[0]?.status.offlineReason).toBe("the camera disappeared");
    await r.frame(12);
    expect(r.posted.of("source")).toHaveLength(2);
    expect(r.frames()[1]?.status.online).toBe(true);
    expect(r.log.lines.filter((l) => l.includes("camera lost"))).toHaveLength(1);
    expect(r.log.lines.filter((l) => l.includes("camera is back"))).toHaveLength(1);
  });

  test("a V4L2 camera is retried at least every second", async () => {
    const r = rig({ source: { kind: "v4l2", device: "/dev/video0" } });
    await r.frame(11);
    r.cam.plan.push("lost", "lost", "lost", "lost");
    r.cam.lose("ENODEV");
    await until(() => r.cam.opens === 6, "the reopen");
    expect(r.clock.sleeps).toEqual([500, 1000, 1000, 1000]);
  });

  test("the first open: unreachable is retried, a wrong camera is fatal", async () => {
    const r = rig({ plan: ["lost", "lost"] });
    await r.frame(11);
    expect(r.clock.sleeps).toEqual([500, 1000]);
    expect(r.log.lines.filter((l) => l.includes("camera unavailable"))).toHaveLength(1);
    expect(r.log.lines.some((l) => l.includes("camera is back"))).toBe(false);

    const bad = rig({ plan: ["bad"] });
    await expect(bad.running).rejects.toThrow("not a camera");
  });

  test("a restarted loop retries even a wrong camera", async () => {
    const r = rig({ plan: ["bad"], resume: { frameSeq: 3, detectSeq: 0 } });
    await r.frame(11);
    expect(r.clock.sleeps).toEqual([500]);
  });
});

describe("stop", () => {
  test("during a first open that hangs: run() ends at once, the source is closed", async () => {
    const r = rig({ plan: ["hang"] });
    await until(() => r.cam.opens === 1);
    r.loop.stop();
    await r.running;
    expect(r.cam.closes).toBeGreaterThanOrEqual(1);
    expect(r.posted.of("source")).toHaveLength(0);
  });

  test("during the backoff of a first open that keeps failing: no further attempt", async () => {
    const r = rig({ plan: ["lost", "lost", "lost"], hold: true });
    await until(() => r.clock.sleeps.length === 1);
    r.loop.stop();
    await r.running;
    expect(r.cam.opens).toBe(1);
  });

  test("while waiting for a frame", async () => {
    const r = rig();
    await r.frame(11);
    r.loop.stop();
    await r.running;
    r.cam.push(12);
    expect(r.frames()).toHaveLength(1);
  });
});
