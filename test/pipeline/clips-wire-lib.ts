/**
 * Helpers of the clips wiring tests: a fake SceneFeed driven by the real SceneAnalyzer over the
 * bundled clip's recorded detections (what the scene engine will do, without its store), a
 * real PipelineStore fed with the clip's real JPEGs, and a real archive in a temp folder.
 */
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Archive } from "../../src/events/archive.ts";
import type { VisitRecord } from "../../src/events/visit-types.ts";
import { startClips, type Clips } from "../../src/pipeline/clips.ts";
import type { SceneFeed, SceneUpdate, VisitEvent } from "../../src/pipeline/scene-api.ts";
import { PipelineStore } from "../../src/pipeline/store.ts";
import type { ClipsConfig, Config } from "../../src/shared/config.ts";
import type { SceneStatusJson } from "../../src/shared/status.ts";
import type { Box, Detection, FrameState } from "../../src/shared/types.ts";
import { SceneAnalyzer } from "../../src/track/scene.ts";
import type { Visit } from "../../src/track/visits.ts";
import { JPEGS } from "../http/clips-lib.ts";
import { memoryLog } from "../unit/fake-capture.ts";

export { JPEGS };

const clip = JSON.parse(
  fs.readFileSync(join(import.meta.dir, "../fixtures/people_clip_detections.json"), "utf8"),
) as { frames: { index: number; people: { score: number; box: Box }[] }[] };

/** A fixed local time, so that clip names are known: 2024-05-01 12:00:00.000. */
export const T0 = new Date(2024, 4, 1, 12, 0, 0).getTime();
export const THRESHOLD = 0.5;

/** The person detections of frame i of the looping clip (every score, for the tracker). */
export function detectionsOf(i: number): Detection[] {
  const f = clip.frames[i % clip.frames.length]!;
  return f.people.map((p) => ({ classId: 0, label: "person", score: p.score, box: p.box }));
}

export function visitRecord(v: Visit, open: boolean): VisitRecord {
  return {
    id: v.id,
    start: v.startMs,
    end: v.endMs,
    open,
    durationMs: v.endMs - v.startMs,
    zones: v.zones,
    people: v.trackIds.length,
    maxPeople: v.maxPeople,
    crossings: v.crossings,
    image: null,
    thumb: null,
    stills: 0,
  };
}

/**
 * --visit-gap of the tests: 2 s, so that the woman's visit closes (2 s after the man of the next
 * pass left, at 24.2 s) and her post-roll ends (29.2 s) before she comes back at 30.6 s. With
 * the default 5 s her visit would close at 29.2 s and her clip end early ("next-visit").
 */
export const VISIT_GAP_SEC = 2;

/** SceneFeed over a SceneAnalyzer: `result()` plays the scene engine's part for one result. */
export class AnalyzerFeed implements SceneFeed {
  readonly analyzer = new SceneAnalyzer({ threshold: THRESHOLD, visitGapSec: VISIT_GAP_SEC });
  readonly events: VisitEvent[] = [];
  private readonly updates = new Set<(u: SceneUpdate) => void>();
  private readonly visits = new Set<(e: VisitEvent) => void>();

  onUpdate(cb: (u: SceneUpdate) => void): () => void {
    this.updates.add(cb);
    return () => void this.updates.delete(cb);
  }

  onVisit(cb: (e: VisitEvent) => void): () => void {
    this.visits.add(cb);
    return () => void this.visits.delete(cb);
  }

  statusJson(): SceneStatusJson {
    return {
      tracks: [],
      zone_people: {},
      people_in_zones: 0,
      lines: {},
      day: "",
      visit: null,
      zones_error: null,
    };
  }

  get listeners(): number {
    return this.updates.size + this.visits.size;
  }

  result(detections: Detection[], atMs: number): SceneUpdate {
    const u = this.analyzer.update(detections, atMs);
    for (const cb of this.updates) cb(u);
    if (u.visit.closed)
      this.emit({ type: "close", at: atMs, visit: visitRecord(u.visit.closed, false) });
    if (u.visit.opened)
      this.emit({ type: "open", at: atMs, visit: visitRecord(u.visit.opened, true) });
    return u;
  }

  emit(e: VisitEvent): void {
    this.events.push(e);
    for (const cb of this.visits) cb(e);
  }
}

export function frameState(i: number, fps: number, t0 = T0): FrameState {
  return {
    seq: i + 1,
    grabbedAt: t0 + Math.round((i * 1000) / fps),
    width: 640,
    height: 480,
    // A copy, as the capture Worker transfers one per frame.
    jpeg: JPEGS[i % JPEGS.length]!.slice(),
    detections: detectionsOf(i).filter((d) => d.score >= THRESHOLD),
    people: 0,
    inferMs: 20,
    detectSeq: i + 1,
    captureFps: fps,
    detectFps: fps,
    stageMs: { grab: 1, decode: 1, resize: 1, infer: 20 },
  };
}

const ONLINE = {
  online: true,
  offlineReason: null,
  captureFps: 10,
  framesCorrupt: 0,
  framesDropped: 0,
  lastError: null,
};

/** Publishes frame i of the looping clip at `fps`, as the capture Worker does. */
export function publishFrame(store: PipelineStore, i: number, fps: number, t0 = T0): void {
  store.setFrame(frameState(i, fps, t0), null, ONLINE);
}

/** The detection result of frame i reaches the store, and the scene engine (the feed). */
export function publishResult(
  store: PipelineStore,
  feed: AnalyzerFeed | null,
  i: number,
  fps: number,
  t0 = T0,
): void {
  const s = frameState(i, fps, t0);
  store.setResult({
    detectSeq: s.detectSeq,
    frameSeq: s.seq,
    grabbedAt: s.grabbedAt,
    width: 640,
    height: 480,
    detections: s.detections,
    low: [],
    jpeg: s.jpeg,
    people: s.detections.length,
    inferMs: 20,
  });
  feed?.result(detectionsOf(i), s.grabbedAt);
}

/**
 * Plays frames [from, to) of the looping clip at `fps` into the store; the result of frame i
 * arrives when frame i + lagFrames is published, as with a detector that takes that long.
 */
export function play(
  store: PipelineStore,
  feed: AnalyzerFeed | null,
  o: { from: number; to: number; fps: number; lagFrames?: number; t0?: number },
): void {
  const lag = o.lagFrames ?? 2;
  for (let i = o.from; i < o.to; i++) {
    publishFrame(store, i, o.fps, o.t0);
    if (i - lag >= o.from) publishResult(store, feed, i - lag, o.fps, o.t0);
  }
}

export const CLIPS: ClipsConfig = {
  enabled: true,
  preSec: 3,
  postSec: 3,
  maxSec: 120,
  fps: null,
  bufferMb: 32,
};

export interface Rig {
  dir: string;
  archive: Archive;
  store: PipelineStore;
  feed: AnalyzerFeed;
  clips: Clips;
  log: ReturnType<typeof memoryLog>;
}

const dirs: string[] = [];

export function tmpOutdir(): string {
  const d = fs.mkdtempSync(join(os.tmpdir(), "hazardcam-clipwire-"));
  dirs.push(d);
  return d;
}

export function removeTmpOutdirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function clipsConfig(over: Partial<ClipsConfig> = {}) {
  return {
    outdir: "",
    threshold: THRESHOLD,
    clips: { ...CLIPS, ...over },
    scene: {
      zonesPath: "",
      zonesFromFlag: false,
      minFrames: 3,
      lostSec: 2,
      visitGapSec: VISIT_GAP_SEC,
    },
  } satisfies Pick<Config, "outdir" | "threshold" | "clips" | "scene">;
}

/** An archive, a store, a feed and the clips wired to them, in a fresh or given outdir. */
export async function rig(
  o: {
    dir?: string;
    clips?: Partial<ClipsConfig>;
    archive?: Parameters<typeof Archive.open>[1];
  } = {},
): Promise<Rig> {
  const dir = o.dir ?? tmpOutdir();
  const log = memoryLog();
  const archive = Archive.open(dir, { keepDays: 0, minFreeMb: 0, log, ...o.archive });
  const store = new PipelineStore({ source: "clip", model: "m", log });
  const feed = new AnalyzerFeed();
  const config = { ...clipsConfig(o.clips), outdir: dir };
  const clips = await startClips({ config, archive, store, feed, log });
  return { dir, archive, store, feed, clips, log };
}

export async function closeRig(r: Rig): Promise<void> {
  await r.clips.close();
  await r.archive.close();
}
