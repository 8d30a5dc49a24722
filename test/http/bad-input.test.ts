/**
 * Absurd requests through app.handle: long or broken paths, NUL bytes, invalid percent-encoding,
 * huge or non-numeric query values, lists, giant headers. Each gets the 4xx it deserves, never
 * a 500. Also the /snapshot rate limit (429 with Retry-After).
 */
import { describe, expect, test } from "bun:test";
import { SNAPSHOT_BURST } from "../../src/http/routes/snapshot.ts";
import { setQuiet } from "../../src/shared/log.ts";
import { serverSetup } from "./fake-deps.ts";

setQuiet(true);

const setup = serverSetup();

const big = "x".repeat(100_000);
const manyParams = Array.from({ length: 5000 }, (_, i) => `p${i}=1`).join("&");

/** [path, expected status]: 400 for a bad value of a known parameter, 404 for no such thing. */
export const BAD_REQUESTS: [string, number][] = [
  [`/${"a".repeat(10_000)}`, 404],
  [`/out/${"a".repeat(100_000)}.jpg`, 404],
  ["/%00", 404],
  ["/out/%00.jpg", 404],
  ["/out/a%00b.jpg", 404],
  ["/%zz", 404],
  ["/out/%", 404],
  ["/out/%E0%A4%A.jpg", 404],
  ["/out/..%2f..%2fetc%2fpasswd", 404],
  ["/events/%ff", 404],
  ["/events/99999999999999999999", 404],
  ["/events/1%2f2", 404],
  ["/api/events/%", 404],
  ["/api/events/1e3", 404],
  ["/api/events/-1", 404],
  ["/api/events/NaN", 404],
  ["/status/%zz", 404],
  ["/api/events?limit=1e309", 400],
  ["/api/events?limit=NaN", 400],
  ["/api/events?limit=-1", 400],
  ["/api/events?limit=99999999999999999999", 400],
  [`/api/events?limit=${"9".repeat(5000)}`, 400],
  ["/api/events?limit[]=1", 400],
  ["/api/events?limit=1&limit=2", 400],
  ["/api/events?before=Infinity", 400],
  ["/api/events?before=99999999999999999999", 400],
  ["/api/events?before=8640000000000001", 400],
  ["/api/events?after=-5", 400],
  ["/api/events?offset=1e3", 400],
  ["/api/events?day=2024-02-30", 400],
  ["/api/events?day=%00", 400],
  [`/api/events?day=${big}`, 400],
  ["/api/events?reason=%00", 400],
  ["/api/events?order=%ff", 400],
  ["/events?page=0", 400],
  ["/events?page=NaN", 400],
  ["/events?page=99999999999999", 400],
  ["/events?before=1e400", 400],
  ["/events?reason[]=auto", 400],
  ["/video?fps=NaN", 400],
  ["/video?fps=1e309", 400],
  ["/video?fps=0.0001", 400],
  ["/video?raw=%00", 400],
  ["/video?raw[]=1", 400],
  ["/api/stream?fps=-1", 400],
  // Unknown parameters are ignored (the dashboard adds a cache-buster), whatever their size.
  [`/status?${manyParams}`, 200],
  [`/latest.jpg?x=${big}`, 200],
  ["/status?%zz=%", 200],
];

describe("absurd paths and query values: 4xx, never 500", () => {
  test.each(BAD_REQUESTS.map(([p, s]) => [p.length > 60 ? `${p.slice(0, 57)}...` : p, p, s]))(
    "%s",
    async (_name, path, want) => {
      const { app } = setup();
      const res = await app.handle(new Request(`http://localhost${path}`));
      expect(res.status).toBe(want as number);
      if (res.status >= 400) {
        // A JSON reason for API clients (no Accept: text/html here).
        expect(res.headers.get("content-type")).toStartWith("application/json");
      }
      await res.body?.cancel();
    },
  );

  test("giant and numerous headers do not break a route", async () => {
    const { app } = setup();
    const many: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) many[`x-h${i}`] = "v";
    for (const headers of [
      { "x-big": big },
      { accept: big },
      { "if-none-match": big },
      { range: "bytes=99999999999999999999-" },
      many,
    ]) {
      const res = await app.handle(new Request("http://localhost/status", { headers }));
      expect(res.status).toBe(200);
    }
  });

  test("with a login: absurd Authorization headers are 401, not 500", async () => {
    const { app } = setup({ config: { auth: { user: "u", pass: "p" } } });
    for (const authorization of [
      `Basic ${big}`,
      "Basic",
      "Basic ====",
      `Basic ${Buffer.from("no colon").toString("base64")}`,
      `Basic ${Buffer.from("u:p\u0000").toString("base64")}`,
      `Basic ${Buffer.from("\u00ff\u00fe:\u0000").toString("base64")}`,
      "Digest username=u",
    ]) {
      for (const path of ["/status", "/video", "/out/x.jpg", "/api/stream", "/%zz"]) {
        const res = await app.handle(
          new Request(`http://localhost${path}`, {
            headers: { authorization },
          }),
        );
        expect(res.status).toBe(401);
        expect(res.headers.get("www-authenticate")).toStartWith("Basic ");
      }
    }
  });
});

describe("/snapshot rate limit", () => {
  test(`a burst of ${SNAPSHOT_BURST}, then 429 with Retry-After, then allowed again`, async () => {
    const { app, fake } = setup();
    const snap = (): Promise<Response> =>
      app.handle(new Request("http://localhost/snapshot", { method: "POST" }));
    for (let i = 0; i < SNAPSHOT_BURST; i++) expect((await snap()).status).toBe(302);
    const limited = await snap();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    const body = (await limited.json()) as { error: string; reason: string; retry_after_s: number };
    expect(body.error).toBe("rate_limited");
    expect(body.reason).toContain("1 snapshot per second");
    expect(body.retry_after_s).toBe(1);
    // Sustained polling saves about one per second, not one per request.
    let saved = 0;
    const end = Date.now() + 2100;
    while (Date.now() < end) {
      if ((await snap()).status === 302) saved++;
      await Bun.sleep(50);
    }
    expect(saved).toBeGreaterThanOrEqual(1);
    expect(saved).toBeLessThanOrEqual(3);
    expect(fake.archive.count({ reason: "snapshot" })).toBe(SNAPSHOT_BURST + saved);
  });
});
