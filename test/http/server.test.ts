import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import { CSS, DASHBOARD_JS } from "../../src/http/assets.ts";
import { type HazardcamServer } from "../../src/http/server.tsx";
import { setQuiet } from "../../src/shared/log.ts";
import { FIXTURE_JPEG, jpegTag, taggedJpeg, type Fake, serverSetup } from "./fake-deps.ts";

setQuiet(true);

const setup = serverSetup();

function get(app: HazardcamServer, path: string, init: RequestInit = {}): Promise<Response> {
  return app.handle(new Request(`http://localhost${path}`, init));
}

async function saveSome(
  fake: Fake,
  n: number,
  start = new Date(2024, 4, 1, 8, 0, 0),
): Promise<void> {
  for (let i = 0; i < n; i++) {
    await fake.archive.save({
      jpeg: taggedJpeg(`ev-${i}`),
      thumbJpeg: taggedJpeg(`th-${i}`),
      reason: i % 4 === 0 ? "snapshot" : "auto",
      at: new Date(start.getTime() + i * 60_000 + (i >= n / 2 ? 86_400_000 : 0)),
      people: 1 + (i % 3),
      detections: [
        {
          classId: 0,
          label: "person",
          score: 0.8,
          box: { ymin: 0.1, xmin: 0.1, ymax: 0.5, xmax: 0.5 },
        },
      ],
      inferMs: 7.3,
      fps: 24,
    });
  }
}

describe("dashboard", () => {
  test("HTML with the CSS and script intact, phone viewport, the live socket", async () => {
    const { app } = setup();
    const res = await get(app, "/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/html");
    const html = await res.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain(`<style>${CSS}</style>`);
    expect(CSS).toContain("font-family: system-ui"); // the rule the original lost to .format()
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"');
    expect(html).toContain('<img id="live"');
    expect(html).toContain('<noscript><img src="/video?raw=1"');
    expect(html).toContain('<canvas id="overlay">');
    expect(html).toContain(`<script>${DASHBOARD_JS}</script>`);
    expect(DASHBOARD_JS).toContain('"/api/live"');
    expect(html).toContain('action="/snapshot"');
    expect(html).not.toMatch(/https?:\/\/(?!localhost)/); // no CDN, no external assets
  });

  test("escapes a model path and source containing markup", async () => {
    const evil = `/models/<script>alert("x")</script>.tflite`;
    const { app } = setup({ config: { model: evil, cam: `<img src=x onerror=alert(1)>` } });
    const html = await (await get(app, "/")).text();
    expect(html).not.toContain('<script>alert("x")</script>');
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    const events = await (await get(app, "/events")).text();
    expect(events).not.toContain('<script>alert("x")</script>');
  });

  test("shows offline state and the reason", async () => {
    const { app, fake } = setup();
    fake.setOffline("camera unplugged (ENODEV)");
    const html = await (await get(app, "/")).text();
    expect(html).toContain('class="badge offline"');
    expect(html).toContain("camera unplugged (ENODEV)");
  });

  test("latest events appear as thumbnails", async () => {
    const { app, fake } = setup();
    await saveSome(fake, 3);
    const html = await (await get(app, "/")).text();
    const newest = fake.archive.list({ limit: 1 })[0]!;
    expect(html).toContain(`href="/events/${newest.id}"`);
    expect(html).toContain(`/out/thumbs/${newest.thumb}`);
  });
});

describe("/status", () => {
  test("the original's keys plus ours, no-store", async () => {
    const { app, fake } = setup();
    await saveSome(fake, 2);
    const res = await get(app, "/status");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(res.headers.get("cache-control")).toContain("no-store");
    const s = (await res.json()) as Record<string, unknown>;
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
    ]) {
      expect(s).toHaveProperty(k);
    }
    for (const k of [
      "backend",
      "online",
      "offline_reason",
      "detect_fps",
      "uptime_s",
      "clients",
      "events_total",
      "disk_free_mb",
      "version",
      "retention",
      "last_error",
      "frames_corrupt",
    ]) {
      expect(s).toHaveProperty(k);
    }
    expect(s.cam_index).toBe(0);
    expect(s.capture).toEqual({ w: 640, h: 480 });
    expect(s.thresh).toBe(0.5);
    expect(s.people).toBe(1);
    expect(s.infer_ms).toBe(7.34);
    expect(s.fps).toBe(29.97);
    expect(s.detect_fps).toBe(14.5);
    expect(s.cooldown_sec).toBe(2);
    expect(s.backend).toBe("cpu");
    expect(s.online).toBe(true);
    expect(s.offline_reason).toBeNull();
    expect(s.uptime_s).toBeGreaterThanOrEqual(5);
    expect(s.events_total).toBe(2);
    expect(typeof s.disk_free_mb).toBe("number");
    expect(s.retention).toEqual({ keep_days: 0, max_events: 10000, min_free_mb: 0 });
    expect(s.frames_corrupt).toBe(3);
    expect(s.version).toBe("0.1.0-test");
  });

  test("offline with reason; a device path stays a string", async () => {
    const { app, fake } = setup({ config: { cam: "/dev/video2" } });
    fake.setOffline("stalled");
    const s = (await (await get(app, "/status")).json()) as Record<string, unknown>;
    expect(s.online).toBe(false);
    expect(s.offline_reason).toBe("stalled");
    expect(s.people).toBe(0);
    expect(s.cam_index).toBe("/dev/video2");
  });
});

describe("/snapshot", () => {
  test("saves and redirects to the image (GET and POST)", async () => {
    const { app, fake } = setup();
    for (const method of ["GET", "POST"]) {
      const res = await get(app, "/snapshot", { method });
      expect(res.status).toBe(302);
      const loc = res.headers.get("location")!;
      expect(loc).toMatch(/^\/out\/\d{8}_\d{6}_snapshot_people1_tpu7\.3ms_fps30\.0(_\d+)?\.jpg$/);
      const img = await get(app, loc);
      expect(img.status).toBe(200);
      expect(img.headers.get("content-type")).toBe("image/jpeg");
      expect(jpegTag(new Uint8Array(await img.arrayBuffer()))).toBe("ann-1");
    }
    expect(fake.archive.count({ reason: "snapshot" })).toBe(2);
  });

  test("before the first frame: 503 JSON with the reason, never 500", async () => {
    const { app } = setup({ noFrame: true });
    const res = await get(app, "/snapshot", { method: "POST" });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(await res.json()).toEqual({ error: "no_frame", reason: "starting" });
  });

  test("a failing save is a 503 with the reason", async () => {
    const { app, fake } = setup();
    fake.deps.snapshot = () => Promise.reject(new Error("disk full"));
    const res = await get(app, "/snapshot");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reason: string }).reason).toBe("disk full");
  });
});

describe("/out", () => {
  test("serves archive files with ETag, immutable caching and 304", async () => {
    const { app, fake } = setup();
    await saveSome(fake, 1);
    const e = fake.archive.list()[0]!;
    const res = await get(app, `/out/${e.file}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("cache-control")).toContain("immutable");
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^".+"$/);
    expect(jpegTag(new Uint8Array(await res.arrayBuffer()))).toBe("ev-0");
    const again = await get(app, `/out/${e.file}`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    const weak = await get(app, `/out/${e.file}`, {
      headers: { "if-none-match": `"x", W/${etag}` },
    });
    expect(weak.status).toBe(304);
    const thumb = await get(app, `/out/thumbs/${e.thumb}`);
    expect(thumb.status).toBe(200);
    expect(jpegTag(new Uint8Array(await thumb.arrayBuffer()))).toBe("th-0");
    expect(thumb.headers.get("etag")).toBeTruthy();
  });

  test("path tricks, foreign files, symlinks and directories are 404", async () => {
    const { app, fake } = setup();
    await saveSome(fake, 2);
    const [e1, e2] = fake.archive.list();
    const dir = fake.archive.outdir;
    // A symlink inside outdir pointing out, and an indexed file replaced by such a symlink.
    fs.symlinkSync("/etc/passwd", join(dir, "evil.jpg"));
    fs.unlinkSync(join(dir, e2!.file));
    fs.symlinkSync("/etc/hostname", join(dir, e2!.file));
    fs.mkdirSync(join(dir, "folder.jpg"));
    fs.writeFileSync(join(dir, "notindexed.jpg"), FIXTURE_JPEG);
    fs.writeFileSync(join(dir, "notes.txt"), "secret");
    const tricks = [
      "/out/../etc/passwd",
      "/out/..%2f..%2fetc%2fpasswd",
      "/out/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/out/%2e%2e/%2e%2e/etc/passwd",
      "/out/%252e%252e%252fetc%252fpasswd",
      "/out/..%252f..%252fetc%252fpasswd",
      "/out//etc/passwd",
      "/out/%2fetc%2fpasswd",
      "/out/evil.jpg",
      `/out/${e2!.file}`,
      "/out/folder.jpg",
      "/out/notindexed.jpg",
      "/out/notes.txt",
      "/out/.hazardcam-index.sqlite",
      "/out/thumbs",
      "/out/thumbs/",
      "/out/",
      "/out/thumbs/../../etc/passwd",
      "/out/thumbs/%2e%2e%2f" + e1!.file,
      `/out/${e1!.file}%00.txt`,
      `/out/${e1!.file.replace(".jpg", "%2ejpg")}`,
      `/out/${e1!.file}/`,
      `/out/thumbs/${e1!.file.replace(".jpg", ".png")}`,
    ];
    for (const p of tricks) {
      const res = await get(app, p);
      expect({ p, status: res.status }).toEqual({ p, status: 404 });
      const body = await res.text();
      expect(body).not.toContain("root:");
    }
    // The honest one still works.
    expect((await get(app, `/out/${e1!.file}`)).status).toBe(200);
  });
});

describe("/latest.jpg", () => {
  test("annotated frame, no-store, saves nothing; asks for annotation", async () => {
    const { app, fake } = setup();
    fake.publish(7);
    const res = await get(app, "/latest.jpg");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("cache-control")).toContain("no-store");
    expect(jpegTag(new Uint8Array(await res.arrayBuffer()))).toBe("ann-7");
    expect(fake.archive.count()).toBe(0);
    expect(fake.wantCalls).toEqual([true]);
  });

  test("camera JPEG when nothing was annotated; no-signal when offline", async () => {
    const { app, fake } = setup();
    fake.setAnnotated(false);
    fake.publish(8);
    expect(jpegTag(new Uint8Array(await (await get(app, "/latest.jpg")).arrayBuffer()))).toBe(
      "cam-8",
    );
    fake.setOffline("unplugged");
    const res = await get(app, "/latest.jpg");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-hazardcam-online")).toBe("0");
    expect(jpegTag(new Uint8Array(await res.arrayBuffer()))).toBe("nosignal:unplugged");
  });
});

describe("/events pages", () => {
  test("gallery: newest first, paged past 80, total, filters", async () => {
    const { app, fake } = setup();
    await saveSome(fake, 100);
    const res = await get(app, "/events");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/html");
    const html = await res.text();
    expect(html).toContain("100</small>".replace("100", "100 total"));
    const ids = [...html.matchAll(/class="thumb" href="\/events\/(\d+)"/g)].map((m) =>
      Number(m[1]),
    );
    expect(ids).toHaveLength(48);
    expect(ids[0]).toBe(fake.archive.list({ limit: 1 })[0]!.id);
    expect(html).toContain('href="/events?page=2"');
    const p3 = await (await get(app, "/events?page=3")).text();
    expect([...p3.matchAll(/class="thumb" href/g)]).toHaveLength(4);
    const day = await (await get(app, "/events?day=2024-05-01")).text();
    expect([...day.matchAll(/class="thumb" href/g)]).toHaveLength(48);
    expect(day).toContain("50 of 100");
    expect(day).toContain('<option value="2024-05-01" selected>');
    const snaps = await (await get(app, "/events?reason=snapshot")).text();
    expect([...snaps.matchAll(/class="thumb" href/g)]).toHaveLength(25);
    const empty = await (await get(app, "/events?page=99")).text();
    expect(empty).toContain("No events");
  });

  test("bad gallery values are 400", async () => {
    const { app } = setup();
    for (const q of [
      "page=0",
      "page=x",
      "day=2024-13-01",
      "reason=bogus",
      "before=yesterday",
      "page=1&page=2",
    ]) {
      const res = await get(app, `/events?${q}`);
      expect({ q, status: res.status }).toEqual({ q, status: 400 });
    }
  });

  test("event page: full image, detections, newer/older links", async () => {
    const { app, fake } = setup();
    await saveSome(fake, 3);
    const [newest, mid, oldest] = fake.archive.list();
    const res = await get(app, `/events/${mid!.id}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`<img src="/out/${mid!.file}"`);
    expect(html).toContain('<table id="detections">');
    expect(html).toContain("<td>person</td>");
    expect(html).toContain("0.800");
    expect(html).toContain(`href="/events/${newest!.id}"`);
    expect(html).toContain(`href="/events/${oldest!.id}"`);
    for (const bad of ["/events/999999", "/events/abc", "/events/0", "/events/1.5"]) {
      expect((await get(app, bad)).status).toBe(404);
    }
  });
});

describe("/api/events", () => {
  test("list, filters, limit and next", async () => {
    const { app, fake } = setup();
    await saveSome(fake, 10);
    const res = await get(app, "/api/events?limit=4");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    const body = (await res.json()) as {
      total: number;
      count: number;
      events: {
        id: number;
        time: number;
        reason: string;
        image_url: string;
        thumb_url: string;
        detections: unknown[];
      }[];
      next: string | null;
    };
    expect(body.total).toBe(10);
    expect(body.count).toBe(4);
    expect(body.events[0]!.image_url).toMatch(/^\/out\/\d{8}_\d{6}_(auto|snapshot)_/);
    expect(body.events[0]!.detections).toHaveLength(1);
    expect(body.next).toBe("/api/events?limit=4&offset=4");
    const snaps = (await (await get(app, "/api/events?reason=snapshot")).json()) as typeof body;
    expect(snaps.total).toBe(3);
    expect(snaps.events.every((e) => e.reason === "snapshot")).toBe(true);
    const t = body.events[1]!.time;
    const before = (await (await get(app, `/api/events?before=${t}`)).json()) as typeof body;
    expect(before.events.every((e) => e.time < t)).toBe(true);
    const after = (await (
      await get(app, `/api/events?after=${t}&order=asc`)
    ).json()) as typeof body;
    expect(after.events.map((e) => e.time)).toEqual(
      [...after.events.map((e) => e.time)].sort((a, b) => a - b),
    );
    expect(after.events.every((e) => e.time > t)).toBe(true);
    const iso = (await (await get(app, "/api/events?after=2024-05-02")).json()) as typeof body;
    expect(iso.total).toBe(5);
    const day = (await (await get(app, "/api/events?day=2024-05-01")).json()) as typeof body;
    expect(day.total).toBe(5);
    const one = await get(app, `/api/events/${body.events[0]!.id}`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as { id: number }).id).toBe(body.events[0]!.id);
  });

  test("bad values are 400 JSON, unknown ids and routes 404", async () => {
    const { app } = setup();
    for (const q of [
      "limit=0",
      "limit=501",
      "limit=-1",
      "limit=abc",
      "limit=1e3",
      "before=tomorrow",
      "after=1;DROP",
      "reason=hacker",
      "day=2024-02-30",
      "order=sideways",
      "offset=-5",
      "limit=1&limit=2",
    ]) {
      const res = await get(app, `/api/events?${q}`);
      expect({ q, status: res.status }).toEqual({ q, status: 400 });
      expect(res.headers.get("content-type")).toStartWith("application/json");
      expect(((await res.json()) as { error: string }).error).toBe("bad_request");
    }
    expect((await get(app, "/api/events?limit=500")).status).toBe(200);
    for (const p of ["/api/events/424242", "/api/events/abc", "/nope", "/video/x", "/out"]) {
      expect({ p, status: (await get(app, p)).status }).toEqual({ p, status: 404 });
    }
    const html404 = await get(app, "/nope", { headers: { accept: "text/html" } });
    expect(html404.headers.get("content-type")).toStartWith("text/html");
    expect((await get(app, "/video?fps=0")).status).toBe(400);
    expect((await get(app, "/video?fps=abc")).status).toBe(400);
    expect((await get(app, "/video?raw=maybe")).status).toBe(400);
    expect((await get(app, "/api/stream?fps=1000")).status).toBe(400);
  });
});

describe("auth", () => {
  const auth = { user: "admin", pass: "s3cret:with:colons" };
  const basic = (u: string, p: string): string =>
    `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;

  test("every route needs the credentials", async () => {
    const { app, fake } = setup({ config: { auth } });
    await saveSome(fake, 1);
    const e = fake.archive.list()[0]!;
    const paths = [
      "/",
      "/video",
      "/api/stream",
      "/status",
      "/snapshot",
      "/events",
      `/events/${e.id}`,
      `/out/${e.file}`,
      "/latest.jpg",
      "/api/events",
      "/nope",
    ];
    for (const p of paths) {
      for (const h of [
        undefined,
        basic("admin", "wrong"),
        basic("root", auth.pass),
        "Bearer x",
        "Basic !!!",
      ]) {
        const res = await get(app, p, { headers: h ? { authorization: h } : {} });
        expect({ p, h, status: res.status }).toEqual({ p, h, status: 401 });
        expect(res.headers.get("www-authenticate")).toContain("Basic realm=");
      }
    }
    const ok = await get(app, "/status", {
      headers: { authorization: basic(auth.user, auth.pass) },
    });
    expect(ok.status).toBe(200);
    const img = await get(app, `/out/${e.file}`, {
      headers: { authorization: basic(auth.user, auth.pass) },
    });
    expect(img.status).toBe(200);
  });
});
