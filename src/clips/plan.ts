/**
 * The clip state machine (pure: no I/O, no clock; every time is a frame's capture time or passed
 * in, in ms since epoch). It decides which frames go into which clip; writer.ts does the files.
 *
 * API:
 *   const plan = new ClipPlan<F>(options);          // F: anything with { atMs }
 *   plan.frame(f)                   → actions       // every captured frame, in capture order
 *   plan.open(visitId, atMs, recent) → actions      // a visit opened at atMs; recent: the ring's
 *                                                   // frames, oldest first (pre-roll source)
 *   plan.close(visitId, atMs)       → actions       // that visit closed at atMs
 *   plan.tick(nowMs)                → actions       // ends a post-roll when frames stopped coming
 *   plan.stop()                     → actions       // shutting down: finish the open clip
 * Actions, applied in order: start (a new clip), append (frames, oldest first), finish (reason).
 *
 * Rules:
 * - A clip starts when a visit opens at t, with the recent frames captured at or after
 *   t − preSec (all of them, also those captured after t: the open event comes after detection).
 *   Its start action is emitted with its first frame (firstMs), so a clip is never empty.
 * - Frames are appended while the visit is open and until postSec after it closes: the first
 *   frame captured after closeMs + postSec finishes the clip ("post-roll"), and is not in it.
 *   close() passes the time the visit closed; if the post-roll is already over by the newest
 *   frame seen, the clip finishes at once.
 * - A clip holds less than maxSec of capture time: the kept frame that would reach maxSec after
 *   the clip's first frame finishes it ("capped") and starts the next part of the same visit
 *   (part 2, 3...): every frame is in exactly one of the consecutive parts.
 * - fps thins by capture time, not count: time is cut into slots of 1000/fps ms from the first
 *   frame of the visit's clip (the grid carries across parts), and the first frame of each slot
 *   is kept. Over a duration D, a clip holds D × fps frames within one, at any camera rate or
 *   jitter, provided the camera delivers at least fps. fps 0 keeps every frame.
 * - Reopening during the post-roll (a visit opens while the previous one's clip is in its
 *   post-roll): the previous clip finishes at once ("next-visit") and the new visit gets its own
 *   clip with its full pre-roll, so every visit's clip starts preSec before it (issue 12's
 *   acceptance: the woman's clip starts on the empty frames). Up to preSec of frames are then in
 *   both clips; the clips never overlap otherwise.
 * - Visits open at the same time (should the visit logic ever allow that) share the clip of the
 *   first one, which stays open until all of them have closed; lookups by time find it.
 * - Disabled (`enabled: false`, or preSec = postSec = 0): every method returns no action.
 */

/** Why a clip ended. "error" is the writer's own (disk full), never the plan's. */
export type FinishReason = "post-roll" | "capped" | "next-visit" | "stopping" | "error";

export interface PlanOptions {
  enabled: boolean;
  /** Seconds before the visit's start (--clip-pre, default 3). */
  preSec: number;
  /** Seconds after the visit's close (--clip-post, default 3). */
  postSec: number;
  /** Longest clip in seconds of capture time (--clip-max, default 120). */
  maxSec: number;
  /** At most this many frames per second of capture time (--clip-fps); 0 = every frame. */
  fps: number;
}

/** The defaults of issue 12. fps 15 = "the camera's rate, at most 15": thinning never adds. */
export const DEFAULT_PLAN: Readonly<PlanOptions> = {
  enabled: true,
  preSec: 3,
  postSec: 3,
  maxSec: 120,
  fps: 15,
};

export type ClipAction<F> =
  | {
      kind: "start";
      /** Plan-local clip number, 1.., unique per ClipPlan. */
      clip: number;
      visitId: number;
      /** The visit's start (open) time: clips are named from it. */
      visitStartMs: number;
      /** 1 for a visit's first clip, 2.. for the consecutive clips of a capped visit. */
      part: number;
      /** Capture time of the clip's first frame. */
      firstMs: number;
    }
  | { kind: "append"; clip: number; frames: F[] }
  | { kind: "finish"; clip: number; reason: FinishReason; lastMs: number };

interface Active<F> {
  clip: number;
  visitId: number;
  visitStartMs: number;
  part: number;
  /** Visits sharing this clip that are still open. */
  open: Set<number>;
  /** Time the last of them closed; null while any is open. */
  closedMs: number | null;
  /** False until the clip's first frame (its start action is emitted with it). */
  started: boolean;
  firstMs: number;
  lastMs: number;
  last: F | null;
  /** Thinning grid: origin time of slot 0, and the last slot that had a frame kept. */
  originMs: number | null;
  lastSlot: number;
}

export class ClipPlan<F extends { atMs: number }> {
  private readonly opts: PlanOptions;
  private active: Active<F> | null = null;
  private nextClip = 1;
  /** Newest capture time seen through frame() or open(). */
  private seenMs = -Infinity;

  constructor(options: Partial<PlanOptions> = {}) {
    this.opts = { ...DEFAULT_PLAN, ...options };
  }

  get enabled(): boolean {
    return this.opts.enabled && (this.opts.preSec > 0 || this.opts.postSec > 0);
  }

  /** The clip being recorded, for /status and tests. */
  get recording(): { clip: number; visitId: number; part: number } | null {
    const a = this.active;
    return a ? { clip: a.clip, visitId: a.visitId, part: a.part } : null;
  }

  frame(f: F): ClipAction<F>[] {
    this.seenMs = Math.max(this.seenMs, f.atMs);
    const a = this.active;
    if (!a || !this.enabled) return [];
    if (a.last !== null && (f === a.last || f.atMs < a.lastMs)) return [];
    if (a.closedMs !== null && f.atMs > a.closedMs + this.opts.postSec * 1000) {
      return this.finish("post-roll");
    }
    return this.take(a, [f]);
  }

  open(visitId: number, atMs: number, recent: readonly F[]): ClipAction<F>[] {
    if (!this.enabled) return [];
    for (const f of recent) this.seenMs = Math.max(this.seenMs, f.atMs);
    const out: ClipAction<F>[] = [];
    const a = this.active;
    if (a && a.closedMs === null) {
      a.open.add(visitId);
      return out;
    }
    if (a) out.push(...this.finish("next-visit"));
    const fresh: Active<F> = {
      clip: this.nextClip++,
      visitId,
      visitStartMs: atMs,
      part: 1,
      open: new Set([visitId]),
      closedMs: null,
      started: false,
      firstMs: 0,
      lastMs: -Infinity,
      last: null,
      originMs: null,
      lastSlot: -1,
    };
    this.active = fresh;
    const fromMs = atMs - this.opts.preSec * 1000;
    out.push(
      ...this.take(
        fresh,
        recent.filter((f) => f.atMs >= fromMs),
      ),
    );
    return out;
  }

  close(visitId: number, atMs: number): ClipAction<F>[] {
    const a = this.active;
    if (!a || !a.open.delete(visitId) || a.open.size > 0) return [];
    a.closedMs = atMs;
    return this.tick(this.seenMs);
  }

  tick(nowMs: number): ClipAction<F>[] {
    const a = this.active;
    if (!a || a.closedMs === null || nowMs <= a.closedMs + this.opts.postSec * 1000) return [];
    return this.finish("post-roll");
  }

  stop(): ClipAction<F>[] {
    return this.active ? this.finish("stopping") : [];
  }

  /** Thins `frames` (oldest first) into the active clip, starting or capping clips as needed. */
  private take(a: Active<F>, frames: readonly F[]): ClipAction<F>[] {
    const out: ClipAction<F>[] = [];
    let batch: F[] = [];
    let cur = a;
    for (const f of frames) {
      if (!this.keep(cur, f)) continue;
      if (cur.started && f.atMs - cur.firstMs >= this.opts.maxSec * 1000) {
        if (batch.length > 0) out.push({ kind: "append", clip: cur.clip, frames: batch });
        batch = [];
        out.push({ kind: "finish", clip: cur.clip, reason: "capped", lastMs: cur.lastMs });
        cur = this.nextPart(cur);
      }
      if (!cur.started) {
        cur.started = true;
        cur.firstMs = f.atMs;
        out.push(this.startAction(cur));
      }
      batch.push(f);
      cur.last = f;
      cur.lastMs = f.atMs;
    }
    if (batch.length > 0) out.push({ kind: "append", clip: cur.clip, frames: batch });
    return out;
  }

  /** The slot rule of the module comment; advances the grid when the frame is kept. */
  private keep(a: Active<F>, f: F): boolean {
    if (a.last !== null && f.atMs < a.lastMs) return false;
    if (this.opts.fps <= 0) return true;
    a.originMs ??= f.atMs;
    const slot = Math.floor(((f.atMs - a.originMs) * this.opts.fps) / 1000);
    if (slot <= a.lastSlot) return false;
    a.lastSlot = slot;
    return true;
  }

  private nextPart(prev: Active<F>): Active<F> {
    const next: Active<F> = {
      ...prev,
      clip: this.nextClip++,
      part: prev.part + 1,
      started: false,
      firstMs: 0,
    };
    this.active = next;
    return next;
  }

  private startAction(a: Active<F>): ClipAction<F> {
    return {
      kind: "start",
      clip: a.clip,
      visitId: a.visitId,
      visitStartMs: a.visitStartMs,
      part: a.part,
      firstMs: a.firstMs,
    };
  }

  private finish(reason: FinishReason): ClipAction<F>[] {
    const a = this.active;
    this.active = null;
    if (!a || !a.started) return [];
    return [{ kind: "finish", clip: a.clip, reason, lastMs: a.lastMs }];
  }
}
