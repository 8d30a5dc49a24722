/**
 * The clip player in headless Chromium against an in-process server (no binary, no camera):
 * clips recorded by the real wiring from the bundled clip's frames (test/pipeline/
 * clips-wire-lib.ts) with --clip-max 4, so the woman's visit has consecutive parts, and a line
 * added to the zones file while she is there. The parts play as one timeline (a frame step
 * crosses from one into the next), the zones drawn are those of the frame's time, Home/End
 * reach the ends, and the frames come by Range requests, never the whole file. On a phone's width.
 * A clip being recorded: its finished parts play and the rest joins the timeline when finished;
 * with nothing finished yet the page says so, links the replay, and plays once it is finished.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { createServer, type HazardcamServer } from "../../src/http/server.tsx";
import type { ZonesConfig } from "../../src/pipeline/scene-api.ts";
import { setQuiet } from "../../src/shared/log.ts";
import { makeFake, type Fake } from "../http/fake-deps.ts";
import { fakeScene } from "../http/fake-scene.ts";
import { closeRig, play, removeTmpOutdirs, rig, type Rig } from "../pipeline/clips-wire-lib.ts";
import { waitFor } from "./harness.ts";

setQuiet(true);
const CHROMIUM = "/usr/bin/chromium";

const YARD: ZonesConfig = {
  zones: [
    {
      name: "yard",
      points: [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ],
    },
  ],
  masks: [],
  lines: [],
};
const GATE: ZonesConfig = { ...YARD, lines: [{ name: "gate", a: [0.8, 0.1], b: [0.8, 0.9] }] };

let r: Rig;
let url: string;
let browser: Browser;
const rigs: Rig[] = [];
const servers: { app: HazardcamServer; fake: Fake }[] = [];
/** Range headers of the clip requests the browser made. */
const requests: { path: string; range: string | null }[] = [];

/** A fake zones file the test changes. */
function zonesFile(first: ZonesConfig) {
  let now = first;
  const listeners = new Set<(c: ZonesConfig) => void>();
  return {
    current: () => now,
    onChange: (cb: (c: ZonesConfig) => void) => {
      listeners.add(cb);
      return () => void listeners.delete(cb);
    },
    set(c: ZonesConfig) {
      now = c;
      for (const cb of listeners) cb(c);
    },
  };
}

/** Serves a rig's clips, with its visits (opened so far) in a fake scene; returns the URL. */
function serve(rr: Rig): string {
  const fake = makeFake();
  const s = fakeScene(fake.dir);
  for (const e of rr.feed.events.filter((v) => v.type === "open")) {
    s.visits.add({ id: e.visit.id, start: e.visit.start, end: e.visit.end, open: true });
  }
  fake.deps.scene = s.scene;
  fake.deps.clips = rr.clips.service;
  const app = createServer(fake.deps);
  app.onRequest(({ request }) => {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/out/clips/"))
      requests.push({ path, range: request.headers.get("range") });
  });
  app.listen({ port: 0, hostname: "127.0.0.1" });
  servers.push({ app, fake });
  return `http://127.0.0.1:${app.server!.port}`;
}

async function started(o: Parameters<typeof rig>[0]): Promise<Rig> {
  const rr = await rig(o);
  rigs.push(rr);
  return rr;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("Debian's chromium is missing: run scripts/setup.sh");
  const zones = zonesFile(YARD);
  r = await started({ clips: { maxSec: 4 }, zones });
  // The woman walks in at frame 106; the line is added at frame 150, while she is there.
  play(r.store, r.feed, { from: 0, to: 150, fps: 10 });
  zones.set(GATE);
  play(r.store, r.feed, { from: 150, to: 300, fps: 10 });
  await r.clips.idle();
  url = serve(r);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
}, 60000);

afterAll(async () => {
  await browser?.close();
  for (const { app, fake } of servers) {
    await app.stop(true);
    fake.cleanup();
  }
  for (const rr of rigs) await closeRig(rr);
  removeTmpOutdirs();
});

const attr = (page: Page, name: string) =>
  page.locator("#clip-player").getAttribute(name) as Promise<string | null>;

async function frameIs(page: Page, g: number): Promise<void> {
  await waitFor(async () => (await attr(page, "data-frame")) === String(g), {
    timeoutMs: 10000,
    what: `frame ${g} on the canvas`,
    detail: () => JSON.stringify(requests.slice(-5)),
  });
}

test("a long visit's parts play as one timeline, with the zones of their time", async () => {
  const parts = r.clips.service.forVisit(2);
  expect(parts.length).toBeGreaterThanOrEqual(3);
  const total = parts.reduce((n, c) => n + c.frames, 0);
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } }); // a phone
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${url}/visits/2`);
  // It starts by itself; pause it to look at frames.
  await waitFor(
    async () =>
      (await attr(page, "data-state")) === "playing" ||
      (await attr(page, "data-state")) === "ended",
    {
      timeoutMs: 10000,
      what: "the player playing",
    },
  );
  const firstMs = Number(await attr(page, "data-first-frame-ms"));
  console.log(`player (in-process server): first frame drawn ${firstMs} ms after navigation`);
  expect(firstMs).toBeGreaterThan(0);
  await page.keyboard.press("k");
  await waitFor(async () => (await attr(page, "data-state")) === "paused", {
    timeoutMs: 5000,
    what: "paused",
  });
  expect(await page.locator("#clip-scrub").getAttribute("max")).toBe(String(total - 1));

  // The last frame of part 1, then one step: the first frame of part 2.
  const end1 = parts[0]!.frames - 1;
  await page.locator("#clip-scrub").fill(String(end1));
  await frameIs(page, end1);
  expect(await page.locator("#clip-time").textContent()).toContain(`part 1/${parts.length}`);
  const t1 = Number(await attr(page, "data-t"));
  await page.keyboard.press("ArrowRight");
  await frameIs(page, end1 + 1);
  expect(await page.locator("#clip-time").textContent()).toContain(`part 2/${parts.length}`);
  expect(Number(await attr(page, "data-t"))).toBe(parts[1]!.startMs);
  expect(Number(await attr(page, "data-t"))).toBeGreaterThan(t1);
  await page.locator("#clip-prev").click();
  await frameIs(page, end1);

  // Zones: before the change the yard only; at the end the line too.
  expect(await attr(page, "data-zones")).toBe("yard");
  await page.keyboard.press("End");
  await frameIs(page, total - 1);
  expect(await attr(page, "data-zones")).toBe("yard,gate");
  await page.keyboard.press("Home");
  await frameIs(page, 0);

  // Boxes off: none drawn; on again.
  await page.locator("#clip-show-boxes").uncheck();
  await page.locator("#clip-scrub").fill(String(Math.floor(total / 2)));
  await frameIs(page, Math.floor(total / 2));
  expect(await attr(page, "data-boxes")).toBe("0");
  await page.locator("#clip-show-boxes").check();
  await waitFor(async () => Number(await attr(page, "data-boxes")) > 0, {
    timeoutMs: 5000,
    what: "the boxes drawn again",
  });

  // Frames came by Range requests of a few frames each, never the whole .mjpeg.
  const data = requests.filter((q) => q.path.endsWith(".mjpeg"));
  expect(data.length).toBeGreaterThan(0);
  for (const q of data) expect(q.range).toMatch(/^bytes=\d+-\d+$/);
  expect(errors).toEqual([]);
  if (process.env.PLAYER_SHOTS) {
    await page.screenshot({ path: `${process.env.PLAYER_SHOTS}/phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator("#clip-scrub").fill(String(end1 + 30));
    await page.screenshot({ path: `${process.env.PLAYER_SHOTS}/desktop.png`, fullPage: true });
  }
  await page.close();
}, 60000);

test("a clip being recorded: finished parts play, the rest joins when finished", async () => {
  // The woman's visit at 15 s: its first 4 s part is finished, the second is being written.
  const rr = await started({ clips: { maxSec: 4 } });
  play(rr.store, rr.feed, { from: 0, to: 150, fps: 10 });
  await rr.clips.idle();
  expect(rr.clips.service.forVisit(2).map((c) => c.status)).toEqual(["complete", "recording"]);
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${serve(rr)}/visits/2`);
  await waitFor(async () => (await attr(page, "data-first-frame-ms")) !== null, {
    timeoutMs: 10000,
    what: "the finished part on the canvas",
  });
  expect(await page.locator("#clip-recording").isVisible()).toBe(true);
  const before = Number(await page.locator("#clip-scrub").getAttribute("max"));
  // She stays, and leaves with the man of the next pass: every part finishes.
  play(rr.store, rr.feed, { from: 150, to: 300, fps: 10 });
  await rr.clips.idle();
  const parts = rr.clips.service.forVisit(2);
  expect(parts.every((c) => c.status === "complete")).toBe(true);
  const total = parts.reduce((n, c) => n + c.frames, 0);
  // The page polls every 5 s: the new parts join the timeline and the downloads.
  await waitFor(
    async () => Number(await page.locator("#clip-scrub").getAttribute("max")) === total - 1,
    { timeoutMs: 20000, what: "the finished parts in the timeline" },
  );
  expect(total - 1).toBeGreaterThan(before);
  expect(await page.locator("#clip-downloads li").count()).toBe(parts.length);
  expect(await page.locator("#clip-recording").isVisible()).toBe(false);
  await page.keyboard.press("End");
  await frameIs(page, total - 1);
  expect(errors).toEqual([]);
  await page.close();
}, 60000);

test("nothing finished yet: it says so, then plays once the clip is finished", async () => {
  const rr = await started({});
  play(rr.store, rr.feed, { from: 0, to: 150, fps: 10 });
  await rr.clips.idle();
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  await page.goto(`${serve(rr)}/visits/2`);
  expect(await attr(page, "data-state")).toBe("waiting");
  expect(await page.locator("#clip-recording").textContent()).toContain(
    "This clip is still being recorded",
  );
  expect(await page.locator("#clip-recording a").getAttribute("href")).toBe(
    "/api/visits/2/clip.mjpeg",
  );
  play(rr.store, rr.feed, { from: 150, to: 300, fps: 10 });
  await rr.clips.idle();
  // The page reloads itself and plays.
  await waitFor(async () => (await attr(page, "data-first-frame-ms").catch(() => null)) !== null, {
    timeoutMs: 20000,
    what: "the finished clip playing",
  });
  await page.close();
}, 60000);
