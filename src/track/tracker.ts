/**
 * Multi-object tracker of person boxes (SORT with ByteTrack's second pass). Pure: no clock, the
 * caller passes each result's time in ms; results may come at any rate (5-30/s) and irregularly.
 *
 * Per `update(detections, nowMs)`:
 * 1. Tracks unseen for ≥ `lostSec` (confirmed) end first, and are reported in `ended`.
 * 2. Each live track's box is predicted to nowMs with a constant velocity (centre and size, per
 *    second, smoothed over matches), for at most `maxPredictSec` of motion, clamped to the
 *    picture (detections are clamped too, so a person leaving at the border still matches).
 * 3. Detections are split: score ≥ `threshold` = high; `lowScore` ≤ score < threshold = low
 *    (default lowScore = max(0.1, threshold / 2)); lower ones are dropped.
 * 4. First pass: every live track against the high detections, minimum total cost 1 - IoU by
 *    the Hungarian method (src/track/assign.ts; pairs under IoU `minIou` = 0.3 are refused).
 * 5. Second pass (ByteTrack): the tracks still unmatched against the low detections, IoU ≥
 *    `minIouLow` = 0.5. A low detection can only continue a track, never start one.
 * 6. Unmatched high detections start tentative tracks (new id from a per-run counter, first id
 *    `firstId`, default 1). Unmatched tentative tracks end at once (a one-result false positive
 *    is gone the next result); unmatched confirmed tracks coast on their prediction.
 * A track is confirmed once `minFrames` results matched it with a HIGH detection (default 3):
 * low matches keep a track alive but do not confirm it, so a person whose score jitters around
 * the threshold confirms a little later and then keeps one id.
 *
 * Output (`TrackerUpdate`): `tracks` = every live track after this update (tentative ones
 * included, `confirmed` tells), `ended` = tracks that ended in it, in their last state. Box is
 * the last matched detection's box while `matched`, else the prediction. The tracker keeps the
 * time it was last called: a time earlier than that counts as no time passing.
 */
import type { Box, Detection } from "../shared/types.ts";
import { assign } from "./assign.ts";
import { iou } from "./geometry.ts";

export interface TrackerOptions {
  /** Score at which a detection is "high": may start and confirm tracks. 0..1. */
  threshold: number;
  /** Lowest score used at all (second pass); default max(0.1, threshold / 2). */
  lowScore?: number;
  /** High matches until a track is confirmed (default 3). */
  minFrames?: number;
  /** A confirmed track unseen this long ends (default 2 s). */
  lostSec?: number;
  /** First track id of this run (default 1); ids then count up and are never reused. */
  firstId?: number;
  /** IoU gate of the first (high) pass, default 0.3. */
  minIou?: number;
  /** IoU gate of the second (low) pass, default 0.5. */
  minIouLow?: number;
  /** Prediction covers at most this many seconds of motion (default 1). */
  maxPredictSec?: number;
}

export interface TrackState {
  id: number;
  /** Last matched box while `matched`, else the box predicted to the update's time. */
  box: Box;
  /** Score of the last matched detection. */
  score: number;
  confirmed: boolean;
  /** Results that matched this track (high and low). */
  hits: number;
  firstSeenMs: number;
  /** Time of the last match. */
  lastSeenMs: number;
  /** Matched in this update. */
  matched: boolean;
}

export interface TrackerUpdate {
  tracks: TrackState[];
  ended: TrackState[];
}

interface Track {
  id: number;
  /** Last matched box. */
  last: Box;
  /** Per second: centre x, centre y, width, height. */
  vx: number;
  vy: number;
  vw: number;
  vh: number;
  predicted: Box;
  score: number;
  hits: number;
  highHits: number;
  confirmed: boolean;
  firstSeenMs: number;
  lastSeenMs: number;
  matched: boolean;
}

/**
 * The lowest score the tracker uses by default: max(0.1, threshold / 2), never above the
 * threshold. The detector runs at this score so the second pass has its low boxes.
 */
export function defaultLowScore(threshold: number): number {
  return Math.min(Math.max(0.1, threshold / 2), threshold);
}

/** How much of a new velocity measurement enters the estimate (the rest is the old estimate). */
const VELOCITY_GAIN = 0.5;
const MIN_SIDE = 0.002;

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

function clampBox(b: Box): Box {
  return {
    ymin: clamp01(b.ymin),
    xmin: clamp01(b.xmin),
    ymax: clamp01(b.ymax),
    xmax: clamp01(b.xmax),
  };
}

function predict(t: Track, dtSec: number): Box {
  const b = t.last;
  const cx = (b.xmin + b.xmax) / 2 + t.vx * dtSec;
  const cy = (b.ymin + b.ymax) / 2 + t.vy * dtSec;
  const w = Math.max(MIN_SIDE, b.xmax - b.xmin + t.vw * dtSec);
  const h = Math.max(MIN_SIDE, b.ymax - b.ymin + t.vh * dtSec);
  return clampBox({ ymin: cy - h / 2, xmin: cx - w / 2, ymax: cy + h / 2, xmax: cx + w / 2 });
}

export class Tracker {
  readonly threshold: number;
  readonly lowScore: number;
  readonly minFrames: number;
  readonly lostMs: number;
  readonly #minIou: number;
  readonly #minIouLow: number;
  readonly #maxPredictSec: number;
  #nextId: number;
  #lastMs = -Infinity;
  #tracks: Track[] = [];

  constructor(opts: TrackerOptions) {
    this.threshold = opts.threshold;
    this.lowScore = Math.min(opts.lowScore ?? defaultLowScore(opts.threshold), opts.threshold);
    this.minFrames = Math.max(1, Math.floor(opts.minFrames ?? 3));
    this.lostMs = (opts.lostSec ?? 2) * 1000;
    this.#minIou = opts.minIou ?? 0.3;
    this.#minIouLow = opts.minIouLow ?? 0.5;
    this.#maxPredictSec = opts.maxPredictSec ?? 1;
    this.#nextId = Math.max(1, Math.floor(opts.firstId ?? 1));
  }

  /** The id the next new track will get. */
  get nextId(): number {
    return this.#nextId;
  }

  update(detections: readonly Detection[], nowMs: number): TrackerUpdate {
    const now = Math.max(nowMs, this.#lastMs);
    this.#lastMs = now;
    const ended: TrackState[] = [];
    this.#tracks = this.#tracks.filter((t) => {
      if (now - t.lastSeenMs < this.lostMs) return true;
      t.matched = false;
      ended.push(this.#state(t));
      return false;
    });
    for (const t of this.#tracks) {
      t.matched = false;
      t.predicted = predict(t, Math.min((now - t.lastSeenMs) / 1000, this.#maxPredictSec));
    }
    const high: Detection[] = [];
    const low: Detection[] = [];
    for (const d of detections) {
      if (d.score >= this.threshold) high.push(d);
      else if (d.score >= this.lowScore) low.push(d);
    }
    const freeHigh = this.#match(this.#tracks, high, this.#minIou, now, true);
    this.#match(
      this.#tracks.filter((t) => !t.matched),
      low,
      this.#minIouLow,
      now,
      false,
    );
    this.#tracks = this.#tracks.filter((t) => {
      if (t.matched || t.confirmed) return true;
      ended.push(this.#state(t));
      return false;
    });
    for (const d of freeHigh) this.#tracks.push(this.#start(d, now));
    return { tracks: this.#tracks.map((t) => this.#state(t)), ended };
  }

  /** Ends every live track and forgets the last time (shutdown, clock step): returns them. */
  clear(): TrackState[] {
    const out = this.#tracks.map((t) => this.#state(t));
    this.#tracks = [];
    this.#lastMs = -Infinity;
    return out;
  }

  /** Matches tracks to detections; returns the detections left unmatched. */
  #match(
    tracks: Track[],
    dets: Detection[],
    gate: number,
    now: number,
    high: boolean,
  ): Detection[] {
    if (tracks.length === 0 || dets.length === 0) return dets;
    const boxes = dets.map((d) => clampBox(d.box));
    const cols = dets.length;
    const cost = new Float64Array(tracks.length * cols);
    const ok = new Uint8Array(tracks.length * cols);
    tracks.forEach((t, r) => {
      for (let c = 0; c < cols; c++) {
        const v = iou(t.predicted, boxes[c]!);
        // Refused pairs cost as much as IoU 0, as in SORT: the solve maximizes total IoU.
        ok[r * cols + c] = v >= gate && v > 0 ? 1 : 0;
        cost[r * cols + c] = ok[r * cols + c] ? 1 - v : 1;
      }
    });
    const byRow = assign(cost, tracks.length, cols);
    const taken = new Uint8Array(cols);
    byRow.forEach((c, r) => {
      if (c < 0 || !ok[r * cols + c]) return;
      taken[c] = 1;
      this.#hit(tracks[r]!, dets[c]!, boxes[c]!, now, high);
    });
    return dets.filter((_, c) => !taken[c]);
  }

  #hit(t: Track, d: Detection, box: Box, now: number, high: boolean): void {
    const dt = (now - t.lastSeenMs) / 1000;
    if (dt > 0) {
      const p = t.last;
      const g = VELOCITY_GAIN;
      const mx = (box.xmin + box.xmax - p.xmin - p.xmax) / 2 / dt;
      const my = (box.ymin + box.ymax - p.ymin - p.ymax) / 2 / dt;
      const mw = (box.xmax - box.xmin - (p.xmax - p.xmin)) / dt;
      const mh = (box.ymax - box.ymin - (p.ymax - p.ymin)) / dt;
      // The first measured velocity is taken whole; later ones are blended.
      const k = t.hits === 1 ? 1 : g;
      t.vx += k * (mx - t.vx);
      t.vy += k * (my - t.vy);
      t.vw += k * (mw - t.vw);
      t.vh += k * (mh - t.vh);
    }
    t.last = box;
    t.predicted = box;
    t.score = d.score;
    t.hits++;
    if (high) t.highHits++;
    if (t.highHits >= this.minFrames) t.confirmed = true;
    t.lastSeenMs = now;
    t.matched = true;
  }

  #start(d: Detection, now: number): Track {
    const box = clampBox(d.box);
    return {
      id: this.#nextId++,
      last: box,
      vx: 0,
      vy: 0,
      vw: 0,
      vh: 0,
      predicted: box,
      score: d.score,
      hits: 1,
      highHits: 1,
      confirmed: this.minFrames <= 1,
      firstSeenMs: now,
      lastSeenMs: now,
      matched: true,
    };
  }

  #state(t: Track, box: Box = t.matched ? t.last : t.predicted): TrackState {
    return {
      id: t.id,
      box,
      score: t.score,
      confirmed: t.confirmed,
      hits: t.hits,
      firstSeenMs: t.firstSeenMs,
      lastSeenMs: t.lastSeenMs,
      matched: t.matched,
    };
  }
}
