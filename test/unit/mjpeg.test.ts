import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MjpegSplitter, splitJpegs } from "../../src/camera/mjpeg.ts";

const clip = new Uint8Array(
  readFileSync(join(import.meta.dir, "..", "fixtures", "people_640x480_q5.mjpeg")),
);

/** A minimal JPEG-shaped byte string: SOI, segments, SOS, entropy bytes, EOI. */
function fakeJpeg(entropy: number[], extra: number[] = []): Uint8Array {
  return Uint8Array.from([
    0xff,
    0xd8, // SOI
    0xff,
    0xfe,
    0x00,
    0x04,
    0x41,
    0x42, // COM "AB"
    ...extra,
    0xff,
    0xda,
    0x00,
    0x03,
    0x01, // SOS with a 1-byte header body
    ...entropy,
    0xff,
    0xd9, // EOI
  ]);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe("splitJpegs", () => {
  test("the bundled clip has 200 frames, each SOI..EOI", () => {
    const frames = splitJpegs(clip);
    expect(frames).toHaveLength(200);
    expect(frames.reduce((n, f) => n + f.length, 0)).toBe(clip.length);
    for (const f of frames) {
      expect([f[0], f[1], f[2], f[3]]).toEqual([0xff, 0xd8, 0xff, 0xfe]);
      expect([f[f.length - 2], f[f.length - 1]]).toEqual([0xff, 0xd9]);
    }
  });

  test("stuffed FF00, restart markers and an EOI inside an APP segment do not end a frame", () => {
    // APP1 segment holding a thumbnail's FFD8..FFD9.
    const app1 = [0xff, 0xe1, 0x00, 0x06, 0xff, 0xd8, 0xff, 0xd9];
    const a = fakeJpeg([0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xff, 0xd1], app1);
    const b = fakeJpeg([0x99]);
    const frames = splitJpegs(concat(a, b));
    expect(frames).toEqual([a, b]);
  });

  test("garbage between frames is skipped; a frame cut off by a new SOI is dropped", () => {
    const a = fakeJpeg([1, 2, 3]);
    const cut = a.subarray(0, 7); // ends inside the COM segment, then a new frame starts
    const splitter = new MjpegSplitter();
    const frames = splitter.push(
      concat(Uint8Array.from([0, 1, 2, 0xff]), a, Uint8Array.from([7, 7]), cut, a),
    );
    expect(frames).toEqual([a, a]);
    expect(splitter.dropped).toBe(1);
    expect(splitter.pendingBytes).toBe(0);
  });

  test("a second scan (progressive JPEG) continues the frame", () => {
    const prog = Uint8Array.from([
      0xff,
      0xd8,
      0xff,
      0xda,
      0x00,
      0x03,
      0x01,
      0x11,
      0x22,
      0xff,
      0xc4,
      0x00,
      0x03,
      0x00, // DHT between scans
      0xff,
      0xda,
      0x00,
      0x03,
      0x01,
      0x33,
      0xff,
      0xd9,
    ]);
    expect(splitJpegs(prog)).toEqual([prog]);
  });
});

describe("MjpegSplitter", () => {
  test("byte-at-a-time and odd-sized chunks give the same frames as one push", () => {
    const whole = splitJpegs(clip.subarray(0, 200_000));
    for (const size of [1, 7, 4096, 65_537]) {
      const s = new MjpegSplitter();
      const got: Uint8Array[] = [];
      const end = size === 1 ? 60_000 : 200_000;
      for (let o = 0; o < end; o += size)
        got.push(...s.push(clip.subarray(o, Math.min(end, o + size))));
      const want = size === 1 ? splitJpegs(clip.subarray(0, 60_000)) : whole;
      expect(got.length).toBe(want.length);
      got.forEach((f, i) => expect(f).toEqual(want[i]!));
    }
  });

  test("a frame that never ends is dropped at maxFrameBytes, then the stream recovers", () => {
    const s = new MjpegSplitter({ maxFrameBytes: 1000 });
    const endless = concat(
      Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02]),
      new Uint8Array(2000),
    );
    expect(s.push(endless)).toHaveLength(0);
    expect(s.dropped).toBe(1);
    expect(s.pendingBytes).toBe(0);
    const a = fakeJpeg([5]);
    expect(s.push(a)).toEqual([a]);
  });
});
