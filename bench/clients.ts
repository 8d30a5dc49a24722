/**
 * Load generator, run as its own process so its work does not delay the measuring process:
 *   bun bench/clients.ts video --url U --clients N --seconds S [--warmup W] [--slow-kbps K]
 *     N MJPEG clients on /video (raw TCP, parts counted by their boundary line); with
 *     --slow-kbps one more client that reads at most K kB/s (a viewer on a slow link).
 *   bun bench/clients.ts status --url U --seconds S [--warmup W] [--interval-ms 50]
 *     GET /status in a loop (keep-alive), latency of each.
 * Prints "measuring" when the measured window starts, then one JSON document at its end.
 * With --seconds 0 the clients stay connected until the process is killed.
 */
import { connect as netConnect } from "node:net";
import { parseArgs } from "node:util";
import { summarize } from "./lib.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    clients: { type: "string", default: "1" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    "slow-kbps": { type: "string" },
    "interval-ms": { type: "string", default: "50" },
    path: { type: "string", default: "/video" },
  },
});
const mode = positionals[0] ?? "video";
const url = new URL(values.url ?? "http://127.0.0.1:8080");
const seconds = Number(values.seconds);
const warmupMs = Number(values.warmup) * 1000;

const BOUNDARY = Buffer.from("--frame\r\n");

interface Counter {
  /** Parts seen in the measured window. */
  parts: number;
  /** Parts seen in all. */
  total: number;
  bytes: number;
  /** Set by a closed or failed connection. */
  error: string | null;
}

/** Counts multipart boundaries in a byte stream whose chunks may split them. */
function counter(): { c: Counter; feed: (chunk: Uint8Array, measuring: boolean) => void } {
  const c: Counter = { parts: 0, total: 0, bytes: 0, error: null };
  let tail = Buffer.alloc(0);
  const feed = (chunk: Uint8Array, measuring: boolean): void => {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    c.bytes += buf.length;
    let n = 0;
    if (tail.length) {
      const joint = Buffer.concat([tail, buf.subarray(0, BOUNDARY.length - 1)]);
      if (joint.indexOf(BOUNDARY) >= 0) n++;
    }
    for (let i = buf.indexOf(BOUNDARY); i >= 0; i = buf.indexOf(BOUNDARY, i + BOUNDARY.length)) {
      n++;
    }
    tail = Buffer.from(buf.subarray(Math.max(0, buf.length - (BOUNDARY.length - 1))));
    c.total += n;
    if (measuring) c.parts += n;
  };
  return { c, feed };
}

function request(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: hazardcam-bench\r\n\r\n`;
}

let measuring = false;

async function fastClient(): Promise<Counter> {
  const { c, feed } = counter();
  await Bun.connect({
    hostname: url.hostname,
    port: Number(url.port),
    socket: {
      open(s) {
        s.write(request(values.path as string));
      },
      data(_s, chunk) {
        feed(chunk, measuring);
      },
      close() {
        c.error ??= "closed";
      },
      error(_s, e) {
        c.error = e.message;
      },
    },
  });
  return c;
}

/** A client that reads at most kbps kB/s: pauses the socket whenever it is ahead. */
function slowClient(kbps: number): Counter {
  const { c, feed } = counter();
  const sock = netConnect({ host: url.hostname, port: Number(url.port) }, () => {
    sock.write(request(values.path as string));
  });
  const startedAt = performance.now();
  sock.on("data", (chunk: Buffer) => {
    feed(chunk, measuring);
    const aheadMs = (c.bytes / (kbps * 1024)) * 1000 - (performance.now() - startedAt);
    if (aheadMs > 0) {
      sock.pause();
      setTimeout(() => sock.resume(), aheadMs);
    }
  });
  sock.on("error", (e) => (c.error = e.message));
  sock.on("close", () => (c.error ??= "closed"));
  return c;
}

async function video(): Promise<void> {
  const n = Number(values.clients);
  const fast = await Promise.all(Array.from({ length: n }, () => fastClient()));
  const slowKbps = values["slow-kbps"] ? Number(values["slow-kbps"]) : null;
  const slow = slowKbps ? slowClient(slowKbps) : null;
  await Bun.sleep(warmupMs);
  measuring = true;
  const t0 = performance.now();
  console.log("measuring");
  if (seconds <= 0) await new Promise(() => undefined);
  await Bun.sleep(seconds * 1000);
  measuring = false;
  const elapsedSec = (performance.now() - t0) / 1000;
  const fps = fast.map((c) => c.parts / elapsedSec);
  console.log(
    JSON.stringify({
      mode: "video",
      clients: n,
      seconds: elapsedSec,
      framesPerClient: fast.map((c) => c.parts),
      fpsPerClient: summarize(fps),
      minFps: Math.min(...fps),
      mbReceived: fast.reduce((a, c) => a + c.bytes, 0) / 1048576,
      errors: fast.filter((c) => c.error).map((c) => c.error),
      slow: slow
        ? {
            kbps: slowKbps,
            frames: slow.parts,
            fps: slow.parts / elapsedSec,
            error: slow.error,
          }
        : null,
    }),
  );
  process.exit(0);
}

async function status(): Promise<void> {
  const target = new URL("/status", url).href;
  const intervalMs = Number(values["interval-ms"]);
  const lat: number[] = [];
  let failures = 0;
  const until = performance.now() + warmupMs + seconds * 1000;
  let announced = false;
  while (performance.now() < until) {
    const inWindow = performance.now() - (until - seconds * 1000) >= 0;
    if (inWindow && !announced) {
      announced = true;
      console.log("measuring");
    }
    const t0 = performance.now();
    try {
      const res = await fetch(target);
      await res.arrayBuffer();
      if (!res.ok) failures++;
      else if (inWindow) lat.push(performance.now() - t0);
    } catch {
      failures++;
    }
    await Bun.sleep(intervalMs);
  }
  console.log(JSON.stringify({ mode: "status", latencyMs: summarize(lat), failures }));
  process.exit(0);
}

await (mode === "status" ? status() : video());
