/**
 * Camera faults through the fake V4L2 camera, on the compiled binary: unplug and replug, a stall,
 * corrupt frames, a YUYV-only camera, a camera that gives another size than asked, and frames of
 * twice the announced height. Nothing restarts; the user sees the state in /status and the
 * picture, and the log says each thing once.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { jpegDecode } from "../../src/native/shim.ts";
import {
  camArgs,
  countLines as count,
  fakecamEnv,
  readLog,
  readParts,
  rssMb,
  startServer,
  tempDir,
  waitFor,
  type Running,
} from "./harness.ts";

interface Status {
  online: boolean;
  offline_reason: string | null;
  fps: number;
  capture: { w: number; h: number };
  requested: { w: number; h: number };
  frames_corrupt: number;
  events_total: number;
  last_error: string | null;
}

let srv: Running | null = null;

afterEach(async () => {
  const s = srv;
  srv = null;
  if (s) {
    const code = await s.stop("SIGINT");
    expect(code).toBe(0);
    expect(s.output()).not.toMatch(/Aborted|core dumped|Segmentation|panic/);
  }
});

async function start(
  extra: Record<string, string>,
  opts: { size?: [number, number]; cooldown?: number; formats?: string; camLog?: string } = {},
): Promise<Running> {
  const [w, h] = opts.size ?? [640, 480];
  srv = await startServer(
    camArgs("0", { w, h, cooldownSec: opts.cooldown }),
    fakecamEnv({ formats: opts.formats, log: opts.camLog, extra }),
  );
  const s = await srv.ready();
  await until("the first frame", async () => (await latest(s)).online, 5000);
  return s;
}

async function status(s: Running): Promise<Status> {
  const r = await fetch(`${s.url}/status`);
  expect(r.status).toBe(200);
  return (await r.json()) as Status;
}

/** /latest.jpg: its bytes and whether it is a camera frame (1) or the no-signal frame (0). */
async function latest(s: Running): Promise<{ online: boolean; jpeg: Uint8Array }> {
  const r = await fetch(`${s.url}/latest.jpg`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("image/jpeg");
  return {
    online: r.headers.get("x-hazardcam-online") === "1",
    jpeg: new Uint8Array(await r.arrayBuffer()),
  };
}

/** The events' images in outdir; not the hidden `.tmp-*` file of a save under way. */
function savedImages(outdir: string): string[] {
  return readdirSync(outdir).filter((n) => n.endsWith(".jpg") && !n.startsWith("."));
}

/** Mean of all RGB samples: the no-signal frame is nearly black, the clip is a lit room. */
function meanLevel(jpeg: Uint8Array): number {
  const { rgb } = jpegDecode(jpeg);
  let sum = 0;
  for (let i = 0; i < rgb.length; i += 7) sum += rgb[i]!;
  return sum / Math.ceil(rgb.length / 7);
}

/** Waits for `fn` to return a value (not null or false); the error shows the server's output. */
function until<T>(
  what: string,
  fn: () => Promise<T | null | false>,
  timeoutMs: number,
): Promise<T> {
  return waitFor(fn, { timeoutMs, what, detail: () => `output:\n${srv?.output()}` });
}

/** Waits for a /status that passes `ok`, and returns it. */
function statusUntil(s: Running, what: string, ok: (st: Status) => boolean, timeoutMs: number) {
  return until(
    what,
    async () => {
      const st = await status(s);
      return ok(st) && st;
    },
    timeoutMs,
  );
}

describe("camera unplugged, then plugged in again", () => {
  test("offline with the reason and a no-signal picture, logged once, back within 2 s", async () => {
    const camLog = join(tempDir("camlog"), "fakecam.log");
    const REPLUG_MS = 7000;
    // 45 frames at 10 fps, then gone for 7 s: long enough for any backoff to reach its cap.
    const s = await start(
      { FAKECAM_UNPLUG_AFTER: "45", FAKECAM_REPLUG_AFTER_MS: String(REPLUG_MS) },
      { camLog },
    );
    const pid = s.proc.pid;
    expect((await latest(s)).online).toBe(true);
    // Memory at the last look before the fault, warmed up by the frames until then.
    let rssBefore = rssMb(pid);
    const off = await statusUntil(
      s,
      "online:false",
      (st) => {
        if (st.online) rssBefore = rssMb(pid);
        return !st.online;
      },
      10000,
    );
    // First "disappeared" (the grab), then "no such device" (the retries), each with its fix.
    const GONE = /camera \/dev\/video0: (the camera disappeared|no such device)/;
    expect(off.offline_reason).toMatch(GONE);
    expect(off.last_error).toMatch(GONE);
    const unplug = readLog(camLog).find((l) => l.startsWith("unplug"));
    const unplugAt = Number(/at=(\d+)/.exec(unplug ?? "")?.[1]);
    expect(unplugAt).toBeGreaterThan(0);

    // While gone: the still and the stream both show the dark no-signal frame.
    const still = await latest(s);
    expect(still.online).toBe(false);
    expect(meanLevel(still.jpeg)).toBeLessThan(40);
    const video = await fetch(`${s.url}/video?raw=1`);
    const [part] = await readParts(video, 1, 3000);
    expect(part).toBeDefined();
    expect(meanLevel(part!)).toBeLessThan(40);
    const dash = await (await fetch(`${s.url}/`)).text();
    expect(dash).toContain("No signal:");
    expect(dash).toMatch(GONE);

    // Back: the first camera frame after the replug moment, with the same process.
    const replugAt = unplugAt + REPLUG_MS;
    const backAt = await until(
      "a camera frame after the replug",
      async () => ((await latest(s)).online ? Date.now() : null),
      REPLUG_MS + 8000,
    );
    const recoveryMs = backAt - replugAt;
    // It stays back: 20 camera frames in a row on the stream (2 s at 10 fps), none dark.
    const again = await readParts(await fetch(`${s.url}/video?raw=1`), 20, 10000);
    expect(again).toHaveLength(20);
    for (const part of again) expect(meanLevel(part)).toBeGreaterThan(40);
    console.log(
      `camera replug → frames again: ${recoveryMs} ms; RSS ${rssBefore} MB before the unplug, ${rssMb(pid)} MB 20 frames after the replug`,
    );
    expect(recoveryMs).toBeLessThan(2000);
    const back = await status(s);
    expect(back.online).toBe(true);
    expect(back.offline_reason).toBeNull();
    expect(meanLevel((await latest(s)).jpeg)).toBeGreaterThan(40);

    expect(s.proc.pid).toBe(pid);
    expect(s.proc.exitCode).toBeNull();
    const out = s.output();
    expect(count(out, /ready in \d+ ms/)).toBe(1);
    // One line for the loss (not one per retry), one for the return.
    expect(count(out, /^cam: (camera lost|camera unavailable)/)).toBe(1);
    expect(count(out, /^cam: camera is back/)).toBe(1);
    // Several retries happened meanwhile, and the old handle was released before the new one.
    const opens = readLog(camLog).filter((l) => l.startsWith("open"));
    expect(opens.length).toBe(2);
  }, 45000);
});

test("a stalled camera (poll times out) is reopened and streams again", async () => {
  const camLog = join(tempDir("camlog"), "fakecam.log");
  // Each opening of the device sends 15 frames, then nothing.
  const s = await start({ FAKECAM_STALL_AFTER: "15" }, { camLog });
  const off = await statusUntil(s, "online:false", (st) => !st.online, 10000);
  expect(off.offline_reason).toMatch(/no frame/);
  await until("frames again", async () => (await latest(s)).online, 5000);
  expect(readLog(camLog).filter((l) => l.startsWith("open")).length).toBeGreaterThanOrEqual(2);
  expect(count(s.output(), /^cam: camera is back/)).toBeGreaterThanOrEqual(1);
}, 30000);

test("corrupt frames are skipped and counted, never saved, no crash", async () => {
  // Every 4th frame is a JPEG without an image; cooldown 0 saves every frame with people.
  const s = await start({ FAKECAM_CORRUPT_EVERY: "4" }, { cooldown: 0 });
  const a = await statusUntil(
    s,
    "4 corrupt frames counted at more than 5 fps",
    (st) => st.frames_corrupt > 3 && st.fps > 5,
    15000,
  );
  expect(a.online).toBe(true);
  // Still counting, and frames with people are saved meanwhile.
  const b = await statusUntil(
    s,
    "more corrupt frames and a saved event",
    (st) => st.frames_corrupt > a.frames_corrupt && st.events_total > 0,
    10000,
  );
  expect(b.online).toBe(true);
  // Every saved image is a whole 640x480 picture.
  const files = savedImages(s.outdir);
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const img = jpegDecode(new Uint8Array(readFileSync(join(s.outdir, f))));
    expect([img.width, img.height]).toEqual([640, 480]);
  }
  expect(count(s.output(), /corrupt frame/)).toBe(1);
}, 30000);

test("a camera that offers only YUYV works", async () => {
  const s = await start({}, { formats: "YUYV" });
  expect(s.output()).toMatch(/^cam: \/dev\/video0 YUYV 640x480/m);
  const st = await statusUntil(s, "more than 5 fps", (x) => x.fps > 5, 10000);
  expect(st.online).toBe(true);
  const img = jpegDecode((await latest(s)).jpeg);
  expect([img.width, img.height]).toEqual([640, 480]);
}, 30000);

test("a camera that gives another size than asked: reported at start and in /status", async () => {
  const s = await start({ FAKECAM_SIZES: "640x480" }, { size: [800, 600] });
  expect(s.output()).toMatch(/cam: .*640x480.*asked for 800x600, the camera gave 640x480/);
  const st = await status(s);
  expect(st.capture).toEqual({ w: 640, h: 480 });
  expect(st.requested).toEqual({ w: 800, h: 600 });
  const img = jpegDecode((await latest(s)).jpeg);
  expect([img.width, img.height]).toEqual([640, 480]);
}, 30000);

test("frames of twice the announced height are shown at their own size, no crash", async () => {
  const s = await start({ FAKECAM_DOUBLE_HEIGHT_EVERY: "3" }, { cooldown: 0 });
  const DOUBLE = /sends 640x960 frames while it announced 640x480/;
  // Looks at 40 pictures (each must decode) until the warning, 3 saved events and the rate show.
  const sizes = new Set<string>();
  let pictures = 0;
  const st = await until(
    "40 pictures incl. 640x480, the 640x960 warning, 3 saved events, more than 5 fps",
    async () => {
      const img = jpegDecode((await latest(s)).jpeg);
      sizes.add(`${img.width}x${img.height}`);
      pictures++;
      const x = await status(s);
      const done = pictures >= 40 && sizes.has("640x480") && DOUBLE.test(s.output());
      return done && x.fps > 5 && x.events_total >= 3 && x;
    },
    20000,
  );
  expect(st.online).toBe(true);
  expect(count(s.output(), DOUBLE)).toBe(1);
  // Saved events are whole images of either size.
  for (const f of savedImages(s.outdir)) {
    const img = jpegDecode(new Uint8Array(readFileSync(join(s.outdir, f))));
    expect(["640x480", "640x960"]).toContain(`${img.width}x${img.height}`);
  }
}, 30000);
