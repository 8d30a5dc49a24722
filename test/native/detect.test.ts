/**
 * The detector through the real native path: TFLite 2.9 C API via bun:ffi, JPEG decode and
 * resize via the shim, the CPU model (this machine has no Edge TPU; the Edge TPU path is
 * exercised with a fake libedgetpu built from fake_edgetpu.c).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { splitJpegs } from "../../src/camera/mjpeg.ts";
import { Detector } from "../../src/detect/detector.ts";
import { HcError } from "../../src/shared/errors.ts";
import { loadImage } from "../../src/image/load.ts";
import { configureLibs } from "../../src/native/libs.ts";
import { jpegDecode } from "../../src/native/shim.ts";
import type { Box, Detection } from "../../src/shared/types.ts";

const root = join(import.meta.dir, "..", "..");
const fixtures = join(root, "test/fixtures");
const cpuModel = join(root, "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite");
const tpuModel = join(root, "models/ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite");
const segModel = join(
  fixtures,
  "ssd_mobilenet_v2_coco_quant_postprocess_segment_0_of_4_edgetpu.tflite",
);
const tfliteInclude = join(root, "node_modules/tfjs-tflite-node/cc_deps/include");

let tmp: string;
let detector: Detector;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "hc-detect-test-"));
  // Whatever is installed here, "no libedgetpu" must be what these tests see.
  configureLibs({ edgetpu: join(tmp, "no-such-libedgetpu.so.1") });
  detector = Detector.open({ modelPath: cpuModel, threads: 2 });
});

afterAll(() => {
  detector?.close();
  configureLibs({});
  rmSync(tmp, { recursive: true, force: true });
});

const persons = (dets: Detection[]): Detection[] =>
  dets.filter((d) => d.classId === 0 && d.score >= 0.5);

function area(d: Detection | { box: Box }): number {
  return (d.box.xmax - d.box.xmin) * (d.box.ymax - d.box.ymin);
}

function iou(a: Box, b: Box): number {
  const h = Math.max(0, Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin));
  const w = Math.max(0, Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin));
  const inter = h * w;
  return inter / (area({ box: a }) + area({ box: b }) - inter);
}

type Ref = [label: string, score: number, ymin: number, xmin: number, ymax: number, xmax: number];

/**
 * Every reference detection (test/fixtures/NOTICE.md: TFLite 2.9, ffmpeg's bilinear stretch to
 * 300x300, threshold 0.5) is found with the same label, a score within 0.02 and a box of IoU
 * >= 0.9; >= 0.75 for boxes under 0.5% of the image (30x50 px people in kite_and_cold.jpg),
 * where our resize, within 1 of ffmpeg's per pixel, moves an edge by a pixel of the 300x300 input.
 */
function expectReference(got: Detection[], refs: readonly Ref[]): void {
  expect(got.map((d) => d.label).sort()).toEqual(refs.map((r) => r[0]).sort());
  for (const [label, score, ymin, xmin, ymax, xmax] of refs) {
    const box = { ymin, xmin, ymax, xmax };
    const best = Math.max(...got.filter((d) => d.label === label).map((d) => iou(d.box, box)));
    const match = got.find((d) => d.label === label && iou(d.box, box) === best)!;
    expect({ label, box, best: best >= (area({ box }) < 0.005 ? 0.75 : 0.9) }).toEqual({
      label,
      box,
      best: true,
    });
    expect(Math.abs(match.score - score)).toBeLessThanOrEqual(0.02);
  }
}

const KITE_REF: readonly Ref[] = [
  ["kite", 0.953, 0.0856, 0.4371, 0.1619, 0.4941],
  ["kite", 0.789, 0.2731, 0.2091, 0.3112, 0.2271],
  ["person", 0.789, 0.567, 0.3839, 0.5925, 0.4051],
  ["person", 0.789, 0.5652, 0.0482, 0.6232, 0.0695],
  ["kite", 0.66, 0.3807, 0.3478, 0.4012, 0.3628],
  ["person", 0.582, 0.57, 0.0391, 0.6184, 0.0568],
  ["person", 0.582, 0.6766, 0.0835, 0.841, 0.1209],
  ["person", 0.582, 0.7621, 0.1572, 0.9295, 0.2083],
];
const GRACE_REF: readonly Ref[] = [
  ["tie", 0.789, 0.6961, 0.4431, 0.9042, 0.5636],
  ["person", 0.789, 0.0274, 0.0007, 0.9842, 0.9931],
];

/** The HcError fn throws (fails the test if it throws nothing or something else). */
function hcError(fn: () => unknown): HcError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HcError) return e;
    throw e;
  }
  throw new Error("expected an HcError, nothing was thrown");
}

describe("Detector on the CPU model", () => {
  test("reports what it loaded", () => {
    expect(detector.backend).toBe("cpu");
    expect(detector.tfliteVersion).toBe("2.9.0");
    expect(detector.edgetpuVersion).toBeNull();
    expect(detector.modelPath).toBe(cpuModel);
    expect([detector.inputWidth, detector.inputHeight]).toEqual([300, 300]);
    expect(detector.warnings).toEqual([]);
    expect(detector.labels.get(0)).toBe("person");
  });

  test("kite_and_cold.jpg: the 5 persons and 3 kites of the reference, scores and boxes", () => {
    const img = loadImage(join(fixtures, "kite_and_cold.jpg"));
    const r = detector.detect(img.rgb, img.width, img.height, { threshold: 0.5 });
    expect(persons(r.detections)).toHaveLength(5);
    expectReference(r.detections, KITE_REF);
    expect(r.inferMs).toBeGreaterThan(0);
    expect(r.resizeMs).toBeGreaterThan(0);
  });

  test("grace_hopper.bmp: the one person (most of the image) and the tie of the reference", () => {
    const img = loadImage(join(fixtures, "grace_hopper.bmp"));
    expect([img.width, img.height]).toEqual([512, 600]);
    const r = detector.detect(img.rgb, img.width, img.height, { threshold: 0.5 });
    const people = persons(r.detections);
    expect(people).toHaveLength(1);
    expect(area(people[0]!)).toBeGreaterThan(0.6);
    expectReference(r.detections, GRACE_REF);
  });

  test("all 200 frames of the clip: 136 +- 3 have a person", () => {
    const frames = splitJpegs(
      new Uint8Array(readFileSync(join(fixtures, "people_640x480_q5.mjpeg"))),
    );
    expect(frames).toHaveLength(200);
    const rgb = new Uint8Array(640 * 480 * 3);
    const withPerson: number[] = [];
    frames.forEach((jpg, i) => {
      const f = jpegDecode(jpg, rgb);
      const r = detector.detect(f.rgb, f.width, f.height, { threshold: 0.5 });
      if (persons(r.detections).length > 0) withPerson.push(i);
    });
    expect(Math.abs(withPerson.length - 136)).toBeLessThanOrEqual(3);
    // The person walks through frames 0-41 and 106-199: misses only at the edges.
    expect(withPerson.filter((i) => i > 45 && i < 100)).toEqual([]);
  }, 300_000);

  test("inferRgb300 takes a model-size input; wrong sizes are refused", () => {
    const input = new Uint8Array(300 * 300 * 3).fill(128);
    const r = detector.inferRgb300(input, { threshold: 0.5 });
    expect(persons(r.detections)).toEqual([]);
    expect(hcError(() => detector.inferRgb300(new Uint8Array(10))).code).toBe("DETECT_INPUT_SIZE");
    expect(
      hcError(() => detector.detect(new Uint8Array(10), 640, 480, { threshold: 0.5 })).code,
    ).toBe("DETECT_INPUT_SIZE");
  });

  test("letterbox: the boxes map back to the frame", () => {
    const d = Detector.open({ modelPath: cpuModel, threads: 2, letterbox: true });
    try {
      const img = loadImage(join(fixtures, "grace_hopper.bmp"));
      const people = persons(
        d.detect(img.rgb, img.width, img.height, { threshold: 0.5 }).detections,
      );
      expect(people).toHaveLength(1);
      expect(area(people[0]!)).toBeGreaterThan(0.6);
    } finally {
      d.close();
    }
  });

  test("100 detect calls after a warm-up grow RSS by less than 5 MB", () => {
    const img = loadImage(join(fixtures, "kite_and_cold.jpg"));
    const run = (): unknown => detector.detect(img.rgb, img.width, img.height, { threshold: 0.5 });
    for (let i = 0; i < 10; i++) run();
    Bun.gc(true);
    const before = process.memoryUsage.rss();
    for (let i = 0; i < 100; i++) run();
    Bun.gc(true);
    const growthMB = (process.memoryUsage.rss() - before) / 1048576;
    expect(growthMB).toBeLessThan(5);
  }, 180_000);

  test("close() is idempotent and later calls fail clearly", () => {
    const d = Detector.open({ modelPath: cpuModel });
    d.close();
    d.close();
    expect(d.closed).toBe(true);
    expect(hcError(() => d.inferRgb300(new Uint8Array(270000))).code).toBe("DETECTOR_CLOSED");
  });
});

describe("Edge TPU models without an Edge TPU", () => {
  test("no libedgetpu: a one-line error that says how to fix it", () => {
    const e = hcError(() => Detector.open({ modelPath: tpuModel }));
    expect(e.code).toBe("EDGETPU_LIB_MISSING");
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("libedgetpu1-std");
    expect(e.message).toContain("--cpu-fallback");
    expect(e.message).not.toContain("\n");
    // What went wrong and the fix are kept apart; the message is "what: fix".
    expect(e.what).toStartWith("libedgetpu is not installed or cannot be loaded");
    expect(e.what).not.toContain("libedgetpu1-std");
    expect(e.fix).toContain("libedgetpu1-std");
    expect(e.message).toBe(`${e.what}: ${e.fix}`);
  });

  test("--cpu-fallback loads the sibling CPU model and says so", () => {
    const d = Detector.open({ modelPath: tpuModel, cpuFallback: true, threads: 2 });
    try {
      expect(d.backend).toBe("cpu");
      expect(d.modelPath).toBe(cpuModel);
      expect(d.requestedModelPath).toBe(tpuModel);
      expect(d.warnings).toHaveLength(1);
      expect(d.warnings[0]).toContain("CPU FALLBACK");
      expect(d.warnings[0]).toContain(cpuModel);
      const img = loadImage(join(fixtures, "kite_and_cold.jpg"));
      const r = d.detect(img.rgb, img.width, img.height, { threshold: 0.5 });
      expect(persons(r.detections)).toHaveLength(5);
    } finally {
      d.close();
    }
  });

  test("--cpu-fallback with no CPU model next to it is an error naming the missing file", () => {
    const dir = join(tmp, "lonely");
    mkdirSync(dir, { recursive: true });
    const lonely = join(dir, "detector_edgetpu.tflite");
    copyFileSync(tpuModel, lonely);
    const e = hcError(() => Detector.open({ modelPath: lonely, cpuFallback: true }));
    expect(e.code).toBe("MODEL_NO_CPU_SIBLING");
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(join(dir, "detector.tflite"));
  });

  test("a model that is not a detector is rejected as such, with or without --cpu-fallback", () => {
    for (const cpuFallback of [false, true]) {
      const e = hcError(() => Detector.open({ modelPath: segModel, cpuFallback }));
      expect(e.code).toBe("MODEL_NOT_SSD");
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain("not an SSD detector");
      expect(e.message).toContain("outputs are [1,10,10,960] uint8, [1,19,19,576] uint8");
      expect(e.message).toContain("TFLite_Detection_PostProcess");
    }
  });

  test("an Edge TPU model renamed without _edgetpu says it needs the Edge TPU", () => {
    const renamed = join(tmp, "renamed.tflite");
    copyFileSync(tpuModel, renamed);
    const e = hcError(() => Detector.open({ modelPath: renamed }));
    expect(e.code).toBe("MODEL_NEEDS_EDGETPU");
    expect(e.exitCode).toBe(2);
  });
});

describe("Edge TPU path with a fake libedgetpu", () => {
  let fakeLib = "";

  beforeAll(() => {
    fakeLib = join(tmp, "libfake_edgetpu.so");
    const cc = spawnSync(
      "gcc",
      [
        "-shared",
        "-fPIC",
        "-O1",
        "-I",
        tfliteInclude,
        "-o",
        fakeLib,
        join(import.meta.dir, "fake_edgetpu.c"),
      ],
      { encoding: "utf8" },
    );
    if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  });

  interface ChildResult {
    devices: { type: number; kind: string; path: string }[] | string;
    opened?: { backend: string; modelPath: string; edgetpuVersion: string; warnings: string[] };
    error?: { code: string; exitCode: number; message: string; fix: string };
    counts: Record<string, number>;
    lastOptions: string;
  }

  function child(env: Record<string, string>, ...args: string[]): ChildResult {
    const r = spawnSync("bun", [join(import.meta.dir, "fake-edgetpu-child.ts"), ...args], {
      encoding: "utf8",
      env: { ...process.env, HAZARDCAM_EDGETPU_LIB: fakeLib, ...env },
    });
    if (r.status !== 0) throw new Error(`child exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout) as ChildResult;
  }

  test("edgetpu_list_devices: type and path of each device are read from the struct array", () => {
    const r = child({ FAKE_EDGETPU_DEVICES: "2" }, tpuModel);
    expect(r.devices).toEqual([
      { type: 1, kind: "usb", path: "/sys/bus/usb/devices/2-1" },
      { type: 0, kind: "pci", path: "/dev/apex_0" },
    ]);
    expect(r.counts.freeDevices).toBe(r.counts.list);
  });

  test("no device: the lsusb hint", () => {
    const r = child({ FAKE_EDGETPU_DEVICES: "0" }, tpuModel);
    expect(r.error?.code).toBe("EDGETPU_NO_DEVICE");
    expect(r.error?.exitCode).toBe(2);
    expect(r.error?.message).toContain("No Edge TPU found");
    expect(r.error?.message).toContain("1a6e:089a or 18d1:9302");
    expect(r.error?.message).toContain("--cpu-fallback");
  });

  test("a device that cannot be opened", () => {
    const r = child({ FAKE_EDGETPU_DELEGATE: "null" }, tpuModel);
    expect(r.error?.code).toBe("EDGETPU_OPEN");
    expect(r.error?.message).toContain("/sys/bus/usb/devices/2-1");
  });

  test("a delegate that does not take edgetpu-custom-op: both versions and the library flags", () => {
    const r = child({}, tpuModel);
    expect(r.error?.code).toBe("EDGETPU_MISMATCH");
    expect(r.error?.message).toContain("TFLite 2.9.0");
    expect(r.error?.message).toContain("libedgetpu BuildLabel(fake), RuntimeVersion(14)");
    expect(r.error?.fix).toContain("--tflite-lib/--edgetpu-lib");
    // The delegate was freed (after its interpreter) and the device list too.
    expect(r.counts).toMatchObject({ create: 1, freeDelegate: 1, liveDelegates: 0 });
    expect(r.counts.freeDevices).toBe(r.counts.list);
  });

  test("--cpu-fallback after a delegate failure: CPU model, the reason in the warning", () => {
    for (const how of [[], ["--supervised"]]) {
      const r = child({}, tpuModel, "--cpu-fallback", ...how);
      expect(r.opened?.backend).toBe("cpu");
      expect(r.opened?.modelPath).toBe(cpuModel);
      expect(r.opened?.warnings[0]).toContain(
        "CPU FALLBACK (--cpu-fallback): the Edge TPU delegate",
      );
      // The warning carries what went wrong, not the fix that says to pass --cpu-fallback.
      expect(r.opened?.warnings[0]).not.toContain("or pass --cpu-fallback");
      // The Edge TPU was tried once (the detect Worker used to try it twice), and freed.
      expect(r.counts).toMatchObject({ create: 1, freeDelegate: 1, liveDelegates: 0 });
    }
  });

  test("as the detect Worker opens it: an unplugged Edge TPU is looked for once, the CPU runs", () => {
    const r = child({ FAKE_EDGETPU_DEVICES: "0" }, tpuModel, "--cpu-fallback", "--supervised");
    expect(r.opened?.backend).toBe("cpu");
    expect(r.opened?.warnings[0]).toContain("No Edge TPU found");
    // One list by the child itself, one by the open.
    expect(r.counts).toMatchObject({ list: 2, create: 0 });
  });

  test("delegate options reach libedgetpu as name/value pairs", () => {
    const r = child({}, tpuModel, "--options", "Performance=Max,Usb.MaxBulkInQueueLength=32");
    expect(r.lastOptions).toBe("Performance=Max;Usb.MaxBulkInQueueLength=32;");
    expect(r.counts).toMatchObject({ create: 1, freeDelegate: 1, liveDelegates: 0 });
  });
});

describe("bad models and images: exit code 2, the path, no crash", () => {
  test("missing, directory, non-tflite and truncated models", () => {
    const truncated = join(tmp, "truncated.tflite");
    writeFileSync(truncated, readFileSync(cpuModel).subarray(0, 1000));
    const text = join(tmp, "labels.tflite");
    copyFileSync(join(root, "models/coco_labels.txt"), text);
    const cases: [string, string][] = [
      [join(tmp, "missing.tflite"), "MODEL_MISSING"],
      [tmp, "MODEL_NOT_FILE"],
      [text, "MODEL_NOT_TFLITE"],
      [truncated, "MODEL_INVALID"],
    ];
    for (const [path, code] of cases) {
      const e = hcError(() => Detector.open({ modelPath: path }));
      expect(e.code).toBe(code);
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain(path);
    }
  });

  test("--threads out of range: the flag's own error, 1..16 as --help says", () => {
    for (const threads of [0, 17, 1.5]) {
      const e = hcError(() => Detector.open({ modelPath: cpuModel, threads }));
      expect(e.code).toBe("EARG_THREADS");
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain("from 1 to 16");
    }
  });

  test("missing, corrupt, truncated and unsupported images", () => {
    const kite = readFileSync(join(fixtures, "kite_and_cold.jpg"));
    const files: [string, Uint8Array | null, string][] = [
      ["missing.jpg", null, "IMAGE_MISSING"],
      [
        "garbage.jpg",
        Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]),
        "IMAGE_CORRUPT",
      ],
      ["head.jpg", kite.subarray(0, 100), "IMAGE_CORRUPT"],
      ["empty.jpg", new Uint8Array(0), "IMAGE_UNSUPPORTED"],
      ["text.jpg", new TextEncoder().encode("not an image\n"), "IMAGE_UNSUPPORTED"],
      [
        "image.png",
        Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]),
        "IMAGE_UNSUPPORTED",
      ],
    ];
    for (const [name, bytes, code] of files) {
      const path = join(tmp, name);
      if (bytes) writeFileSync(path, bytes);
      const e = hcError(() => loadImage(path));
      expect(e.code).toBe(code);
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain(path);
      expect(e.message).toContain("JPEG");
    }
    expect(hcError(() => loadImage(join(tmp, "image.png"))).message).toContain("PNG");
  });
});

describe("hazardcam detect (runDetect)", () => {
  function runDetect(opts: object): { status: number | null; stdout: string; stderr: string } {
    const script =
      `import { runDetect } from ${JSON.stringify(join(root, "src/cli/detect.ts"))};` +
      `process.exitCode = await runDetect(${JSON.stringify(opts)});`;
    const r = spawnSync("bun", ["-e", script], {
      encoding: "utf8",
      env: { ...process.env, HAZARDCAM_EDGETPU_LIB: join(tmp, "none.so") },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  test("text: detections with pixel boxes, and first/steady timings", () => {
    const r = runDetect({
      model: cpuModel,
      images: [join(fixtures, "kite_and_cold.jpg"), join(fixtures, "grace_hopper.bmp")],
      threshold: 0.5,
      json: false,
      threads: 2,
    });
    expect(r.status).toBe(0);
    expect(r.stdout.match(/^ {2}person 0\.\d\d box \d+,\d+,\d+,\d+ \(px\)$/gm)).toHaveLength(6);
    expect(r.stdout).toMatch(
      /timing: first invoke [\d.]+ ms, steady state p50 [\d.]+ ms \(5 invokes\)/,
    );
  }, 60_000);

  test("--json: one document; a missing image is reported and exits 2", () => {
    const r = runDetect({
      model: tpuModel,
      images: [join(fixtures, "kite_and_cold.jpg"), join(tmp, "nope.jpg")],
      threshold: 0.5,
      json: true,
      threads: 2,
      cpuFallback: true,
    });
    expect(r.status).toBe(2);
    const doc = JSON.parse(r.stdout) as {
      backend: string;
      warnings: string[];
      images: { detections?: Detection[]; error?: { code: string } }[];
    };
    expect(doc.backend).toBe("cpu");
    expect(doc.warnings[0]).toContain("CPU FALLBACK");
    expect(persons(doc.images[0]!.detections!)).toHaveLength(5);
    expect(doc.images[1]!.error?.code).toBe("IMAGE_MISSING");
    expect(r.stderr).toContain("tpu: CPU FALLBACK");
    expect(r.stderr).toContain("image not found");
  }, 60_000);

  test("a bad model: message on stderr, exit code 2", () => {
    const r = runDetect({
      model: segModel,
      images: [join(fixtures, "kite_and_cold.jpg")],
      threshold: 0.5,
      json: false,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("not an SSD detector");
    expect(r.stdout).toBe("");
  });
});
