/**
 * Load on loopback against the compiled binary with the fake camera (the bundled clip at 10 fps,
 * CPU model): N MJPEG clients reading /video, R requests per second to /status (open loop), and S
 * clients that open /video and never read (they join after the baseline memory is taken). Stops
 * by itself after the duration. Prints one JSON document and writes it to bench/results/load.json.
 *
 * usage: bun bench/load.ts [--seconds 60] [--clients 50] [--rps 200] [--stalled 20] [--out path]
 *
 * Per client: frames received and the longest gap between two frames. /status: latency
 * percentiles, errors. Server: VmRSS from /proc/<pid>/status every second, CPU seconds.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import {
  camArgs,
  fakecamEnv,
  root,
  rssMb,
  startServer,
  type Running,
} from "../scripts/lib/harness.ts";

export interface LoadOptions {
  seconds: number;
  clients: number;
  rps: number;
  stalled: number;
  /** Seconds at the start whose RSS is the baseline (the stalled clients join after it). */
  baselineSec?: number;
  log?: (msg: string) => void;
}

export interface ClientResult {
  frames: number;
  /** Longest time between two frames (or from the start to the first), ms. */
  maxGapMs: number;
  error: string | null;
}

export interface LoadResult {
  bench: "load";
  options: Required<Omit<LoadOptions, "log">>;
  sourceFps: number;
  clients: {
    count: number;
    framesMin: number;
    framesMedian: number;
    framesMax: number;
    /** Frames per second of the slowest client. */
    fpsMin: number;
    maxGapMs: number;
    failed: number;
  };
  status: {
    sent: number;
    ok: number;
    errors: number;
    statusCodes: Record<string, number>;
    p50Ms: number;
    p95Ms: number;
    p99Ms: number;
    maxMs: number;
    achievedRps: number;
  };
  stalled: { count: number; connected: number };
  server: {
    rssMb: { t: number; mb: number }[];
    rssBaselineMb: number;
    rssEndMb: number;
    rssGrowthMb: number;
    rssMaxMb: number;
    cpuSec: number;
    /** CPU use of the server over the run, in cores (2 = both cores of this machine). */
    cpuCores: number;
    statusAfter: Record<string, unknown> | null;
  };
  loadavg: number[];
}

const BOUNDARY = new TextEncoder().encode("--frame\r\n");

/** Counts multipart boundaries across chunk edges. */
class BoundaryCounter {
  private tail = new Uint8Array(0);
  count(chunk: Uint8Array): number {
    const buf = this.tail.length ? concat(this.tail, chunk) : chunk;
    let n = 0;
    const b0 = BOUNDARY[0]!;
    for (let i = buf.indexOf(b0); i >= 0 && i <= buf.length - BOUNDARY.length;) {
      let hit = true;
      for (let j = 1; j < BOUNDARY.length; j++) {
        if (buf[i + j] !== BOUNDARY[j]) {
          hit = false;
          break;
        }
      }
      if (hit) n++;
      i = buf.indexOf(b0, i + 1);
    }
    this.tail = buf.slice(Math.max(0, buf.length - BOUNDARY.length + 1));
    return n;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const r1 = (v: number): number => Math.round(v * 10) / 10;

function cpuSec(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the ")".
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function readClient(url: string, signal: AbortSignal, res: ClientResult): Promise<void> {
  const counter = new BoundaryCounter();
  let last = performance.now();
  try {
    const r = await fetch(url, { signal });
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const n = counter.count(value);
      if (n > 0) {
        const now = performance.now();
        res.maxGapMs = Math.max(res.maxGapMs, now - last);
        last = now;
        res.frames += n;
      }
    }
  } catch (e) {
    if (!signal.aborted) res.error = (e as Error).message;
  }
}

/** A client that sends the request and then never reads: the kernel buffers fill up. */
function stalledClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => {
      s.write(`GET /video HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      s.pause();
      resolve(s);
    });
    s.on("error", reject);
  });
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const o = { baselineSec: 5, ...opts };
  const log = opts.log ?? ((m: string) => process.stderr.write(`load: ${m}\n`));
  const sourceFps = 10;
  let srv: Running | null = null;
  const ac = new AbortController();
  const stalled: Socket[] = [];
  // Bounded: whatever happens, everything stops this long after the start.
  const hardStop = setTimeout(
    () => {
      ac.abort();
      srv?.proc.kill("SIGKILL");
    },
    (o.seconds + 60) * 1000,
  );
  try {
    srv = await startServer(camArgs("0", { threads: 1 }), fakecamEnv({ fps: sourceFps }));
    const s = await srv.ready();
    const pid = s.proc.pid;
    log(
      `server pid ${pid} on ${s.url}; ${o.clients} clients, ${o.rps} /status per s, ${o.stalled} stalled, ${o.seconds} s`,
    );

    const clients: ClientResult[] = Array.from({ length: o.clients }, () => ({
      frames: 0,
      maxGapMs: 0,
      error: null,
    }));
    const readers = clients.map((c) => readClient(`${s.url}/video`, ac.signal, c));

    const latencies: number[] = [];
    const codes: Record<string, number> = {};
    let sent = 0;
    let errors = 0;
    const inflight = new Set<Promise<void>>();
    const statusOnce = (): void => {
      sent++;
      const t0 = performance.now();
      const p = fetch(`${s.url}/status`, { signal: ac.signal })
        .then(async (r) => {
          await r.arrayBuffer();
          latencies.push(performance.now() - t0);
          codes[r.status] = (codes[r.status] ?? 0) + 1;
        })
        .catch(() => {
          if (!ac.signal.aborted) errors++;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    };

    const t0 = performance.now();
    const cpu0 = cpuSec(pid);
    const rss: { t: number; mb: number }[] = [];
    const sampleRss = setInterval(() => {
      rss.push({ t: r1((performance.now() - t0) / 1000), mb: r1(rssMb(pid)) });
    }, 1000);
    // Open loop: fire on schedule whether or not earlier requests came back.
    const tickMs = 10;
    let due = 0;
    const ticker = setInterval(() => {
      const elapsed = (performance.now() - t0) / 1000;
      const target = Math.floor(elapsed * o.rps);
      for (; due < target; due++) statusOnce();
    }, tickMs);
    let stalledJoined = false;
    while ((performance.now() - t0) / 1000 < o.seconds) {
      await Bun.sleep(250);
      if (!stalledJoined && (performance.now() - t0) / 1000 >= o.baselineSec) {
        stalledJoined = true;
        for (let i = 0; i < o.stalled; i++) {
          try {
            stalled.push(await stalledClient(s.port));
          } catch (e) {
            log(`stalled client ${i} failed: ${(e as Error).message}`);
          }
        }
        log(`${stalled.length} stalled clients connected`);
      }
    }
    clearInterval(ticker);
    clearInterval(sampleRss);
    const elapsedSec = (performance.now() - t0) / 1000;
    const cpu = cpuSec(pid) - cpu0;
    await Promise.race([Promise.all([...inflight]), Bun.sleep(2000)]);
    let statusAfter: Record<string, unknown> | null = null;
    try {
      statusAfter = (await (await fetch(`${s.url}/status`)).json()) as Record<string, unknown>;
    } catch {
      statusAfter = null;
    }
    ac.abort();
    for (const st of stalled) st.destroy();
    await Promise.race([Promise.all(readers), Bun.sleep(2000)]);

    const frames = clients.map((c) => c.frames).sort((a, b) => a - b);
    const lat = latencies.sort((a, b) => a - b);
    const base = rss.filter((x) => x.t <= o.baselineSec).map((x) => x.mb);
    const tail = rss.slice(-Math.max(1, Math.min(10, Math.floor(rss.length / 4)))).map((x) => x.mb);
    const med = (v: number[]): number =>
      percentile(
        [...v].sort((a, b) => a - b),
        50,
      );
    const rssBaselineMb = med(base.length ? base : [rss[0]?.mb ?? NaN]);
    const rssEndMb = med(tail);
    return {
      bench: "load",
      options: {
        seconds: o.seconds,
        clients: o.clients,
        rps: o.rps,
        stalled: o.stalled,
        baselineSec: o.baselineSec,
      },
      sourceFps,
      clients: {
        count: clients.length,
        framesMin: frames[0] ?? 0,
        framesMedian: percentile(frames, 50),
        framesMax: frames[frames.length - 1] ?? 0,
        fpsMin: r1((frames[0] ?? 0) / elapsedSec),
        maxGapMs: Math.round(Math.max(0, ...clients.map((c) => c.maxGapMs))),
        failed: clients.filter((c) => c.error !== null).length,
      },
      status: {
        sent,
        ok: codes["200"] ?? 0,
        errors,
        statusCodes: codes,
        p50Ms: r1(percentile(lat, 50)),
        p95Ms: r1(percentile(lat, 95)),
        p99Ms: r1(percentile(lat, 99)),
        maxMs: r1(lat[lat.length - 1] ?? NaN),
        achievedRps: r1(lat.length / elapsedSec),
      },
      stalled: { count: o.stalled, connected: stalled.length },
      server: {
        rssMb: rss,
        rssBaselineMb,
        rssEndMb,
        rssGrowthMb: r1(rssEndMb - rssBaselineMb),
        rssMaxMb: Math.max(...rss.map((x) => x.mb)),
        cpuSec: r1(cpu),
        cpuCores: Math.round((cpu / elapsedSec) * 100) / 100,
        statusAfter,
      },
      loadavg: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number),
    };
  } finally {
    clearTimeout(hardStop);
    ac.abort();
    for (const st of stalled) st.destroy();
    if (srv && srv.proc.exitCode === null) await srv.stop("SIGINT");
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "60" },
      clients: { type: "string", default: "50" },
      rps: { type: "string", default: "200" },
      stalled: { type: "string", default: "20" },
      out: { type: "string", default: join(root, "bench/results/load.json") },
    },
  });
  const num = (name: string, v: string | undefined, max: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > max) {
      process.stderr.write(`load: --${name} must be a number from 0 to ${max}\n`);
      process.exit(2);
    }
    return n;
  };
  const result = await runLoad({
    seconds: num("seconds", values.seconds, 600),
    clients: num("clients", values.clients, 500),
    rps: num("rps", values.rps, 2000),
    stalled: num("stalled", values.stalled, 500),
  });
  const json = JSON.stringify(result, null, 2);
  const out = values.out as string;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${json}\n`);
  console.log(json);
  process.stderr.write(`load: wrote ${out}\n`);
}
