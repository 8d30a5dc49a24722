/**
 * Range and If-None-Match on the pictures: /out images and thumbnails (immutable files) and
 * /latest.jpg (the current frame, no-store, tagged by its bytes).
 */
import { describe, expect, test } from "bun:test";
import type { HazardcamServer } from "../../src/http/server.tsx";
import { setQuiet } from "../../src/shared/log.ts";
import { jpegTag, serverSetup, taggedJpeg } from "./fake-deps.ts";

setQuiet(true);

const setup = serverSetup();

function get(
  app: HazardcamServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return app.handle(new Request(`http://localhost${path}`, { headers }));
}

const bytes = async (res: Response): Promise<Uint8Array> => new Uint8Array(await res.arrayBuffer());

async function saved(app: HazardcamServer, fake: ReturnType<typeof setup>["fake"]) {
  const e = await fake.archive.save({
    jpeg: taggedJpeg("ev-range"),
    thumbJpeg: taggedJpeg("th-range"),
    reason: "auto",
    at: new Date(2024, 4, 1, 8, 0, 0),
    people: 1,
    detections: [],
    inferMs: 7,
    fps: 24,
  });
  const whole = await get(app, `/out/${e.file}`);
  expect(whole.status).toBe(200);
  expect(whole.headers.get("accept-ranges")).toBe("bytes");
  return { e, etag: whole.headers.get("etag")!, image: await bytes(whole) };
}

describe("/out: Range", () => {
  test("206 with Content-Range for a, a-b and -n; the bytes are the file's", async () => {
    const { app, fake } = setup();
    const { e, image } = await saved(app, fake);
    const size = image.byteLength;
    for (const [range, start, end] of [
      ["bytes=0-99", 0, 99],
      ["bytes=100-", 100, size - 1],
      ["bytes=-50", size - 50, size - 1],
      [`bytes=${size - 10}-${size + 1000}`, size - 10, size - 1],
    ] as const) {
      const res = await get(app, `/out/${e.file}`, { range });
      expect({ range, status: res.status }).toEqual({ range, status: 206 });
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${size}`);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
      expect(res.headers.get("accept-ranges")).toBe("bytes");
      expect(await bytes(res)).toEqual(image.slice(start, end + 1));
    }
  });

  test("416 past the end; several ranges or a bad header: the whole file", async () => {
    const { app, fake } = setup();
    const { e, image } = await saved(app, fake);
    const size = image.byteLength;
    const past = await get(app, `/out/${e.file}`, { range: `bytes=${size}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${size}`);
    expect(((await past.json()) as { error: string }).error).toBe("range_not_satisfiable");
    for (const range of ["bytes=0-1,5-9", "bytes=9-2", "lines=1-2", "bytes=x"]) {
      const res = await get(app, `/out/${e.file}`, { range });
      expect({ range, status: res.status }).toEqual({ range, status: 200 });
      expect(await bytes(res)).toEqual(image);
    }
  });

  test("If-Range: the range with the current tag, the whole file with another", async () => {
    const { app, fake } = setup();
    const { e, etag, image } = await saved(app, fake);
    const same = await get(app, `/out/${e.file}`, { range: "bytes=0-9", "if-range": etag });
    expect(same.status).toBe(206);
    expect((await bytes(same)).byteLength).toBe(10);
    const other = await get(app, `/out/${e.file}`, { range: "bytes=0-9", "if-range": '"old"' });
    expect(other.status).toBe(200);
    expect(await bytes(other)).toEqual(image);
  });

  test("thumbnails too; If-None-Match wins over Range (304)", async () => {
    const { app, fake } = setup();
    const { e, etag } = await saved(app, fake);
    const thumb = await get(app, `/out/thumbs/${e.thumb}`, { range: "bytes=-4" });
    expect(thumb.status).toBe(206);
    expect(await bytes(thumb)).toEqual(taggedJpeg("th-range").slice(-4));
    const cached = await get(app, `/out/${e.file}`, { "if-none-match": etag, range: "bytes=0-9" });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("etag")).toBe(etag);
    expect(cached.headers.get("cache-control")).toContain("immutable");
    expect(await cached.text()).toBe("");
  });
});

describe("/latest.jpg: ETag, 304 and Range", () => {
  test("the tag names the bytes sent: same frame 304, a new frame 200", async () => {
    const { app, fake } = setup();
    fake.publish(5);
    const first = await get(app, "/latest.jpg");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    expect(first.headers.get("cache-control")).toContain("no-store");
    expect(jpegTag(await bytes(first))).toBe("ann-5");
    const again = await get(app, "/latest.jpg", { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(again.headers.get("x-hazardcam-online")).toBe("1");
    fake.publish(6);
    const next = await get(app, "/latest.jpg", { "if-none-match": etag });
    expect(next.status).toBe(200);
    expect(next.headers.get("etag")).not.toBe(etag);
    expect(jpegTag(await bytes(next))).toBe("ann-6");
    // The camera JPEG of the same frame is another body, so another tag.
    fake.setAnnotated(false);
    fake.publish(7);
    const cam = await get(app, "/latest.jpg");
    expect(jpegTag(await bytes(cam))).toBe("cam-7");
    expect(cam.headers.get("etag")).not.toBe(next.headers.get("etag"));
  });

  test("Range of the current frame; If-Range with an older frame's tag sends the new one", async () => {
    const { app, fake } = setup();
    fake.publish(5);
    const whole = await get(app, "/latest.jpg");
    const etag = whole.headers.get("etag")!;
    const jpeg = await bytes(whole);
    const head = await get(app, "/latest.jpg", { range: "bytes=0-5", "if-range": etag });
    expect(head.status).toBe(206);
    expect(head.headers.get("content-range")).toBe(`bytes 0-5/${jpeg.byteLength}`);
    expect(await bytes(head)).toEqual(jpeg.slice(0, 6));
    fake.publish(6);
    const rest = await get(app, "/latest.jpg", { range: "bytes=6-", "if-range": etag });
    expect(rest.status).toBe(200);
    expect(jpegTag(await bytes(rest))).toBe("ann-6");
    const late = await get(app, "/latest.jpg", { range: "bytes=99999999-" });
    expect(late.status).toBe(416);
  });

  test("offline: the no-signal picture is tagged and ranged the same way", async () => {
    const { app, fake } = setup();
    fake.setOffline("unplugged");
    const res = await get(app, "/latest.jpg", { range: "bytes=-3" });
    expect(res.status).toBe(206);
    expect(res.headers.get("x-hazardcam-online")).toBe("0");
    expect(await bytes(res)).toEqual(taggedJpeg("nosignal:unplugged").slice(-3));
  });
});

describe("over a socket", () => {
  test("206 and 304 keep their headers and lengths through the server", async () => {
    const { app, fake } = setup();
    const { e, etag, image } = await saved(app, fake);
    app.listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const base = `http://127.0.0.1:${app.server!.port}`;
      const part = await fetch(`${base}/out/${e.file}`, { headers: { range: "bytes=10-19" } });
      expect(part.status).toBe(206);
      expect(part.headers.get("content-length")).toBe("10");
      expect(part.headers.get("content-range")).toBe(`bytes 10-19/${image.byteLength}`);
      expect(await bytes(part)).toEqual(image.slice(10, 20));
      const cached = await fetch(`${base}/out/${e.file}`, { headers: { "if-none-match": etag } });
      expect(cached.status).toBe(304);
      const wrong = await fetch(`${base}/status`, { method: "POST" });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("GET, HEAD");
    } finally {
      await app.stop(true);
    }
  });
});
