/**
 * Issue 11's JSON surfaces on fake scene deps: /status and the SSE stream gain the live scene
 * (tracks, people per zone, line totals, the open visit) and lose nothing; /api/visits,
 * /api/visits/:id and /api/counts answer like /api/events (400 naming the parameter, 404 for an
 * unknown id); a server without the scene answers as before.
 */
import { describe, expect, test } from "bun:test";
import { createServer, type HazardcamServer } from "../../src/http/server.tsx";
import { setQuiet } from "../../src/shared/log.ts";
import { PartReader, saveEvent, serverSetup, taggedJpeg, type Fake } from "./fake-deps.ts";
import { fakeScene, type FakeScene } from "./fake-scene.ts";

setQuiet(true);

const setup = serverSetup();

function withScene(): { app: HazardcamServer; fake: Fake; s: FakeScene } {
  const { fake, app } = setup();
  const s = fakeScene(fake.dir);
  // Set after the server was made, as serve.ts may: every route reads it per request.
  fake.deps.scene = s.scene;
  return { app, fake, s };
}

async function get(app: HazardcamServer, path: string): Promise<Response> {
  return app.handle(new Request(`http://localhost${path}`));
}

async function getJson<T = Record<string, unknown>>(
  app: HazardcamServer,
  path: string,
  status = 200,
): Promise<T> {
  const res = await get(app, path);
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  return (await res.json()) as T;
}

const T0 = new Date(2024, 4, 24, 8, 0, 0).getTime();
const MIN = 60_000;

/** Visits 1..n, one every 10 minutes from T0, 2 minutes long; even ones entered "door". */
function addVisits(s: FakeScene, n: number): void {
  for (let i = 1; i <= n; i++) {
    s.visits.add({
      id: i,
      start: T0 + (i - 1) * 10 * MIN,
      end: T0 + (i - 1) * 10 * MIN + 2 * MIN,
      zones: i % 2 === 0 ? ["door"] : ["yard"],
    });
  }
}

const SCENE_KEYS = [
  "tracks",
  "zone_people",
  "people_in_zones",
  "lines",
  "day",
  "visit",
  "zones_error",
];

describe("/status", () => {
  test("without the scene: none of the scene keys", async () => {
    const { app } = setup();
    const st = await getJson(app, "/status");
    for (const k of SCENE_KEYS) expect(st).not.toHaveProperty(k);
    expect(st.people).toBe(1);
  });

  test("with the scene: tracks, people per zone, line totals, the open visit, the file error", async () => {
    const { app, s } = withScene();
    s.feed.status = {
      tracks: [{ id: 7, box: [0.1, 0.2, 0.9, 0.4], score: 0.81, zones: ["door"] }],
      zone_people: { door: 1, yard: 0 },
      people_in_zones: 1,
      lines: { gate: { in: 3, out: 1 } },
      day: "2024-05-24",
      visit: { id: 12, start: T0, people: 2, max_people: 1, zones: ["door"] },
      zones_error: "zones[0].points: edges 0-1 and 2-3 cross",
    };
    const st = await getJson(app, "/status");
    for (const k of SCENE_KEYS)
      expect(st[k]).toEqual(s.feed.status[k as keyof typeof s.feed.status]);
    // The original's keys are all still there.
    for (const k of [
      "model",
      "cam_index",
      "capture",
      "thresh",
      "people",
      "infer_ms",
      "fps",
      "outdir",
      "cooldown_sec",
    ])
      expect(st).toHaveProperty(k);
  });
});

describe("/api/stream with the scene", () => {
  async function readUntil(r: PartReader, re: RegExp, ms = 3000): Promise<RegExpExecArray> {
    let text = "";
    const deadline = performance.now() + ms;
    for (;;) {
      const m = re.exec(text);
      if (m) return m;
      const left = deadline - performance.now();
      const c = left > 0 ? await r.chunk(left) : null;
      if (!c) throw new Error(`no ${re} within ${ms} ms; got ${text.slice(-400)}`);
      text += new TextDecoder().decode(c);
    }
  }

  test("frame carries the tracks, status the rest of the scene and every key it had", async () => {
    const { app, s } = withScene();
    s.feed.status.tracks = [{ id: 4, box: [0.2, 0.1, 0.9, 0.3], score: 0.7, zones: ["door"] }];
    s.feed.status.zone_people = { door: 1, yard: 0 };
    const res = await get(app, "/api/stream");
    const r = new PartReader(res.body!);
    const status = JSON.parse((await readUntil(r, /event: status\ndata: (.*)\n\n/))[1]!);
    expect(status.zone_people).toEqual({ door: 1, yard: 0 });
    expect(status.lines).toEqual({ gate: { in: 0, out: 0 } });
    expect(status.visit).toBeNull();
    expect(status).not.toHaveProperty("tracks");
    for (const k of ["online", "backend", "clients", "events_total", "people", "fps"])
      expect(status).toHaveProperty(k);
    const frame = JSON.parse((await readUntil(r, /event: frame\ndata: (.*)\n\n/))[1]!);
    expect(frame.tracks).toEqual(s.feed.status.tracks);
    expect(frame.det.length).toBe(2); // the existing keys stay

    await r.cancel();
  });

  test("without the scene the frame has no tracks", async () => {
    const { app } = setup();
    const r = new PartReader((await get(app, "/api/stream")).body!);
    const frame = JSON.parse((await readUntil(r, /event: frame\ndata: (.*)\n\n/))[1]!);
    expect(frame).not.toHaveProperty("tracks");
    await r.cancel();
  });
});

describe("/api/visits", () => {
  test("404 without the scene, for every visits route", async () => {
    const { app } = setup();
    for (const p of ["/api/visits", "/api/visits/1", "/api/counts"]) {
      const body = await getJson(app, p, 404);
      expect(body.error).toBe("visits_unavailable");
    }
  });

  test("paged newest first, with total, count and next; the last page has next null", async () => {
    const { app, s } = withScene();
    addVisits(s, 7);
    const p1 = await getJson<{
      total: number;
      count: number;
      visits: { id: number }[];
      next: string;
    }>(app, "/api/visits?limit=3");
    expect(p1.total).toBe(7);
    expect(p1.count).toBe(3);
    expect(p1.visits.map((v) => v.id)).toEqual([7, 6, 5]);
    expect(p1.next).toBe("/api/visits?limit=3&offset=3");
    const p3 = await getJson<{ visits: { id: number }[]; next: string | null }>(
      app,
      "/api/visits?limit=3&offset=6",
    );
    expect(p3.visits.map((v) => v.id)).toEqual([1]);
    expect(p3.next).toBeNull();
    const asc = await getJson<{ visits: { id: number }[]; next: string }>(
      app,
      "/api/visits?order=asc&limit=2&zone=door",
    );
    expect(asc.visits.map((v) => v.id)).toEqual([2, 4]);
    expect(asc.next).toBe("/api/visits?zone=door&limit=2&offset=2&order=asc");
  });

  test("from and to in ms or ISO select the visits overlapping the range", async () => {
    const { app, s } = withScene();
    addVisits(s, 5);
    const iso = new Date(T0 + 13 * MIN).toISOString();
    const a = await getJson<{ visits: { id: number }[] }>(
      app,
      `/api/visits?from=${iso}&to=${T0 + 31 * MIN}`,
    );
    expect(a.visits.map((v) => v.id)).toEqual([4, 3]);
  });

  test("a visit's JSON: times, zones, people, crossings and image URLs", async () => {
    const { app, s } = withScene();
    s.visits.add({
      id: 9,
      start: T0,
      end: T0 + 95_000,
      zones: ["door", "yard"],
      people: 2,
      maxPeople: 2,
      crossings: { gate: { in: 1, out: 0 } },
      image: "visit_9.jpg",
      thumb: "visit_9.jpg",
    });
    const { visits } = await getJson<{ visits: Record<string, unknown>[] }>(app, "/api/visits");
    expect(visits[0]).toEqual({
      id: 9,
      start: T0,
      start_iso: new Date(T0).toISOString(),
      end: T0 + 95_000,
      end_iso: new Date(T0 + 95_000).toISOString(),
      open: false,
      duration_ms: 95_000,
      zones: ["door", "yard"],
      people: 2,
      max_people: 2,
      crossings: { gate: { in: 1, out: 0 } },
      stills_count: 0,
      image: "visit_9.jpg",
      thumb: "visit_9.jpg",
      image_url: "/out/visits/visit_9.jpg",
      thumb_url: "/out/visits/thumbs/visit_9.jpg",
      page_url: "/visits/9",
    });
  });

  test("bad values are 400 naming the parameter", async () => {
    const { app } = withScene();
    for (const [q, param] of [
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["offset=-1", "offset"],
      ["from=yesterday", "from"],
      ["to=2024-13-01", "to"],
      ["zone=..%2Fetc", "zone"],
      ["zone=a&zone=b", "zone"],
      ["order=up", "order"],
    ] as const) {
      const body = await getJson(app, `/api/visits?${q}`, 400);
      expect(body).toMatchObject({ error: "bad_request", param });
    }
  });
});

describe("/api/visits/:id", () => {
  async function saveStill(fake: Fake, at: number): Promise<number> {
    const over = { jpeg: taggedJpeg(`still-${at}`), at: new Date(at), inferMs: 8 };
    return (await saveEvent(fake, over)).id;
  }

  test("tracks, crossings one by one, stills as event JSON (a deleted one left out), clips []", async () => {
    const { app, fake, s } = withScene();
    const a = await saveStill(fake, T0 + 1000);
    const b = await saveStill(fake, T0 + 3000);
    s.visits.add({
      id: 5,
      start: T0,
      end: T0 + 10_000,
      tracks: [{ trackId: 41, firstSeen: T0, lastSeen: T0 + 9000, zones: ["door"] }],
      crossingList: [{ time: T0 + 4000, line: "gate", direction: "in", trackId: 41 }],
      crossings: { gate: { in: 1, out: 0 } },
      stillIds: [a, 999_999, b],
    });
    const v = await getJson<Record<string, any>>(app, "/api/visits/5");
    expect(v.id).toBe(5);
    expect(v.stills_count).toBe(3);
    expect(v.tracks).toEqual([{ id: 41, first_seen: T0, last_seen: T0 + 9000, zones: ["door"] }]);
    expect(v.crossing_list).toEqual([
      { time: T0 + 4000, line: "gate", direction: "in", track_id: 41 },
    ]);
    expect(v.stills.map((e: { id: number }) => e.id)).toEqual([a, b]);
    const still = await getJson<Record<string, unknown>>(app, `/api/events/${a}`);
    expect(v.stills[0]).toEqual(still);
    expect(v.clips).toEqual([]);
  });

  test("clips come from the optional provider", async () => {
    const { fake } = setup();
    const s = fakeScene(fake.dir);
    s.visits.add({ id: 2, start: T0 });
    const { visitApiRoutes } = await import("../../src/http/routes/visits.ts");
    const app = visitApiRoutes(
      { archive: fake.archive, scene: s.scene },
      { clips: (id) => [{ visit_id: id, url: `/out/clips/v${id}.mjpeg` }] },
    );
    const res = await app.handle(new Request("http://localhost/api/visits/2"));
    expect(((await res.json()) as { clips: unknown }).clips).toEqual([
      { visit_id: 2, url: "/out/clips/v2.mjpeg" },
    ]);
  });

  test("404 for an unknown or malformed id", async () => {
    const { app, s } = withScene();
    addVisits(s, 1);
    for (const id of ["2", "0", "01", "abc", "1e3"]) {
      const body = await getJson(app, `/api/visits/${id}`, 404);
      expect(body.error).toBe("not_found");
    }
  });
});

describe("/api/counts", () => {
  test("defaults to today by the hour; per line in/out, per zone person-seconds and most at once", async () => {
    const { app, s } = withScene();
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const h = (hours: number) => midnight.getTime() + hours * 3_600_000;
    const now = Date.now();
    // Two minute rows of the first minute of today (whatever the time now, they are in range).
    s.visits.minutes.push(
      {
        start: h(0),
        total: { peopleMax: 2, personSeconds: 90 },
        zones: { door: { peopleMax: 2, personSeconds: 90 } },
        lines: { gate: { in: 2, out: 0 } },
      },
      {
        start: h(0),
        total: { peopleMax: 1, personSeconds: 30.04 },
        zones: { door: { peopleMax: 1, personSeconds: 30.04 } },
        lines: { gate: { in: 0, out: 1 } },
      },
    );
    const c = await getJson<Record<string, any>>(app, "/api/counts");
    const q = s.visits.activityQueries.at(-1)!;
    expect(q.from).toBe(midnight.getTime());
    expect(Math.abs(q.to - now)).toBeLessThan(5000);
    expect(q.bucket).toBe("hour");
    expect(c.bucket).toBe("hour");
    expect(c.zones).toEqual(["door", "yard"]);
    expect(c.lines).toEqual(["gate"]);
    expect(c.buckets).toEqual([
      {
        start: midnight.getTime(),
        start_iso: new Date(midnight.getTime()).toISOString(),
        lines: { gate: { in: 2, out: 1 } },
        zones: {
          door: { person_seconds: 120, people_max: 2 },
          yard: { person_seconds: 0, people_max: 0 },
        },
        total: { person_seconds: 120, people_max: 2 },
      },
    ]);
    expect(c.totals.lines).toEqual({ gate: { in: 2, out: 1 } });
    expect(c.totals.total).toEqual({ person_seconds: 120, people_max: 2 });
  });

  test("minute buckets over a given range; names only in the data are listed too", async () => {
    const { app, s } = withScene();
    s.visits.minutes.push(
      {
        start: T0,
        total: { peopleMax: 1, personSeconds: 60 },
        zones: { porch: { peopleMax: 1, personSeconds: 60 } },
        lines: {},
      },
      {
        start: T0 + 2 * MIN,
        total: { peopleMax: 3, personSeconds: 12.25 },
        zones: {},
        lines: { old: { in: 1, out: 0 } },
      },
    );
    const c = await getJson<Record<string, any>>(
      app,
      `/api/counts?bucket=minute&from=${T0}&to=${T0 + 10 * MIN}`,
    );
    expect(c.zones).toEqual(["door", "yard", "porch"]);
    expect(c.lines).toEqual(["gate", "old"]);
    expect(c.buckets.map((b: { start: number }) => b.start)).toEqual([T0, T0 + 2 * MIN]);
    expect(c.buckets[1].total).toEqual({ person_seconds: 12.3, people_max: 3 });
    expect(c.buckets[1].lines).toEqual({ gate: { in: 0, out: 0 }, old: { in: 1, out: 0 } });
  });

  test("bad or too long ranges are 400", async () => {
    const { app } = withScene();
    const day = 86_400_000;
    for (const [q, param] of [
      ["bucket=week", "bucket"],
      [`from=${T0}&to=${T0}`, "from"],
      [`from=${T0}&to=${T0 - 1}`, "from"],
      [`bucket=minute&from=${T0}&to=${T0 + 32 * day}`, "to"],
      [`bucket=hour&from=${T0}&to=${T0 + 367 * day}`, "to"],
      ["from=noon", "from"],
    ] as const) {
      const body = await getJson(app, `/api/counts?${q}`, 400);
      expect(body).toMatchObject({ error: "bad_request", param });
    }
    await getJson(app, `/api/counts?bucket=minute&from=${T0}&to=${T0 + 31 * day}`, 200);
  });
});

test("createServer without scene keeps /api/events and the gallery as they were", async () => {
  const { fake } = setup();
  const app = createServer(fake.deps);
  expect((await get(app, "/api/events")).status).toBe(200);
  const html = await (await get(app, "/events")).text();
  expect(html).not.toContain("visits-strip");
  app.closeStreams();
});
