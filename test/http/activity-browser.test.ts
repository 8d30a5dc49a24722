/**
 * The activity charts in headless Chromium (issue 12), against in-process servers over fake
 * deps: a visits store seeded with today's and yesterday's visits, an empty store, and no store.
 * What a person sees: the dashboard chart draws the day's bars and says the same numbers as
 * text, and updates when the minute rolls over; the events page's timeline has one bar per
 * visit, each a link to its page; a day without data shows as empty, never as an error.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { addLocalDays, localDayStart } from "../../src/http/activity-data.ts";
import { localDay } from "../../src/events/names.ts";
import { createServer, type HazardcamServer } from "../../src/http/server.tsx";
import { setQuiet } from "../../src/shared/log.ts";
import { FakeVisits, fakeScene, makeFake, type Fake, type VisitSpec } from "./fake-deps.ts";

setQuiet(true);

const CHROMIUM = "/usr/bin/chromium";
const shots = mkdtempSync(join(tmpdir(), "hazardcam-activity-shots-"));

const TODAY: VisitSpec[] = [
  { atMin: 7 * 60 + 12, durationSec: 150, people: 1, zones: ["door"] },
  {
    atMin: 13 * 60 + 58,
    durationSec: 400,
    people: 2,
    zones: ["door", "yard"],
    crossings: [{ line: "gate", direction: "in" }],
  },
  {
    atMin: 19 * 60 + 5,
    durationSec: 90,
    people: 3,
    zones: ["yard"],
    crossings: [{ line: "gate", direction: "out" }],
  },
];
const YESTERDAY: VisitSpec[] = [
  { atMin: 9 * 60, durationSec: 60, people: 1 },
  { atMin: 21 * 60 + 30, durationSec: 600, people: 2 },
];

interface Served {
  fake: Fake;
  app: HazardcamServer;
  url: string;
  store: FakeVisits | null;
}

const today = localDayStart(Date.now());
const yesterday = addLocalDays(today, -1);
const servers: Served[] = [];
let browser: Browser;
let seeded: Served;
let empty: Served;
let none: Served;

function serve(store: FakeVisits | null): Served {
  const fake = makeFake(store ? { scene: fakeScene(store) } : {});
  const app = createServer(fake.deps);
  app.listen({ port: 0, hostname: "127.0.0.1" });
  const s = { fake, app, url: `http://127.0.0.1:${app.server!.port}`, store };
  servers.push(s);
  return s;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("Debian's chromium is missing: run scripts/setup.sh");
  const store = new FakeVisits();
  store.seed(today, TODAY);
  store.seed(yesterday, YESTERDAY);
  seeded = serve(store);
  empty = serve(new FakeVisits());
  none = serve(null);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
}, 60000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) {
    await s.app.stop(true);
    s.fake.cleanup();
  }
});

/** A page that fails the test on any script error. */
async function open(url: string, prep?: (p: Page) => Promise<void>): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  (page as Page & { errors: string[] }).errors = errors;
  if (prep) await prep(page);
  // Not "load": the dashboard's MJPEG <img> never finishes loading.
  await page.goto(url, { waitUntil: "domcontentloaded" });
  return page;
}
const errorsOf = (p: Page): string[] => (p as Page & { errors: string[] }).errors;

/** Pixels of a chart's canvas within a few levels of a colour (-1: no canvas). */
async function pixels(page: Page, chart: string, rgb: [number, number, number]): Promise<number> {
  const [r, g, b] = rgb;
  return page.evaluate(`(() => {
    const c = document.querySelector('[data-chart="${chart}"] canvas');
    if (!c) return -1;
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - ${r}) < 8 && Math.abs(d[i + 1] - ${g}) < 8 && Math.abs(d[i + 2] - ${b}) < 8) n++;
    }
    return n;
  })()`);
}
const BLUE: [number, number, number] = [37, 99, 235];
const GREEN: [number, number, number] = [22, 163, 74];

async function state(page: Page, want: string): Promise<void> {
  await page.waitForSelector(`#activity[data-state="${want}"]`, { timeout: 15000 });
}

describe("dashboard chart", () => {
  test("today's visits are drawn, and said as text", async () => {
    const page = await open(`${seeded.url}/`);
    await state(page, "drawn");
    expect(await pixels(page, "people", BLUE)).toBeGreaterThan(20);
    expect(await pixels(page, "crossings", GREEN)).toBeGreaterThan(5);
    const summary = await page.locator("#activity-summary").textContent();
    expect(summary).toContain("most at once 3 (19:00–19:10)");
    expect(summary).toContain("gate 1 in, 1 out");
    expect(await page.locator("#activity-note").isHidden()).toBe(true);
    await page.screenshot({ path: join(shots, "dashboard-activity.png"), fullPage: true });
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  }, 30000);

  test("a new minute brings new data in, without a reload", async () => {
    const page = await open(`${seeded.url}/`, (p) => p.clock.install());
    await state(page, "drawn");
    const before = await page.locator("#activity-summary").textContent();
    seeded.store!.seed(today, [{ atMin: 22 * 60, durationSec: 30, people: 5 }]);
    await page.clock.fastForward(61_000);
    await page.waitForFunction(
      `document.getElementById("activity-summary").textContent.includes("most at once 5")`,
      undefined,
      { timeout: 15000 },
    );
    expect(before).toContain("most at once 3");
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  }, 30000);

  test("a day without data: a flat chart and a note, not an error", async () => {
    const page = await open(`${empty.url}/`);
    await state(page, "empty");
    expect(await page.locator("#activity-note").textContent()).toBe("No activity today yet.");
    expect(await page.locator('[data-chart="people"] canvas').count()).toBe(1);
    expect(await pixels(page, "people", BLUE)).toBe(0);
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  }, 30000);

  test("without a visits store: 'no activity data', the rest of the dashboard works", async () => {
    const page = await open(`${none.url}/`);
    await state(page, "unavailable");
    const note = await page.locator("#activity-note").textContent();
    expect(note).toStartWith("No activity data: the scene analysis");
    expect(await page.locator("[data-people]").textContent()).toBe("1");
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  }, 30000);
});

describe("events page timeline", () => {
  test("today's visits are bars on the day's axis, each a link to its page", async () => {
    const page = await open(`${seeded.url}/events`);
    const bars = page.locator("svg.timeline a[data-visit]");
    await bars.first().waitFor({ timeout: 10000 });
    const ids = seeded.store!.list({ from: today, to: addLocalDays(today, 1), order: "asc" });
    expect(await bars.count()).toBe(ids.length);
    const hrefs = await bars.evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    expect(hrefs).toEqual(ids.map((v) => `/visits/${v.id}`));
    // Left to right in time, each wide enough to see and hit.
    const boxes = [];
    for (let i = 0; i < ids.length; i++)
      boxes.push(await bars.nth(i).locator("rect").boundingBox());
    for (const b of boxes) expect(b!.width).toBeGreaterThanOrEqual(3);
    const xs = boxes.map((b) => b!.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    // The 07:12 visit sits at 30 % of the axis.
    const axis = (await page.locator("svg.timeline").boundingBox())!;
    expect(Math.abs((xs[0]! - axis.x) / axis.width - (7 * 60 + 12) / 1440)).toBeLessThan(0.01);
    // The text alternative lists the same visits as links.
    const list = await page
      .locator(".visit-list a")
      .evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    expect(list).toEqual(hrefs);
    await page.screenshot({ path: join(shots, "events-timeline.png"), fullPage: true });
    await Promise.all([page.waitForURL(/\/visits\/\d+$/), bars.nth(1).click()]);
    expect(page.url()).toBe(`${seeded.url}/visits/${ids[1]!.id}`);
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  }, 30000);

  test("the week: seven days, today and yesterday with data, the rest 'no data'", async () => {
    const page = await open(`${seeded.url}/events`);
    const rows = page.locator("table.week tbody tr");
    expect(await rows.count()).toBe(7);
    const states = await rows.evaluateAll((trs) =>
      trs.map((tr) => [tr.getAttribute("data-day"), tr.getAttribute("data-state")]),
    );
    expect(states.at(-1)).toEqual([localDay(today), "data"]);
    expect(states.at(-2)).toEqual([localDay(yesterday), "data"]);
    expect(states.slice(0, 5).every(([, s]) => s === "empty")).toBe(true);
    expect(await rows.nth(0).textContent()).toContain("no data");
    expect(await rows.nth(5).locator("td").nth(2).textContent()).toBe("2");
    await page.close();
  }, 30000);

  test("the day picker shows another day, on the gallery's day filter", async () => {
    const page = await open(`${seeded.url}/events`);
    await page.locator('.day-picker input[name="day"]').fill(localDay(yesterday));
    await Promise.all([page.waitForURL(/day=/), page.locator(".day-picker button").click()]);
    expect(new URL(page.url()).searchParams.get("day")).toBe(localDay(yesterday));
    expect(await page.locator("#day-activity").getAttribute("data-day")).toBe(localDay(yesterday));
    expect(await page.locator("svg.timeline a[data-visit]").count()).toBe(YESTERDAY.length);
    // The gallery's own select is on the same parameter.
    expect(await page.locator('select[name="day"]').count()).toBe(1);
    await page.close();
  }, 30000);

  test("a day without data shows as empty, not as an error", async () => {
    const day = localDay(addLocalDays(today, -3));
    const page = await open(`${seeded.url}/events?day=${day}`);
    expect(await page.locator("#day-activity").getAttribute("data-state")).toBe("empty");
    expect(await page.locator("#day-activity").textContent()).toContain("No activity on this day.");
    expect(await page.locator("svg.timeline a[data-visit]").count()).toBe(0);
    expect(await page.locator("svg.timeline").isVisible()).toBe(true);
    const res = await fetch(`${seeded.url}/events?day=${day}`);
    expect(res.status).toBe(200);
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  }, 30000);

  test("without a visits store the events page still lists events", async () => {
    const page = await open(`${none.url}/events`);
    expect(await page.locator("#day-activity").getAttribute("data-state")).toBe("unavailable");
    expect(await page.locator("#day-activity").textContent()).toContain("No activity data");
    expect(await page.locator("h1").textContent()).toContain("Events");
    await page.close();
  }, 30000);
});
