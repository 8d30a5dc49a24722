/**
 * The dashboard's zone editor in headless Chromium, against an in-process server on fake deps
 * (no binary, no camera): a polygon drawn with the mouse, named and saved reaches the
 * ZonesService and stays on the picture; the server's 400 reason is shown and nothing is saved;
 * a line drawn with a finger; corners dragged; Delete removes; Cancel reverts; Escape drops the
 * one being drawn.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createServer, type HazardcamServer } from "../../src/http/server.tsx";
import { setQuiet } from "../../src/shared/log.ts";
import type { ZonesConfig } from "../../src/track/zones.ts";
import {
  fakeZonesService,
  makeFake,
  sceneWithZones,
  type Fake,
  type FakeZonesService,
} from "../http/fake-deps.ts";
import { waitFor } from "./harness.ts";

setQuiet(true);

const CHROMIUM = "/usr/bin/chromium";
/** The first frame of the bundled clip: a 640x480 picture, as a camera gives. */
const FRAME = firstJpeg(join(import.meta.dir, "../fixtures/people_640x480_q5.mjpeg"));

let fake: Fake;
let zones: FakeZonesService;
let app: HazardcamServer;
let url: string;
let browser: Browser;
let camera: ReturnType<typeof setInterval>;

function firstJpeg(path: string): Uint8Array {
  const b = new Uint8Array(readFileSync(path));
  const start = b.findIndex((v, i) => v === 0xff && b[i + 1] === 0xd8);
  let end = start + 2;
  while (!(b[end] === 0xff && b[end + 1] === 0xd9)) end++;
  return b.slice(start, end + 2);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error("Debian's chromium is missing: run bash scripts/setup.sh");
  fake = makeFake();
  // The fake's frames carry the 900x1352 fixture; show a camera's 640x480 picture instead.
  const latest = fake.deps.latest;
  fake.deps.latest = () => {
    const f = latest();
    return f && { ...f, jpeg: FRAME };
  };
  zones = fakeZonesService();
  fake.deps.scene = sceneWithZones(zones);
  app = createServer(fake.deps);
  app.listen({ port: 0, hostname: "127.0.0.1" });
  // A camera at 10 fps: the browser shows a multipart picture once the next part begins.
  camera = setInterval(() => fake.publish(), 100);
  url = `http://127.0.0.1:${app.server!.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
}, 60000);

afterAll(async () => {
  clearInterval(camera);
  await browser?.close();
  await app?.stop(true);
  fake?.cleanup();
});

/** The dashboard, once the picture shows and the editor has loaded /api/zones. */
async function dashboard(ctx: BrowserContext): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(`${url}/`);
  await page.waitForFunction(
    `(() => { const i = document.getElementById("live"); return i && i.naturalWidth === 640; })()`,
    undefined,
    { timeout: 10000 },
  );
  await page.locator("#zones-layer").waitFor({ state: "attached", timeout: 10000 });
  await page.locator("#zones-edit").waitFor({ state: "visible", timeout: 10000 });
  return page;
}

/** Viewport coordinates of a point given as 0..1 of the picture. */
async function onPicture(page: Page, x: number, y: number): Promise<[number, number]> {
  const box = (await page.locator("#live").boundingBox())!;
  return [box.x + x * box.width, box.y + y * box.height];
}

async function click(page: Page, x: number, y: number): Promise<void> {
  const [px, py] = await onPicture(page, x, y);
  await page.mouse.click(px, py);
}

async function drawn(page: Page): Promise<string> {
  return (await page.locator("#zones-layer").getAttribute("data-drawn")) ?? "";
}

/** Alpha of the layer's pixel at a point of the picture: > 0 where something is drawn. */
async function alphaAt(page: Page, x: number, y: number): Promise<number> {
  return page.evaluate(
    `(() => { const c = document.getElementById("zones-layer");
      return c.getContext("2d").getImageData(Math.round(${x} * c.width), Math.round(${y} * c.height), 1, 1).data[3]; })()`,
  ) as Promise<number>;
}

async function message(page: Page, re: RegExp): Promise<string> {
  return waitFor(
    async () => {
      const t = (await page.locator("#zones-msg").textContent()) ?? "";
      return re.test(t) ? t : null;
    },
    { timeoutMs: 10000, what: `the editor's message to match ${re}` },
  );
}

async function saved(count: number): Promise<ZonesConfig> {
  await waitFor(() => zones.saved.length >= count, {
    timeoutMs: 10000,
    what: `save #${count} to reach the ZonesService`,
  });
  return zones.saved[count - 1]!;
}

function expectNear(got: readonly (readonly number[])[], want: number[][]): void {
  expect(got.length).toBe(want.length);
  got.forEach((p, i) => {
    expect(Math.abs(p[0]! - want[i]![0]!)).toBeLessThan(0.01);
    expect(Math.abs(p[1]! - want[i]![1]!)).toBeLessThan(0.01);
  });
}

test("a polygon drawn with the mouse, named and saved, reaches the service and stays drawn", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await dashboard(ctx);
  expect(await drawn(page)).toBe("");
  await page.click("#zones-edit");
  await page.click('[data-zones-tool="zones"]');
  const corners = [
    [0.2, 0.5],
    [0.5, 0.5],
    [0.5, 0.9],
    [0.2, 0.9],
  ];
  for (const [x, y] of corners) await click(page, x!, y!);
  await click(page, 0.2, 0.5); // the first point again closes it
  expect(await drawn(page)).toBe("zone:zone1");
  await page.fill("#zones-name", "porch");
  await page.click("#zones-save");
  await message(page, /^saved$/);
  const c = await saved(1);
  expect(c.zones.map((z) => z.name)).toEqual(["porch"]);
  expectNear(c.zones[0]!.points, corners);
  expect(c.masks).toEqual([]);
  // On the picture after saving: inside the zone is painted, far from it nothing.
  expect(await drawn(page)).toBe("zone:porch");
  expect(await alphaAt(page, 0.3, 0.6)).toBeGreaterThan(0);
  expect(await alphaAt(page, 0.9, 0.1)).toBe(0);
  expect(await page.locator("#zones-tools").isHidden()).toBe(true);
  // A new dashboard shows it as the server has it.
  const again = await dashboard(ctx);
  await waitFor(async () => (await drawn(again)) === "zone:porch", {
    timeoutMs: 10000,
    what: "the saved zone on a fresh dashboard",
  });
  await ctx.close();
}, 60000);

test("the server's 400 reason is shown; Escape, Cancel and Delete; corners drag", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await dashboard(ctx);
  const before = zones.saved.length;
  await page.click("#zones-edit");
  // Escape drops the one being drawn.
  await page.click('[data-zones-tool="masks"]');
  await click(page, 0.6, 0.1);
  await click(page, 0.9, 0.1);
  await page.keyboard.press("Escape");
  expect(await drawn(page)).toBe("zone:porch");
  // A bow tie (its edges cross): only the server refuses it, naming the key.
  await page.click('[data-zones-tool="masks"]');
  for (const [x, y] of [
    [0.6, 0.1],
    [0.78, 0.28],
    [0.78, 0.1],
    [0.6, 0.4],
  ])
    await click(page, x!, y!);
  await page.keyboard.press("Enter");
  expect(await drawn(page)).toBe("zone:porch,mask:mask1");
  await page.click("#zones-save");
  expect(await message(page, /^Not saved/)).toContain("cross");
  expect(zones.saved.length).toBe(before);
  // Cancel goes back to what the server has.
  await page.click("#zones-cancel");
  expect(await drawn(page)).toBe("zone:porch");
  // Drag the corner at (0.5, 0.9) to (0.6, 0.95), then save.
  await page.click("#zones-edit");
  const [fx, fy] = await onPicture(page, 0.5, 0.9);
  const [tx, ty] = await onPicture(page, 0.6, 0.95);
  await page.mouse.move(fx, fy);
  await page.mouse.down();
  await page.mouse.move(tx, ty, { steps: 5 });
  await page.mouse.up();
  await page.click("#zones-save");
  await message(page, /^saved$/);
  expectNear((await saved(before + 1)).zones[0]!.points, [
    [0.2, 0.5],
    [0.5, 0.5],
    [0.6, 0.95],
    [0.2, 0.9],
  ]);
  // Select it by clicking inside, Delete removes it.
  await page.click("#zones-edit");
  await click(page, 0.3, 0.7);
  expect(await page.inputValue("#zones-name")).toBe("porch");
  await page.keyboard.press("Delete");
  expect(await drawn(page)).toBe("");
  await page.click("#zones-save");
  await message(page, /^saved$/);
  expect(await saved(before + 2)).toEqual({ zones: [], masks: [], lines: [] });
  await ctx.close();
}, 60000);

test("a line drawn with a finger: two taps, named, saved", async () => {
  const ctx = await browser.newContext({
    viewport: { width: 420, height: 900 },
    hasTouch: true,
    isMobile: true,
  });
  await zones.save({}); // whatever the tests before left
  const page = await dashboard(ctx);
  const before = zones.saved.length;
  await page.tap("#zones-edit");
  await page.tap('[data-zones-tool="lines"]');
  for (const [x, y] of [
    [0.8, 0.1],
    [0.8, 0.9],
  ]) {
    const [px, py] = await onPicture(page, x!, y!);
    await page.touchscreen.tap(px, py);
  }
  expect(await drawn(page)).toBe("line:line1");
  await page.fill("#zones-name", "gate");
  await page.tap("#zones-save");
  await message(page, /^saved$/);
  const c = await saved(before + 1);
  expect(c.lines.map((l) => l.name)).toEqual(["gate"]);
  expectNear(
    [c.lines[0]!.a, c.lines[0]!.b],
    [
      [0.8, 0.1],
      [0.8, 0.9],
    ],
  );
  // The line and its arrow are on the picture (a line top to bottom: in is to the left).
  expect(await alphaAt(page, 0.8, 0.5)).toBeGreaterThan(0);
  await ctx.close();
}, 60000);

test("without the scene analyzer the dashboard shows no editor and no layer", async () => {
  const plain = makeFake();
  const server = createServer(plain.deps);
  server.listen({ port: 0, hostname: "127.0.0.1" });
  const page = await browser.newPage();
  try {
    const answered = page.waitForResponse((r) => r.url().endsWith("/api/zones"));
    await page.goto(`http://127.0.0.1:${server.server!.port}/`, { waitUntil: "commit" });
    expect((await answered).status()).toBe(404);
    await page.locator("#snapshot").waitFor({ state: "visible" });
    expect(await page.locator("#zones-panel").isHidden()).toBe(true);
    expect(await page.locator("#zones-layer").count()).toBe(0);
  } finally {
    await page.close();
    await server.stop(true);
    plain.cleanup();
  }
}, 60000);
