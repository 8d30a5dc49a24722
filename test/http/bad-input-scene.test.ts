/**
 * Absurd requests to the routes of issues 11 and 12 (visits, counts, activity, zones, visit
 * images and clips), as test/http/bad-input.test.ts does for the original's: each gets the 4xx
 * it deserves with a JSON reason, never a 500, and a bad zones body never reaches the file.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { setQuiet } from "../../src/shared/log.ts";
import { FakeVisits, fakeScene, fakeZonesService, makeFake, sceneWithZones } from "./fake-deps.ts";
import { createServer } from "../../src/http/server.tsx";

setQuiet(true);

const big = "x".repeat(100_000);

const visits = new FakeVisits();
const midnight = new Date(new Date().setHours(0, 0, 0, 0)).getTime();
visits.seed(midnight, [{ atMin: 60, durationSec: 30, people: 1, zones: ["door"] }]);
const fake = makeFake({ scene: fakeScene(visits) });
const app = createServer(fake.deps);
afterAll(() => fake.cleanup());

/** [path, expected status]. */
const BAD: [string, number][] = [
  ["/api/visits?limit=0", 400],
  ["/api/visits?limit=1e309", 400],
  ["/api/visits?limit=NaN", 400],
  ["/api/visits?limit[]=1", 400],
  ["/api/visits?limit=1&limit=2", 400],
  ["/api/visits?offset=-1", 400],
  ["/api/visits?from=Infinity", 400],
  ["/api/visits?from=99999999999999999999", 400],
  [`/api/visits?from=${big}`, 400],
  ["/api/visits?to=2024-02-30", 400],
  ["/api/visits?zone=%00", 400],
  [`/api/visits?zone=${big}`, 400],
  ["/api/visits?order=%ff", 400],
  ["/api/visits/%", 404],
  ["/api/visits/-1", 404],
  ["/api/visits/1e3", 404],
  ["/api/visits/99999999999999999999", 404],
  ["/api/visits/NaN/clips", 404],
  ["/api/visits/%00/clip.mjpeg", 404],
  ["/api/counts?bucket=week", 400],
  ["/api/counts?bucket=%00", 400],
  ["/api/counts?from=1&to=0", 400],
  ["/api/counts?from=0&to=8640000000000000&bucket=minute", 400],
  ["/api/activity?bucket=second", 400],
  ["/api/activity?bucket[]=hour", 400],
  ["/api/activity?from=NaN", 400],
  ["/api/activity?from=0&to=8640000000000000&bucket=minute", 400],
  [`/api/activity?to=${big}`, 400],
  ["/visits/%ff", 404],
  ["/visits/1%2f2", 404],
  ["/visits?page=0", 400],
  ["/out/visits/..%2f..%2fetc%2fpasswd", 404],
  ["/out/visits/%00.jpg", 404],
  [`/out/visits/${"a".repeat(100_000)}.jpg`, 404],
  ["/out/visits/thumbs/../index.db", 404],
  ["/out/clips/..%2findex.db", 404],
  ["/out/clips/%00.mjpeg", 404],
  ["/out/clips/x.mjpeg", 404],
  [`/out/clips/${"a".repeat(100_000)}.jsonl`, 404],
];

describe("absurd requests to the scene, visit and clip routes: 4xx, never 500", () => {
  test.each(BAD.map(([p, s]) => [p.length > 60 ? `${p.slice(0, 57)}...` : p, p, s]))(
    "%s",
    async (_name, path, want) => {
      const res = await app.handle(new Request(`http://localhost${path}`));
      expect(res.status).toBe(want as number);
      if (path.startsWith("/api/")) {
        expect(res.headers.get("content-type")).toStartWith("application/json");
      }
      await res.body?.cancel();
    },
  );

  test("Range headers no file has: 416 or the whole file, never 500", async () => {
    for (const range of [
      "bytes=99999999999999999999-",
      "bytes=5-1",
      "bytes=-0",
      "bytes=a-b",
      big,
    ]) {
      const res = await app.handle(
        new Request("http://localhost/api/visits/1", { headers: { range } }),
      );
      expect(res.status).toBeLessThan(500);
      await res.body?.cancel();
    }
  });
});

describe("a hostile PUT /api/zones: 4xx with the key at fault; nothing is saved", () => {
  const zones = fakeZonesService();
  const f = makeFake({ scene: sceneWithZones(zones) });
  const zapp = createServer(f.deps);
  afterAll(() => f.cleanup());
  const put = (body: string, type = "application/json"): Promise<Response> =>
    zapp.handle(
      new Request("http://localhost/api/zones", {
        method: "PUT",
        headers: { "content-type": type },
        body,
      }),
    );

  test.each([
    ["not JSON", "{", 400],
    ["JSON null", "null", 400],
    ["an array", "[]", 400],
    ["a number as zones", '{"zones": 5}', 400],
    ["NaN coordinates", '{"zones": [{"name": "a", "points": [[0,0],[1,0],["NaN",1]]}]}', 400],
    ["coordinates outside 0..1", '{"zones": [{"name": "a", "points": [[0,0],[2,0],[1,1]]}]}', 400],
    ["a name with a slash", '{"zones": [{"name": "a/b", "points": [[0,0],[1,0],[1,1]]}]}', 400],
    [
      "a 10,000-point polygon",
      JSON.stringify({
        zones: [
          {
            name: "a",
            points: Array.from({ length: 100 }, (_, i) => [i / 100, (i % 2) / 2]),
          },
        ],
      }),
      400,
    ],
    ["a body over 64 KB", JSON.stringify({ zones: [], pad: "x".repeat(70_000) }), 413],
    ["an unknown key", '{"zonez": []}', 400],
  ])("%s", async (_name, body, want) => {
    const before = zones.saved.length;
    const res = await put(body as string);
    expect(res.status).toBe(want as number);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(zones.saved.length).toBe(before);
  });
});
