/**
 * The C shim through its bindings: JPEG, YUYV, resize, drawing, and V4L2 capture through the
 * fake camera (test/fakecam, LD_PRELOADed into a child process, so the real ioctl path runs).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDir, libPaths } from "../../src/native/libs.ts";
import {
  Camera,
  ShimError,
  drawRect,
  drawText,
  jpegDecode,
  jpegEncode,
  jpegInfo,
  resizeRgb,
  takeTfliteErrors,
  tfliteReporterPtr,
  yuyvToRgb,
} from "../../src/native/shim.ts";

const root = join(import.meta.dir, "..", "..");
const fixtures = join(root, "test/fixtures");
const CLIP = join(fixtures, "people_640x480_q5.mjpeg");
const fakecam = join(buildDir, "libfakecam.so");
const child = join(import.meta.dir, "fixtures/capture-child.ts");

beforeAll(() => {
  if (existsSync(libPaths().shim) && existsSync(fakecam)) return;
  const r = Bun.spawnSync(["bash", join(root, "scripts/build-ffi.sh")], {
    stdout: "inherit",
    stderr: "inherit",
  });
  if (r.exitCode !== 0) throw new Error("scripts/build-ffi.sh failed");
});

function read(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** The clip's frames: each runs from FFD8 to the FFD9 that ends it. */
function clipFrames(): Uint8Array[] {
  const buf = read(CLIP);
  const frames: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i + 1 < buf.length; i++) {
    if (buf[i] === 0xff && buf[i + 1] === 0xd9) {
      frames.push(buf.subarray(start, i + 2));
      start = i + 2;
    }
  }
  return frames;
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    se += d * d;
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

function shimErrorOf(fn: () => unknown): ShimError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ShimError) return e;
    throw e;
  }
  throw new Error("expected a ShimError");
}

describe("JPEG", () => {
  test("kite_and_cold.jpg decodes to 1352x900 RGB", () => {
    const jpg = read(join(fixtures, "kite_and_cold.jpg"));
    expect(jpegInfo(jpg)).toEqual({ width: 1352, height: 900 });
    const img = jpegDecode(jpg);
    expect([img.width, img.height, img.rgb.length]).toEqual([1352, 900, 1352 * 900 * 3]);
    // A beach photo: bright on average, and not one flat colour.
    const mean = img.rgb.reduce((s, v) => s + v, 0) / img.rgb.length;
    expect(mean).toBeGreaterThan(60);
    expect(new Set(img.rgb).size).toBeGreaterThan(200);
  });

  test("decodes into a caller's buffer when it is big enough", () => {
    const jpg = clipFrames()[0] as Uint8Array;
    const dst = new Uint8Array(640 * 480 * 3 + 100);
    const img = jpegDecode(jpg, dst);
    expect(img.rgb.buffer).toBe(dst.buffer);
    expect(img.rgb.length).toBe(640 * 480 * 3);
  });

  test("decode → encode at quality 90 → decode keeps PSNR above 35 dB", () => {
    for (const jpg of [read(join(fixtures, "kite_and_cold.jpg")), clipFrames()[20] as Uint8Array]) {
      const a = jpegDecode(jpg);
      const enc = jpegEncode(a.rgb, a.width, a.height, 90);
      expect([enc[0], enc[1], enc[enc.length - 2], enc[enc.length - 1]]).toEqual([
        0xff, 0xd8, 0xff, 0xd9,
      ]);
      const b = jpegDecode(enc);
      expect([b.width, b.height]).toEqual([a.width, a.height]);
      expect(psnr(a.rgb, b.rgb)).toBeGreaterThan(35);
    }
  });

  test("encodes return right-sized copies, not views of a shared scratch buffer", () => {
    const a = jpegDecode(clipFrames()[0] as Uint8Array);
    const e1 = jpegEncode(a.rgb, a.width, a.height, 50);
    const copy = e1.slice();
    const e2 = jpegEncode(a.rgb, a.width, a.height, 95);
    expect(e2.length).toBeGreaterThan(e1.length);
    expect(e1).toEqual(copy);
  });

  test("corrupt or non-JPEG input is a ShimError EJPEG, never a crash", () => {
    const good = clipFrames()[0] as Uint8Array;
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([0xff, 0xd8]),
      good.subarray(0, 40), // cut inside the headers
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), // PNG
      Uint8Array.from([0xff, 0xd8, ...new Array(100).fill(0), 0xff, 0xd9]), // no frame header
    ];
    for (const b of bad) {
      const e = shimErrorOf(() => jpegDecode(b));
      expect(e.hcName).toBe("EJPEG");
      expect(e.hcCode).toBe(-8);
      expect(e.code).toBe("EJPEG");
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(/corrupt or unsupported JPEG/);
    }
    // Cut in the middle of the picture data: libjpeg warns and fills the rest; still an image.
    const half = jpegDecode(good.subarray(0, good.length >> 1));
    expect([half.width, half.height]).toEqual([640, 480]);
  });

  test("bad arguments are refused before reaching C", () => {
    const rgb = new Uint8Array(16 * 16 * 3);
    expect(shimErrorOf(() => jpegEncode(rgb, 16, 16, 0)).hcName).toBe("EARG");
    expect(shimErrorOf(() => jpegEncode(rgb, 32, 32, 90)).hcName).toBe("EARG");
    expect(shimErrorOf(() => resizeRgb(rgb, 16, 16, 0, 8)).hcName).toBe("EARG");
    expect(shimErrorOf(() => yuyvToRgb(rgb, 15, 2)).hcName).toBe("EARG");
  });
});

describe("YUYV", () => {
  test("the raw YUYV frames 0, 20, 41, 50 match MJPEG frames 0, 20, 41, 50 (PSNR > 35 dB)", () => {
    const frames = clipFrames();
    expect(frames.length).toBe(200);
    const yuv = read(join(fixtures, "people_640x480_yuyv422_f0_20_41_50.yuv"));
    const size = 640 * 480 * 2;
    expect(yuv.length).toBe(4 * size);
    [0, 20, 41, 50].forEach((f, k) => {
      const a = yuyvToRgb(yuv.subarray(k * size, (k + 1) * size), 640, 480);
      const b = jpegDecode(frames[f] as Uint8Array).rgb;
      expect(psnr(a, b)).toBeGreaterThan(35);
    });
  });
});

describe("resize", () => {
  test("stretch gives the requested size; identity is exact", () => {
    const a = jpegDecode(clipFrames()[0] as Uint8Array);
    const small = resizeRgb(a.rgb, 640, 480, 300, 300);
    expect(small.length).toBe(300 * 300 * 3);
    const same = resizeRgb(a.rgb, 640, 480, 640, 480);
    expect(psnr(same, a.rgb)).toBe(Infinity);
    // Shrunk then grown back, the picture is still close to the original.
    const back = resizeRgb(resizeRgb(a.rgb, 640, 480, 320, 240), 320, 240, 640, 480);
    expect(psnr(back, a.rgb)).toBeGreaterThan(25);
  });

  test("shrinking averages the pixels each output covers (a ramp stays a ramp)", () => {
    const w = 256;
    const src = new Uint8Array(w * 2 * 3);
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < w; x++) src.fill(x, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const dst = resizeRgb(src, w, 2, 128, 1);
    for (let x = 2; x < 126; x++)
      expect(Math.abs((dst[x * 3] as number) - (2 * x + 0.5))).toBeLessThanOrEqual(1);
  });

  test("letterbox keeps the aspect ratio, centred on black", () => {
    const src = new Uint8Array(640 * 480 * 3).fill(200);
    const dst = new Uint8Array(300 * 300 * 3).fill(7);
    const out = resizeRgb(src, 640, 480, 300, 300, { letterbox: true }, dst);
    expect(out.buffer).toBe(dst.buffer);
    // 640x480 → 300x225, 37 rows of black above and 38 below.
    const row = (y: number): number[] => Array.from(out.subarray(y * 900, y * 900 + 900));
    for (const y of [0, 36, 262, 299]) expect(row(y).every((v) => v === 0)).toBe(true);
    for (const y of [37, 150, 261]) expect(row(y).every((v) => v === 200)).toBe(true);
    // Portrait source: bars left and right.
    const tall = resizeRgb(new Uint8Array(100 * 200 * 3).fill(90), 100, 200, 300, 300, {
      letterbox: true,
    });
    expect(Array.from(tall.subarray(150 * 900, 150 * 900 + 3))).toEqual([0, 0, 0]);
    expect(Array.from(tall.subarray(150 * 900 + 150 * 3, 150 * 900 + 150 * 3 + 3))).toEqual([
      90, 90, 90,
    ]);
  });
});

describe("drawing", () => {
  test("drawText draws the label in the font, on its background box", () => {
    const w = 320;
    const h = 60;
    const img = new Uint8Array(w * h * 3);
    const tw = drawText(img, w, h, 10, 20, "person 0.87", 2, 0xffffff, 0x102030);
    expect(tw).toBe(11 * 8 * 2);
    let ink = 0;
    let box = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = (y * w + x) * 3;
        const inside = x >= 10 && x < 10 + tw && y >= 20 && y < 36;
        if (img[p] === 255 && img[p + 1] === 255 && img[p + 2] === 255) {
          expect(inside).toBe(true);
          ink++;
        } else if (img[p] === 0x10 && img[p + 1] === 0x20 && img[p + 2] === 0x30) {
          expect(inside).toBe(true);
          box++;
        } else {
          expect(inside).toBe(false);
        }
      }
    }
    expect(ink).toBeGreaterThan(200);
    expect(box).toBeGreaterThan(ink);
    // Different text, different pixels; a transparent background leaves the rest alone.
    const a = new Uint8Array(w * h * 3);
    const b = new Uint8Array(w * h * 3);
    drawText(a, w, h, 0, 0, "0.87", 1, 0xffffff, -1);
    drawText(b, w, h, 0, 0, "0.88", 1, 0xffffff, -1);
    expect(a).not.toEqual(b);
    expect(a.filter((v) => v !== 0 && v !== 255).length).toBe(0);
  });

  test("drawRect draws a clipped outline of the given thickness", () => {
    const w = 40;
    const h = 30;
    const img = new Uint8Array(w * h * 3);
    drawRect(img, w, h, 5, 5, 20, 15, 0xff0000, 2);
    const px = (x: number, y: number): number[] =>
      Array.from(img.subarray((y * w + x) * 3, (y * w + x) * 3 + 3));
    expect(px(5, 5)).toEqual([255, 0, 0]);
    expect(px(20, 15)).toEqual([255, 0, 0]);
    expect(px(6, 10)).toEqual([255, 0, 0]);
    expect(px(7, 10)).toEqual([0, 0, 0]); // inside, past the 2-pixel border
    expect(px(21, 10)).toEqual([0, 0, 0]);
    // Off the image on three sides: no throw, the visible part is drawn.
    drawRect(img, w, h, -10, -10, 100, 25, 0x00ff00, 1);
    expect(px(10, 25)).toEqual([0, 255, 0]);
    drawText(img, w, h, -50, -3, "clipped text", 3, 0xffffff, 0);
  });
});

describe("threads", () => {
  test("decoding in a Worker and on the main thread at once gives the same pixels", async () => {
    const jpg = clipFrames()[10] as Uint8Array;
    const worker = new Worker(join(import.meta.dir, "fixtures/decode-worker.ts"));
    const done = new Promise<number[]>((resolve, reject) => {
      worker.onmessage = (ev: MessageEvent<number[]>) => resolve(ev.data);
      worker.onerror = (ev) => reject(new Error(ev.message));
    });
    worker.postMessage({ jpg, times: 20 });
    const mine: number[] = [];
    for (let i = 0; i < 20; i++) mine.push(checksum(jpegDecode(jpg).rgb));
    const theirs = await done;
    worker.terminate();
    expect(new Set([...mine, ...theirs]).size).toBe(1);
  });

  test("the TFLite reporter exists and starts empty", () => {
    expect(Number(tfliteReporterPtr())).toBeGreaterThan(0);
    expect(takeTfliteErrors()).toBe("");
  });
});

function checksum(a: Uint8Array): number {
  let h = 0;
  for (let i = 0; i < a.length; i += 7) h = (h * 31 + (a[i] as number)) >>> 0;
  return h;
}

describe("camera errors", () => {
  test("a missing device is ENODEV and says how to find cameras", () => {
    const e = shimErrorOf(() => Camera.open("/dev/video-hazardcam-missing"));
    expect(e.hcName).toBe("ENODEV");
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/no such device.*hazardcam devices/);
  });

  test("a file that is not a camera is ENOTCAM", () => {
    for (const p of ["/dev/null", join(fixtures, "kite_and_cold.jpg"), tmpdir()]) {
      const e = shimErrorOf(() => Camera.open(p));
      expect(e.hcName).toBe("ENOTCAM");
      expect(e.message).toMatch(/not a V4L2 video capture device/);
    }
  });
});

// ---- through the fake camera ----------------------------------------------------------------

interface ChildError {
  name: string;
  hcCode: number;
  message: string;
}
interface ChildResult {
  formats?: { fourcc: string; sizes: string[] }[];
  started?: { width: number; height: number; fourcc: string; frameBytes: number };
  frames?: { bytes: number; seq: number; timestampUs: number; dropped: number }[];
  grabError?: ChildError;
  secondStart?: ChildError;
  afterClose?: ChildError;
  error?: ChildError;
}

interface Capture {
  result: ChildResult;
  dir: string;
  log: string[];
  frame(i: number): Uint8Array;
}

async function capture(
  args: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), "hazardcam-cap-"));
  const logPath = join(dir, "fakecam.log");
  const proc = Bun.spawn(
    [process.execPath, child, JSON.stringify({ device: "/dev/video0", outDir: dir, ...args })],
    {
      env: {
        ...process.env,
        LD_PRELOAD: fakecam,
        FAKECAM_SOURCE: CLIP,
        FAKECAM_LOG: logPath,
        ...env,
      },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`capture child exited ${code}: ${err}`);
  const line = out.trim().split("\n").pop() ?? "{}";
  return {
    result: JSON.parse(line) as ChildResult,
    dir,
    log: existsSync(logPath) ? readFileSync(logPath, "utf8").split("\n").filter(Boolean) : [],
    frame: (i) => read(join(dir, `frame-${i}.bin`)),
  };
}

describe("capture through the fake camera", () => {
  const clip = clipFrames();

  test("MJPEG at 640x480 delivers the clip's frames and releases the camera on close", async () => {
    const cap = await capture({ width: 640, height: 480, frames: 4 });
    const r = cap.result;
    expect(r.error).toBeUndefined();
    expect(r.formats?.map((f) => f.fourcc)).toEqual(["MJPG", "YUYV"]);
    expect(r.formats?.[0]?.sizes).toEqual(["640x480"]);
    expect(r.started).toMatchObject({ width: 640, height: 480, fourcc: "MJPG" });
    expect(r.frames?.length).toBe(4);
    r.frames?.forEach((f, i) => {
      const want = clip[f.seq % clip.length] as Uint8Array;
      const got = cap.frame(i);
      expect(got.length).toBe(f.bytes);
      expect(psnr(jpegDecode(got).rgb, jpegDecode(want).rgb)).toBe(Infinity);
    });
    // Frames come at 10 fps on the driver's monotonic clock.
    const ts = r.frames?.map((f) => f.timestampUs) ?? [];
    for (let i = 1; i < ts.length; i++) {
      const gap = (ts[i] as number) - (ts[i - 1] as number);
      expect(gap).toBeGreaterThanOrEqual(99_000);
    }
    // Released: STREAMOFF, every buffer unmapped, then the device closed; methods refuse after.
    const log = cap.log;
    expect(log).toContain("s_fmt MJPG 640x480");
    const off = log.indexOf("streamoff");
    const close = log.lastIndexOf("close");
    expect(off).toBeGreaterThan(log.indexOf("streamon"));
    const unmapped = log.filter((l) => l.startsWith("munmap ")).length;
    expect(unmapped).toBeGreaterThanOrEqual(3);
    expect(log.slice(off, close).filter((l) => l.startsWith("munmap ")).length).toBe(unmapped);
    expect(close).toBe(log.length - 1);
    expect(r.afterClose?.name).toBe("ESTATE");
    expect(r.afterClose?.message).toMatch(/closed/);
  });

  test("a YUYV-only camera at 640x480 delivers frames that match the clip (PSNR > 30 dB)", async () => {
    const cap = await capture({ width: 640, height: 480, frames: 3 }, { FAKECAM_FORMATS: "YUYV" });
    const r = cap.result;
    expect(r.error).toBeUndefined();
    expect(r.formats?.map((f) => f.fourcc)).toEqual(["YUYV"]);
    expect(r.started).toMatchObject({ width: 640, height: 480, fourcc: "YUYV" });
    expect(r.frames?.length).toBe(3);
    r.frames?.forEach((f, i) => {
      expect(f.bytes).toBe(640 * 480 * 2);
      const rgb = yuyvToRgb(cap.frame(i), 640, 480);
      const want = jpegDecode(clip[f.seq % clip.length] as Uint8Array).rgb;
      expect(psnr(rgb, want)).toBeGreaterThan(30);
    });
    expect(cap.log).toContain("s_fmt YUYV 640x480");
  });

  test("YUYV can be forced on a camera that offers both", async () => {
    const cap = await capture({ width: 640, height: 480, frames: 1, fourcc: "YUYV" });
    expect(cap.result.started?.fourcc).toBe("YUYV");
    expect(cap.result.frames?.[0]?.bytes).toBe(640 * 480 * 2);
  });

  test("a size the camera does not offer is answered with what the driver gave", async () => {
    const cap = await capture({ width: 1280, height: 720, frames: 1 });
    expect(cap.result.started).toMatchObject({ width: 640, height: 480, fourcc: "MJPG" });
    expect(cap.log).toContain("s_fmt MJPG 640x480");
    expect(jpegInfo(cap.frame(0))).toEqual({ width: 640, height: 480 });
  });

  test("a slow reader gets the newest frame; the stale ones are counted as dropped", async () => {
    const cap = await capture({ width: 640, height: 480, frames: 3, sleepMs: 450 });
    const frames = cap.result.frames ?? [];
    expect(frames.length).toBe(3);
    for (let i = 1; i < frames.length; i++) {
      const f = frames[i] as { seq: number; dropped: number };
      expect(f.dropped).toBeGreaterThanOrEqual(2);
      expect(f.seq - (frames[i - 1] as { seq: number }).seq).toBeGreaterThanOrEqual(f.dropped + 1);
    }
  });

  test("a driver's out-of-range buffer index is EIO, and the frame held is given back", async () => {
    // Frames pile up (fps 50, a 300 ms wait): the first grab dequeues two good ones, keeps the
    // newest, then meets the bad index on the third.
    const cap = await capture(
      { width: 640, height: 480, frames: 2, sleepMs: 300 },
      { FAKECAM_FPS: "50", FAKECAM_BAD_INDEX_AT: "3" },
    );
    expect(cap.result.frames).toEqual([]);
    expect(cap.result.grabError?.name).toBe("EIO");
    expect(cap.log.some((l) => l.startsWith("bad_index "))).toBe(true);
    // Only the buffer the driver garbled is missing at STREAMOFF: the one held was requeued.
    expect(cap.log).toContain("held 1");
  });

  test("a second program cannot start the same camera: EBUSY with the fix", async () => {
    const cap = await capture({ width: 640, height: 480, frames: 1, second: true });
    expect(cap.result.secondStart?.name).toBe("EBUSY");
    expect(cap.result.secondStart?.message).toMatch(/fuser \/dev\/video0/);
  });

  test("an unplugged camera is EGONE; a silent one is ETIMEOUT", async () => {
    const gone = await capture(
      { width: 640, height: 480, frames: 5 },
      { FAKECAM_UNPLUG_AFTER: "2" },
    );
    expect(gone.result.frames?.length).toBe(2);
    expect(gone.result.grabError?.name).toBe("EGONE");
    expect(gone.log).toContain("close");
    const stalled = await capture(
      { width: 640, height: 480, frames: 5, timeoutMs: 300 },
      { FAKECAM_STALL_AFTER: "1" },
    );
    expect(stalled.result.frames?.length).toBe(1);
    expect(stalled.result.grabError?.name).toBe("ETIMEOUT");
    expect(stalled.result.grabError?.message).toMatch(/no frame within 300 ms/);
  });

  test("a corrupt camera frame fails to decode with EJPEG instead of crashing", async () => {
    const cap = await capture(
      { width: 640, height: 480, frames: 4 },
      { FAKECAM_CORRUPT_EVERY: "2" },
    );
    const frames = cap.result.frames ?? [];
    expect(frames.length).toBe(4);
    // Every second frame the camera sends (odd sequence numbers) is broken.
    expect(frames.some((f) => f.seq % 2 === 1)).toBe(true);
    frames.forEach((f, i) => {
      if (f.seq % 2 === 1) expect(shimErrorOf(() => jpegDecode(cap.frame(i))).hcName).toBe("EJPEG");
      else expect(jpegDecode(cap.frame(i)).width).toBe(640);
    });
  });
});
