/**
 * The clip recorder: the one seam the pipeline plugs clips into (main thread). It feeds every
 * captured frame to the pre-roll ring and the plan, and the plan's actions to the writer.
 *
 * API:
 *   const rec = new ClipRecorder({ outdir, options, onEvent: (e) => recordClipEvent(db, e) });
 *   rec.frame({ seq, atMs: s.grabbedAt, jpeg: s.jpeg, overlay: { detections, tracks } });
 *   rec.visitOpened(visit.id, visit.startMs);   // the visit's start time
 *   rec.visitClosed(visit.id, closedAtMs);      // when the visit closed (post-roll counts from it)
 *   rec.tick(Date.now());                       // e.g. every second: ends a post-roll when
 *                                               // the camera stopped delivering frames
 *   rec.stats()                                 // /status: buffer bytes and frames, queue, drops
 *   await rec.close();                          // on shutdown: finishes the open clip
 * Startup, before the first frame: `await recoverClips(outdir)` then `reconcileClips(...)`.
 *
 * Disabled (`enabled: false`, or preSec = postSec = 0): frames are not even buffered.
 * frame() does no I/O and no copy (ring.ts: the JPEG is kept by reference, so a caller must not
 * reuse the buffer); the writer's queue is bounded (writer.ts).
 */
import type { Logger } from "../shared/log.ts";
import { ClipPlan, DEFAULT_PLAN, type PlanOptions } from "./plan.ts";
import { FrameRing, type RingFrame } from "./ring.ts";
import { ClipWriter, type ClipEvent, type WriterStats } from "./writer.ts";

export interface ClipOptions extends PlanOptions {
  /** Pre-roll ring budget in MiB (--clip-buffer-mb, default 32). */
  bufferMb: number;
}

export const DEFAULT_CLIP_OPTIONS: Readonly<ClipOptions> = { ...DEFAULT_PLAN, bufferMb: 32 };

/**
 * The ring keeps at least this much more than the pre-roll: a visit's open event arrives after
 * detection, so its start time is already a few frames old. It is the floor: the pipeline widens
 * the margin with setRingMargin() to the delay it observes (src/pipeline/clips.ts: --min-frames
 * results at the observed result interval), and the byte budget bounds the ring anyway.
 */
export const RING_MARGIN_MS = 1000;

export interface RecorderOptions {
  outdir: string;
  options?: Partial<ClipOptions>;
  onEvent?: (e: ClipEvent) => void;
  /** Writer queue bound in bytes (writer.ts default 8 MiB). */
  maxQueueBytes?: number;
  /** Ring age beyond the pre-roll, in ms (default RING_MARGIN_MS; see setRingMargin). */
  ringMarginMs?: number;
  log?: Logger;
}

export interface RecorderStats extends WriterStats {
  enabled: boolean;
  bufferBytes: number;
  bufferFrames: number;
  /** Capture time between the oldest and the newest frame of the ring, ms (0 when empty). */
  bufferSpanMs: number;
  /** The ring's age bound: pre-roll + margin, ms. */
  bufferMaxAgeMs: number;
  /** The plan's clip being recorded, or null. */
  recording: { clip: number; visitId: number; part: number } | null;
}

export class ClipRecorder {
  private readonly plan: ClipPlan<RingFrame>;
  private readonly ring: FrameRing;
  private readonly writer: ClipWriter;
  readonly options: Readonly<ClipOptions>;
  private closed = false;

  constructor(opts: RecorderOptions) {
    this.options = { ...DEFAULT_CLIP_OPTIONS, ...opts.options };
    this.plan = new ClipPlan<RingFrame>(this.options);
    this.ring = new FrameRing({
      maxBytes: Math.max(0, this.options.bufferMb) * 2 ** 20,
      maxAgeMs: this.preMs() + Math.max(RING_MARGIN_MS, opts.ringMarginMs ?? 0),
    });
    this.writer = new ClipWriter({
      outdir: opts.outdir,
      maxQueueBytes: opts.maxQueueBytes,
      onEvent: opts.onEvent,
      log: opts.log,
    });
  }

  get enabled(): boolean {
    return this.plan.enabled;
  }

  frame(f: RingFrame): void {
    if (!this.plan.enabled || this.closed) return;
    this.ring.push(f);
    this.writer.apply(this.plan.frame(f));
  }

  visitOpened(visitId: number, atMs: number): void {
    this.writer.apply(this.plan.open(visitId, atMs, this.ring.since(atMs - this.preMs())));
  }

  visitClosed(visitId: number, atMs: number): void {
    this.writer.apply(this.plan.close(visitId, atMs));
  }

  /**
   * How much older than the newest frame the ring keeps frames beyond the pre-roll (ms, at least
   * RING_MARGIN_MS): the longest delay expected between a visit's start and its open event.
   */
  setRingMargin(ms: number): void {
    this.ring.setMaxAge(this.preMs() + Math.max(RING_MARGIN_MS, ms));
  }

  tick(nowMs: number): void {
    this.writer.apply(this.plan.tick(nowMs));
  }

  stats(): RecorderStats {
    return {
      ...this.writer.stats(),
      enabled: this.plan.enabled,
      bufferBytes: this.ring.bytes,
      bufferFrames: this.ring.frames,
      bufferSpanMs: (this.ring.latest()?.atMs ?? 0) - (this.ring.oldest()?.atMs ?? 0),
      bufferMaxAgeMs: this.ring.maxAge,
      recording: this.plan.recording,
    };
  }

  /** Resolves when every frame given so far is on disk (tests, benchmarks). */
  idle(): Promise<void> {
    return this.writer.idle();
  }

  /** Finishes the open clip ("stopping") and waits for the disk; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.writer.apply(this.plan.stop());
    this.ring.clear();
    await this.writer.close();
  }

  private preMs(): number {
    return Math.max(0, this.options.preSec) * 1000;
  }
}
