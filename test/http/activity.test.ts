/**
 * /api/activity (issue 12) through app.handle, over a fake visits store seeded with generated
 * visits (test/http/fake-visits.ts): the shape, buckets that add up to the stored minutes,
 * local hour and day boundaries (a DST change in Europe/Berlin), the 400s and the 503 without
 * a store; and the uPlot assets served from the binary.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { dayStartOf, type ActivityJson, type BucketJson } from "../../src/http/activity-data.ts";
import { uplotCss, uplotJs, uplotLicense } from "../../src/http/vendor.ts";
import { setQuiet } from "../../src/shared/log.ts";
import { FakeVisits, fakeScene, serverSetup, type VisitSpec } from "./fake-deps.ts";

setQuiet(true);

const setup = serverSetup();
const base = "http://hazardcam.test";

/** A morning, an afternoon with two people, an evening with crossings, one just before midnight. */
const DAY: VisitSpec[] = [
  { atMin: 7 * 60 + 12.5, durationSec: 150, people: 1, zones: ["door"] },
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
    people: 1,
    zones: ["yard"],
    crossings: [
      { line: "gate", direction: "out" },
      { line: "path", direction: "in" },
    ],
  },
  { atMin: 23 * 60 + 59, durationSec: 30, people: 3 },
];

function seeded(day = "2024-05-14"): { store: FakeVisits; dayStart: number } {
  const store = new FakeVisits();
  const dayStart = dayStartOf(day);
  store.seed(dayStart, DAY);
  return { store, dayStart };
}

async function get(
  app: ReturnType<typeof setup>["app"],
  path: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return app.handle(new Request(base + path, { headers }));
}

async function activity(app: ReturnType<typeof setup>["app"], q: string): Promise<ActivityJson> {
  const res = await get(app, `/api/activity?${q}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  return (await res.json()) as ActivityJson;
}

const sumSec = (bs: BucketJson[], zone?: string): number =>
  bs.reduce((a, b) => a + (zone ? (b.zones[zone]?.person_seconds ?? 0) : b.person_seconds), 0);
const close = (a: number, b: number): void => expect(Math.abs(a - b)).toBeLessThan(0.01);

describe("/api/activity", () => {
  test("a day of minutes: shape, names, and every bucket within the range", async () => {
    const { store, dayStart } = seeded();
    const { app } = setup({ scene: fakeScene(store) });
    const j = await activity(app, `from=2024-05-14&bucket=minute`);
    expect(j.from).toBe(dayStart);
    expect(j.to).toBe(dayStart + 86_400_000);
    expect(j.bucket).toBe("minute");
    expect(j.zones).toEqual(["door", "yard"]);
    expect(j.lines).toEqual(["gate", "path"]);
    expect(j.buckets.length).toBe(store.minutes.length);
    for (const b of j.buckets) {
      expect(b.end - b.start).toBe(60_000);
      expect(b.start).toBeGreaterThanOrEqual(j.from);
      expect(b.end).toBeLessThanOrEqual(j.to);
      expect(Object.keys(b).sort()).toEqual(
        ["crossings", "end", "lines", "people_max", "person_seconds", "start", "zones"].sort(),
      );
    }
    // The afternoon visit: 2 people for 400 s, both in door and yard.
    const two = j.buckets.filter((b) => b.people_max === 2);
    close(sumSec(two), 2 * 400);
    close(sumSec(two, "yard"), 2 * 400);
    expect(j.totals.people_max).toBe(3);
    expect(j.totals.crossings).toEqual({ in: 2, out: 1 });
    expect(j.totals.lines).toEqual({ gate: { in: 1, out: 1 }, path: { in: 1, out: 0 } });
    close(j.totals.person_seconds, 150 + 800 + 90 + 90);
  });

  test("10 minutes, hours and the day add up to the minutes", async () => {
    const { store } = seeded();
    const { app } = setup({ scene: fakeScene(store) });
    const q = "from=2024-05-14&to=2024-05-15";
    const byStep = {
      minute: await activity(app, `${q}&bucket=minute`),
      "10min": await activity(app, `${q}&bucket=10min`),
      hour: await activity(app, `${q}&bucket=hour`),
      day: await activity(app, `${q}&bucket=day`),
    };
    const minutes = byStep.minute;
    for (const [step, j] of Object.entries(byStep)) {
      close(sumSec(j.buckets), sumSec(minutes.buckets));
      for (const z of ["door", "yard"]) close(sumSec(j.buckets, z), sumSec(minutes.buckets, z));
      expect(j.totals.crossings).toEqual(minutes.totals.crossings);
      expect(Math.max(...j.buckets.map((b) => b.people_max))).toBe(3);
      expect(j.zones).toEqual(minutes.zones);
      expect(step === j.bucket).toBe(true);
    }
    // The morning visit (07:12:30 for 150 s) lies in 07:10-07:20: one 10-minute bucket.
    const morning = byStep["10min"].buckets[0]!;
    expect(new Date(morning.start).getHours()).toBe(7);
    expect(new Date(morning.start).getMinutes()).toBe(10);
    expect(morning.end - morning.start).toBe(600_000);
    close(morning.person_seconds, 150);
    // The afternoon visit spans 13:58-14:04:40: two hours, one 10-minute bucket in each hour.
    const hours = byStep.hour.buckets.map((b) => new Date(b.start).getHours());
    expect(hours).toEqual([7, 13, 14, 19, 23]);
    expect(byStep.day.buckets.length).toBe(1);
    expect(byStep["10min"].buckets.every((b) => new Date(b.start).getMinutes() % 10 === 0)).toBe(
      true,
    );
  });

  test("without from and to: today, from local midnight to the next", async () => {
    const store = new FakeVisits();
    const today = new Date();
    const midnight = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime();
    store.seed(midnight, [{ atMin: 1, durationSec: 60, people: 1 }]);
    const { app } = setup({ scene: fakeScene(store) });
    const j = await activity(app, "");
    expect(j.bucket).toBe("hour");
    expect(j.from).toBe(midnight);
    expect(new Date(j.to).getHours()).toBe(0);
    expect(j.to - j.from).toBeGreaterThanOrEqual(23 * 3_600_000);
    expect(j.buckets.length).toBe(1);
    // from alone: up to the next midnight; to alone: from the midnight before.
    const d = await activity(app, `from=${midnight + 3_600_000}&bucket=minute`);
    expect(d.from).toBe(midnight + 3_600_000);
    expect(d.to).toBe(j.to);
    const t = await activity(app, `to=${midnight + 7_200_000}&bucket=minute`);
    expect(t.from).toBe(midnight);
    // Times inside a bucket widen the range to whole buckets.
    const w = await activity(app, `from=${midnight + 90_000}&to=${midnight + 5_000_000}`);
    expect(w.from).toBe(midnight);
    expect(w.to).toBe(midnight + 2 * 3_600_000);
  });

  test("a day without data: 200 with no buckets and zero totals", async () => {
    const { store } = seeded();
    const { app } = setup({ scene: fakeScene(store) });
    const j = await activity(app, "from=2024-05-10&bucket=10min");
    expect(j.buckets).toEqual([]);
    expect(j.zones).toEqual([]);
    expect(j.totals).toEqual({
      people_max: 0,
      person_seconds: 0,
      zones: {},
      lines: {},
      crossings: { in: 0, out: 0 },
    });
  });

  test("bad values answer 400 naming the parameter, even without a store", async () => {
    const { store } = seeded();
    for (const scene of [fakeScene(store), undefined]) {
      const { app } = setup({ scene });
      const cases: [string, string][] = [
        ["bucket=week", "bucket"],
        ["bucket=minute&bucket=hour", "bucket"],
        ["bucket[]=hour", "bucket"],
        ["from=yesterday", "from"],
        ["from=2024-02-30", "from"],
        ["to=1e9", "to"],
        ["from=2024-05-14&to=2024-05-13", "to"],
        ["from=2024-05-14&to=2024-05-14", "to"],
        ["from=2024-01-01&to=2024-03-01&bucket=minute", "to"],
        ["from=2024-01-01&to=2024-03-01&bucket=10min", "to"],
        ["from=2024-01-01&to=2024-06-01&bucket=hour", "to"],
        ["from=2023-01-01&to=2024-03-01&bucket=day", "to"],
      ];
      for (const [q, param] of cases) {
        const res = await get(app, `/api/activity?${q}`);
        expect(`${q}: ${res.status}`).toBe(`${q}: 400`);
        const body = (await res.json()) as { param: string; reason: string };
        expect(body.param).toBe(param);
        expect(body.reason).toContain(param);
      }
    }
    // The longest ranges allowed.
    const { app } = setup({ scene: fakeScene(store) });
    expect(
      (await get(app, "/api/activity?from=2024-01-01&to=2024-02-01&bucket=minute")).status,
    ).toBe(200);
    expect((await get(app, "/api/activity?from=2023-01-01&to=2024-02-01&bucket=day")).status).toBe(
      200,
    );
  });

  test("without the visits store: 503 with the reason, never a 500", async () => {
    const { app } = setup();
    const res = await get(app, "/api/activity?bucket=hour");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: string; reason: string };
    expect(body.error).toBe("unavailable");
    expect(body.reason).toContain("no activity data");
    const post = await app.handle(new Request(`${base}/api/activity`, { method: "POST" }));
    expect(post.status).toBe(405);
  });
});

describe("/api/activity across a DST change (TZ=Europe/Berlin)", () => {
  const oldTz = process.env.TZ;
  afterEach(() => {
    if (oldTz === undefined) delete process.env.TZ;
    else process.env.TZ = oldTz;
  });

  test("the 25-hour day of 2024-10-27: the repeated 02:00 hour is two buckets", async () => {
    process.env.TZ = "Europe/Berlin";
    const store = new FakeVisits();
    const day = dayStartOf("2024-10-27");
    // 00:00 CEST = 22:00 UTC the day before; 02:30 CEST is 2.5 h in, 02:30 CET 3.5 h in.
    expect(day).toBe(Date.UTC(2024, 9, 26, 22));
    store.seed(day, [
      { atMin: 150, durationSec: 120, people: 1 },
      { atMin: 210, durationSec: 120, people: 2 },
      { atMin: 24 * 60 + 30, durationSec: 60, people: 1 },
    ]);
    const { app } = setup({ scene: fakeScene(store) });
    const d = await activity(app, "from=2024-10-27&bucket=day");
    expect(d.to - d.from).toBe(25 * 3_600_000);
    expect(d.buckets.length).toBe(1);
    expect(d.buckets[0]!.end - d.buckets[0]!.start).toBe(25 * 3_600_000);
    close(d.totals.person_seconds, 120 + 240 + 60);
    const h = await activity(app, "from=2024-10-27&bucket=hour");
    expect(h.buckets.map((b) => new Date(b.start).getHours())).toEqual([2, 2, 23]);
    expect(h.buckets[1]!.start - h.buckets[0]!.start).toBe(3_600_000);
    expect(h.buckets.map((b) => b.people_max)).toEqual([1, 2, 1]);
    const m = await activity(app, "from=2024-10-27&bucket=10min");
    expect(m.buckets.map((b) => new Date(b.start).getMinutes())).toEqual([30, 30, 30]);
    close(sumSec(m.buckets), sumSec(h.buckets));
  });

  test("the 23-hour day of 2024-03-31: no 02:00, and the next day starts at its midnight", async () => {
    process.env.TZ = "Europe/Berlin";
    const store = new FakeVisits();
    const day = dayStartOf("2024-03-31");
    store.seed(day, [
      { atMin: 90, durationSec: 60, people: 1 },
      { atMin: 150, durationSec: 60, people: 1 },
      { atMin: 23 * 60 + 10, durationSec: 60, people: 1 },
    ]);
    const { app } = setup({ scene: fakeScene(store) });
    const h = await activity(app, "from=2024-03-31&bucket=hour");
    expect(h.to - h.from).toBe(23 * 3_600_000);
    // 90 min after midnight is 01:30; 150 min is 03:30 (02:00 does not exist); 23 h 10 is the
    // next day's 00:10, outside the range.
    expect(h.buckets.map((b) => new Date(b.start).getHours())).toEqual([1, 3]);
    const days = await activity(app, "from=2024-03-30&to=2024-04-02&bucket=day");
    expect(days.buckets.map((b) => (b.end - b.start) / 3_600_000)).toEqual([23, 24]);
    expect(new Date(days.buckets[1]!.start).getDate()).toBe(1);
  });
});

describe("uPlot served from the binary", () => {
  const assets: [string, string, string][] = [
    ["/assets/uplot.min.js", "application/javascript", uplotJs],
    ["/assets/uplot.min.css", "text/css", uplotCss],
    ["/assets/uplot.LICENSE", "text/plain", uplotLicense],
  ];

  test("each asset with its type, a year of caching, an ETag and 304", async () => {
    const { app } = setup();
    for (const [path, type, text] of assets) {
      const res = await get(app, path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain(type);
      expect(res.headers.get("cache-control")).toContain("max-age=31536000");
      expect(res.headers.get("cache-control")).toContain("immutable");
      expect(await res.text()).toBe(text);
      const etag = res.headers.get("etag") as string;
      expect(etag).toMatch(/^"1\.6\.32-[0-9a-z]+"$/);
      const again = await get(app, `${path}?v=1.6.32`, { "if-none-match": etag });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
    }
  });

  test("gzip when the browser takes it, with its own tag", async () => {
    const { app } = setup();
    const res = await get(app, "/assets/uplot.min.js", { "accept-encoding": "gzip, deflate, br" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("vary")).toContain("accept-encoding");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.byteLength).toBeLessThan(uplotJs.length / 2);
    expect(new TextDecoder().decode(gunzipSync(bytes))).toBe(uplotJs);
    const etag = res.headers.get("etag") as string;
    expect(etag).toEndWith('-gz"');
    const again = await get(app, "/assets/uplot.min.js", {
      "accept-encoding": "gzip",
      "if-none-match": etag,
    });
    expect(again.status).toBe(304);
  });

  test("an unknown asset is a 404, never a file from the disk", async () => {
    const { app } = setup();
    for (const p of ["/assets/uplot.js", "/assets/..%2fpackage.json", "/assets/constructor"]) {
      expect((await get(app, p)).status).toBe(404);
    }
  });
});
