/**
 * Visit clips in the running program (issue 12): the clip core (src/clips/) plugged into the
 * pipeline's store and the scene feed, its rows in the archive's index (migration 3), its state
 * in /status. Main thread; every file operation is the core's async I/O, so neither a frame nor
 * an HTTP request ever waits for the disk.
 *
 *   const clips = await startClips({ config, archive, store, feed? });  // before the pipeline
 *   clips.connectScene(feed)        // the scene engine's visits and tracks (if it starts later)
 *   clips.service                   // ServerDeps.clips: rows, /status, clipUrl
 *   clips.clipUrl(visitId, base)    // the visit's replay URL for its MQTT/webhook message
 *   await clips.close()             // at stop: after the pipeline, before the archive
 *
 * - Startup, before the first frame: recoverClips (what a kill -9 left: kept to the last whole
 *   frame, or removed) and reconcileClips (rows = files), one log line if anything was recovered.
 * - Frames: every store "frame" (seq, grabbedAt, the camera's JPEG) goes to the recorder with its
 *   overlay (clip-overlay.ts): the detections at or above the threshold and the latest scene
 *   update's confirmed tracks; and with the zones file (`zones`) the config in force, which the
 *   index records where a clip starts and where it changed (the player draws the zones of then).
 * - Visits (SceneFeed.onVisit): "open" → visitOpened(id, visit.start), so the pre-roll counts
 *   from the start the visit rules backdated to the zone entry; "close" → visitClosed(id, e.at),
 *   so the post-roll counts from the close time (the end + --visit-gap).
 * - The ring keeps clip-pre + the open delay (OpenDelay: --min-frames at the observed result
 *   rate), widened as results come; tick() every second ends a post-roll when frames stop.
 * - Rows follow the writer (recordClipEvent); retention (src/events/retention.ts enforceClips,
 *   through archive.enforce()) runs when a clip starts and ends, and every 30 s while recording.
 */
import type { Archive } from "../events/archive.ts";
import { ClipRecorder, type ClipOptions } from "../clips/recorder.ts";
import { recoverClips, recoverySummary } from "../clips/recover.ts";
import {
  clipCount,
  clipsForVisit,
  clipByFile,
  reconcileClips,
  recordClipEvent,
  totalClipBytes,
} from "../clips/store.ts";
import { CLIPS_DIR } from "../clips/format.ts";
import type { ClipEvent } from "../clips/writer.ts";
import type { Config } from "../shared/config.ts";
import { errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { ClipsStatusJson } from "../shared/status.ts";
import type { FrameState } from "../shared/types.ts";
import { join } from "node:path";
import { OpenDelay, OverlayCache } from "./clip-overlay.ts";
import type { ClipsService } from "./clips-api.ts";
import type { SceneFeed, VisitEvent, ZonesConfig, ZonesService } from "./scene-api.ts";
import type { PipelineStore } from "./store.ts";

export type { ClipsService } from "./clips-api.ts";

/** "The camera's rate, at most 15": the plan thins by time and never adds frames. */
export const DEFAULT_CLIP_FPS = 15;
const TICK_MS = 1000;
const RETENTION_WHILE_RECORDING_MS = 30_000;
/** /status is polled often: the SUM over the clips table is taken at most this often. */
const TOTALS_TTL_MS = 1000;

export interface ClipsStartOptions {
  config: Pick<Config, "outdir" | "threshold" | "clips" | "scene">;
  /** Its index holds the clips table; its retention covers the clips. */
  archive: Pick<Archive, "database" | "enforce" | "outdir">;
  store: Pick<PipelineStore, "on">;
  feed?: SceneFeed;
  /** The zones file: its config in force goes into the clip index (player). */
  zones?: Pick<ZonesService, "current" | "onChange">;
  /** Writer queue bound (tests). */
  maxQueueBytes?: number;
  log?: Logger;
  /** Clock of tick() and the retention timer (tests). */
  now?: () => number;
}

export interface Clips {
  readonly service: ClipsService;
  readonly recorder: ClipRecorder;
  /** Subscribes to the scene engine's visits and tracks; returns the unsubscribe. */
  connectScene(feed: SceneFeed): () => void;
  clipUrl(visitId: number, base?: string): string | null;
  /** Everything handed to the writer so far is on disk (tests). */
  idle(): Promise<void>;
  /** Finishes the open clip and stops; idempotent. */
  close(): Promise<void>;
}

/** Config.clips as the recorder takes it. */
export function recorderOptions(c: Config["clips"]): ClipOptions {
  return {
    enabled: c.enabled,
    preSec: c.preSec,
    postSec: c.postSec,
    maxSec: c.maxSec,
    fps: c.fps ?? DEFAULT_CLIP_FPS,
    bufferMb: c.bufferMb,
  };
}

/** Finishes what a crash left and brings the rows in line with the folder. */
async function recover(o: ClipsStartOptions, log: Logger): Promise<void> {
  const done = await recoverClips(o.archive.outdir);
  if (done.length > 0) log.info(recoverySummary(done));
  const r = await reconcileClips(o.archive.database(), o.archive.outdir, done);
  if (r.added || r.removed || r.settled) {
    log.info(
      `clips reconciled: ${r.added} added, ${r.removed} removed (files gone), ${r.settled} settled`,
    );
  }
}

export async function startClips(o: ClipsStartOptions): Promise<Clips> {
  const log = o.log ?? logger("clips");
  await recover(o, log);
  const wiring = new ClipsWiring(o, log);
  if (o.feed) wiring.connectScene(o.feed);
  const c = o.config.clips;
  if (wiring.recorder.enabled) {
    const fps = c.fps === null ? `the camera's, at most ${DEFAULT_CLIP_FPS}` : String(c.fps);
    log.info(
      `${c.preSec} s before a visit, ${c.postSec} s after, at most ${c.maxSec} s each, fps ${fps}, buffer ${c.bufferMb} MB`,
    );
  }
  return wiring;
}

class ClipsWiring implements Clips {
  readonly recorder: ClipRecorder;
  readonly service: ClipsService;
  private readonly overlay: OverlayCache;
  private readonly delay: OpenDelay;
  private readonly unsubs: (() => void)[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly now: () => number;
  private closing: Promise<void> | null = null;
  private lastRetentionMs = 0;
  /** The zones config in force (same object until it changes), or undefined without zones. */
  private zones: ZonesConfig | undefined = undefined;
  private totals: { atMs: number; bytes: number; total: number } | null = null;

  constructor(
    private readonly o: ClipsStartOptions,
    private readonly log: Logger,
  ) {
    this.now = o.now ?? Date.now;
    this.overlay = new OverlayCache(o.config.threshold);
    this.delay = new OpenDelay(o.config.scene.minFrames);
    this.recorder = new ClipRecorder({
      outdir: o.archive.outdir,
      options: recorderOptions(o.config.clips),
      onEvent: (e) => this.onClipEvent(e),
      maxQueueBytes: o.maxQueueBytes,
      ringMarginMs: this.delay.delayMs(),
      log,
    });
    this.service = this.makeService();
    if (this.recorder.enabled) {
      if (o.zones) {
        this.zones = o.zones.current();
        this.unsubs.push(o.zones.onChange((c) => (this.zones = c)));
      }
      this.unsubs.push(o.store.on("frame", (s) => this.frame(s)));
      this.unsubs.push(
        o.store.on("result", (r) => {
          this.overlay.result(r);
          this.recorder.setRingMargin(this.delay.result(r.grabbedAt));
        }),
      );
    }
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref?.();
  }

  connectScene(feed: SceneFeed): () => void {
    if (!this.recorder.enabled || this.closing) return () => undefined;
    const offVisit = feed.onVisit((e) => this.visit(e));
    const offUpdate = feed.onUpdate((u) => this.overlay.scene(u));
    const off = (): void => {
      offVisit();
      offUpdate();
    };
    this.unsubs.push(off);
    return off;
  }

  clipUrl(visitId: number, base = ""): string | null {
    return this.service.clipUrl(visitId, base);
  }

  idle(): Promise<void> {
    return this.recorder.idle();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      for (const off of this.unsubs.splice(0)) off();
      await this.recorder.close();
    })();
    return this.closing;
  }

  private frame(s: FrameState): void {
    this.recorder.frame({
      seq: s.seq,
      atMs: s.grabbedAt,
      jpeg: s.jpeg,
      overlay: this.overlay.of(s),
      zones: this.zones,
    });
  }

  private visit(e: VisitEvent): void {
    if (e.type === "open") this.recorder.visitOpened(e.visit.id, e.visit.start);
    else this.recorder.visitClosed(e.visit.id, e.at);
  }

  private tick(): void {
    const now = this.now();
    this.recorder.tick(now);
    if (
      this.recorder.stats().recording &&
      now - this.lastRetentionMs >= RETENTION_WHILE_RECORDING_MS
    ) {
      this.retention();
    }
  }

  /** Rows follow the writer; each clip start and end also runs retention (clips first). */
  private onClipEvent(e: ClipEvent): void {
    this.totals = null;
    try {
      recordClipEvent(this.o.archive.database(), e);
    } catch (err) {
      this.log.once("row", "error", `cannot record clip ${clipName(e)}: ${errorMessage(err)}`);
      return;
    }
    this.log.clear("row");
    if (e.kind === "finished" && e.error) {
      this.log.warn(`clip ${e.clip.file} ended early: ${e.error.message} (${e.error.code})`);
    }
    if (e.kind !== "discarded") this.retention();
  }

  private retention(): void {
    this.lastRetentionMs = this.now();
    try {
      this.o.archive.enforce();
    } catch (err) {
      this.log.once("retention", "warn", `clip retention failed: ${errorMessage(err)}`);
    }
  }

  private storeTotals(): { bytes: number; total: number } {
    const now = this.now();
    if (!this.totals || now - this.totals.atMs >= TOTALS_TTL_MS || now < this.totals.atMs) {
      const db = this.o.archive.database();
      this.totals = { atMs: now, bytes: totalClipBytes(db), total: clipCount(db) };
    }
    return this.totals;
  }

  private makeService(): ClipsService {
    const db = () => this.o.archive.database();
    return {
      dir: join(this.o.archive.outdir, CLIPS_DIR),
      byFile: (name) => clipByFile(db(), name),
      forVisit: (id) => clipsForVisit(db(), id),
      status: () => ({ ...this.storeTotals(), recorder: recorderStatus(this.recorder) }),
      clipUrl: (id, base = "") =>
        this.recorder.enabled || clipsForVisit(db(), id).length > 0
          ? `${base}/api/visits/${id}/clip.mjpeg`
          : null,
    };
  }
}

function clipName(e: ClipEvent): string {
  return e.kind === "discarded" ? (e.file ?? `#${e.clip}`) : e.clip.file;
}

export function recorderStatus(rec: ClipRecorder): ClipsStatusJson {
  const s = rec.stats();
  return {
    enabled: s.enabled,
    buffer_bytes: s.bufferBytes,
    buffer_frames: s.bufferFrames,
    buffer_ms: s.bufferSpanMs,
    buffer_max_bytes: Math.max(0, rec.options.bufferMb) * 2 ** 20,
    buffer_max_ms: s.bufferMaxAgeMs,
    recording: s.recording ? { visit_id: s.recording.visitId, part: s.recording.part } : null,
    queue_frames: s.queuedFrames,
    queue_bytes: s.queuedBytes,
    written_frames: s.writtenFrames,
    dropped_frames: s.droppedFrames + s.lostFrames,
    last_error: s.lastError ? `${s.lastError.code}: ${s.lastError.message}` : null,
  };
}
