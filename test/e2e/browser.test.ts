/**
 * What a person sees in headless Chromium: the dashboard's picture updates, the people count
 * changes, a snapshot opens, and the events page lists it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { camArgs, fakecamEnv, startServer, waitFor, type Running } from "./harness.ts";

const CHROMIUM = "/usr/bin/chromium";
let srv: Running;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  srv = await (await startServer(camArgs("0", { threads: 2 }), fakecamEnv())).ready();
  if (!existsSync(CHROMIUM))
    throw new Error("Debian's chromium is missing: run bash scripts/setup.sh");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 60000);

afterAll(async () => {
  await browser?.close();
  await srv?.stop();
});

test("the dashboard's picture updates and the people count changes", async () => {
  await page.goto(`${srv.url}/`);
  const img = page.locator("img#live, img[data-live]").first();
  await img.waitFor({ state: "visible", timeout: 10000 });
  // The stream paints: the <img> gets a real size from the MJPEG frames.
  await page.waitForFunction(
    `(() => { const el = document.querySelector("img#live, img[data-live]"); return !!el && el.naturalWidth === 640 && el.naturalHeight === 480; })()`,
    undefined,
    { timeout: 10000 },
  );
  // The clip goes from a person to an empty room and back: the count must change, and so the fps.
  const counts = new Set<string>();
  const fpsTexts = new Set<string>();
  await waitFor(
    async () => {
      counts.add((await page.locator("[data-people]").first().textContent())?.trim() ?? "");
      fpsTexts.add((await page.locator("[data-fps]").first().textContent())?.trim() ?? "");
      return counts.size >= 2 && fpsTexts.size >= 2;
    },
    {
      timeoutMs: 14000,
      pollMs: 250,
      what: "two people counts and two fps texts on the dashboard",
      detail: () => `people ${[...counts].join(", ")}; fps ${[...fpsTexts].join(", ")}`,
    },
  );
  await page.screenshot({ path: `${srv.outdir}/../dashboard.png` });
}, 30000);

test("the snapshot button saves a picture that opens, and /events lists it", async () => {
  await page.goto(`${srv.url}/`);
  // The button posts /snapshot, which redirects to the saved image: the page lands on it.
  await Promise.all([
    page.waitForURL(/\/out\/.*_snapshot_.*\.jpg$/, { timeout: 10000 }),
    page.locator("[data-snapshot]").first().click(),
  ]);
  const href = page.url();
  expect(href).toMatch(/\/out\/\d{8}_\d{6}_snapshot_people\d+_tpu[\d.]+ms_fps[\d.]+(_\d+)?\.jpg$/);
  const shown = await page.evaluate(
    `(() => { const i = document.querySelector("img"); return i ? i.naturalWidth : 0; })()`,
  );
  expect(shown).toBe(640);
  const name = href.split("/").pop() as string;
  const res = await fetch(`${srv.url}/out/${name}`);
  expect(res.status).toBe(200);

  await page.goto(`${srv.url}/events`);
  await page
    .locator(`a[href*="${name.replace(/\.jpg$/, "")}"], img[alt*="snapshot"]`)
    .first()
    .waitFor({ timeout: 10000 });
  const html = await page.content();
  expect(html).toContain("snapshot");
  await page.screenshot({ path: `${srv.outdir}/../events.png` });
}, 30000);
