/**
 * /api/zones (issue 11): what the zone editor reads and saves. GET shows the config in use and
 * why the file on disk is not; PUT saves through the ZonesService and answers 400 naming the
 * key of a bad config, 413 for a huge body; the login and 405 apply as on every route.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { setQuiet } from "../../src/shared/log.ts";
import { createServer, type HazardcamServer } from "../../src/http/server.tsx";
import { LINE_DIRECTION_TEXT, type ZonesConfig } from "../../src/track/zones.ts";
import { MAX_ZONES_BODY_BYTES } from "../../src/http/routes/zones.ts";
import {
  fakeZonesService,
  makeFake,
  sceneWithZones,
  type Fake,
  type FakeZonesService,
} from "./fake-deps.ts";

setQuiet(true);

const DOOR: ZonesConfig = {
  zones: [
    {
      name: "door",
      points: [
        [0.1, 0.5],
        [0.4, 0.5],
        [0.4, 0.9],
      ],
    },
  ],
  masks: [
    {
      name: "tv",
      points: [
        [0.7, 0.1],
        [0.9, 0.1],
        [0.9, 0.3],
        [0.7, 0.3],
      ],
    },
  ],
  lines: [{ name: "gate", a: [0.8, 0], b: [0.8, 1] }],
};

const fakes: Fake[] = [];
afterEach(() => {
  for (const f of fakes.splice(0)) f.cleanup();
});

function setup(
  o: { zones?: FakeZonesService | null; auth?: { user: string; pass: string } } = {},
): { app: HazardcamServer; zones: FakeZonesService | null } {
  const fake = makeFake({ config: o.auth ? { auth: o.auth } : {} });
  fakes.push(fake);
  const zones = o.zones === undefined ? fakeZonesService(DOOR) : o.zones;
  if (zones) fake.deps.scene = sceneWithZones(zones);
  return { app: createServer(fake.deps), zones };
}

function call(
  app: HazardcamServer,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const text =
    body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return app.handle(
    new Request("http://localhost/api/zones", {
      method,
      body: text,
      headers: text === undefined ? headers : { "content-type": "application/json", ...headers },
    }),
  );
}

describe("GET /api/zones", () => {
  test("shows the config in use, its file, no error, and how lines count", async () => {
    const { app } = setup();
    const res = await call(app, "GET");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(await res.json()).toEqual({
      ...DOOR,
      path: "/tmp/hazardcam-test/zones.json",
      error: null,
      direction: LINE_DIRECTION_TEXT,
    });
  });

  test("a bad file on disk is reported next to the config still in use", async () => {
    const { app, zones } = setup();
    const bad = {
      message: "zones[0].points[1][0]: must be a number 0..1",
      key: "zones[0].points[1][0]",
      at: 1,
    };
    zones!.setError(bad);
    const body = (await (await call(app, "GET")).json()) as Record<string, unknown>;
    expect(body.error).toEqual(bad);
    expect(body.zones).toEqual(DOOR.zones);
  });

  test("without the scene analyzer it answers 404 with the reason", async () => {
    const { app } = setup({ zones: null });
    for (const [method, body] of [["GET"], ["PUT", DOOR]] as const) {
      const res = await call(app, method, body);
      expect(res.status).toBe(404);
      const j = (await res.json()) as { error: string; reason: string };
      expect(j.error).toBe("zones_unavailable");
      expect(j.reason).toContain("not available");
    }
  });
});

describe("PUT /api/zones", () => {
  test("saves through the service and answers with the saved config", async () => {
    const { app, zones } = setup({ zones: fakeZonesService() });
    const res = await call(app, "PUT", DOOR);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect({ zones: body.zones, masks: body.masks, lines: body.lines }).toEqual(DOOR);
    expect(body.error).toBeNull();
    expect(zones!.saved).toEqual([DOOR]);
    expect(((await (await call(app, "GET")).json()) as ZonesConfig).zones).toEqual(DOOR.zones);
  });

  test("an empty config clears everything", async () => {
    const { app, zones } = setup();
    const res = await call(app, "PUT", {});
    expect(res.status).toBe(200);
    expect(zones!.current()).toEqual({ zones: [], masks: [], lines: [] });
  });

  test("a bad config answers 400 naming the key, and nothing is saved", async () => {
    const { app, zones } = setup();
    const dup = { ...DOOR, lines: [{ name: "Door", a: [0, 0], b: [1, 1] }] };
    const outside = {
      zones: [
        {
          name: "a",
          points: [
            [0, 0],
            [1.5, 0],
            [1, 1],
          ],
        },
      ],
    };
    const crossing = {
      zones: [
        {
          name: "bow",
          points: [
            [0, 0],
            [0.6, 0.6],
            [0.6, 0],
            [0, 1],
          ],
        },
      ],
    };
    const cases: [unknown, string, string][] = [
      [dup, "lines[0].name", "already used"],
      [outside, "zones[0].points[1][0]", "0..1"],
      [crossing, "zones[0].points", "cross"],
      [{ zone: [] }, "zone", "unknown key"],
      [{ zones: [{ name: "bad name", points: [] }] }, "zones[0].name", "letters, digits"],
      ["{not json", "", "not valid JSON"],
      ["", "", "not valid JSON"],
    ];
    for (const [body, key, reason] of cases) {
      const res = await call(app, "PUT", body);
      expect(res.status).toBe(400);
      const j = (await res.json()) as { error: string; key: string; reason: string };
      expect({ error: j.error, key: j.key }).toEqual({ error: "bad_zones", key });
      expect(j.reason).toContain(reason);
    }
    expect(zones!.saved).toEqual([]);
    expect(zones!.current()).toEqual(DOOR);
  });

  test("a write failure answers 503 with the reason and keeps the config in use", async () => {
    const { app, zones } = setup();
    zones!.failNextSave(new Error("ENOSPC: no space left on device"));
    const res = await call(app, "PUT", { zones: [] });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: "save_failed",
      reason: "ENOSPC: no space left on device",
    });
    expect(zones!.current()).toEqual(DOOR);
  });

  test("a body over the limit answers 413, declared or streamed", async () => {
    const { app, zones } = setup();
    const big = JSON.stringify({ zones: [], pad: "x".repeat(MAX_ZONES_BODY_BYTES) });
    const res = await call(app, "PUT", big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe("too_large");
    // Without a Content-Length: counted as it arrives.
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 8) c.enqueue(chunk);
        else c.close();
      },
    });
    const res2 = await app.handle(
      new Request("http://localhost/api/zones", { method: "PUT", body: stream }),
    );
    expect(res2.status).toBe(413);
    expect(zones!.saved).toEqual([]);
  });
});

describe("methods and login", () => {
  test("other methods answer 405 naming GET, HEAD, PUT", async () => {
    const { app } = setup();
    for (const method of ["POST", "DELETE", "PATCH"]) {
      const res = await call(app, method);
      expect({ method, status: res.status, allow: res.headers.get("allow") }).toEqual({
        method,
        status: 405,
        allow: "GET, HEAD, PUT",
      });
    }
  });

  test("with --auth, reading and saving need the login", async () => {
    const auth = { user: "admin", pass: "pw" };
    const { app, zones } = setup({ auth });
    const ok = { authorization: `Basic ${btoa("admin:pw")}` };
    const wrong = { authorization: `Basic ${btoa("admin:nope")}` };
    expect((await call(app, "GET")).status).toBe(401);
    expect((await call(app, "PUT", { zones: [] }, wrong)).status).toBe(401);
    expect(zones!.saved).toEqual([]);
    expect((await call(app, "GET", undefined, ok)).status).toBe(200);
    expect((await call(app, "PUT", { zones: [] }, ok)).status).toBe(200);
    expect(zones!.saved).toHaveLength(1);
  });
});
