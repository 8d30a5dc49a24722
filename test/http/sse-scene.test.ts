/**
 * The SSE loop with the live scene, on a hand-driven clock: a change of people per zone, line
 * totals or the open visit sends `status` with the next frame (at most once a second) instead of
 * at the 5 s tick; tracks moving alone do not.
 */
import { expect, test } from "bun:test";
import { SseFrames, sseLoop, type SseSource } from "../../src/http/live/sse.ts";
import type { FrameState } from "../../src/shared/types.ts";
import { FakeFeed, DOOR_YARD_GATE } from "./fake-scene.ts";

function frame(seq: number): FrameState {
  return {
    seq,
    grabbedAt: 0,
    width: 640,
    height: 480,
    jpeg: new Uint8Array(0),
    detections: [],
    people: 0,
    inferMs: 5,
    detectSeq: seq,
    captureFps: 10,
    detectFps: 10,
    stageMs: { grab: 0, decode: 0, resize: 0, infer: 5 },
  };
}

function rig() {
  const feed = new FakeFeed(DOOR_YARD_GATE);
  let latest: FrameState | null = frame(1);
  const src: SseSource = {
    latest: () => latest,
    online: () => true,
    threshold: 0.5,
    statusJson: () => ({ online: true, people: 0 }),
    scene: () => feed,
  };
  const loop = sseLoop(new SseFrames(src), { fps: 100 }, []);
  /** The event name of the next chunk at `now` ("wait" when the loop would wait). */
  const next = (now: number): string => {
    const out = loop.next(now);
    if (typeof out === "number") return "wait";
    return /^event: (\w+)/.exec(new TextDecoder().decode(out))?.[1] ?? "other";
  };
  return { feed, next, setFrame: (seq: number) => void (latest = frame(seq)) };
}

test("a scene change goes out with the next frame, at most once a second", () => {
  const { feed, next, setFrame } = rig();
  expect(next(0)).toBe("status");
  expect(next(0)).toBe("frame");
  expect(next(10)).toBe("wait");

  // Tracks alone move: frames only.
  feed.status.tracks = [{ id: 1, box: [0, 0, 0.5, 0.5], score: 0.9, zones: [] }];
  setFrame(2);
  expect(next(1500)).toBe("frame");

  // Someone walks into the door zone: the status goes first.
  feed.status.zone_people = { door: 1, yard: 0 };
  setFrame(3);
  expect(next(1600)).toBe("status");
  expect(next(1600)).toBe("frame");

  // A second change within the second waits (the frame goes), then goes with the next frame.
  feed.status.lines = { gate: { in: 1, out: 0 } };
  setFrame(4);
  expect(next(1700)).toBe("frame");
  setFrame(5);
  expect(next(2700)).toBe("status");
  expect(next(2700)).toBe("frame");

  // Nothing changed: the next status is the 5 s tick.
  setFrame(6);
  expect(next(4000)).toBe("frame");
  expect(next(7700)).toBe("status");
});
