import { describe, expect, test } from "bun:test";
import { FRAME_OVERHEAD_BYTES, FrameRing, type RingFrame } from "../../src/clips/ring.ts";

function frame(seq: number, atMs: number, bytes = 1000): RingFrame<{ people: number }> {
  return { seq, atMs, jpeg: new Uint8Array(bytes), overlay: { people: seq % 3 } };
}

describe("frame ring", () => {
  test("keeps the last maxAgeMs of frames, oldest first", () => {
    const ring = new FrameRing({ maxBytes: 1e9, maxAgeMs: 3000 });
    for (let i = 0; i <= 100; i++) ring.push(frame(i, i * 100));
    // Newest at 10 000 ms: frames from 7 000 ms on.
    expect(ring.frames).toBe(31);
    expect(ring.since(0)[0]!.atMs).toBe(7000);
    expect(ring.since(8_050).map((f) => f.seq)).toEqual([
      81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100,
    ]);
    expect(ring.since(20_000)).toEqual([]);
    expect(ring.latest()!.seq).toBe(100);
  });

  test("never holds more than its byte budget: the oldest go first", () => {
    const cost = 50_000 + FRAME_OVERHEAD_BYTES;
    const ring = new FrameRing({ maxBytes: 10 * cost + 10, maxAgeMs: 60_000 });
    for (let i = 0; i < 100; i++) {
      ring.push(frame(i, i * 33, 50_000));
      expect(ring.bytes).toBeLessThanOrEqual(10 * cost + 10);
    }
    expect(ring.frames).toBe(10);
    expect(ring.bytes).toBe(10 * cost);
    expect(ring.since(0).map((f) => f.seq)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    expect(ring.droppedForBytes).toBe(90);
  });

  test("keeps the caller's bytes without copying", () => {
    const ring = new FrameRing({ maxBytes: 1e6, maxAgeMs: 1000 });
    const f = frame(1, 0);
    ring.push(f);
    expect(ring.since(0)[0]!.jpeg).toBe(f.jpeg);
  });

  test("a frame over the whole budget empties the ring", () => {
    const ring = new FrameRing({ maxBytes: 10_000, maxAgeMs: 1000 });
    ring.push(frame(1, 0));
    ring.push(frame(2, 10, 20_000));
    expect([ring.frames, ring.bytes]).toEqual([0, 0]);
    ring.push(frame(3, 20));
    expect(ring.frames).toBe(1);
  });

  test("a clock set back empties the ring, so times stay in order", () => {
    const ring = new FrameRing({ maxBytes: 1e6, maxAgeMs: 3000 });
    for (let i = 0; i < 10; i++) ring.push(frame(i, 100_000 + i * 100));
    ring.push(frame(10, 50_000));
    expect(ring.since(0).map((f) => f.seq)).toEqual([10]);
  });

  test("stays compact over a long run", () => {
    const ring = new FrameRing({ maxBytes: 1e9, maxAgeMs: 1000 });
    for (let i = 0; i < 100_000; i++) ring.push(frame(i, i * 10, 1));
    expect(ring.frames).toBe(101);
    expect(ring.since(0)[0]!.seq).toBe(99_899);
  });
});
