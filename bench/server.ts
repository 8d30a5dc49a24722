/**
 * Benchmarks of the compiled binary on the fake V4L2 camera: pipeline fps, MJPEG streaming to
 * many clients, /status latency, startup, shutdown and the soak. Used by bench/run.ts.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  binary,
  CPU_MODEL,
  ensureBuilt,
  fakecamEnv,
  freePort,
  tempDir,
  watchOutput,
} from "../test/e2e/harness.ts";
import {
  cpuSec,
  loadavg,
  median,
  round,
  rssMb,
  summarize,
  threadCpu,
  type Summary,
} from "./lib.ts";

export interface ServerOptions {
  /** FAKECAM_FPS: the camera's frame rate. */
  fps: number;
  formats?: "MJPG" | "YUYV";
  threads?: number;
  cooldownSec?: number;
  extra?: string[];
}

export interface Server {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  pid: number;
  port: number;
  url: string;
  /** performance.now() just before the spawn. */
  spawnedAt: number;
  output(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Signals the process (if running), resolves with its exit code, deletes its outdir. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export async function spawnServer(o: ServerOptions): Promise<Server> {
  ensureBuilt();
  const port = await freePort();
  const dir = tempDir("bench");
  const outdir = join(dir, "out");
  const args = [
    CPU_MODEL,
    "0",
    "0.5",
    "640",
    "480",
    String(port),
    outdir,
    String(o.cooldownSec ?? 2),
    "--threads",
    String(o.threads ?? 1),
    "--bind",
    "127.0.0.1",
    ...(o.extra ?? []),
  ];
  const env = { ...process.env, ...fakecamEnv({ fps: o.fps, formats: o.formats ?? "MJPG" }) };
  const spawnedAt = performance.now();
  const proc = Bun.spawn([process.env.HAZARDCAM_BENCH_BINARY || binary, ...args], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  // 10 ms polls: startup is timed from these waits.
  const watch = watchOutput(proc, 10);
  return {
    proc,
    pid: proc.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    spawnedAt,
    output: watch.output,
    waitFor: (re, timeoutMs = 30000) => watch.waitFor(re, timeoutMs),
    async stop(signal = "SIGINT") {
      if (proc.exitCode === null) proc.kill(signal);
      const code = await proc.exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

interface StatusJson {
  fps: number;
  detect_fps: number;
  infer_ms: number;
  online: boolean;
  events_total: number;
  clients: number;
}

async function status(s: Server): Promise<StatusJson> {
  const res = await fetch(`${s.url}/status`);
  return (await res.json()) as StatusJson;
}

/**
 * The detect Worker's thread: of the threads Bun names "Worker", the one that burns the most
 * CPU while the CPU model runs (the capture Worker only decodes and resizes).
 */
export async function detectThread(pid: number): Promise<{ tid: number; cpuPerSec: number }> {
  const a = new Map(threadCpu(pid).map((t) => [t.tid, t.cpuSec]));
  const t0 = performance.now();
  await Bun.sleep(2000);
  const sec = (performance.now() - t0) / 1000;
  let best = { tid: 0, cpuPerSec: -1 };
  for (const t of threadCpu(pid)) {
    if (t.name !== "Worker") continue;
    const rate = (t.cpuSec - (a.get(t.tid) ?? 0)) / sec;
    if (rate > best.cpuPerSec) best = { tid: t.tid, cpuPerSec: round(rate) };
  }
  if (!best.tid) throw new Error("no Worker thread found in the server");
  return best;
}

export function threadSec(pid: number, tid: number): number {
  return threadCpu(pid).find((t) => t.tid === tid)?.cpuSec ?? 0;
}

interface Child {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Resolves once the child printed "measuring". */
  measuring: Promise<void>;
  /** Resolves with the child's JSON line once it exits. */
  result: Promise<unknown>;
}

/** A load generator in its own process: bench/clients.ts, or `script` (bench/tabs.ts). */
export function clients(args: string[], script = join(import.meta.dir, "clients.ts")): Child {
  const proc = Bun.spawn([process.execPath, script, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const measuring = Promise.withResolvers<void>();
  const result = (async () => {
    let text = "";
    const dec = new TextDecoder();
    for await (const chunk of proc.stdout) {
      text += dec.decode(chunk, { stream: true });
      if (text.includes("measuring")) measuring.resolve();
    }
    const code = await proc.exited;
    const err = await new Response(proc.stderr).text();
    measuring.resolve();
    const line = text.split("\n").find((l) => l.startsWith("{"));
    if (!line) throw new Error(`clients.ts ${args.join(" ")} exited ${code}: ${err}${text}`);
    return JSON.parse(line) as unknown;
  })();
  // A child killed on purpose (shutdown, soak) rejects: only awaiting callers see it.
  result.catch(() => undefined);
  return { proc, measuring: measuring.promise, result };
}

// ---- pipeline fps ------------------------------------------------------------------------------

export interface PipelineResult {
  cameraFps: number;
  threads: number;
  seconds: number;
  /** Distinct detection results seen on /api/stream per second. */
  detectFps: number;
  /** Their infer_ms (TfLiteInterpreterInvoke). */
  inferMs: Summary;
  /** 1000 / mean infer_ms: the rate if invokes ran back to back. */
  idealFps: number;
  /** detectFps / idealFps = sum of invoke ms / wall ms: the detector's duty cycle. */
  ratio: number;
  /** Fraction of the time the detect thread was running or runnable (/proc schedstat). */
  detectThreadBusy: number;
  /** /status fps and detect_fps (moving averages), sampled at the end. */
  statusFps: number;
  statusDetectFps: number;
  loadavg: [number, number, number][];
}

/** Nanoseconds a thread spent on a CPU plus waiting for one (/proc/<pid>/task/<tid>/schedstat). */
function runnableNs(pid: number, tid: number): number {
  const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ");
  return Number(run) + Number(wait);
}

/**
 * Detections per second end to end with the CPU model, against 1000 / invoke ms. Each result
 * is counted once on /api/stream (frame events carry the number of results so far,
 * `detect_seq`), so both sides come from the same seconds and machine load cancels out.
 */
export async function pipelineFps(o: {
  seconds: number;
  cameraFps: number;
  threads: number;
}): Promise<PipelineResult> {
  const s = await spawnServer({ fps: o.cameraFps, threads: o.threads });
  try {
    await s.waitFor(/ready in \d+ ms/);
    const det = await detectThread(s.pid);
    const l0 = loadavg();
    const res = await fetch(`${s.url}/api/stream?fps=30`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    let buf = "";
    let last: number | null = null;
    const results: { at: number; inferMs: number }[] = [];
    let b0 = 0;
    let t0 = 0;
    const until = performance.now() + o.seconds * 1000;
    while (performance.now() < until) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (!msg.startsWith("event: frame")) continue;
        const data = JSON.parse(msg.slice(msg.indexOf("data: ") + 6)) as {
          infer_ms: number;
          detect_seq: number;
        };
        if (data.infer_ms > 0 && data.detect_seq !== last) {
          if (last !== null) {
            const at = performance.now();
            if (results.length === 0) {
              b0 = runnableNs(s.pid, det.tid);
              t0 = at;
            }
            // Every result counts, also one whose frame the thinned stream did not carry.
            for (let n = last; n < data.detect_seq; n++)
              results.push({ at, inferMs: data.infer_ms });
          }
          last = data.detect_seq;
        }
      }
    }
    const b1 = runnableNs(s.pid, det.tid);
    const t1 = performance.now();
    await reader.cancel();
    // Results after the first: each one's invoke ran between its predecessor and itself.
    const counted = results.slice(1);
    const first = results[0];
    const lastRes = results.at(-1);
    if (!first || !lastRes || counted.length < 3) throw new Error("too few detections");
    const wallMs = lastRes.at - first.at;
    const inferMs = counted.map((r) => r.inferMs);
    const meanInfer = inferMs.reduce((a, v) => a + v, 0) / inferMs.length;
    const detectFps = (counted.length / wallMs) * 1000;
    const st = await status(s);
    return {
      cameraFps: o.cameraFps,
      threads: o.threads,
      seconds: round(wallMs / 1000, 1),
      detectFps: round(detectFps, 2),
      inferMs: summarize(inferMs),
      idealFps: round(1000 / meanInfer, 2),
      ratio: round((detectFps * meanInfer) / 1000),
      detectThreadBusy: round((b1 - b0) / 1e6 / (t1 - t0)),
      statusFps: round(st.fps, 2),
      statusDetectFps: round(st.detect_fps, 2),
      loadavg: [l0, loadavg()],
    };
  } finally {
    await s.stop();
  }
}

// ---- streaming -------------------------------------------------------------------------------

export interface StreamPhase {
  clients: number;
  seconds: number;
  /** CPU seconds per second of the whole server process. */
  cpuPerSec: number;
  /** The same without the detect Worker's thread (reniced: it stands for the Edge TPU). */
  cpuPerSecNoInference: number;
  detectThreadCpuPerSec: number;
  rssMb: Summary;
  /** /status fps at the end: the source frame rate the clients should get. */
  captureFps: number;
  clientFps: Summary;
  minClientFps: number;
  framesPerClient: number[];
  errors: string[];
  slow: { kbps: number; frames: number; fps: number; error: string | null } | null;
  status: { latencyMs: Summary; failures: number } | null;
  loadavg: [number, number, number][];
}

async function streamPhase(
  s: Server,
  detectTid: number,
  n: number,
  seconds: number,
  opts: { slowKbps?: number; statusProbe?: boolean } = {},
): Promise<StreamPhase> {
  const common = ["--url", s.url, "--seconds", String(seconds), "--warmup", "2"];
  const load = clients([
    "video",
    "--clients",
    String(n),
    ...common,
    ...(opts.slowKbps ? ["--slow-kbps", String(opts.slowKbps)] : []),
  ]);
  const probe = opts.statusProbe ? clients(["status", ...common, "--interval-ms", "50"]) : null;
  await load.measuring;
  const l0 = loadavg();
  const c0 = cpuSec(s.pid);
  const d0 = threadSec(s.pid, detectTid);
  const t0 = performance.now();
  const rss: number[] = [];
  let done = false;
  const result = load.result.finally(() => (done = true));
  while (!done) {
    rss.push(rssMb(s.pid));
    await Promise.race([Bun.sleep(1000), result]);
  }
  const c1 = cpuSec(s.pid);
  const d1 = threadSec(s.pid, detectTid);
  const sec = (performance.now() - t0) / 1000;
  rss.push(rssMb(s.pid));
  const r = (await result) as {
    seconds: number;
    framesPerClient: number[];
    fpsPerClient: Summary;
    minFps: number;
    errors: string[];
    slow: StreamPhase["slow"];
  };
  const st = await status(s);
  const pr = probe ? ((await probe.result) as { latencyMs: Summary; failures: number }) : null;
  return {
    clients: n,
    seconds: round(r.seconds, 1),
    cpuPerSec: round((c1 - c0) / sec),
    cpuPerSecNoInference: round((c1 - c0 - (d1 - d0)) / sec),
    detectThreadCpuPerSec: round((d1 - d0) / sec),
    rssMb: summarize(rss),
    captureFps: round(st.fps, 2),
    clientFps: r.fpsPerClient,
    minClientFps: round(r.minFps, 2),
    framesPerClient: r.framesPerClient,
    errors: r.errors,
    slow: r.slow ? { ...r.slow, fps: round(r.slow.fps, 2) } : null,
    status: pr,
    loadavg: [l0, loadavg()],
  };
}

export interface StreamingResult {
  cameraFps: number;
  detectThread: { tid: number; cpuPerSecBeforeRenice: number };
  idle: { cpuPerSec: number; cpuPerSecNoInference: number; rssMb: number };
  phases: StreamPhase[];
  slowReader: StreamPhase;
}

/**
 * One server, camera at cameraFps; 1, 10 and 50 /video clients (annotated frames, as the
 * dashboard shows), /status probed during the 50; then 10 clients and one slow reader. The
 * detect Worker's thread is reniced to 19 so the CPU model only takes what is left over, as
 * the Edge TPU would (it takes no CPU on the Pi); its CPU time is reported apart.
 */
export async function streaming(o: {
  seconds: number;
  cameraFps: number;
  counts: number[];
}): Promise<StreamingResult> {
  const s = await spawnServer({ fps: o.cameraFps, threads: 1 });
  try {
    await s.waitFor(/ready in \d+ ms/);
    const det = await detectThread(s.pid);
    Bun.spawnSync(["renice", "-n", "19", "-p", String(det.tid)]);
    // Idle baseline: no clients.
    const c0 = cpuSec(s.pid);
    const d0 = threadSec(s.pid, det.tid);
    const t0 = performance.now();
    await Bun.sleep(3000);
    const sec = (performance.now() - t0) / 1000;
    const c1 = cpuSec(s.pid);
    const idle = {
      cpuPerSec: round((c1 - c0) / sec),
      cpuPerSecNoInference: round((c1 - c0 - (threadSec(s.pid, det.tid) - d0)) / sec),
      rssMb: rssMb(s.pid),
    };
    const phases: StreamPhase[] = [];
    for (const n of o.counts) {
      phases.push(await streamPhase(s, det.tid, n, o.seconds, { statusProbe: n >= 50 }));
    }
    const slowReader = await streamPhase(s, det.tid, 10, o.seconds, { slowKbps: 100 });
    return {
      cameraFps: o.cameraFps,
      detectThread: { tid: det.tid, cpuPerSecBeforeRenice: det.cpuPerSec },
      idle,
      phases,
      slowReader,
    };
  } finally {
    await s.stop();
  }
}

// ---- startup and shutdown --------------------------------------------------------------------

export interface LifecycleRun {
  listenMs: number;
  /** What the server logs: "http: listening ... after N ms" (from its own start). */
  listenLoggedMs: number | null;
  firstFrameMs: number;
  shutdownMs: number;
  shutdownClients: number;
  exitCode: number;
}

/** spawn → /status answers; spawn → /latest.jpg has a camera frame; SIGINT with n clients → exit. */
export async function lifecycle(o: { runs: number; clients: number }): Promise<LifecycleRun[]> {
  const out: LifecycleRun[] = [];
  for (let i = 0; i < o.runs; i++) {
    const s = await spawnServer({ fps: 30, threads: 1 });
    let load: Child | null = null;
    try {
      let listenMs = NaN;
      for (;;) {
        try {
          const res = await fetch(`${s.url}/status`);
          await res.arrayBuffer();
          listenMs = performance.now() - s.spawnedAt;
          break;
        } catch {
          if (s.proc.exitCode !== null) throw new Error(`server exited:\n${s.output()}`);
          if (performance.now() - s.spawnedAt > 20000) throw new Error("server never listened");
          await Bun.sleep(2);
        }
      }
      let firstFrameMs = NaN;
      for (;;) {
        const res = await fetch(`${s.url}/latest.jpg`);
        await res.arrayBuffer();
        if (res.headers.get("x-hazardcam-online") === "1") {
          firstFrameMs = performance.now() - s.spawnedAt;
          break;
        }
        if (performance.now() - s.spawnedAt > 30000) throw new Error("no frame within 30 s");
        await Bun.sleep(5);
      }
      const logged = /listening on .* after (\d+) ms/.exec(s.output());
      load = clients([
        "video",
        "--url",
        s.url,
        "--clients",
        String(o.clients),
        "--seconds",
        "0",
        "--warmup",
        "2",
      ]);
      await load.measuring;
      const t0 = performance.now();
      const exitCode = await s.stop("SIGINT");
      out.push({
        listenMs: round(listenMs, 1),
        listenLoggedMs: logged ? Number(logged[1]) : null,
        firstFrameMs: round(firstFrameMs, 1),
        shutdownMs: round(performance.now() - t0, 1),
        shutdownClients: o.clients,
        exitCode,
      });
    } finally {
      load?.proc.kill();
      await s.stop("SIGKILL");
    }
  }
  return out;
}

// ---- soak ------------------------------------------------------------------------------------

export interface SoakSample {
  atSec: number;
  rssMb: number;
  captureFps: number;
  detectFps: number;
  events: number;
  load1: number;
}

export interface SoakResult {
  seconds: number;
  clients: number;
  warmupSec: number;
  samples: SoakSample[];
  rssAfterWarmupMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  growthPct: number;
}

/**
 * `seconds` of streaming to 10 clients and saving (cooldown 1 s, the clip has people in 68% of
 * its frames): RSS and fps every interval. RSS is a GC sawtooth (about 80 s from trough to trough
 * here), so growth compares the medians of the first and the last third of the samples after
 * the warm-up (a third of the run, at most 120 s); runs under 300 s cannot tell growth from the
 * sawtooth.
 */
export async function soak(o: { seconds: number }): Promise<SoakResult> {
  const intervalSec = Math.min(10, Math.max(2, Math.round(o.seconds / 12)));
  const warmupSec = Math.min(120, Math.round(o.seconds / 3));
  const s = await spawnServer({
    fps: 30,
    threads: 1,
    cooldownSec: 1,
    extra: ["--max-events", "300"],
  });
  const n = 10;
  let load: Child | null = null;
  try {
    await s.waitFor(/ready in \d+ ms/);
    load = clients([
      "video",
      "--url",
      s.url,
      "--clients",
      String(n),
      "--seconds",
      "0",
      "--warmup",
      "0",
    ]);
    await load.measuring;
    const t0 = performance.now();
    const samples: SoakSample[] = [];
    for (let k = 1; k * intervalSec <= o.seconds; k++) {
      await Bun.sleep(t0 + k * intervalSec * 1000 - performance.now());
      const st = await status(s);
      samples.push({
        atSec: k * intervalSec,
        rssMb: rssMb(s.pid),
        captureFps: round(st.fps, 2),
        detectFps: round(st.detect_fps, 2),
        events: st.events_total,
        load1: loadavg()[0],
      });
    }
    const after = samples.filter((x) => x.atSec > warmupSec);
    const third = Math.max(1, Math.floor(after.length / 3));
    const base = median(after.slice(0, third).map((x) => x.rssMb));
    const end = median(after.slice(-third).map((x) => x.rssMb));
    return {
      seconds: o.seconds,
      clients: n,
      warmupSec,
      samples,
      rssAfterWarmupMb: base,
      rssEndMb: end,
      rssMaxMb: Math.max(...samples.map((x) => x.rssMb)),
      growthPct: round(((end - base) / base) * 100, 2),
    };
  } finally {
    load?.proc.kill();
    await s.stop();
  }
}
