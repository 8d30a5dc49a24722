/** Shared helpers of the benchmarks: statistics, machine load, /proc readings, clip frames. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { splitJpegs } from "../src/camera/mjpeg.ts";

export const root = join(import.meta.dir, "..");
export const CPU_MODEL = join(root, "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite");
export const CLIP = join(root, "test/fixtures/people_640x480_q5.mjpeg");
export const FAKECAM = join(
  root,
  "ffi/build",
  process.arch === "arm64" ? "linux-arm64" : "linux-x64",
  "libfakecam.so",
);

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
function rank(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Number.isFinite(v) ? Math.round(v * f) / f : v;
}

export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return {
    n: s.length,
    p50: round(rank(s, 50)),
    p95: round(rank(s, 95)),
    p99: round(rank(s, 99)),
    min: round(s[0] ?? NaN),
    max: round(s[s.length - 1] ?? NaN),
    mean: round(mean),
  };
}

export function percentile(values: number[], p: number): number {
  return round(
    rank(
      [...values].sort((a, b) => a - b),
      p,
    ),
  );
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** /proc/loadavg: 1, 5 and 15 minute load averages (this machine has 2 cores). */
export function loadavg(): [number, number, number] {
  const [a, b, c] = readFileSync("/proc/loadavg", "utf8").split(" ").map(Number);
  return [a ?? NaN, b ?? NaN, c ?? NaN];
}

let clkTck = 0;
/** Kernel clock ticks per second of utime/stime in /proc/<pid>/stat. */
export function ticksPerSec(): number {
  if (clkTck) return clkTck;
  const r = Bun.spawnSync(["getconf", "CLK_TCK"]);
  clkTck = Number(r.stdout.toString().trim()) || 100;
  return clkTck;
}

/** utime + stime of a process or thread in seconds; fields after the ")" of comm. */
function cpuSecOf(statPath: string): number {
  const text = readFileSync(statPath, "utf8");
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(rest[11]) + Number(rest[12])) / ticksPerSec();
}

export function cpuSec(pid: number): number {
  return cpuSecOf(`/proc/${pid}/stat`);
}

export interface ThreadCpu {
  tid: number;
  name: string;
  cpuSec: number;
}

export function threadCpu(pid: number): ThreadCpu[] {
  const out: ThreadCpu[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${t}/comm`, "utf8").trim();
      out.push({ tid: Number(t), name, cpuSec: cpuSecOf(`/proc/${pid}/task/${t}/stat`) });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** Resident set size of a process in MB (VmRSS). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? round(Number(m[1]) / 1024, 1) : NaN;
}

let clipFrames: Uint8Array[] | null = null;
/** The 200 JPEG frames (640x480) of the bundled clip. */
export function clip(): Uint8Array[] {
  clipFrames ??= splitJpegs(new Uint8Array(readFileSync(CLIP)));
  return clipFrames;
}

/** Times fn `runs` times after `warmup` calls; returns milliseconds per call. */
export function timeRuns(runs: number, warmup: number, fn: (i: number) => void): number[] {
  for (let i = 0; i < warmup; i++) fn(i);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn(i);
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** Runs a bench script as a child (Bun) process; returns its one JSON document. */
export function runJsonChild(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): unknown {
  const r = Bun.spawnSync([process.execPath, join(import.meta.dir, script), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = r.stdout.toString();
  if (r.exitCode !== 0) {
    throw new Error(`${script} exited ${r.exitCode}:\n${r.stderr.toString()}\n${out}`);
  }
  const start = out.indexOf("{");
  return JSON.parse(out.slice(start));
}
