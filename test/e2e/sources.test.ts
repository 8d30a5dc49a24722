/** The other sources a user can give as <cam>: another hazardcam's MJPEG URL, a folder of JPEGs. */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { splitJpegs } from "../../src/camera/mjpeg.ts";
import { CLIP, CPU_MODEL, startServer, tempDir, type Running } from "./harness.ts";

const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
});

async function status(
  url: string,
): Promise<{ online: boolean; capture: { w: number; h: number }; fps: number; source: string }> {
  return (await (await fetch(`${url}/status`)).json()) as never;
}

async function waitOnline(
  url: string,
  timeoutMs = 20000,
): Promise<Awaited<ReturnType<typeof status>>> {
  const until = Date.now() + timeoutMs;
  let s = await status(url);
  while (Date.now() < until && !(s.online && s.fps > 2)) {
    await Bun.sleep(300);
    s = await status(url);
  }
  return s;
}

test("an http:// MJPEG source: one hazardcam watching another's /video?raw=1", async () => {
  const upstream = await startServer([
    CPU_MODEL,
    CLIP,
    "0.5",
    "640",
    "480",
    "{port}",
    "{outdir}",
    "2",
    "--bind",
    "127.0.0.1",
  ]);
  running.push(upstream);
  await upstream.waitFor(/ready in \d+ ms/, 30000);
  const url = `${upstream.url}/video?raw=1`;
  const relay = await startServer([
    CPU_MODEL,
    url,
    "0.5",
    "640",
    "480",
    "{port}",
    "{outdir}",
    "2",
    "--bind",
    "127.0.0.1",
  ]);
  running.push(relay);
  await relay.waitFor(/ready in \d+ ms/, 30000);
  const s = await waitOnline(relay.url);
  expect(s.online).toBe(true);
  expect(s.capture).toEqual({ w: 640, h: 480 });
  expect(s.source).toContain(`127.0.0.1:${upstream.port}`);
  expect(s.fps).toBeGreaterThan(5);
  // The upstream going away shows as offline on the relay, not as a crash.
  await upstream.stop();
  const until = Date.now() + 15000;
  let after = await status(relay.url);
  while (Date.now() < until && after.online) {
    await Bun.sleep(300);
    after = await status(relay.url);
  }
  expect(after.online).toBe(false);
  expect(relay.proc.exitCode).toBeNull();
}, 90000);

test("a folder of JPEGs, looped at --fps", async () => {
  const dir = join(tempDir("jpegs"), "frames");
  mkdirSync(dir);
  const frames = splitJpegs(new Uint8Array(readFileSync(CLIP))).slice(0, 5);
  frames.forEach((f, i) => writeFileSync(join(dir, `frame${i}.jpg`), f));
  const srv = await startServer([
    CPU_MODEL,
    dir,
    "0.5",
    "640",
    "480",
    "{port}",
    "{outdir}",
    "2",
    "--fps",
    "8",
    "--bind",
    "127.0.0.1",
  ]);
  running.push(srv);
  await srv.waitFor(/ready in \d+ ms/, 30000);
  const s = await waitOnline(srv.url);
  expect(s.online).toBe(true);
  expect(s.source).toContain("5 frames");
  expect(s.fps).toBeGreaterThan(5);
  expect(s.fps).toBeLessThan(11);
}, 60000);
