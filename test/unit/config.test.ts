import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgv } from "../../src/config/argv.ts";
import { buildConfig, runArgs } from "../../src/config/run.ts";
import { HcError } from "../../src/shared/errors.ts";

const MODEL = "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite";
const CLIP = "test/fixtures/people_640x480_q5.mjpeg";
const tmp = mkdtempSync(join(tmpdir(), "hazardcam-config-"));
const OUT = join(tmp, "out");

function config(argv: string[]): ReturnType<typeof buildConfig> {
  return buildConfig(parseArgv(argv, runArgs));
}

function failure(argv: string[]): HcError {
  try {
    config(argv);
  } catch (e) {
    if (e instanceof HcError) return e;
    throw e;
  }
  throw new Error(`accepted: ${argv.join(" ")}`);
}

describe("the original's positional arguments", () => {
  test("all eight, as in the original's command", () => {
    const c = config([MODEL, "0", "0.5", "640", "480", "8080", OUT, "2"]);
    expect(c).toMatchObject({
      threshold: 0.5,
      width: 640,
      height: 480,
      port: 8080,
      outdir: OUT,
      cooldownSec: 2,
    });
    expect(c.source).toEqual({ kind: "v4l2", device: "/dev/video0" });
  });

  test("defaults for the optional ones", () => {
    const c = config([MODEL, CLIP]);
    expect(c).toMatchObject({
      threshold: 0.5,
      width: 640,
      height: 480,
      port: 8080,
      cooldownSec: 2,
      fps: 10,
    });
    expect(c.outdir.endsWith("/out")).toBe(true);
    expect(c.source.kind).toBe("mjpeg-file");
  });

  test("flags mix with positionals", () => {
    const c = config([
      "--threads",
      "2",
      MODEL,
      CLIP,
      "0.4",
      "--cpu-fallback",
      "320",
      "240",
      "--fps=5",
      "9000",
      OUT,
      "0",
    ]);
    expect(c).toMatchObject({
      threads: 2,
      cpuFallback: true,
      threshold: 0.4,
      width: 320,
      height: 240,
      fps: 5,
      port: 9000,
      cooldownSec: 0,
    });
  });

  test("camera sources: index, device path, URL, folder", () => {
    expect(config([MODEL, "/dev/video2", "0.5", "640", "480", "8080", OUT]).source).toEqual({
      kind: "v4l2",
      device: "/dev/video2",
    });
    expect(
      config([MODEL, "http://cam.local/video?raw=1", "0.5", "640", "480", "8080", OUT]).source.kind,
    ).toBe("http");
    expect(config([MODEL, "test/fixtures", "0.5", "640", "480", "8080", OUT]).source.kind).toBe(
      "jpeg-dir",
    );
  });
});

describe("every bad argument: one message naming it, exit code 2", () => {
  const notModel = join(tmp, "notes.txt");
  writeFileSync(notModel, "hello");
  const fileAsOutdir = join(tmp, "file");
  writeFileSync(fileAsOutdir, "x");
  const cases: [string, string[], RegExp][] = [
    ["no arguments", [], /missing <model>/],
    ["no camera", [MODEL], /missing <cam>/],
    ["missing model", ["nope.tflite", "0"], /model "nope.tflite" not found/],
    ["not a .tflite", [notModel, "0"], /not a \.tflite file/],
    [
      "a camera that does not exist",
      [MODEL, "./no-such-cam"],
      /camera "\.\/no-such-cam" not found/,
    ],
    ["a camera that is not a camera", [MODEL, "README.md"], /is not a camera/],
    ["threshold 0", [MODEL, CLIP, "0"], /threshold "0" is not valid/],
    ["threshold above 1", [MODEL, CLIP, "1.5"], /threshold "1.5"/],
    ["threshold -0.5", [MODEL, CLIP, "-0.5"], /threshold "-0.5"/],
    ["threshold not a number", [MODEL, CLIP, "half"], /threshold "half"/],
    ["width 0", [MODEL, CLIP, "0.5", "0"], /width "0"/],
    ["width not an integer", [MODEL, CLIP, "0.5", "640.5"], /width "640.5"/],
    ["width above 4096", [MODEL, CLIP, "0.5", "8192"], /width "8192"/],
    ["height negative", [MODEL, CLIP, "0.5", "640", "-480"], /height "-480"/],
    ["port 0", [MODEL, CLIP, "0.5", "640", "480", "0"], /port "0"/],
    ["port 65536", [MODEL, CLIP, "0.5", "640", "480", "65536"], /port "65536"/],
    [
      "outdir that is a file",
      [MODEL, CLIP, "0.5", "640", "480", "8080", fileAsOutdir],
      /outdir .* (cannot be created|is not a folder)/,
    ],
    [
      "outdir that cannot be created",
      [MODEL, CLIP, "0.5", "640", "480", "8080", "/proc/hazardcam"],
      /outdir "\/proc\/hazardcam" cannot be created/,
    ],
    ["negative cooldown", [MODEL, CLIP, "0.5", "640", "480", "8080", OUT, "-1"], /cooldown "-1"/],
    [
      "non-numeric cooldown",
      [MODEL, CLIP, "0.5", "640", "480", "8080", OUT, "soon"],
      /cooldown "soon"/,
    ],
    [
      "too many arguments",
      [MODEL, CLIP, "0.5", "640", "480", "8080", OUT, "2", "extra"],
      /too many arguments: "extra"/,
    ],
    ["an unknown flag", [MODEL, CLIP, "--turbo"], /unknown option --turbo/],
    ["a flag without its value", [MODEL, CLIP, "--threads"], /--threads needs a value/],
    ["threads 0", [MODEL, CLIP, "--threads", "0"], /--threads "0"/],
    ["fps not a number", [MODEL, CLIP, "--fps", "fast"], /--fps "fast"/],
  ];
  for (const [name, argv, message] of cases) {
    test(name, () => {
      const e = failure(argv);
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(message);
      expect(e.message.split("\n")).toHaveLength(1);
    });
  }
});
