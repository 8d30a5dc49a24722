/**
 * Ctrl+C at any moment of startup, on the compiled binary: before HTTP listens, while the first
 * camera open is retrying or hanging, while the model loads, and right after "ready". Each time
 * the process exits 0 within a second, says nothing is "ready" once it is stopping, and saves no
 * event after it stopped (every image in the folder was logged as saved before "stopped").
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { CLIP, CPU_MODEL, freePort, startServer, type Running } from "./harness.ts";

/** A camera URL that accepts the connection and never answers: the first open hangs. */
let hangingHits = 0;
const hanging = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () => {
    hangingHits++;
    return new Promise<Response>(() => undefined);
  },
});
afterAll(() => {
  hanging.stop(true);
});

interface Stopped {
  code: number | null;
  /** From the signal to the exit. */
  ms: number;
  out: string;
  outdir: string;
}

/** Starts the binary on `cam` (cooldown 0: a save per detected frame), waits, sends SIGINT. */
async function interruptWhen(
  cam: string,
  when: (s: Running) => Promise<unknown>,
  signal: NodeJS.Signals = "SIGINT",
): Promise<Stopped> {
  const srv = await startServer([
    CPU_MODEL,
    cam,
    "0.5",
    "640",
    "480",
    "{port}",
    "{outdir}",
    "0",
    "--bind",
    "127.0.0.1",
  ]);
  try {
    await when(srv);
    const t0 = performance.now();
    srv.proc.kill(signal);
    const code = await Promise.race([srv.proc.exited, Bun.sleep(5000).then(() => null)]);
    const ms = performance.now() - t0;
    // The last lines may still be in the pipe when the process is gone.
    const until = performance.now() + 2000;
    while (!/stopped in \d+ ms/.test(srv.output()) && performance.now() < until)
      await Bun.sleep(20);
    return { code, ms, out: srv.output(), outdir: srv.outdir };
  } finally {
    if (srv.proc.exitCode === null) srv.proc.kill("SIGKILL");
  }
}

function expectCleanStop(r: Stopped): void {
  expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: expect.any(String) });
  expect(r.ms).toBeLessThan(1000);
  const stopping = r.out.indexOf(": stopping");
  const stopped = r.out.search(/stopped in \d+ ms/);
  expect(stopping).toBeGreaterThanOrEqual(0);
  expect(stopped).toBeGreaterThan(stopping);
  // Nothing is announced ready once stopping, and nothing is saved after the archive closed.
  expect(r.out.slice(stopping)).not.toMatch(/ready in \d+ ms/);
  expect(r.out.slice(stopped)).not.toMatch(/saved|cannot save/);
  expect(r.out).not.toMatch(/cannot save|Aborted|core dumped|Segmentation|panic/);
  const images = readdirSync(r.outdir).filter((f) => f.endsWith(".jpg"));
  const saved = r.out.match(/events: saved \S+\.jpg/g) ?? [];
  expect(images.length).toBe(saved.length);
}

describe("a signal during startup stops the server at once", () => {
  test("before HTTP listens (at the first line)", async () => {
    const r = await interruptWhen(CLIP, (s) => s.waitFor(/^events: /m, 20000));
    expectCleanStop(r);
  }, 30000);

  test("while the first open of an unreachable camera is retrying", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/video`;
    const r = await interruptWhen(dead, async (s) => {
      await s.waitFor(/camera unavailable: .*retrying/, 20000);
      // Into the backoff sleep, past the first retry.
      await Bun.sleep(1200);
    });
    expectCleanStop(r);
    expect(r.out).not.toMatch(/ready in/);
  }, 30000);

  test("while the first open hangs (the camera accepts and never answers)", async () => {
    const before = hangingHits;
    const r = await interruptWhen(
      `http://127.0.0.1:${hanging.port}/video`,
      async (s) => {
        const until = performance.now() + 20000;
        while (hangingHits === before && performance.now() < until) await Bun.sleep(10);
        expect(s.output()).not.toMatch(/ready in/);
      },
      "SIGTERM",
    );
    expectCleanStop(r);
  }, 30000);

  test("while the Workers start and the model loads (at 'listening')", async () => {
    const r = await interruptWhen(CLIP, (s) => s.waitFor(/http: listening on/, 20000));
    expectCleanStop(r);
  }, 30000);

  test("right after ready, with events being saved", async () => {
    const r = await interruptWhen(CLIP, (s) => s.waitFor(/ready in \d+ ms/, 20000));
    expectCleanStop(r);
  }, 30000);

  test("a few frames after ready", async () => {
    const r = await interruptWhen(CLIP, (s) => s.waitFor(/events: saved/, 20000));
    expectCleanStop(r);
  }, 30000);
});
