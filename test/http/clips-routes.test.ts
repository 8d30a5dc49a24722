/**
 * The clips over HTTP (src/http/routes/clips.ts): /out/clips/<file> (Range, ETag, strict names),
 * /api/visits/:id/clips, and the real-time MJPEG replay /api/visits/:id/clip.mjpeg. Clips are
 * recorded by the real wiring from real frames (test/pipeline/clips-wire-lib.ts).
 */
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import { parseIndex } from "../../src/clips/format.ts";
import type { VisitsReader } from "../../src/events/visit-types.ts";
import { createServer, type HazardcamServer } from "../../src/http/server.tsx";
import { setQuiet } from "../../src/shared/log.ts";
import type { Visit } from "../../src/track/visits.ts";
import {
  T0,
  closeRig,
  publishFrame,
  removeTmpOutdirs,
  rig,
  visitRecord,
  type Rig,
} from "../pipeline/clips-wire-lib.ts";
import { PartReader, serverSetup } from "./fake-deps.ts";
import { JPEGS } from "./clips-lib.ts";

setQuiet(true);
const setup = serverSetup();
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await closeRig(r);
  removeTmpOutdirs();
});

function visit(id: number, startMs: number, endMs: number): Visit {
  return { id, startMs, endMs, zones: [], trackIds: [1], maxPeople: 1, crossings: {}, best: null };
}

/**
 * A short visit at 10 fps: frames 0..(to) from T0, visit `id` in [startMs, endMs], closed at
 * endMs; clip-pre and clip-post 0.3 s, so its clip holds the frames from startMs - 300 to
 * endMs + 300 (13 frames for the default 1.0..1.6 s). `to`: frames published so far.
 */
async function shortVisit(r: Rig, id = 1, startS = 1, endS = 1.6, to = 25): Promise<void> {
  for (let i = 0; i < to; i++) {
    publishFrame(r.store, i, 10);
    const t = T0 + i * 100;
    const v = visit(id, T0 + startS * 1000, T0 + endS * 1000);
    if (t === v.startMs + 200) r.feed.emit({ type: "open", at: t, visit: visitRecord(v, true) });
    if (t === v.endMs) r.feed.emit({ type: "close", at: t, visit: visitRecord(v, false) });
  }
  await r.clips.idle();
}

async function withClips(): Promise<{ app: HazardcamServer; r: Rig }> {
  const r = await rig({ clips: { preSec: 0.3, postSec: 0.3 } });
  rigs.push(r);
  const { app, fake } = setup();
  fake.deps.clips = r.clips.service;
  return { app, r };
}

const get = (app: HazardcamServer, path: string, init: RequestInit = {}): Promise<Response> =>
  app.handle(new Request(`http://localhost${path}`, init));

const bytes = async (res: Response): Promise<Uint8Array> => new Uint8Array(await res.arrayBuffer());

/** Which frame of the bundled clip a JPEG is. */
const frameNo = (jpeg: Uint8Array): number => JPEGS.findIndex((j) => Buffer.compare(j, jpeg) === 0);

/** Every part until the stream ends (each wait for a part is bounded by `ms`). */
async function allParts(parts: PartReader, ms = 15000): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let p = await parts.part(ms); p; p = await parts.part(ms)) out.push(p.jpeg);
  expect(parts.done).toBe(true);
  return out;
}

describe("/out/clips/<file>", () => {
  test("the .mjpeg and its index, whole, by Range (206) and with If-None-Match (304)", async () => {
    const { app, r } = await withClips();
    await shortVisit(r);
    const [clip] = r.clips.service.forVisit(1);
    const file = new Uint8Array(fs.readFileSync(join(r.dir, "clips", clip!.file)));
    const whole = await get(app, `/out/clips/${clip!.file}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("video/x-motion-jpeg");
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(await bytes(whole)).toEqual(file);
    // The player's request: one frame by its offset and length from the index.
    const index = await get(app, `/out/clips/${clip!.index}`);
    expect(index.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    const frames = parseIndex(await bytes(index)).frames;
    expect(frames).toHaveLength(13);
    const f = frames[5]!;
    const part = await get(app, `/out/clips/${clip!.file}`, {
      headers: { range: `bytes=${f.o}-${f.o + f.n - 1}` },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes ${f.o}-${f.o + f.n - 1}/${file.length}`);
    expect(await bytes(part)).toEqual(JPEGS[f.s - 1]!);
    const etag = whole.headers.get("etag")!;
    const again = await get(app, `/out/clips/${clip!.file}`, {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const head = await get(app, `/out/clips/${clip!.file}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(file.length));
    expect(head.headers.get("etag")).toBe(etag);
  });

  test("strict names: a clip being written, unknown names, traversal, symlinks, folders are 404", async () => {
    const { app, r } = await withClips();
    await shortVisit(r);
    const [clip] = r.clips.service.forVisit(1);
    // A second visit still recording: its files are .part-*.
    await shortVisit(r, 2, 3, 10, 40);
    const dir = join(r.dir, "clips");
    const part = fs.readdirSync(dir).find((n) => n.startsWith(".part-"))!;
    expect(part).toBeDefined();
    fs.mkdirSync(join(dir, "20990101_000000_clip.mjpeg"));
    fs.symlinkSync(join(dir, clip!.file), join(dir, "20990101_000001_clip.mjpeg"));
    fs.writeFileSync(join(dir, "20990101_000002_clip.mjpeg"), JPEGS[0]!);
    for (const path of [
      `/out/clips/${part}`,
      "/out/clips/20990101_000000_clip.mjpeg",
      "/out/clips/20990101_000001_clip.mjpeg",
      "/out/clips/20990101_000002_clip.mjpeg",
      `/out/clips/..%2f${clip!.file}`,
      `/out/clips/%2e%2e%2fclips%2f${clip!.file}`,
      "/out/clips/%2e%2e/%2e%2e/.hazardcam-index.sqlite",
      `/out/clips/${clip!.file}.jpg`,
      "/out/clips/",
    ]) {
      const res = await get(app, path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    // The event archive's /out does not serve clips either.
    expect((await get(app, `/out/${clip!.file}`)).status).toBe(404);
  });

  test("without the clips (not started) every clip route is 404", async () => {
    const { app } = setup();
    for (const path of [
      "/out/clips/20240501_120000_clip.mjpeg",
      "/api/visits/1/clips",
      "/api/visits/1/clip.mjpeg",
    ]) {
      expect((await get(app, path)).status).toBe(404);
    }
  });
});

describe("/api/visits/:id/clips", () => {
  test("the visit's clips with their URLs; none for a visit without; 404 for a bad id", async () => {
    const { app, r } = await withClips();
    await shortVisit(r);
    const res = await get(app, "/api/visits/1/clips");
    expect(res.status).toBe(200);
    const list = (await res.json()) as Record<string, unknown>[];
    const [clip] = r.clips.service.forVisit(1);
    expect(list).toEqual([
      {
        id: clip!.id,
        visit_id: 1,
        part: 1,
        file: clip!.file,
        url: `/out/clips/${clip!.file}`,
        index_url: `/out/clips/${clip!.index}`,
        start: T0 + 700,
        end: T0 + 1900,
        frames: 13,
        bytes: clip!.bytes,
        status: "complete",
        reason: "post-roll",
      },
    ]);
    expect((await get(app, list[0]!.url as string)).status).toBe(200);
    expect(await (await get(app, "/api/visits/7/clips")).json()).toEqual([]);
    expect((await get(app, "/api/visits/abc/clips")).status).toBe(404);
    expect((await get(app, "/api/visits/0/clips")).status).toBe(404);
  });

  test("with the visits store, a visit it does not know is 404", async () => {
    const { app, r } = await withClips();
    await shortVisit(r);
    const { fake } = setup();
    const visits = { get: (id: number) => (id === 1 ? {} : null) } as unknown as VisitsReader;
    fake.deps.scene = { feed: r.feed, zones: null!, visits };
    fake.deps.clips = r.clips.service;
    const server = createServer(fake.deps);
    void app;
    expect((await get(server, "/api/visits/1/clips")).status).toBe(200);
    expect((await get(server, "/api/visits/2/clips")).status).toBe(404);
    expect((await get(server, "/api/visits/2/clip.mjpeg")).status).toBe(404);
  });
});

describe("/api/visits/:id/clip.mjpeg", () => {
  test("replays every frame at its time as multipart/x-mixed-replace, then ends", async () => {
    const { app, r } = await withClips();
    await shortVisit(r);
    const t0 = performance.now();
    const res = await get(app, "/api/visits/1/clip.mjpeg");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("multipart/x-mixed-replace; boundary=frame");
    const parts = await allParts(new PartReader(res.body!));
    // 13 frames 100 ms apart: never faster than the clip (it is slower only under load).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1200 - 20);
    expect(parts.map(frameNo)).toEqual(Array.from({ length: 13 }, (_, i) => 7 + i));
  });

  test("a slow client skips frames instead of queueing them", async () => {
    const { app, r } = await withClips();
    await shortVisit(r, 1, 1, 3.5, 45);
    const res = await get(app, "/api/visits/1/clip.mjpeg");
    const parts = new PartReader(res.body!);
    expect(frameNo((await parts.part(5000))!.jpeg)).toBe(7);
    // The viewer stalls for a second: 10 frames fall due meanwhile; only the newest is sent.
    await Bun.sleep(1000);
    const rest = await allParts(parts);
    // The clip has 32 frames (0.7 s .. 3.8 s): at least the 9 older ones due during the stall
    // were skipped, and the clip still ends with its last frame.
    expect(1 + rest.length).toBeLessThanOrEqual(32 - 9);
    expect(frameNo(rest.at(-1)!)).toBe(38);
  });

  test("HEAD answers the headers only; a visit without clips is 404", async () => {
    const { app, r } = await withClips();
    await shortVisit(r);
    const head = await get(app, "/api/visits/1/clip.mjpeg", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("multipart/x-mixed-replace; boundary=frame");
    expect(await head.text()).toBe("");
    expect((await get(app, "/api/visits/2/clip.mjpeg")).status).toBe(404);
    expect((await get(app, "/api/visits/2/clip.mjpeg", { method: "HEAD" })).status).toBe(404);
  });

  test("a clip being recorded is followed until it is finished", async () => {
    const { app, r } = await withClips();
    // Visit 1 opens; 1 s of frames is written when the replay starts.
    await shortVisit(r, 1, 1, 99, 20);
    const res = await get(app, "/api/visits/1/clip.mjpeg");
    const done = allParts(new PartReader(res.body!));
    // The rest of the visit arrives while the replay plays: closed at 2.5 s, post-roll 0.3 s.
    for (let i = 20; i < 32; i++) {
      if (i === 26) {
        const v = visit(1, T0 + 1000, T0 + 2500);
        r.feed.emit({ type: "close", at: T0 + 2500, visit: visitRecord(v, false) });
      }
      publishFrame(r.store, i, 10);
      await Bun.sleep(100);
    }
    await r.clips.idle();
    const idx = (await done).map(frameNo);
    expect(idx[0]).toBe(7);
    expect(idx.at(-1)).toBe(28);
  });

  test("the server's stop ends a replay under way", async () => {
    const { app, r } = await withClips();
    await shortVisit(r, 1, 1, 20, 200);
    app.listen({ port: 0, hostname: "127.0.0.1" });
    const res = await fetch(`http://127.0.0.1:${app.server!.port}/api/visits/1/clip.mjpeg`);
    const parts = new PartReader(res.body!);
    expect(await parts.part(5000)).not.toBeNull();
    await app.stop(true);
    // Ended, or cut with the connection: either way no more frames.
    expect(await parts.part(5000).catch(() => null)).toBeNull();
  });
});
