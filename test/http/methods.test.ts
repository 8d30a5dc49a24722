/** A wrong method on a known path is 405 with Allow; unknown paths stay 404; auth comes first. */
import { describe, expect, test } from "bun:test";
import { setQuiet } from "../../src/shared/log.ts";
import { serverSetup, taggedJpeg, type Fake } from "./fake-deps.ts";
import type { EventRecord } from "../../src/events/archive.ts";
import type { HazardcamServer } from "../../src/http/server.tsx";

setQuiet(true);

const setup = serverSetup();

function call(
  app: HazardcamServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return app.handle(new Request(`http://localhost${path}`, { method, headers }));
}

async function saveOne(fake: Fake): Promise<EventRecord> {
  return await fake.archive.save({
    jpeg: taggedJpeg("ev"),
    thumbJpeg: taggedJpeg("th"),
    reason: "auto",
    at: new Date(2024, 4, 1, 8, 0, 0),
    people: 1,
    detections: [],
    inferMs: 7,
    fps: 24,
  });
}

describe("405 Method Not Allowed", () => {
  test("each known path names the methods it takes", async () => {
    const { app, fake } = setup();
    const e = await saveOne(fake);
    const cases: [string, string, string][] = [
      ["POST", "/status", "GET, HEAD"],
      ["DELETE", `/out/${e.file}`, "GET, HEAD"],
      ["DELETE", "/out/x.jpg", "GET, HEAD"],
      ["PUT", `/out/thumbs/${e.thumb}`, "GET, HEAD"],
      ["PUT", "/", "GET, HEAD"],
      ["PATCH", "/events", "GET, HEAD"],
      ["DELETE", `/events/${e.id}`, "GET, HEAD"],
      ["POST", "/api/events", "GET, HEAD"],
      ["DELETE", `/api/events/${e.id}`, "GET, HEAD"],
      ["POST", "/latest.jpg", "GET, HEAD"],
      ["POST", "/video", "GET, HEAD"],
      ["POST", "/api/stream", "GET, HEAD"],
      ["POST", "/metrics", "GET, HEAD"],
      ["DELETE", "/healthz", "GET, HEAD"],
      ["PUT", "/snapshot", "GET, POST"],
      ["OPTIONS", "/status", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await call(app, method, path);
      const got = { method, path, status: res.status, allow: res.headers.get("allow") };
      expect(got).toEqual({ method, path, status: 405, allow });
      expect(res.headers.get("content-type")).toStartWith("application/json");
      const body = (await res.json()) as { error: string; allow: string[] };
      expect(body.error).toBe("method_not_allowed");
      expect(body.allow.join(", ")).toBe(allow);
    }
    // Nothing was deleted or saved on the way.
    expect(fake.archive.count()).toBe(1);
    expect((await call(app, "GET", `/out/${e.file}`)).status).toBe(200);
  });

  test("HEAD /snapshot is refused without saving; HEAD works where it did", async () => {
    const { app, fake } = setup();
    const e = await saveOne(fake);
    const head = await call(app, "HEAD", "/snapshot");
    expect(head.status).toBe(405);
    expect(head.headers.get("allow")).toBe("GET, POST");
    expect(fake.archive.count({ reason: "snapshot" })).toBe(0);
    for (const path of [
      "/",
      "/status",
      "/events",
      `/out/${e.file}`,
      "/latest.jpg",
      "/api/events",
    ]) {
      const res = await call(app, "HEAD", path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(await res.text()).toBe("");
    }
    const video = await call(app, "HEAD", "/video");
    expect(video.status).toBe(200);
    expect(video.headers.get("content-type")).toStartWith("multipart/x-mixed-replace");
    expect(app.streams.videoClients).toBe(0);
  });

  test("unknown paths stay 404 whatever the method", async () => {
    const { app } = setup();
    for (const [method, path] of [
      ["POST", "/nope"],
      ["DELETE", "/out"],
      ["PUT", "/status/x"],
      ["POST", "/events/1/2"],
      ["DELETE", "/video/x"],
      ["GET", "/nope"],
    ] as const) {
      const res = await call(app, method, path);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      expect(res.headers.get("allow")).toBeNull();
    }
  });

  test("with --auth, the login is checked before the method", async () => {
    const auth = { user: "u", pass: "p" };
    const { app } = setup({ config: { auth } });
    const login = `Basic ${Buffer.from("u:p").toString("base64")}`;
    for (const [method, path] of [
      ["POST", "/status"],
      ["DELETE", "/out/x.jpg"],
      ["HEAD", "/snapshot"],
    ] as const) {
      const anon = await call(app, method, path);
      expect({ method, path, status: anon.status }).toEqual({ method, path, status: 401 });
      expect(anon.headers.get("allow")).toBeNull();
      const ok = await call(app, method, path, { authorization: login });
      expect({ method, path, status: ok.status }).toEqual({ method, path, status: 405 });
    }
  });
});
