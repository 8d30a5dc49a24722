/** The other sources a user can give as <cam>: another hazardcam's MJPEG URL, a folder of JPEGs. */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { splitJpegs } from "../../src/camera/mjpeg.ts";
import {
  camArgs,
  CLIP,
  fetchStatus,
  startServer,
  tempDir,
  waitFor,
  type Running,
} from "./harness.ts";

const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
});

async function start(cam: string, flags: string[] = []): Promise<Running> {
  const srv = await startServer(camArgs(cam, { flags }));
  running.push(srv);
  return srv.ready();
}

/** Waits for /status to pass `ok` (default: online at more than 2 fps) and returns it. */
function statusUntil(srv: Running, what = "online at more than 2 fps", ok = isStreaming) {
  return waitFor(
    async () => {
      const st = await fetchStatus(srv.url);
      return ok(st) && st;
    },
    { timeoutMs: 20000, pollMs: 300, what, detail: srv.output },
  );
}

const isStreaming = (s: { online: boolean; fps: number }): boolean => s.online && s.fps > 2;

test("an http:// MJPEG source: one hazardcam watching another's /video?raw=1", async () => {
  const upstream = await start(CLIP);
  const relay = await start(`${upstream.url}/video?raw=1`);
  const s = await statusUntil(relay);
  expect(s.online).toBe(true);
  expect(s.capture).toEqual({ w: 640, h: 480 });
  expect(s.source).toContain(`127.0.0.1:${upstream.port}`);
  expect(s.fps).toBeGreaterThan(5);
  // The upstream going away shows as offline on the relay, not as a crash.
  await upstream.stop();
  const after = await statusUntil(relay, "the relay offline", (x) => !x.online);
  expect(after.online).toBe(false);
  expect(relay.proc.exitCode).toBeNull();
}, 90000);

test("a folder of JPEGs, looped at --fps", async () => {
  const dir = join(tempDir("jpegs"), "frames");
  mkdirSync(dir);
  const frames = splitJpegs(new Uint8Array(readFileSync(CLIP))).slice(0, 5);
  frames.forEach((f, i) => writeFileSync(join(dir, `frame${i}.jpg`), f));
  const srv = await start(dir, ["--fps", "8"]);
  const s = await statusUntil(srv);
  expect(s.online).toBe(true);
  expect(s.source).toContain("5 frames");
  expect(s.fps).toBeGreaterThan(5);
  expect(s.fps).toBeLessThan(11);
}, 60000);
