/**
 * The server as a user runs it: the compiled binary on the fake camera (the bundled clip at
 * 10 fps), the CPU model, nobody watching. Events are saved while a person is present, none
 * while the scene is empty, never closer than the cooldown; files, index and API agree.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import {
  camArgs,
  fakecamEnv,
  fetchStatus,
  readLog,
  readParts,
  startServer,
  tempDir,
  waitFor,
  type Running,
} from "./harness.ts";

let srv: Running;
const camLog = `${tempDir("camlog")}/fakecam.log`;
const COOLDOWN_SEC = 2;

beforeAll(async () => {
  srv = await startServer(
    camArgs("0", { cooldownSec: COOLDOWN_SEC, threads: 2 }),
    fakecamEnv({ log: camLog }),
  );
  await srv.ready();
}, 40000);

afterAll(async () => {
  await srv?.stop();
});

const status = () => fetchStatus(srv.url);

test("the camera is opened as asked and /status reports it", async () => {
  const s = await waitFor(
    async () => {
      const st = await status();
      return st.fps > 5 && st.infer_ms > 0 && st;
    },
    { timeoutMs: 8000, what: "more than 5 fps and an inference time", detail: srv.output },
  );
  expect(s.online).toBe(true);
  expect(s.backend).toBe("cpu");
  expect(s.capture).toEqual({ w: 640, h: 480 });
  expect(s.fps).toBeGreaterThan(5);
  expect(s.infer_ms).toBeGreaterThan(0);
  expect(srv.output()).toMatch(/cam: \/dev\/video0 MJPG 640x480/);
}, 10000);

test("with no viewer for 30 s, events are saved and /status keeps updating", async () => {
  const seen = new Set<number>();
  const fpsSeen: number[] = [];
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    const s = await status();
    seen.add(s.people);
    fpsSeen.push(s.fps);
    await Bun.sleep(500);
  }
  // The clip has a person (frames 0-41, 106-199) and an empty stretch (42-105): both counts show.
  expect(seen.has(0)).toBe(true);
  expect([...seen].some((n) => n > 0)).toBe(true);
  expect(fpsSeen.every((f) => f > 5)).toBe(true);

  const events = await autoEvents();
  // 30 s of a 20 s loop with a person in ~68% of it: several events, each at least the cooldown apart.
  expect(events.length).toBeGreaterThanOrEqual(4);
  for (let i = 1; i < events.length; i++) {
    expect(events[i]!.time - events[i - 1]!.time).toBeGreaterThanOrEqual(COOLDOWN_SEC * 1000 - 50);
  }
  for (const e of events) expect(e.people).toBeGreaterThan(0);

  // Names as the original, the files on disk and the index agree.
  const files = readdirSync(srv.outdir).filter((n) => n.endsWith(".jpg"));
  for (const e of events) {
    expect(e.file).toMatch(
      /^\d{8}_\d{6}_auto_people\d+_tpu\d+(\.\d)?ms_fps\d+(\.\d)?(_\d+)?\.jpg$/,
    );
    expect(files).toContain(e.file);
    const img = await fetch(`${srv.url}/out/${e.file}`);
    expect(img.status).toBe(200);
    expect(img.headers.get("content-type")).toContain("image/jpeg");
  }
  // Every auto image on disk is indexed (read again: the camera saves on while this runs).
  const indexed = (await autoEvents()).map((e) => e.file);
  for (const f of files.filter((n) => n.includes("_auto_"))) expect(indexed).toContain(f);
}, 45000);

/** The auto events of /api/events, oldest first. */
async function autoEvents(): Promise<{ time: number; people: number; file: string }[]> {
  const res = await fetch(`${srv.url}/api/events?limit=500`);
  const body = (await res.json()) as {
    events: { time: number; reason: string; people: number; file: string }[];
  };
  return body.events.filter((e) => e.reason === "auto").sort((a, b) => a.time - b.time);
}

test("two and then ten /video clients each get the full frame rate", async () => {
  for (const n of [2, 10]) {
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: n }, async () => {
        const res = await fetch(`${srv.url}/video`);
        expect(res.headers.get("content-type")).toContain("multipart/x-mixed-replace");
        return readParts(res, 20, 10000);
      }),
    );
    const secs = (Date.now() - started) / 1000;
    for (const parts of results) {
      expect(parts.length).toBe(20);
      expect(parts[0]![0]).toBe(0xff);
    }
    // 20 frames at the source's 10 fps take ~2 s; well under 4 s means nobody was starved. On
    // a loaded machine the capture itself slows down: the bound follows its measured rate.
    const captureFps = (await status()).fps;
    expect(secs).toBeLessThan(Math.max(4.5, (20 / Math.max(captureFps, 1)) * 1.5 + 1));
  }
}, 30000);

test("/snapshot saves the current frame and redirects to it", async () => {
  const res = await fetch(`${srv.url}/snapshot`, { redirect: "manual" });
  expect(res.status).toBe(302);
  const loc = res.headers.get("location") ?? "";
  expect(loc).toMatch(/^\/out\/\d{8}_\d{6}_snapshot_people\d+_tpu[\d.]+ms_fps[\d.]+(_\d+)?\.jpg$/);
  const img = await fetch(`${srv.url}${loc}`);
  expect(img.status).toBe(200);
  expect((await img.arrayBuffer()).byteLength).toBeGreaterThan(10000);
});

test("SIGINT stops it with exit code 0 and releases the camera", async () => {
  const t0 = performance.now();
  const code = await srv.stop("SIGINT");
  const ms = performance.now() - t0;
  expect(code).toBe(0);
  expect(ms).toBeLessThan(1500);
  const log = readLog(camLog).join("\n");
  expect(log).toMatch(/streamoff/);
  expect(log).toMatch(/munmap/);
  expect(log).toMatch(/close/);
  expect(srv.output()).not.toMatch(/Aborted|core dumped|Segmentation/);
});
