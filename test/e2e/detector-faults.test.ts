/**
 * An Edge TPU that goes away while running, on the compiled binary: the fake libedgetpu
 * (test/native/fake_edgetpu.c, FAKE_EDGETPU_FAIL_AFTER) runs a CPU model named *_edgetpu.tflite
 * through a delegate that fails after N invokes and hides the device for a while. The detector
 * is reopened with backoff; with --cpu-fallback the CPU model runs meanwhile; /status shows the
 * backend in use and the last error; the camera stream never stops.
 */
import { afterEach, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import {
  camArgs,
  countLines as lines,
  CPU_MODEL,
  fakecamEnv,
  root,
  rssMb,
  startServer,
  tempDir,
  waitFor,
  type Running,
} from "./harness.ts";

const GONE_MS = 4000;
let fakeLib = "";
let tpuModel = "";
let srv: Running | null = null;

beforeAll(() => {
  const dir = tempDir("fake-tpu");
  fakeLib = join(dir, "libfake_edgetpu.so");
  const cc = spawnSync(
    "gcc",
    [
      "-shared",
      "-fPIC",
      "-O1",
      "-I",
      join(root, "node_modules/tfjs-tflite-node/cc_deps/include"),
      "-o",
      fakeLib,
      join(root, "test/native/fake_edgetpu.c"),
    ],
    { encoding: "utf8" },
  );
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  // The CPU model under an Edge TPU name, with itself as the CPU sibling for --cpu-fallback.
  tpuModel = join(dir, "ssd_edgetpu.tflite");
  copyFileSync(CPU_MODEL, tpuModel);
  copyFileSync(CPU_MODEL, join(dir, "ssd.tflite"));
});

afterEach(async () => {
  const s = srv;
  srv = null;
  if (s) {
    expect(await s.stop("SIGINT")).toBe(0);
    expect(s.output()).not.toMatch(/Aborted|core dumped|Segmentation|panic/);
  }
});

interface Status {
  online: boolean;
  backend: string | null;
  last_error: string | null;
  fps: number;
  infer_ms: number;
}

async function run(flags: string[]): Promise<Running> {
  srv = await startServer(
    camArgs("0", { model: tpuModel, flags: ["--edgetpu-lib", fakeLib, ...flags] }),
    fakecamEnv({
      extra: { FAKE_EDGETPU_FAIL_AFTER: "25", FAKE_EDGETPU_GONE_MS: String(GONE_MS) },
    }),
  );
  return srv.ready();
}

/** Polls /status until the backend has gone through `want` in order; returns what it saw. */
async function watchBackends(
  s: Running,
  want: (string | null)[],
  timeoutMs: number,
): Promise<{ seen: Status[]; changedAt: number[]; rssAt: number[] }> {
  const seen: Status[] = [];
  const changedAt: number[] = [];
  const rssAt: number[] = [];
  let i = 0;
  await waitFor(
    async () => {
      const st = (await (await fetch(`${s.url}/status`)).json()) as Status;
      seen.push(st);
      if (st.backend === want[i]) {
        changedAt.push(Date.now());
        rssAt.push(rssMb(s.proc.pid));
        i++;
      }
      return i === want.length;
    },
    {
      timeoutMs,
      pollMs: 100,
      what: `the backends ${want.map(String).join(" → ")}`,
      detail: () =>
        `backends seen: ${[...new Set(seen.map((x) => x.backend))].join(", ")}; output:\n${s.output()}`,
    },
  );
  return { seen, changedAt, rssAt };
}

test("--cpu-fallback: the CPU model runs while the Edge TPU is gone, then the Edge TPU again", async () => {
  const s = await run(["--cpu-fallback"]);
  expect(s.output()).toMatch(/tpu: backend edgetpu, .*libedgetpu BuildLabel\(fake\)/);
  const { seen, changedAt, rssAt } = await watchBackends(s, ["edgetpu", "cpu", "edgetpu"], 30000);
  const onCpu = seen.filter((x) => x.backend === "cpu");
  expect(onCpu.length).toBeGreaterThan(3);
  for (const x of onCpu) {
    expect(x.online).toBe(true);
    // The invoke error, then the reopen's "No Edge TPU found".
    expect(x.last_error).toMatch(/^edgetpu: (inference failed|No Edge TPU found)/);
  }
  // Detection went on meanwhile: the CPU model's inference times show up.
  expect(onCpu.some((x) => x.infer_ms > 0)).toBe(true);
  const cpuMs = changedAt[2]! - changedAt[1]!;
  console.log(
    `Edge TPU gone for ${GONE_MS} ms: on the CPU for ~${cpuMs} ms; RSS ${rssAt[1]} MB at the fault, ${rssAt[2]} MB when the Edge TPU was back`,
  );
  expect(cpuMs).toBeGreaterThan(GONE_MS - 1500);
  const out = s.output();
  expect(lines(out, /^tpu: the Edge TPU failed: inference failed/)).toBe(1);
  expect(lines(out, /^tpu: CPU FALLBACK: running .*ssd\.tflite on the CPU/)).toBe(1);
  expect(lines(out, /^tpu: cannot reopen the Edge TPU yet/)).toBe(1);
  expect(lines(out, /^tpu: Edge TPU is back/)).toBe(1);
  expect(lines(out, /ready in \d+ ms/)).toBe(1);
}, 60000);

test("without --cpu-fallback: no backend while it is gone, the stream goes on, then back", async () => {
  const s = await run([]);
  const { seen } = await watchBackends(s, ["edgetpu", null, "edgetpu"], 30000);
  const down = seen.filter((x) => x.backend === null);
  expect(down.length).toBeGreaterThan(3);
  for (const x of down) {
    expect(x.online).toBe(true);
    expect(x.fps).toBeGreaterThan(5);
    expect(x.last_error).toContain("edgetpu");
  }
  const out = s.output();
  expect(lines(out, /^tpu: the Edge TPU failed: inference failed/)).toBe(1);
  expect(lines(out, /CPU FALLBACK/)).toBe(0);
  expect(lines(out, /^tpu: Edge TPU is back/)).toBe(1);
}, 60000);
