/**
 * The Workers' lifecycle through startPipeline, with real Worker threads running fake scripts
 * (test/pipeline/fixtures/): a Worker that dies after startup is logged once, shown in the
 * status, and running again within 5 s; a fatal error at startup is startPipeline's error; an
 * aborted start stops everything. The last test runs the real capture and detect Workers.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { EventRecord, SaveInput } from "../../src/events/archive.ts";
import { startPipeline, type Pipeline, type WorkerFactory } from "../../src/pipeline/index.ts";
import { PipelineStore } from "../../src/pipeline/store.ts";
import { workerUrl, type WorkerName } from "../../src/pipeline/workers.ts";
import type { Config } from "../../src/shared/config.ts";
import { setQuiet } from "../../src/shared/log.ts";
import type { PipelineStatus } from "../../src/shared/status.ts";
import { memoryLog } from "../unit/fake-capture.ts";

setQuiet(true);

const root = join(import.meta.dir, "..", "..");
const fixture = (name: string): string => new URL(`./fixtures/${name}.ts`, import.meta.url).href;
const FAKE_CAPTURE = fixture("fake-capture-worker");
const DYING_CAPTURE = fixture("dying-capture-worker");
const FAKE_DETECT = fixture("fake-detect-worker");
const DYING_DETECT = fixture("dying-detect-worker");

function config(cam: string, over: Partial<Config> = {}): Config {
  return {
    model: join(root, "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite"),
    cam,
    source: { kind: "mjpeg-file", path: cam },
    threshold: 0.5,
    width: 640,
    height: 480,
    port: 0,
    bind: "127.0.0.1",
    outdir: "/nonexistent",
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
      zonesPath: "/nonexistent/zones.json",
      zonesFromFlag: false,
      minFrames: 3,
      lostSec: 2,
      visitGapSec: 5,
    },
    clips: { enabled: false, preSec: 3, postSec: 3, maxSec: 120, fps: null, bufferMb: 32 },
    ...over,
  };
}

/** Each spawn of a Worker takes the next script of its list; the last one repeats. */
function scripts(plan: Record<WorkerName, string[]>): WorkerFactory & { spawned: string[] } {
  const spawned: string[] = [];
  const next = { "capture-worker": 0, "detect-worker": 0 };
  const f = (name: WorkerName): Worker => {
    const list = plan[name];
    const url = list[Math.min(next[name]++, list.length - 1)] as string;
    spawned.push(`${name}:${url.split("/").pop()}`);
    return new Worker(url);
  };
  return Object.assign(f, { spawned });
}

const saved: SaveInput[] = [];
const archive = {
  save(input: SaveInput): EventRecord {
    saved.push(input);
    return { id: saved.length, file: `e${saved.length}.jpg` } as EventRecord;
  },
};

const running: Pipeline[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
  return performance.now() - t0;
}

async function start(cam: string, plan: Record<WorkerName, string[]>, restartMinMs = 500) {
  const store = new PipelineStore({ source: cam, model: "fake.tflite" });
  const statuses: PipelineStatus[] = [];
  store.on("status", (s) => statuses.push(s));
  const log = memoryLog();
  const factory = scripts(plan);
  const p = await startPipeline({
    config: config(cam),
    archive,
    store,
    workers: factory,
    restartMinMs,
    log,
  });
  running.push(p);
  await until("the first frame", () => store.latest() !== null);
  return { store, statuses, log, factory, p };
}

describe("a capture Worker that dies after startup", () => {
  for (const mode of ["throw", "fatal", "exit"] as const) {
    test(`(${mode}) is logged once, shown in the status, and back within 5 s`, async () => {
      const r = await start(mode, {
        "capture-worker": [DYING_CAPTURE, FAKE_CAPTURE],
        "detect-worker": [FAKE_DETECT],
      });
      const seqBefore = r.store.latest()?.seq ?? 0;
      r.store.setWantAnnotated(true); // the dying script's trigger
      await until("the status to say so", () => !r.store.status().online);
      const down = r.store.status();
      const why = { throw: "capture loop bug", fatal: "decoder broke", exit: "exited" }[mode];
      expect(down.offlineReason).toContain(why);
      expect(down.offlineReason).toContain("restarting");
      expect(down.lastError).toContain(why);
      expect(down.captureFps).toBe(0);
      expect(r.store.latest()).toBeNull();

      const backMs = await until("frames again", () => (r.store.latest()?.seq ?? 0) > seqBefore);
      expect(backMs).toBeLessThan(5000);
      expect(r.store.status().online).toBe(true);
      // The new Worker numbers its frames on from the dead one's.
      expect(r.store.latest()?.seq).toBeGreaterThan(seqBefore);
      expect(r.factory.spawned).toEqual([
        "detect-worker:fake-detect-worker.ts",
        "capture-worker:dying-capture-worker.ts",
        "capture-worker:fake-capture-worker.ts",
      ]);
      const died = r.log.lines.filter((l) => l.includes("capture Worker stopped"));
      expect(died).toHaveLength(1);
      expect(died[0]).toContain(why);
      // The status listeners saw it go and come back.
      expect(r.statuses.some((s) => !s.online && s.offlineReason?.includes(why))).toBe(true);
      expect(r.statuses.at(-1)?.online).toBe(true);
    }, 20000);
  }

  test("one that keeps dying is restarted with backoff and logged once", async () => {
    const r = await start(
      "fatal",
      { "capture-worker": [DYING_CAPTURE], "detect-worker": [FAKE_DETECT] },
      20,
    );
    r.store.setWantAnnotated(true);
    await until("three restarts", () => r.factory.spawned.length >= 5);
    expect(r.log.lines.filter((l) => l.includes("capture Worker stopped"))).toHaveLength(1);
    await r.p.stop();
    const spawned = r.factory.spawned.length;
    await Bun.sleep(200);
    expect(r.factory.spawned.length).toBe(spawned);
  }, 20000);
});

test("a detect Worker that dies after startup: no backend meanwhile, then back", async () => {
  const r = await start("ok", {
    "capture-worker": [FAKE_CAPTURE],
    "detect-worker": [DYING_DETECT, FAKE_DETECT],
  });
  await until("the backend to go", () => r.store.status().backend === null);
  expect(r.store.status().lastError).toContain("detector thread bug");
  await until("the backend to come back", () => r.store.status().backend === "cpu");
  expect(r.log.lines.filter((l) => l.includes("detect Worker stopped"))).toHaveLength(1);
  // The camera never stopped.
  expect(r.store.status().online).toBe(true);
}, 20000);

describe("startup", () => {
  test("a fatal error at startup is startPipeline's error; nothing is restarted", async () => {
    const store = new PipelineStore({ source: "x", model: "m" });
    const factory = scripts({
      "capture-worker": [DYING_CAPTURE],
      "detect-worker": [FAKE_DETECT],
    });
    const err = await startPipeline({
      config: config("fatal-at-start"),
      archive,
      store,
      workers: factory,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ENODEV", message: "camera 7: no such device", exitCode: 2 });
    await Bun.sleep(700);
    expect(factory.spawned).toHaveLength(2);
  });

  test("an aborted start stops the Workers and rejects with the signal's reason", async () => {
    const store = new PipelineStore({ source: "x", model: "m" });
    const ac = new AbortController();
    const starting = startPipeline({
      config: config("hang"),
      archive,
      store,
      workers: scripts({ "capture-worker": [DYING_CAPTURE], "detect-worker": [FAKE_DETECT] }),
      signal: ac.signal,
    });
    await Bun.sleep(100);
    const t0 = performance.now();
    ac.abort(new Error("SIGINT"));
    await expect(starting).rejects.toThrow("SIGINT");
    // Both Workers acknowledged the stop: no wait for the 0.7 s timeout.
    expect(performance.now() - t0).toBeLessThan(600);
    expect(store.status().online).toBe(false);
  });

  test("an already aborted signal starts nothing", async () => {
    const factory = scripts({ "capture-worker": [FAKE_CAPTURE], "detect-worker": [FAKE_DETECT] });
    const starting = startPipeline({
      config: config("ok"),
      archive,
      store: new PipelineStore({ source: "x", model: "m" }),
      workers: factory,
      signal: AbortSignal.abort(new Error("too late")),
    });
    await expect(starting).rejects.toThrow("too late");
    expect(factory.spawned).toEqual([]);
  });
});

test("the real Workers: capture dies, the new one reaches the same detector", async () => {
  const clip = join(root, "test/fixtures/people_640x480_q5.mjpeg");
  const store = new PipelineStore({ source: clip, model: "m" });
  const log = memoryLog();
  const real = (name: WorkerName): string => workerUrl(name);
  const p = await startPipeline({
    config: { ...config(clip), cooldownSec: 1000 },
    archive,
    store,
    workers: scripts({
      "capture-worker": [DYING_CAPTURE, real("capture-worker")],
      "detect-worker": [real("detect-worker")],
    }),
    log,
  });
  running.push(p);
  expect(store.status().backend).toBe("cpu");
  // The dying script's config.cam is the clip path: it throws.
  store.setWantAnnotated(true);
  await until("the capture Worker to die", () => !store.status().online);
  const results: number[] = [];
  store.on("result", (res) => results.push(res.detectSeq));
  await until("two detection results from the new capture Worker", () => results.length >= 2);
  // A result can come back before the next frame is published (inference faster than frames).
  await until("a frame that carries a result", () => (store.latest()?.detectSeq ?? 0) >= 1);
  expect(store.status().online).toBe(true);
  expect(store.annotatedJpeg()?.[0]).toBe(0xff);
}, 30000);
