import { describe, expect, test } from "bun:test";
import { type HazardcamServer } from "../../src/http/server.tsx";
import { setQuiet } from "../../src/shared/log.ts";
import { FIXTURE_JPEG, PartReader, jpegTag, saveEvent, serverSetup } from "./fake-deps.ts";

setQuiet(true);

const setup = serverSetup();

async function open(app: HazardcamServer, path: string): Promise<{ res: Response; r: PartReader }> {
  const res = await app.handle(new Request(`http://localhost${path}`));
  expect(res.status).toBe(200);
  return { res, r: new PartReader(res.body!) };
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("/video", () => {
  test("multipart with JPEG parts; disconnect unsubscribes", async () => {
    const { app, fake } = setup();
    const { res, r } = await open(app, "/video");
    expect(res.headers.get("content-type")).toBe("multipart/x-mixed-replace; boundary=frame");
    expect(res.headers.get("cache-control")).toContain("no-store");
    const first = (await r.chunk(1000))!;
    const head = new TextDecoder("latin1").decode(first.subarray(0, 80));
    expect(head).toMatch(/^--frame\r\nContent-Type: image\/jpeg\r\nContent-Length: (\d+)\r\n\r\n/);
    const len = Number(/Content-Length: (\d+)/.exec(head)![1]);
    const start = head.indexOf("\r\n\r\n") + 4;
    expect(first.byteLength).toBe(start + len + 2);
    const jpeg = first.subarray(start, start + len);
    expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
    expect(jpegTag(jpeg)).toBe("ann-1");
    expect(fake.subscribers()).toBe(1);
    expect(app.streams.videoClients).toBe(1);
    const status = (await (await app.handle(new Request("http://localhost/status"))).json()) as {
      clients: number;
    };
    expect(status.clients).toBe(1);
    expect(fake.wantCalls).toEqual([true]);
    await r.cancel();
    expect(fake.subscribers()).toBe(0);
    expect(app.streams.videoClients).toBe(0);
    expect(fake.wantCalls).toEqual([true, false]);
  });

  test("?raw=1 sends the camera's own JPEG and does not ask for annotation", async () => {
    const { app, fake } = setup();
    const { r } = await open(app, "/video?raw=1");
    const p = (await r.part())!;
    expect(p.jpeg).toEqual(FIXTURE_JPEG);
    fake.publish(2);
    expect(jpegTag((await r.part())!.jpeg)).toBe("cam-2");
    expect(fake.wantCalls).toEqual([]);
    await r.cancel();
  });

  test("every client gets the newest frame", async () => {
    const { app, fake } = setup();
    const { r } = await open(app, "/video");
    expect(jpegTag((await r.part())!.jpeg)).toBe("ann-1");
    for (let s = 2; s <= 5; s++) fake.publish(s);
    expect(jpegTag((await r.part())!.jpeg)).toBe("ann-5");
    await r.cancel();
  });

  test("a slow reader skips frames instead of queueing them", async () => {
    const { app, fake } = setup();
    const slow = await open(app, "/video");
    const fast = await open(app, "/video");
    expect(jpegTag((await slow.r.part())!.jpeg)).toBe("ann-1");
    let fastParts = 0;
    for (let s = 2; s <= 101; s++) {
      fake.publish(s);
      if (s % 5 === 0) {
        // The fast client keeps up; the slow one reads nothing meanwhile.
        const p = await fast.r.part(500);
        if (p) fastParts++;
      }
      await tick();
    }
    expect(fastParts).toBeGreaterThanOrEqual(15);
    // Now the slow client reads what is pending: at most the one part in flight + the newest.
    const got: string[] = [];
    for (;;) {
      const p = await slow.r.part(300);
      if (!p) break;
      got.push(jpegTag(p.jpeg)!);
    }
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect(got.length).toBeLessThanOrEqual(2);
    expect(got[got.length - 1]).toBe("ann-101");
    await slow.r.cancel();
    await fast.r.cancel();
    expect(fake.subscribers()).toBe(0);
  });

  test("?fps=N caps a client's rate", async () => {
    const { app, fake } = setup();
    const { r } = await open(app, "/video?fps=4");
    let parts = 0;
    const t0 = performance.now();
    let seq = 2;
    const publisher = setInterval(() => fake.publish(seq++), 10);
    try {
      while (performance.now() - t0 < 1000) {
        if (await r.part(100)) parts++;
      }
    } finally {
      clearInterval(publisher);
    }
    // ~100 frames published in 1 s; 4 fps gives 4-5 parts (the first one immediately).
    expect(parts).toBeGreaterThanOrEqual(3);
    expect(parts).toBeLessThanOrEqual(6);
    await r.cancel();
  });

  test("offline: a no-signal frame about once a second, then frames again", async () => {
    const { app, fake } = setup();
    fake.setOffline("camera unplugged");
    const { r } = await open(app, "/video");
    const t0 = performance.now();
    expect(jpegTag((await r.part(500))!.jpeg)).toBe("nosignal:camera unplugged");
    const second = await r.part(1500);
    const gapMs = performance.now() - t0;
    expect(jpegTag(second!.jpeg)).toBe("nosignal:camera unplugged");
    expect(gapMs).toBeGreaterThan(800);
    fake.publish(9);
    expect(jpegTag((await r.part(500))!.jpeg)).toBe("ann-9");
    await r.cancel();
  });

  test("closeStreams ends open streams", async () => {
    const { app, fake } = setup();
    const { r } = await open(app, "/video");
    await r.part();
    app.closeStreams();
    expect(await r.part(500)).toBeNull();
    expect(r.done).toBe(true);
    expect(fake.subscribers()).toBe(0);
  });

  test("HEAD answers the headers without opening a stream", async () => {
    const { app, fake } = setup();
    for (const p of ["/video", "/api/stream"]) {
      const res = await app.handle(new Request(`http://localhost${p}`, { method: "HEAD" }));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(
        /multipart\/x-mixed-replace|text\/event-stream/,
      );
    }
    expect(fake.subscribers()).toBe(0);
    const snap = await app.handle(new Request("http://localhost/snapshot", { method: "HEAD" }));
    expect(snap.status).toBe(405);
    expect(fake.archive.count()).toBe(0);
  });

  test("an aborted request closes its stream", async () => {
    const { app, fake } = setup();
    const ac = new AbortController();
    const res = await app.handle(new Request("http://localhost/video", { signal: ac.signal }));
    const r = new PartReader(res.body!);
    await r.part();
    ac.abort();
    await tick(10);
    expect(fake.subscribers()).toBe(0);
    expect(app.streams.videoClients).toBe(0);
  });
});

describe("/api/stream (SSE)", () => {
  async function readUntil(r: PartReader, needle: string, ms = 2000): Promise<string> {
    let text = "";
    const deadline = performance.now() + ms;
    while (!text.includes(needle) && performance.now() < deadline) {
      const c = await r.chunk(deadline - performance.now());
      if (!c) break;
      text += new TextDecoder().decode(c);
    }
    return text;
  }

  test("status, frames with detections above the threshold, saved events", async () => {
    const { app, fake } = setup();
    const res = await app.handle(new Request("http://localhost/api/stream"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const r = new PartReader(res.body!);
    let text = await readUntil(r, "event: frame");
    expect(text).toStartWith("retry: 2000\n\n");
    expect(text).toContain("event: status\ndata: ");
    const frameLine = /event: frame\ndata: (.*)\n\n/.exec(text)![1]!;
    const frame = JSON.parse(frameLine) as {
      seq: number;
      people: number;
      infer_ms: number;
      fps: number;
      det: { l: string; s: number; b: number[] }[];
    };
    expect(frame.seq).toBe(1);
    expect(frame.people).toBe(1);
    expect(frame.infer_ms).toBe(7.3);
    expect(frame.det.map((d) => d.l)).toEqual(["person", "kite"]); // the 0.2 one is below 0.5
    expect(frame.det[0]!.b).toEqual([0.1, 0.2, 0.9, 0.5]);
    expect(fake.subscribers()).toBe(1);

    const rec = await saveEvent(fake, { people: 2 });
    text = await readUntil(r, "event: saved");
    const saved = JSON.parse(/event: saved\ndata: (.*)\n\n/.exec(text)![1]!) as {
      id: number;
      image_url: string;
      thumb_url: string;
    };
    expect(saved.id).toBe(rec.id);
    expect(saved.image_url).toBe(`/out/${rec.file}`);
    expect(saved.thumb_url).toBe(`/out/thumbs/${rec.thumb}`);

    fake.publish(2);
    text = await readUntil(r, "event: frame");
    expect(text).toContain('"seq":2');

    fake.setOffline("unplugged");
    text = await readUntil(r, '"online":false', 2500);
    expect(text).toContain('"offline_reason":"unplugged"');

    await r.cancel();
    expect(fake.subscribers()).toBe(0);
    expect(app.streams.sseClients).toBe(0);
  });
});
