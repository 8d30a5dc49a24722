/**
 * Issue 11 on the webhooks and /metrics, on the HTTP app with a fake pipeline and a fake scene:
 * webhooks get each visit's open and close (a `type` field; the saved events' payload as it
 * was), and /metrics has hazardcam_line_crossings_total{line,direction},
 * hazardcam_zone_people{zone} and hazardcam_visits_total, read by the strict grammar check.
 */
import { afterEach, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { setQuiet } from "../../src/shared/log.ts";
import { waitFor } from "../e2e/harness.ts";
import { taggedJpeg } from "../http/fake-deps.ts";
import { fakeScene, sceneUpdate, visitDetail } from "../http/fake-scene.ts";
import { parsePromText } from "./promtext.ts";
import { wireIntegrations } from "./wired.ts";

setQuiet(true);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A local endpoint that records the JSON bodies it gets. */
function endpoint(): { url: string; bodies: Record<string, unknown>[] } {
  const bodies: Record<string, unknown>[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      bodies.push((await req.json()) as Record<string, unknown>);
      return new Response("ok");
    },
  });
  cleanups.push(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}/hook`, bodies };
}

function rig(webhooks: string[] = []) {
  const w = wireIntegrations(
    { mqtt: null, webhooks, publicUrl: "http://cam.local:8080" },
    cleanups,
  );
  const s = fakeScene(w.fake.dir);
  w.fake.deps.scene = s.scene;
  w.integ.attachScene(s.scene);
  return { ...w, s };
}

test("webhooks: visit open and close with a type; saved events exactly as before", async () => {
  const ep = endpoint();
  const { fake, s } = rig([ep.url]);
  const T0 = Date.now() - 10_000;
  s.feed.emitVisit({ type: "open", at: T0, visit: visitDetail({ id: 4, start: T0, open: true }) });
  const rec = await fake.archive.save({
    jpeg: taggedJpeg("ev"),
    thumbJpeg: taggedJpeg("th"),
    reason: "auto",
    at: new Date(T0 + 1000),
    people: 1,
    detections: [],
    inferMs: 9,
    fps: 10,
  });
  s.feed.emitVisit({
    type: "close",
    at: T0 + 9000,
    visit: visitDetail({ id: 4, start: T0, end: T0 + 4000, image: "v4.jpg", thumb: "v4.jpg" }),
  });
  await waitFor(() => ep.bodies.length >= 3, { timeoutMs: 10000, what: "three deliveries" });
  const [open, saved, close] = ep.bodies;
  expect(open).toMatchObject({
    type: "visit_open",
    id: 4,
    open: true,
    camera: expect.any(String),
    page_url: "http://cam.local:8080/visits/4",
  });
  expect(open).not.toHaveProperty("clip_url"); // no clip provider given
  expect(close).toMatchObject({
    type: "visit_close",
    duration_ms: 4000,
    image_url: "http://cam.local:8080/out/visits/v4.jpg",
  });
  expect(saved).not.toHaveProperty("type");
  expect(Object.keys(saved!).sort()).toEqual(
    [
      "id",
      "time",
      "time_iso",
      "reason",
      "people",
      "infer_ms",
      "fps",
      "file",
      "image_url",
      "thumb_url",
      "page_url",
      "bytes",
      "detections",
      "camera",
    ].sort(),
  );
  expect(saved!.id).toBe(rec.id);
});

test("/metrics: crossings since start by line and direction, people per zone, visits", async () => {
  const { app, s } = rig();
  s.feed.status.zone_people = { door: 2, yard: 0 };
  s.feed.status.lines = { gate: { in: 7, out: 7 }, back: { in: 0, out: 0 } };
  const cross = (line: string, direction: "in" | "out") => ({
    line,
    direction,
    trackId: 1,
    atMs: Date.now(),
  });
  s.feed.emitUpdate(sceneUpdate({ crossings: [cross("gate", "in"), cross("gate", "in")] }));
  s.feed.emitUpdate(sceneUpdate({ crossings: [cross("gate", "out")] }));
  s.feed.emitVisit({ type: "open", at: 1, visit: visitDetail({ id: 1, start: 1, open: true }) });
  s.feed.emitVisit({ type: "close", at: 2, visit: visitDetail({ id: 1, start: 1 }) });
  s.feed.emitVisit({ type: "open", at: 3, visit: visitDetail({ id: 2, start: 3, open: true }) });

  const text = await (await app.handle(new Request("http://localhost/metrics"))).text();
  parsePrometheusTextFormat(text); // the npm parser reads it too
  const fams = parsePromText(text);
  const samples = (name: string) =>
    fams.get(name)!.samples.map((x) => [JSON.stringify(x.labels), x.value]);
  expect(fams.get("hazardcam_line_crossings_total")?.type).toBe("counter");
  expect(samples("hazardcam_line_crossings_total")).toEqual([
    ['{"line":"back","direction":"in"}', 0],
    ['{"line":"back","direction":"out"}', 0],
    ['{"line":"gate","direction":"in"}', 2],
    ['{"line":"gate","direction":"out"}', 1],
  ]);
  expect(fams.get("hazardcam_zone_people")?.type).toBe("gauge");
  expect(samples("hazardcam_zone_people")).toEqual([
    ['{"zone":"door"}', 2],
    ['{"zone":"yard"}', 0],
  ]);
  expect(fams.get("hazardcam_visits_total")?.type).toBe("counter");
  expect(samples("hazardcam_visits_total")).toEqual([["{}", 2]]);
});

test("/metrics without the scene has none of the scene families", async () => {
  const w = wireIntegrations({ mqtt: null, webhooks: [], publicUrl: "" }, cleanups);
  const text = await (await w.app.handle(new Request("http://localhost/metrics"))).text();
  const fams = parsePromText(text);
  for (const n of [
    "hazardcam_line_crossings_total",
    "hazardcam_zone_people",
    "hazardcam_visits_total",
  ]) {
    expect(fams.has(n)).toBe(false);
  }
});
