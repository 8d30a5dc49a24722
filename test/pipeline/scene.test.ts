/**
 * Issue 11's engine wired as src/serve.ts wires it, with real Worker threads running fake
 * scripts: the capture Worker replays the bundled clip's first pass as detection results
 * (fixtures/clip-capture-worker.ts), the archive and the visits store are real, in a temp
 * outdir. What a user would see: the visits, their snapshots and stills, the line's count,
 * the zones reaching the capture Worker, the day's totals after a restart.
 */
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { waitFor } from "../../scripts/lib/harness.ts";
import { Archive } from "../../src/events/archive.ts";
import { startPipeline, type Pipeline, type WorkerFactory } from "../../src/pipeline/index.ts";
import type { VisitEvent } from "../../src/pipeline/scene-api.ts";
import { startScene, type Scene } from "../../src/pipeline/scene-start.ts";
import { PipelineStore } from "../../src/pipeline/store.ts";
import type { Config } from "../../src/shared/config.ts";
import { setQuiet } from "../../src/shared/log.ts";
import { serializeZones, type ZonesConfig } from "../../src/track/zones.ts";

setQuiet(true);

const fixture = (name: string): string => new URL(`./fixtures/${name}.ts`, import.meta.url).href;
const workers: WorkerFactory = (name) =>
  new Worker(fixture(name === "capture-worker" ? "clip-capture-worker" : "fake-detect-worker"));

const LINE: ZonesConfig = {
  zones: [],
  masks: [],
  lines: [{ name: "x80", a: [0.8, 0], b: [0.8, 1] }],
};
const wait = { timeoutMs: 20_000 };

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function config(outdir: string): Config {
  return {
    model: "fake.tflite",
    cam: "clip",
    source: { kind: "mjpeg-file", path: "clip" },
    threshold: 0.5,
    width: 640,
    height: 480,
    port: 0,
    bind: "127.0.0.1",
    outdir,
    cooldownSec: 2,
    cpuFallback: false,
    threads: 1,
    fps: 10,
    keepDays: 0,
    maxEvents: 0,
    minFreeMb: 0,
    tfliteLib: null,
    edgetpuLib: null,
    letterbox: false,
    auth: null,
    mqtt: null,
    publicUrl: "http://localhost",
    webhooks: [],
    scene: {
      zonesPath: join(outdir, "zones.json"),
      zonesFromFlag: false,
      minFrames: 3,
      lostSec: 2,
      visitGapSec: 5,
    },
    clips: { enabled: false, preSec: 3, postSec: 3, maxSec: 120, fps: null, bufferMb: 32 },
  };
}

/** Archive → scene → pipeline, as src/serve.ts starts them; stop in reverse, flush first. */
async function run(outdir: string) {
  const c = config(outdir);
  const archive = Archive.open(outdir, { keepDays: 0, maxEvents: 0, minFreeMb: 0 });
  const store = new PipelineStore({ source: "clip", model: "fake.tflite" });
  let pipeline: Pipeline | null = null;
  const scene: Scene = startScene({
    config: c,
    store,
    archive,
    render: (i) => pipeline?.render(i) ?? Promise.resolve(null),
    tracePath: null,
  });
  const events: VisitEvent[] = [];
  const imageAtClose: boolean[] = [];
  scene.feed.onVisit((e) => {
    events.push(e);
    if (e.type === "close") imageAtClose.push(fs.existsSync(scene.visits.pathOf(e.visit.image!)));
  });
  pipeline = await startPipeline({ config: c, archive, store, workers, zones: scene.zones });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await scene.flush();
    await pipeline?.stop();
    await scene.stop();
    await archive.close();
  };
  cleanup.push(stop);
  const said = (text: string) => () => store.status().lastError?.startsWith(text) ?? false;
  return { scene, store, archive, events, imageAtClose, stop, said };
}

function outdir(): string {
  const d = fs.mkdtempSync(join(os.tmpdir(), "hazardcam-scene-"));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

describe("the bundled clip's first pass through the pipeline", () => {
  test("two visits; the man's closes with its snapshot drawn, saved before 'close' is told", async () => {
    const dir = outdir();
    fs.writeFileSync(join(dir, "zones.json"), serializeZones(LINE));
    const r = await run(dir);
    await waitFor(r.said("replayed"), { ...wait, what: "the clip replayed" });
    expect(r.events.map((e) => `${e.type} ${e.visit.id}`)).toEqual(["open 1", "close 1", "open 2"]);
    const man = r.scene.visits.get(1)!;
    expect(man).toMatchObject({ open: false, people: 1, maxPeople: 1 });
    expect(man.crossings).toEqual({ x80: { in: 0, out: 1 } });
    expect(man.crossingList.map((c) => c.direction)).toEqual(["out"]);
    expect(r.imageAtClose).toEqual([true]);
    // The capture Worker drew it: its bytes are the kept frame's JPEG behind 0xAA.
    const image = fs.readFileSync(r.scene.visits.pathOf(man.image!));
    expect(image[0]).toBe(0xaa);
    expect([...fs.readFileSync(r.scene.visits.pathOf(man.thumb!, true))]).toEqual([0xbb]);
    const woman = r.scene.visits.current()!;
    expect(woman.id).toBe(2);
    expect(Math.abs(woman.start - man.start - 10_600)).toBeLessThanOrEqual(1000);

    const s = r.scene.feed.statusJson();
    expect(s.visit?.id).toBe(2);
    expect(s.lines).toEqual({ x80: { in: 0, out: 1 } });
    expect(s.zones_error).toBeNull();

    // The stills at frames 6 and 150 belong to the man's and the woman's visit.
    await waitFor(() => r.archive.count() === 2, { ...wait, what: "two stills saved" });
    await r.stop();
  });

  test("the stills are linked; stopping closes the open visit at her last time", async () => {
    const dir = outdir();
    const r = await run(dir);
    await waitFor(r.said("replayed"), { ...wait, what: "the clip replayed" });
    await waitFor(() => r.archive.count() === 2, { ...wait, what: "two stills saved" });
    const stills = r.archive.list({ order: "asc" }).map((e) => e.id);
    expect(r.scene.visits.get(1)!.stillIds).toEqual([stills[0]!]);
    expect(r.scene.visits.get(2)!.stillIds).toEqual([stills[1]!]);
    expect(r.scene.feed.statusJson().tracks.map((t) => t.id)).toEqual(
      r.scene.visits.get(2)!.tracks.map((t) => t.trackId),
    );
    await r.scene.flush();
    expect(r.events.at(-1)).toMatchObject({ type: "close", visit: { id: 2, open: false } });
    expect(r.scene.visits.get(2)!.image).not.toBeNull();
  });
});

describe("zones", () => {
  test("reach the capture Worker at its start and on every change", async () => {
    const dir = outdir();
    fs.writeFileSync(
      join(dir, "zones.json"),
      serializeZones({
        ...LINE,
        masks: [
          {
            name: "tv",
            points: [
              [0.9, 0],
              [1, 0],
              [1, 0.2],
            ],
          },
        ],
      }),
    );
    const r = await run(dir);
    await waitFor(r.said("zones: 1 masks, 0 zones"), { ...wait, what: "the init's zones" });
    await r.scene.zones.save({
      zones: [
        {
          name: "door",
          points: [
            [0, 0],
            [1, 0],
            [1, 1],
          ],
        },
      ],
    });
    await waitFor(r.said("zones: 0 masks, 1 zones"), { ...wait, what: "the saved zones" });
    expect(r.scene.feed.statusJson().zone_people).toHaveProperty("door");
  });
});

describe("after a restart", () => {
  test("the day's line totals and the visit ids go on", async () => {
    const dir = outdir();
    fs.writeFileSync(join(dir, "zones.json"), serializeZones(LINE));
    const first = await run(dir);
    await waitFor(first.said("replayed"), { ...wait, what: "the clip replayed" });
    await first.stop();
    const second = await run(dir);
    expect(second.scene.feed.statusJson().lines).toEqual({ x80: { in: 0, out: 1 } });
    await waitFor(() => second.events.length > 0, { ...wait, what: "a visit in the second run" });
    expect(second.events[0]!.visit.id).toBe(3);
  });
});
