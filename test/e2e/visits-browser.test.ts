/**
 * Issue 11's pages in headless Chromium, against an in-process server on fake deps with a fake
 * scene (no binary, no camera): the dashboard's scene panel shows people per zone, the line
 * totals and the open visit from the live status, follows the frames' tracks, and links to the
 * visit; the visit page links its stills, whose event page links back; a server without the
 * scene shows no panel.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { createServer, type HazardcamServer } from "../../src/http/server.tsx";
import { setQuiet } from "../../src/shared/log.ts";
import { makeFake, taggedJpeg, type Fake } from "../http/fake-deps.ts";
import { fakeScene, type FakeScene } from "../http/fake-scene.ts";
import { waitFor } from "./harness.ts";

setQuiet(true);

const CHROMIUM = "/usr/bin/chromium";

interface Server {
  fake: Fake;
  app: HazardcamServer;
  url: string;
  camera: ReturnType<typeof setInterval>;
}

const servers: Server[] = [];
let browser: Browser;

function serve(withScene: boolean): Server & { s: FakeScene | null } {
  const fake = makeFake();
  const s = withScene ? fakeScene(fake.dir) : null;
  if (s) fake.deps.scene = s.scene;
  const app = createServer(fake.deps);
  app.listen({ port: 0, hostname: "127.0.0.1" });
  const camera = setInterval(() => fake.publish(), 100);
  const srv = { fake, app, url: `http://127.0.0.1:${app.server!.port}`, camera };
  servers.push(srv);
  return { ...srv, s };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error("Debian's chromium is missing: run bash scripts/setup.sh");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
}, 60000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) {
    clearInterval(s.camera);
    await s.app.stop(true);
    s.fake.cleanup();
  }
});

async function textOf(page: Page, selector: string, want: RegExp): Promise<string> {
  return waitFor(
    async () => {
      const t = (await page.locator(selector).innerText()).replace(/\s+/g, " ").trim();
      return want.test(t) ? t : null;
    },
    { timeoutMs: 10000, what: `${selector} to match ${want}` },
  );
}

test("the dashboard's scene panel: people per zone, line totals, the open visit, live", async () => {
  const { url, fake, s } = serve(true);
  const sc = s!;
  const start = Date.now() - 65_000;
  const still = await fake.archive.save({
    jpeg: taggedJpeg("still"),
    thumbJpeg: taggedJpeg("th"),
    reason: "auto",
    at: new Date(start + 5000),
    people: 1,
    detections: [],
    inferMs: 8,
    fps: 10,
  });
  sc.visits.add({
    id: 5,
    start,
    end: start + 60_000,
    open: true,
    zones: ["door"],
    stillIds: [still.id],
  });
  sc.feed.status = {
    ...sc.feed.status,
    tracks: [{ id: 8, box: [0.4, 0.15, 0.9, 0.3], score: 0.9, zones: ["door"] }],
    zone_people: { door: 1, yard: 0 },
    people_in_zones: 1,
    lines: { gate: { in: 2, out: 1 } },
    visit: { id: 5, start, people: 1, max_people: 1, zones: ["door"] },
  };
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`${url}/`);
  await page.locator("#scene-panel").waitFor({ state: "visible", timeout: 10000 });
  await textOf(page, "#scene-in-zones", /^1$/);
  await textOf(page, '#scene-zones tr[data-name="door"]', /^door 1$/);
  await textOf(page, '#scene-zones tr[data-name="yard"]', /^yard 0$/);
  await textOf(page, '#scene-lines tr[data-name="gate"]', /^gate 2 1$/);
  await textOf(
    page,
    "#scene-visit",
    /^Visit #5 open since \d\d:\d\d:\d\d · 1 person \(most at once 1\) · door$/,
  );

  // Two people walk into the yard: the frames' tracks show it, the status follows with the rest.
  sc.feed.status.tracks = [
    { id: 8, box: [0.4, 0.6, 0.9, 0.7], score: 0.9, zones: ["yard"] },
    { id: 9, box: [0.4, 0.7, 0.9, 0.8], score: 0.8, zones: ["yard"] },
  ];
  sc.feed.status.zone_people = { door: 0, yard: 2 };
  sc.feed.status.people_in_zones = 2;
  sc.feed.status.lines = { gate: { in: 3, out: 1 } };
  await textOf(page, '#scene-zones tr[data-name="yard"]', /^yard 2$/);
  await textOf(page, "#scene-in-zones", /^2$/);
  await textOf(page, '#scene-lines tr[data-name="gate"]', /^gate 3 1$/);

  // Follow the visit link, then a still of the visit, which links back to it.
  await page.locator("#scene-visit a").click();
  await page.waitForURL(`${url}/visits/5`);
  await textOf(page, "h1", /^Visit 5 .* open$/);
  await page.locator(`#visit-stills a[href="/events/${still.id}"]`).click();
  await page.waitForURL(`${url}/events/${still.id}`);
  await textOf(page, "#part-of-visit", /^Part of visit #5 /);
  await page.locator("#part-of-visit a").click();
  await page.waitForURL(`${url}/visits/5`);
  await page.close();
}, 60000);

test("without the scene the panel stays hidden", async () => {
  const { url } = serve(false);
  const page = await browser.newPage();
  await page.goto(`${url}/`);
  // The first status has arrived once the backend shows.
  await textOf(page, "#backend", /^cpu$/);
  expect(await page.locator("#scene-panel").isVisible()).toBe(false);
  await page.close();
}, 30000);
