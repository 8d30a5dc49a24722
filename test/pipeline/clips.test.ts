/**
 * The clips wired into the pipeline (src/pipeline/clips.ts): real frames of the bundled clip
 * through a real PipelineStore, visits from a fake SceneFeed driven by the real SceneAnalyzer
 * (test/pipeline/clips-wire-lib.ts), rows in a real archive. Issue 12's acceptance on the first
 * pass at 10 fps: the woman's visit (from frame 106) has a clip that starts --clip-pre earlier,
 * on the empty frames, and goes on --clip-post after her visit closes.
 */
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import { parseIndex } from "../../src/clips/format.ts";
import { buildStatus } from "../../src/http/status.ts";
import type { ClipOverlay } from "../../src/pipeline/clips-api.ts";
import type { VisitEvent } from "../../src/pipeline/scene-api.ts";
import { expectPlays, ffprobeFrames, hasFfprobe, listClips } from "../http/clips-lib.ts";
import { makeFake } from "../http/fake-deps.ts";
import {
  T0,
  closeRig,
  play,
  publishFrame,
  publishResult,
  removeTmpOutdirs,
  rig,
  tmpOutdir,
  type Rig,
} from "./clips-wire-lib.ts";

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await closeRig(r);
  removeTmpOutdirs();
});

async function started(o: Parameters<typeof rig>[0] = {}): Promise<Rig> {
  const r = await rig(o);
  rigs.push(r);
  return r;
}

function visitEvent(r: Rig, type: VisitEvent["type"], id: number): VisitEvent {
  const e = r.feed.events.find((v) => v.type === type && v.visit.id === id);
  if (!e) throw new Error(`no ${type} event of visit ${id}: ${JSON.stringify(r.feed.events)}`);
  return e;
}

const base = (file: string): string => file.replace(/\.mjpeg$/, "");
const sec = (ms: number): number => (ms - T0) / 1000;

describe("the woman's visit on the bundled clip at 10 fps", () => {
  test("its clip starts clip-pre before the visit, on empty frames, and ends clip-post after it closes", async () => {
    const r = await started();
    // First pass, then the next one until the man has left and her post-roll is over (30 s).
    play(r.store, r.feed, { from: 0, to: 300, fps: 10 });
    await r.clips.idle();
    const open = visitEvent(r, "open", 2);
    const close = visitEvent(r, "close", 2);
    expect(sec(open.visit.start)).toBeCloseTo(10.6, 0);
    const [clip, ...more] = r.clips.service.forVisit(2);
    expect(more).toEqual([]);
    expect(clip).toMatchObject({ status: "complete", reason: "post-roll", part: 1 });
    // Within one frame (100 ms) of start - 3 s and close + 3 s.
    const fromMs = open.visit.start - 3000;
    expect(clip!.startMs).toBeGreaterThanOrEqual(fromMs);
    expect(clip!.startMs).toBeLessThan(fromMs + 100);
    expect(clip!.endMs).toBeLessThanOrEqual(close.at + 3000);
    expect(clip!.endMs).toBeGreaterThan(close.at + 3000 - 100);
    // Every frame (10 fps is under the default 15), the times 100 ms apart.
    const frames = expectPlays(r.dir, base(clip!.file));
    expect(frames).toHaveLength((clip!.endMs - clip!.startMs) / 100 + 1);
    expect(clip!.frames).toBe(frames.length);
    expect(frames.every((f, i) => i === 0 || f.t - frames[i - 1]!.t === 100)).toBe(true);
    // The pre-roll is the empty frames before her; later frames carry her box and track id.
    const overlays = frames.map((f) => f.d as ClipOverlay);
    const firstSeen = overlays.findIndex((o) => o.det.length > 0);
    expect(firstSeen).toBeGreaterThanOrEqual(25);
    expect(overlays.some((o) => (o.tracks ?? []).some((t) => t.id > 0))).toBe(true);
    if (hasFfprobe()) {
      expect(ffprobeFrames(join(r.dir, "clips", clip!.file))).toBe(frames.length);
    }
  });

  test("the man's clip starts on the first frame; the replay URL is given for both", async () => {
    const r = await started();
    play(r.store, r.feed, { from: 0, to: 300, fps: 10 });
    await r.clips.idle();
    const [man] = r.clips.service.forVisit(1);
    expect(man).toMatchObject({ status: "complete", reason: "post-roll", startMs: T0 });
    expect(r.clips.clipUrl(1)).toBe("/api/visits/1/clip.mjpeg");
    expect(r.clips.clipUrl(2, "http://pi:8080")).toBe("http://pi:8080/api/visits/2/clip.mjpeg");
    expect(listClips(r.dir).filter((n) => n.startsWith("."))).toEqual([]);
  });
});

describe("/status", () => {
  test("clips_bytes and clips_total count the files; the ring and the writer are reported", async () => {
    const r = await started();
    play(r.store, r.feed, { from: 0, to: 300, fps: 10 });
    await r.clips.idle();
    const fake = makeFake();
    try {
      const st = buildStatus(
        { ...fake.deps, clips: r.clips.service },
        { videoClients: 0, sseClients: 0 },
      );
      const dir = join(r.dir, "clips");
      const onDisk = fs.readdirSync(dir).reduce((a, n) => a + fs.statSync(join(dir, n)).size, 0);
      expect(st.clips_bytes).toBe(onDisk);
      expect(st.clips_total).toBe(2);
      const c = st.clips!;
      expect(c).toMatchObject({
        enabled: true,
        recording: null,
        dropped_frames: 0,
        last_error: null,
      });
      expect(c.buffer_frames).toBeGreaterThan(30);
      expect(c.buffer_bytes).toBeLessThanOrEqual(c.buffer_max_bytes);
      expect(c.buffer_max_bytes).toBe(32 * 2 ** 20);
      // clip-pre 3 s + (min-frames 3 + 2) results at 100 ms + 1 s.
      expect(c.buffer_max_ms).toBe(4500);
      expect(c.buffer_ms).toBeLessThanOrEqual(4500);
      expect(c.written_frames).toBeGreaterThan(300);
      // Without the clips: zeros, as before issue 12.
      const none = buildStatus(fake.deps, { videoClients: 0, sseClients: 0 });
      expect([none.clips_bytes, none.clips_total, none.clips]).toEqual([0, 0, null]);
    } finally {
      fake.cleanup();
    }
  });

  test("while her visit is open, /status names the clip being recorded", async () => {
    const r = await started();
    play(r.store, r.feed, { from: 0, to: 150, fps: 10 });
    expect(r.clips.service.status().recorder.recording).toEqual({ visit_id: 2, part: 1 });
  });
});

describe("a slow detector", () => {
  test("a result every 4th frame and 1 s late: the ring keeps enough for the whole pre-roll", async () => {
    const r = await started();
    // Results only for every 4th frame (a detector at 2.5 results/s), each arriving 1 s late.
    for (let i = 0; i < 300; i++) {
      publishFrame(r.store, i, 10);
      if (i >= 10 && (i - 10) % 4 === 0) publishResult(r.store, r.feed, i - 10, 10);
    }
    await r.clips.idle();
    const open = visitEvent(r, "open", 2);
    const [clip] = r.clips.service.forVisit(2);
    expect(clip!.startMs).toBeLessThan(open.visit.start - 3000 + 100);
    expect(r.clips.service.status().recorder.buffer_max_ms).toBe(3000 + 5 * 400 + 1000);
  });
});

describe("startup and stop", () => {
  test("a clip cut by a crash is kept up to its last whole frame at the next start, and the index says so", async () => {
    const dir = tmpOutdir();
    const crashed = await started({ dir });
    play(crashed.store, crashed.feed, { from: 0, to: 170, fps: 10 });
    await crashed.clips.idle();
    // What kill -9 leaves: the recording files as they are (and half a frame more), the row
    // still "recording". The copy is taken while the first run still has the clip open.
    const copy = tmpOutdir();
    fs.cpSync(dir, copy, { recursive: true });
    const part = fs
      .readdirSync(join(copy, "clips"))
      .find((n) => n.startsWith(".part-") && n.endsWith(".mjpeg"))!;
    fs.appendFileSync(join(copy, "clips", part), new Uint8Array([0xff, 0xd8, 1, 2, 3]));
    const r = await started({ dir: copy });
    expect(r.log.lines.join("\n")).toContain(
      "unfinished clips after a crash: 1 kept up to their last whole frame, 0 whole, 0 removed",
    );
    const [clip] = r.clips.service.forVisit(2);
    expect(clip).toMatchObject({ status: "recovered", reason: "crash" });
    const frames = expectPlays(copy, base(clip!.file));
    expect(clip!.frames).toBe(frames.length);
    expect(clip!.endMs).toBe(frames.at(-1)!.t);
    const idx = parseIndex(new Uint8Array(fs.readFileSync(join(copy, "clips", clip!.index))));
    expect(idx.trailer).toMatchObject({ end: "recovered", frames: frames.length });
    expect(listClips(copy).filter((n) => n.startsWith("."))).toEqual([]);
  });

  test("close() finishes the open clip ('stopping'), unsubscribes, and is idempotent", async () => {
    const r = await started();
    play(r.store, r.feed, { from: 0, to: 150, fps: 10 });
    expect(r.feed.listeners).toBe(2);
    await Promise.all([r.clips.close(), r.clips.close()]);
    expect(r.feed.listeners).toBe(0);
    const [clip] = r.clips.service.forVisit(2);
    expect(clip).toMatchObject({ status: "complete", reason: "stopping" });
    expectPlays(r.dir, base(clip!.file));
    // Frames after close() are ignored.
    play(r.store, r.feed, { from: 150, to: 160, fps: 10 });
    expect(r.clips.service.status().recorder.buffer_frames).toBe(0);
  });

  test("--no-clips: nothing is buffered or written, stored clips are still listed", async () => {
    const dir = tmpOutdir();
    const first = await started({ dir });
    play(first.store, first.feed, { from: 0, to: 300, fps: 10 });
    await closeRig(rigs.pop()!);
    const r = await started({ dir, clips: { enabled: false } });
    play(r.store, r.feed, { from: 0, to: 300, fps: 10, t0: T0 + 3_600_000 });
    await r.clips.idle();
    const st = r.clips.service.status();
    expect(st.total).toBe(2);
    expect(st.recorder).toMatchObject({ enabled: false, buffer_frames: 0, written_frames: 0 });
    expect(r.feed.listeners).toBe(0);
    expect(r.clips.clipUrl(2)).toBe("/api/visits/2/clip.mjpeg");
    expect(r.clips.clipUrl(99)).toBeNull();
  });
});
