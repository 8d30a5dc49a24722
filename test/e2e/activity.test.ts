/**
 * Issue 12's acceptance in headless Chromium on the compiled binary: "the dashboard chart and
 * the events timeline show the visits of the run; a day without data shows as empty, not as an
 * error". The bundled clip at 10 fps through the CPU model gives a visit per pass.

 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { camArgs, fakecamEnv, startServer, waitFor, type Running } from "./harness.ts";

const CHROMIUM = "/usr/bin/chromium";

let srv: Running | undefined;
let browser: Browser | undefined;

function midnight(): number {
  const d = new Date();
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("Debian's chromium is missing: run scripts/setup.sh");
  srv = await (await startServer(camArgs("0", { threads: 2 }), fakecamEnv({ fps: 10 }))).ready();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu"],
  });
}, 60000);

afterAll(async () => {
  await browser?.close();
  await srv?.stop();
});

async function visitIds(url: string): Promise<number[]> {
  const r = await fetch(`${url}/api/visits?from=${midnight()}&order=asc&limit=500`);
  if (r.status !== 200) return [];
  const j = (await r.json()) as { visits?: { id: number }[] };
  return (j.visits ?? []).map((v) => v.id);
}

async function activityBuckets(url: string): Promise<number> {
  const r = await fetch(`${url}/api/activity?bucket=10min`);
  if (r.status !== 200) return 0;
  return ((await r.json()) as { buckets: unknown[] }).buckets.length;
}

test("the dashboard chart and the events timeline show the visits of the run", async () => {
  const s = srv!;
  // Visits close a few seconds after a pass; a minute reaches the store once it is over.
  await waitFor(async () => (await visitIds(s.url)).length >= 1, {
    timeoutMs: 60000,
    pollMs: 500,
    what: "a visit in /api/visits",
  });
  await waitFor(async () => (await activityBuckets(s.url)) >= 1, {
    timeoutMs: 90000,
    pollMs: 1000,
    what: "a minute of activity in /api/activity",
  });
  const page: Page = await browser!.newPage({ viewport: { width: 1100, height: 1400 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${s.url}/`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector('#activity[data-state="drawn"]', { timeout: 20000 });
  expect(await page.locator("#activity-summary").textContent()).toContain("most at once");
  await page.screenshot({ path: `${s.outdir}/../activity-dashboard.png`, fullPage: true });

  await page.goto(`${s.url}/events`, { waitUntil: "domcontentloaded" });
  const ids = await visitIds(s.url);
  const hrefs = await page
    .locator("svg.timeline a[data-visit]")
    .evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  // Visits may have opened since: every visit listed before the page is on it.
  for (const id of ids) expect(hrefs).toContain(`/visits/${id}`);
  await page.screenshot({ path: `${s.outdir}/../activity-events.png`, fullPage: true });

  // Yesterday: no data, shown as such.
  const y = new Date(midnight() - 12 * 3_600_000);
  const day = `${y.getFullYear()}-${String(y.getMonth() + 1).padStart(2, "0")}-${String(y.getDate()).padStart(2, "0")}`;
  const res = await page.goto(`${s.url}/events?day=${day}`, { waitUntil: "domcontentloaded" });
  expect(res?.status()).toBe(200);
  expect(await page.locator("#day-activity").getAttribute("data-state")).toBe("empty");
  expect(errors).toEqual([]);
  await page.close();
}, 240000);
