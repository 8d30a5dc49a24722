/**
 * Issue 11's pages and pictures on fake scene deps: /visits (paged, by day and zone), the visit
 * page (facts, crossings, the best snapshot, stills linking to their events, previous/next, the
 * clip player's place), the events gallery's visit strip, "part of visit #N" on an event page,
 * the dashboard's scene panel, and /out/visits/ with the same rules as /out.
 */
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import type { HazardcamServer } from "../../src/http/server.tsx";
import { setQuiet } from "../../src/shared/log.ts";
import { FIXTURE_JPEG, saveEvent, serverSetup, taggedJpeg, type Fake } from "./fake-deps.ts";
import { fakeScene, type FakeScene } from "./fake-scene.ts";

setQuiet(true);

const setup = serverSetup();

function withScene(): { app: HazardcamServer; fake: Fake; s: FakeScene } {
  const { fake, app } = setup();
  const s = fakeScene(fake.dir);
  fake.deps.scene = s.scene;
  return { app, fake, s };
}

function get(app: HazardcamServer, path: string, headers: Record<string, string> = {}) {
  return app.handle(new Request(`http://localhost${path}`, { headers }));
}

async function html(app: HazardcamServer, path: string, status = 200): Promise<string> {
  const res = await get(app, path, { accept: "text/html" });
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toStartWith("text/html");
  return res.text();
}

const T0 = new Date(2024, 4, 24, 8, 0, 0).getTime();
const MIN = 60_000;

async function saveStill(fake: Fake, at: number): Promise<number> {
  const over = { jpeg: taggedJpeg(`still-${at}`), at: new Date(at), inferMs: 8 };
  return (await saveEvent(fake, over)).id;
}

describe("the visit page", () => {
  test("facts, crossings, people, the best snapshot, stills linking to events, previous/next", async () => {
    const { app, fake, s } = withScene();
    const still = await saveStill(fake, T0 + 10 * MIN + 5000);
    s.visits.add({ id: 1, start: T0, end: T0 + MIN });
    s.visits.add({
      id: 2,
      start: T0 + 10 * MIN,
      end: T0 + 10 * MIN + 95_000,
      zones: ["door", "yard"],
      people: 3,
      maxPeople: 2,
      crossings: { gate: { in: 2, out: 1 } },
      image: "visit_2.jpg",
      thumb: "visit_2.jpg",
      tracks: [{ trackId: 17, firstSeen: T0 + 10 * MIN, lastSeen: T0 + 11 * MIN, zones: ["door"] }],
      stillIds: [still],
    });
    s.visits.add({ id: 3, start: T0 + 20 * MIN, end: T0 + 21 * MIN });
    const page = await html(app, "/visits/2");
    expect(page).toContain("Visit 2");
    expect(page).toContain("2024-05-24 08:10:00"); // start, local time
    expect(page).toContain("2024-05-24 08:11:35"); // end
    expect(page).toContain("1 min 35 s");
    expect(page).toContain("door, yard");
    expect(page).toMatch(/Most at once<\/th>\s*<td class="num">2</);
    expect(page).toMatch(/<td>gate<\/td>\s*<td class="num">2<\/td>\s*<td class="num">1<\/td>/);
    expect(page).toContain("#17");
    expect(page).toContain('<img src="/out/visits/visit_2.jpg"');
    expect(page).toContain(`href="/events/${still}"`);
    expect(page).toMatch(/href="\/visits\/1" rel="prev"/);
    expect(page).toMatch(/href="\/visits\/3" rel="next"/);
  });

  test("an open visit says so and has no snapshot yet; the first has no previous", async () => {
    const { app, s } = withScene();
    s.visits.add({ id: 1, start: T0, end: T0 + 5000, open: true });
    const page = await html(app, "/visits/1");
    expect(page).toContain('<span class="badge visit-open">open</span>');
    expect(page).toContain("saved when the visit ends");
    expect(page).toContain("so far");
    expect(page).toContain('<span class="muted">← Previous visit</span>');
    expect(page).toContain("No line was crossed");
  });

  test("404 page for an unknown visit, and for every visit page without the scene", async () => {
    const { app } = withScene();
    expect(await html(app, "/visits/42", 404)).toContain("Not found");
    const { app: plain } = setup();
    await html(plain, "/visits", 404);
    await html(plain, "/visits/1", 404);
  });

  test("markup in a zone or line name is escaped", async () => {
    const { app, s } = withScene();
    s.visits.add({
      id: 1,
      start: T0,
      zones: ["<b>x</b>"],
      crossings: { "<i>y</i>": { in: 1, out: 0 } },
    });
    const page = await html(app, "/visits/1");
    expect(page).not.toContain("<b>x</b>");
    expect(page).not.toContain("<i>y</i>");
    expect(page).toContain("&lt;b&gt;x&lt;/b&gt;");
  });
});

describe("/visits", () => {
  test("newest first, paged by 48, filtered by day and zone", async () => {
    const { app, s } = withScene();
    for (let i = 1; i <= 50; i++) {
      const day = i > 45 ? 86_400_000 : 0; // 46..50 the next day
      s.visits.add({
        id: i,
        start: T0 + day + i * MIN,
        end: T0 + day + i * MIN + 30_000,
        zones: i % 2 ? ["yard"] : ["door"],
      });
    }
    const first = await html(app, "/visits");
    expect(first).toContain("50 total");
    const ids = [...first.matchAll(/data-visit-id="(\d+)"/g)].map((m) => Number(m[1]));
    expect(ids.length).toBe(48);
    expect(ids[0]).toBe(50);
    expect(first).toContain('href="/visits?page=2"');
    const second = await html(app, "/visits?page=2");
    expect([...second.matchAll(/data-visit-id="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([2, 1]);

    const day = await html(app, "/visits?day=2024-05-25");
    expect([...day.matchAll(/data-visit-id="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([
      50, 49, 48, 47, 46,
    ]);
    expect(day).toContain("5 of 50");
    const door = await html(app, "/visits?day=2024-05-25&zone=door");
    expect([...door.matchAll(/data-visit-id="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([
      50, 48, 46,
    ]);
    expect(door).toMatch(/<option value="door" selected>door<\/option>/);
  });

  test("bad filters are 400", async () => {
    const { app } = withScene();
    for (const q of ["day=2024-02-30", "zone=a%20b", "page=0"]) {
      expect((await get(app, `/visits?${q}`)).status).toBe(400);
    }
  });

  test("no visits yet", async () => {
    const { app } = withScene();
    expect(await html(app, "/visits")).toContain("No visits yet");
  });
});

describe("links from the events", () => {
  test("the gallery shows the recent visits (of the day when filtered) and links to /visits", async () => {
    const { app, s } = withScene();
    for (let i = 1; i <= 8; i++) s.visits.add({ id: i, start: T0 + i * MIN });
    const page = await html(app, "/events");
    expect(page).toContain('id="visits-strip"');
    const ids = [...page.matchAll(/data-visit-id="(\d+)"/g)].map((m) => Number(m[1]));
    expect(ids).toEqual([8, 7, 6, 5, 4, 3]);
    expect(page).toContain('href="/visits"');
    const other = await html(app, "/events?day=2024-05-23");
    expect(other).toContain("No visits that day");
    expect(other).toContain('href="/visits?day=2024-05-23"');
  });

  test("an event page says which visit its still fell in", async () => {
    const { app, fake, s } = withScene();
    const inside = await saveStill(fake, T0 + 20_000);
    const outside = await saveStill(fake, T0 + 10 * MIN);
    s.visits.add({ id: 7, start: T0, end: T0 + 60_000, people: 2 });
    const page = await html(app, `/events/${inside}`);
    expect(page).toMatch(/Part of <a href="\/visits\/7">visit #7<\/a>/);
    expect(await html(app, `/events/${outside}`)).not.toContain("Part of");
  });
});

describe("the dashboard", () => {
  test("has the scene panel, hidden until the status brings scene fields, and its script", async () => {
    const { app } = setup();
    const page = await html(app, "/");
    expect(page).toContain('<section class="card hidden" id="scene-panel">');
    expect(page).toContain('addEventListener("hazardcam:status"');
    expect(page).toContain('addEventListener("hazardcam:frame"');
  });
});

describe("/out/visits/", () => {
  test("the image and its thumbnail with ETag, 304 and Range", async () => {
    const { app, s } = withScene();
    s.visits.writeImage("visit_3.jpg", FIXTURE_JPEG);
    s.visits.writeImage("visit_3.jpg", taggedJpeg("thumb"), true);
    const res = await get(app, "/out/visits/visit_3.jpg");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(FIXTURE_JPEG);
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect((await get(app, "/out/visits/visit_3.jpg", { "if-none-match": etag })).status).toBe(304);
    const part = await get(app, "/out/visits/visit_3.jpg", { range: "bytes=0-9" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-9/${FIXTURE_JPEG.byteLength}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(FIXTURE_JPEG.subarray(0, 10));
    const thumb = await get(app, "/out/visits/thumbs/visit_3.jpg");
    expect(thumb.status).toBe(200);
    expect([...new Uint8Array(await thumb.arrayBuffer())]).toEqual([...taggedJpeg("thumb")]);
  });

  test("404: missing, traversal, odd names, a symlink, a directory, and without the scene", async () => {
    const { app, fake, s } = withScene();
    s.visits.writeImage("ok.jpg", FIXTURE_JPEG);
    fs.writeFileSync(join(fake.dir, "secret.jpg"), "secret");
    fs.symlinkSync(join(fake.dir, "secret.jpg"), s.visits.pathOf("link.jpg"));
    fs.mkdirSync(s.visits.pathOf("dir.jpg"));
    for (const p of [
      "missing.jpg",
      "..%2Fsecret.jpg",
      "%2e%2e/secret.jpg",
      "../secret.jpg",
      ".hidden.jpg",
      "ok.JPG",
      "ok.jpg%00",
      "link.jpg",
      "dir.jpg",
      "thumbs/ok.jpg",
    ]) {
      expect([p, (await get(app, `/out/visits/${p}`)).status]).toEqual([p, 404]);
    }
    expect((await get(app, "/out/visits/ok.jpg")).status).toBe(200);
    delete fake.deps.scene;
    expect((await get(app, "/out/visits/ok.jpg")).status).toBe(404);
    // /out itself is unchanged: its files, and nothing from visits/.
    expect((await get(app, "/out/visits")).status).toBe(404);
  });
});
