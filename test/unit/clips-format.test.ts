import { describe, expect, test } from "bun:test";
import {
  SAFE_CLIP_NAME,
  baseOf,
  clipBase,
  fileNames,
  frameLine,
  headerLine,
  parseIndex,
  trailerLine,
} from "../../src/clips/format.ts";

const at = new Date(2024, 4, 1, 9, 5, 7, 450).getTime(); // local 2024-05-01 09:05:07.450
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("clip names", () => {
  test("from the visit's start in local time, as the event images, and safe for URLs", () => {
    expect(clipBase(at, 1)).toBe("20240501_090507_clip");
    expect(clipBase(at, 2)).toBe("20240501_090507_clip_p002");
    expect(clipBase(at, 1, 3)).toBe("20240501_090507_clip_3");
    expect(fileNames("20240501_090507_clip")).toEqual({
      data: "20240501_090507_clip.mjpeg",
      index: "20240501_090507_clip.jsonl",
      partData: ".part-20240501_090507_clip.mjpeg",
      partIndex: ".part-20240501_090507_clip.jsonl",
    });
    const names = [clipBase(at, 1), clipBase(at, 2), clipBase(at, 12), clipBase(at + 1000, 1)];
    expect([...names].sort()).toEqual(names);
    for (const n of names) expect(SAFE_CLIP_NAME.test(`${n}.mjpeg`)).toBe(true);
    for (const bad of [".part-x.mjpeg", "../x.mjpeg", "a%2f.mjpeg", "x.jpg", "a/b.jsonl"]) {
      expect(SAFE_CLIP_NAME.test(bad)).toBe(false);
    }
  });

  test("baseOf recognizes final and unfinished clip files only", () => {
    expect(baseOf(".part-20240501_090507_clip.jsonl")).toEqual({
      base: "20240501_090507_clip",
      part: true,
      kind: "index",
    });
    expect(baseOf("20240501_090507_clip.mjpeg")).toEqual({
      base: "20240501_090507_clip",
      part: false,
      kind: "data",
    });
    expect(baseOf("thumbs")).toBeNull();
    expect(baseOf(".part-.mjpeg")).toBeNull();
  });
});

describe("clip index", () => {
  const header = headerLine({ visitId: 4, visitStartMs: at, part: 1, startMs: at - 3000 });
  const f0 = frameLine({ o: 0, n: 100, t: at - 3000, s: 1, d: { people: 0 } });
  const f1 = frameLine({ o: 100, n: 120, t: at - 2900, s: 2, d: null });
  const end = trailerLine({ end: "complete", frames: 2, bytes: 220, endMs: at, reason: "x" });

  test("round-trips header, frames and trailer", () => {
    const p = parseIndex(enc(header + f0 + f1 + end));
    expect(p.header).toMatchObject({ v: 1, visitId: 4, part: 1 });
    expect(p.frames.map((f) => [f.o, f.n, f.s, f.d])).toEqual([
      [0, 100, 1, { people: 0 }],
      [100, 120, 2, null],
    ]);
    expect(p.trailer).toMatchObject({ end: "complete", frames: 2 });
    expect(p.validBytes).toBe(enc(header + f0 + f1 + end).length);
    expect(p.frameEnds).toEqual([enc(header + f0).length, enc(header + f0 + f1).length]);
  });

  test("a frame's zones (z) are kept when given and absent otherwise; old indexes have none", () => {
    const zones = {
      zones: [
        {
          name: "door",
          points: [
            [0, 0],
            [1, 0],
            [1, 1],
          ],
        },
      ],
      masks: [],
      lines: [],
    };
    const z0 = frameLine({ o: 0, n: 100, t: at, s: 1, d: null, z: zones });
    expect(JSON.parse(z0)).toEqual({ o: 0, n: 100, t: at, s: 1, d: null, z: zones });
    expect(f1).not.toContain('"z"');
    const p = parseIndex(enc(header + z0 + f1 + end));
    expect(p.frames.map((f) => f.z)).toEqual([zones, undefined]);
    expect(parseIndex(enc(header + f0 + f1 + end)).frames.every((f) => f.z === undefined)).toBe(
      true,
    );
  });

  test("stops at a torn, unparsable or non-contiguous line", () => {
    const torn = parseIndex(enc(header + f0 + f1.slice(0, -1)));
    expect([torn.frames.length, torn.validBytes]).toEqual([1, enc(header + f0).length]);
    expect(parseIndex(enc(header + f0 + "{oops\n" + f1)).frames).toHaveLength(1);
    expect(parseIndex(enc(header + f1)).frames).toHaveLength(0); // o must start at 0
    expect(parseIndex(enc(f0 + header)).header).toBeNull();
    expect(parseIndex(new Uint8Array(0))).toMatchObject({ header: null, validBytes: 0 });
  });
});
