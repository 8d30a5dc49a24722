/**
 * The flags of issue 11 (src/config/scene.ts): --zones, --min-frames, --lost-sec, --visit-gap;
 * their defaults, and each bad value refused with one message naming the flag, exit code 2.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgv } from "../../src/config/argv.ts";
import { buildConfig, runArgs } from "../../src/config/run.ts";
import { HcError } from "../../src/shared/errors.ts";

const MODEL = "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite";
const CLIP = "test/fixtures/people_640x480_q5.mjpeg";
const OUT = join(mkdtempSync(join(tmpdir(), "hazardcam-scene-config-")), "out");

const scene = (...flags: string[]) =>
  buildConfig(parseArgv([MODEL, CLIP, "0.5", "640", "480", "8080", OUT, "2", ...flags], runArgs))
    .scene;

function failure(...flags: string[]): HcError {
  try {
    scene(...flags);
  } catch (e) {
    if (e instanceof HcError) return e;
    throw e;
  }
  throw new Error(`accepted: ${flags.join(" ")}`);
}

describe("defaults", () => {
  test("zones.json in the outdir; 3 results, 2 s lost, 5 s visit gap", () => {
    expect(scene()).toEqual({
      zonesPath: join(OUT, "zones.json"),
      zonesFromFlag: false,
      minFrames: 3,
      lostSec: 2,
      visitGapSec: 5,
    });
  });
});

describe("given", () => {
  test("--zones is made absolute and marks the flag as given", () => {
    const s = scene("--zones", "conf/zones.json");
    expect(s.zonesPath).toBe(resolve("conf/zones.json"));
    expect(s.zonesFromFlag).toBe(true);
  });

  test("--min-frames, --lost-sec, --visit-gap", () => {
    expect(scene("--min-frames", "1", "--lost-sec", "0.5", "--visit-gap=0")).toMatchObject({
      minFrames: 1,
      lostSec: 0.5,
      visitGapSec: 0,
    });
    expect(scene("--min-frames=30", "--lost-sec", "60", "--visit-gap", "3600")).toMatchObject({
      minFrames: 30,
      lostSec: 60,
      visitGapSec: 3600,
    });
  });
});

describe("bad values: one message naming the flag, exit code 2", () => {
  const cases: [string[], RegExp][] = [
    [["--min-frames", "0"], /--min-frames "0" is not valid: expected a whole number from 1 to 30/],
    [["--min-frames", "31"], /--min-frames "31"/],
    [["--min-frames", "2.5"], /--min-frames "2.5"/],
    [["--lost-sec", "0"], /--lost-sec "0" is not valid: expected seconds from 0.1 to 60/],
    [["--lost-sec", "soon"], /--lost-sec "soon"/],
    [["--visit-gap", "-1"], /--visit-gap "-1" is not valid: expected seconds from 0 to 3600/],
    [["--visit-gap", "3601"], /--visit-gap "3601"/],
    [["--zones"], /--zones needs a value/],
  ];
  for (const [flags, message] of cases) {
    test(flags.join(" "), () => {
      const e = failure(...flags);
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(message);
      expect(e.message.split("\n")).toHaveLength(1);
    });
  }
});
