/**
 * Runs the compiled binary (built if missing) against the fake V4L2 camera, and watches what it
 * prints: shared by the e2e tests (test/e2e/) and the benchmarks (bench/).
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StatusJson } from "../../src/shared/status.ts";

export const root = join(import.meta.dir, "..", "..");
export const arch = process.arch === "arm64" ? "arm64" : "x64";
export const binary = join(root, "dist", `hazardcam-linux-${arch}`);
export const fakecam = join(root, "ffi/build", `linux-${arch}`, "libfakecam.so");
export const CPU_MODEL = join(root, "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite");
export const TPU_MODEL = join(
  root,
  "models/ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite",
);
export const CLIP = join(root, "test/fixtures/people_640x480_q5.mjpeg");

/** Builds the shim and the binary when a test file runs alone on a fresh tree. */
export function ensureBuilt(): void {
  if (!existsSync(fakecam)) {
    const r = Bun.spawnSync(["bash", join(root, "scripts/build-ffi.sh")], {
      stdout: "inherit",
      stderr: "inherit",
    });
    if (r.exitCode !== 0) throw new Error("scripts/build-ffi.sh failed");
  }
  if (!existsSync(binary)) {
    const r = Bun.spawnSync([process.execPath, join(root, "scripts/build.ts"), arch], {
      stdout: "inherit",
      stderr: "inherit",
    });
    if (r.exitCode !== 0) throw new Error("scripts/build.ts failed");
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `hazardcam-${prefix}-`));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface CamArgsOptions {
  /** Default: the CPU model. */
  model?: string;
  thresh?: number;
  /** Capture size in pixels; default 640x480. */
  w?: number;
  h?: number;
  /** Default "{port}": startServer fills in a free port. */
  port?: number | string;
  /** Default "{outdir}": startServer fills in a fresh folder. */
  outdir?: string;
  /** Default 2. */
  cooldownSec?: number;
  /** --bind; default 127.0.0.1 (nothing on the network), null for no --bind. */
  bind?: string | null;
  /** --threads when given. */
  threads?: number;
  /** More flags, after the others. */
  flags?: string[];
}

/**
 * The run command's arguments: the eight positionals of the original
 * (`<model> <cam> [thresh] [w] [h] [port] [outdir] [cooldown]`), then the flags.
 */
export function camArgs(cam: string = "0", o: CamArgsOptions = {}): string[] {
  return [
    o.model ?? CPU_MODEL,
    cam,
    String(o.thresh ?? 0.5),
    String(o.w ?? 640),
    String(o.h ?? 480),
    String(o.port ?? "{port}"),
    o.outdir ?? "{outdir}",
    String(o.cooldownSec ?? 2),
    ...(o.bind === null ? [] : ["--bind", o.bind ?? "127.0.0.1"]),
    ...(o.threads === undefined ? [] : ["--threads", String(o.threads)]),
    ...(o.flags ?? []),
  ];
}

export interface WaitOptions {
  timeoutMs: number;
  /** What is awaited, for the error: "the camera online", "a failed webhook". */
  what: string;
  /** Default 50. */
  pollMs?: number;
  /** More for the error when it times out (the server's output, the last status seen). */
  detail?: () => string;
}

/**
 * Polls `cond` until it returns something other than null, undefined or false, and returns
 * that; throws after timeoutMs with what was awaited. Tests wait for conditions, never for a
 * fixed time.
 */
export async function waitFor<T>(
  cond: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  o: WaitOptions,
): Promise<T> {
  const until = performance.now() + o.timeoutMs;
  for (;;) {
    const v = await cond();
    if (v !== null && v !== undefined && v !== false) return v;
    if (performance.now() >= until) break;
    await Bun.sleep(o.pollMs ?? 50);
  }
  const more = o.detail ? `\n${o.detail()}` : "";
  throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${o.what}${more}`);
}

/** /status of a running server, as JSON. */
export async function fetchStatus(url: string): Promise<StatusJson> {
  const r = await fetch(`${url}/status`);
  if (r.status !== 200) throw new Error(`GET ${url}/status: HTTP ${r.status}`);
  return (await r.json()) as StatusJson;
}

export interface FakecamOptions {
  source?: string;
  formats?: string;
  sizes?: string;
  fps?: number;
  log?: string;
  extra?: Record<string, string>;
}

export function fakecamEnv(o: FakecamOptions = {}): Record<string, string> {
  return {
    LD_PRELOAD: fakecam,
    FAKECAM_SOURCE: o.source ?? CLIP,
    FAKECAM_FORMATS: o.formats ?? "MJPG,YUYV",
    FAKECAM_SIZES: o.sizes ?? "640x480",
    FAKECAM_FPS: String(o.fps ?? 10),
    ...(o.log ? { FAKECAM_LOG: o.log } : {}),
    ...(o.extra ?? {}),
  };
}

export interface Running {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  url: string;
  outdir: string;
  /** Everything printed so far (stdout + stderr). */
  output(): string;
  /** Waits until the output matches, or throws after timeoutMs. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for the "ready in N ms" line (default 30 s); returns the server. */
  ready(timeoutMs?: number): Promise<Running>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export async function startServer(
  args: string[],
  env: Record<string, string> = {},
  portOverride?: number,
): Promise<Running> {
  ensureBuilt();
  const port = portOverride ?? (await freePort());
  const outdir = join(tempDir("out"), "out");
  const full = args.map((a) => a.replace("{port}", String(port)).replace("{outdir}", outdir));
  const proc = Bun.spawn([binary, ...full], {
    cwd: root,
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const watch = watchOutput(proc, 25);
  const running: Running = {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    outdir,
    output: watch.output,
    async waitFor(re, timeoutMs = 20000) {
      return (await watch.waitFor(re, timeoutMs))[0];
    },
    async ready(timeoutMs = 30000) {
      await watch.waitFor(/ready in \d+ ms/, timeoutMs);
      return running;
    },
    async stop(signal = "SIGINT") {
      if (proc.exitCode === null) proc.kill(signal);
      return proc.exited;
    },
  };
  return running;
}

export interface OutputWatch {
  /** Everything printed so far (stdout + stderr). */
  output(): string;
  /** Resolves with the first match in the output; throws after timeoutMs or when the process exits. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

/** Collects a child's stdout and stderr; polls every pollMs for waitFor. */
export function watchOutput(
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">,
  pollMs: number,
): OutputWatch {
  let text = "";
  const pump = async (s: ReadableStream<Uint8Array>): Promise<void> => {
    const dec = new TextDecoder();
    for await (const chunk of s) text += dec.decode(chunk, { stream: true });
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  return {
    output: () => text,
    async waitFor(re, timeoutMs) {
      const until = performance.now() + timeoutMs;
      while (performance.now() < until) {
        const m = text.match(re);
        if (m) return m;
        if (proc.exitCode !== null) break;
        await Bun.sleep(pollMs);
      }
      throw new Error(`timed out waiting for ${re} (exit ${proc.exitCode}); output:\n${text}`);
    },
  };
}

/** A process's resident memory (VmRSS), MB to one decimal; NaN once it is gone. */
export function rssMb(pid: number): number {
  let status = "";
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return NaN;
  }
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

/** How many lines of `text` match `re`: "logged once" is countLines(output, re) === 1. */
export function countLines(text: string, re: RegExp): number {
  return text.split("\n").filter((l) => re.test(l)).length;
}

export function readLog(path: string): string[] {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : [];
}

/** Reads `n` JPEG parts of an MJPEG response (multipart/x-mixed-replace). */
export async function readParts(
  res: Response,
  n: number,
  timeoutMs = 15000,
): Promise<Uint8Array[]> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const parts: Uint8Array[] = [];
  let buf = new Uint8Array(0);
  const until = Date.now() + timeoutMs;
  try {
    while (parts.length < n && Date.now() < until) {
      const { value, done } = await reader.read();
      if (done) break;
      const merged = new Uint8Array(buf.length + value.length);
      merged.set(buf);
      merged.set(value, buf.length);
      buf = merged;
      for (;;) {
        const soi = indexOf(buf, [0xff, 0xd8], 0);
        if (soi < 0) break;
        const eoi = indexOf(buf, [0xff, 0xd9], soi + 2);
        if (eoi < 0) break;
        parts.push(buf.slice(soi, eoi + 2));
        buf = buf.slice(eoi + 2);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return parts;
}

function indexOf(buf: Uint8Array, pat: number[], from: number): number {
  outer: for (let i = from; i <= buf.length - pat.length; i++) {
    for (let j = 0; j < pat.length; j++) if (buf[i + j] !== pat[j]) continue outer;
    return i;
  }
  return -1;
}
