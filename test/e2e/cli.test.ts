/** The compiled binary's command line: what a user sees for good and bad arguments. */
import { beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  binary,
  camArgs,
  CLIP,
  CPU_MODEL,
  ensureBuilt,
  fakecamEnv,
  root,
  tempDir,
  TPU_MODEL,
} from "./harness.ts";

beforeAll(() => ensureBuilt());

function run(
  args: string[],
  env: Record<string, string> = {},
): { code: number; out: string; err: string } {
  const r = Bun.spawnSync([binary, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30000,
  });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

test("--version names hazardcam, TFLite 2.9.0 and the libedgetpu state", () => {
  const r = run(["--version"]);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^hazardcam \d+\.\d+\.\d+/);
  expect(r.out).toContain("TFLite 2.9.0");
  expect(r.out).toMatch(/libedgetpu (not found|\d)/);
});

test("--help explains the positionals and every flag", () => {
  const r = run(["--help"]);
  expect(r.code).toBe(0);
  for (const word of [
    "<model>",
    "<cam>",
    "thresh",
    "cooldown",
    "--cpu-fallback",
    "--threads",
    "--fps",
    "--bind",
    "--keep-days",
    "--max-events",
    "--min-free-mb",
    "--tflite-lib",
    "--edgetpu-lib",
  ]) {
    expect(r.out.toLowerCase()).toContain(word.toLowerCase());
  }
});

describe("colours only on a terminal (NO_COLOR and pipes get plain text)", () => {
  const ESC = "\x1b";
  test("--help, detect --help and the usage after a bad argument, piped", () => {
    for (const args of [["--help"], ["detect", "--help"], ["devices", "-h"]]) {
      const r = run(args);
      expect(r.code).toBe(0);
      expect(r.out).toContain("USAGE");
      expect(r.out).not.toContain(ESC);
      // No column padding left at the ends of the lines (a file, less, a diff).
      expect(r.out.split("\n").filter((l) => / $/.test(l))).toEqual([]);
    }
    const bad = run([CPU_MODEL, CLIP, "--colour"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("USAGE");
    expect(bad.err).not.toContain(ESC);
  });

  /** Runs the binary on a pseudo-terminal (util-linux `script`); returns what it printed. */
  function onTerminal(args: string[], env: Record<string, string> = {}): string {
    const quoted = [binary, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    const r = Bun.spawnSync(["script", "-qec", quoted, "/dev/null"], {
      cwd: root,
      env: { ...process.env, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: 30000,
    });
    return r.stdout.toString();
  }

  test.skipIf(!Bun.which("script"))("on a terminal: coloured, unless NO_COLOR is set", () => {
    // citty itself leaves colours off under CI or TEST: a user's terminal has neither.
    const env = { NO_COLOR: "", TERM: "xterm", CI: "", TEST: "" };
    expect(onTerminal(["--help"], env)).toContain(`${ESC}[`);
    expect(onTerminal(["detect", "--help"], env)).toContain(`${ESC}[`);
    for (const NO_COLOR of ["1", "yes"]) {
      const help = onTerminal(["--help"], { ...env, NO_COLOR });
      expect(help).toContain("USAGE");
      expect(help).not.toContain(ESC);
      const detect = onTerminal(["detect", "--help"], { ...env, NO_COLOR });
      expect(detect).toContain("USAGE");
      expect(detect).not.toContain(ESC);
    }
  });
});

test("detect prints the five people of kite_and_cold.jpg", () => {
  const r = run(["detect", CPU_MODEL, join(root, "test/fixtures/kite_and_cold.jpg"), "--json"]);
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.out);
  const text = JSON.stringify(doc);
  expect(text.match(/"person"/g)?.length).toBe(5);
}, 60000);

describe("bad arguments: one line naming the argument, the usage, exit code 2", () => {
  const tmp = tempDir("cli");
  const notModel = join(tmp, "notes.txt");
  writeFileSync(notModel, "not a model");
  const fileOut = join(tmp, "file");
  writeFileSync(fileOut, "x");
  const out = join(tmp, "out");
  const cases: [string, string[], RegExp][] = [
    ["no arguments", [], /missing <model>/],
    ["model missing", ["nope.tflite", "0"], /model "nope.tflite" not found/],
    ["model not a .tflite", [notModel, "0"], /not a \.tflite file/],
    [
      "camera that does not exist",
      camArgs("/dev/video9", { port: 18181, outdir: out, bind: null }),
      /\/dev\/video9/,
    ],
    [
      "camera that is not a camera",
      camArgs("/dev/null", { port: 18182, outdir: out, bind: null }),
      /\/dev\/null.*not a (V4L2|camera|video)/i,
    ],
    ["threshold -0.5", [CPU_MODEL, CLIP, "-0.5"], /threshold "-0.5"/],
    ["threshold 1.5", [CPU_MODEL, CLIP, "1.5"], /threshold "1.5"/],
    ["width not an integer", [CPU_MODEL, CLIP, "0.5", "wide"], /width "wide"/],
    ["height above 4096", [CPU_MODEL, CLIP, "0.5", "640", "5000"], /height "5000"/],
    ["port 0", [CPU_MODEL, CLIP, "0.5", "640", "480", "0"], /port "0"/],
    ["port 65536", [CPU_MODEL, CLIP, "0.5", "640", "480", "65536"], /port "65536"/],
    [
      "outdir that cannot be created",
      [CPU_MODEL, CLIP, "0.5", "640", "480", "8080", join(fileOut, "sub")],
      /outdir .* cannot be created/,
    ],
    [
      "negative cooldown",
      [CPU_MODEL, CLIP, "0.5", "640", "480", "8080", out, "-2"],
      /cooldown "-2"/,
    ],
    [
      "non-numeric cooldown",
      [CPU_MODEL, CLIP, "0.5", "640", "480", "8080", out, "x"],
      /cooldown "x"/,
    ],
    [
      "too many arguments",
      [CPU_MODEL, CLIP, "0.5", "640", "480", "8080", out, "2", "3"],
      /too many arguments/,
    ],
    ["unknown flag", [CPU_MODEL, CLIP, "--colour"], /unknown option --colour/],
  ];
  for (const [name, args, re] of cases) {
    test(name, () => {
      const r = run(args, fakecamEnv());
      expect(r.code).toBe(2);
      const first = r.err.split("\n")[0] ?? "";
      expect(first).toMatch(re);
      expect(r.err).not.toMatch(/Aborted|core dumped|Segmentation/);
    });
  }

  test("port already in use", async () => {
    const blocker = Bun.serve({ port: 0, hostname: "0.0.0.0", fetch: () => new Response("busy") });
    try {
      const r = run(camArgs(CLIP, { port: blocker.port, outdir: out, bind: null }));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`port ${blocker.port} is already in use`));
    } finally {
      blocker.stop(true);
    }
  });

  test("the Edge TPU model without a TPU says how to fix it", () => {
    const r = run(camArgs(CLIP, { model: TPU_MODEL, port: 18183, outdir: out, bind: null }));
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--cpu-fallback/);
  });
});

describe("service install / uninstall", () => {
  const dir = tempDir("unit");
  test("writes a unit that runs this binary with absolute paths as a plain user", () => {
    const r = run([
      "service",
      "install",
      "--unit-dir",
      dir,
      "--user",
      "pi",
      ...camArgs(CLIP, {
        thresh: 0.4,
        port: 8181,
        outdir: join(dir, "out"),
        cooldownSec: 3,
        bind: null,
        flags: ["--cpu-fallback"],
      }),
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("systemctl enable --now hazardcam");
    const unit = Bun.file(join(dir, "hazardcam.service"));
    return unit.text().then((text) => {
      expect(text).toContain("User=pi");
      expect(text).toContain("Restart=on-failure");
      expect(text).toContain("SupplementaryGroups=video plugdev");
      expect(text).toMatch(
        new RegExp(
          `ExecStart=${binary.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} ${CPU_MODEL.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} /`,
        ),
      );
      expect(text).toContain(" 0.4 640 480 8181 ");
      expect(text).toContain("--cpu-fallback");
    });
  });

  test("refuses bad run arguments before writing anything", () => {
    const r = run([
      "service",
      "install",
      "--unit-dir",
      join(dir, "bad"),
      "--user",
      "pi",
      CPU_MODEL,
      CLIP,
      "2.0",
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/threshold "2.0"/);
  });

  test("uninstall removes it", () => {
    const r = run(["service", "uninstall", "--unit-dir", dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("removed");
    expect(Bun.file(join(dir, "hazardcam.service")).size).toBe(0);
  });
});
