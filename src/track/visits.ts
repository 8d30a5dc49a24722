/**
 * Visit rules. Pure: fed once per detection result with the confirmed tracks (as the scene sees
 * them) and the line crossings of that result.
 *
 * - Someone is IN when a confirmed track MATCHED in this result has its feet in a zone (any
 *   zone, or anywhere in the picture when there are no zones: the caller decides `inZone`).
 * - A visit OPENS at the first result in which someone is in. Its `startMs` is when that
 *   track's feet entered the zone (`inZoneSinceMs`, so the results it took to confirm the
 *   track are part of the visit), never before the previous visit's end.
 * - `endMs` is the last time someone was in. The visit CLOSES at the first result (or `tick`)
 *   with nobody in and nowMs - endMs ≥ `visitGapSec` (default 5); a result after a longer stall
 *   with someone in closes the old visit and opens a new one in the same update.
 * - It records the zones entered (in order of first entry), the confirmed tracks that were in
 *   (ids, in order), the most people in at once (confirmed tracks in a zone, coasting ones
 *   included: a person missed for one result is still there), the line crossings while it was
 *   open (per line in/out), and the best snapshot.
 * - Best snapshot: in each result, the best-scoring track that is in and matched, among those
 *   whose box is UNCUT (no side within `borderMargin`, default 0.01, of the picture's border);
 *   the result where that box is the largest is the best, and `newBest` tells the caller to keep
 *   this result's frame. Until an uncut box is seen, cut boxes compete the same way (so every
 *   visit has a snapshot); the first uncut one beats any cut one.
 * - Visit ids count up from `firstVisitId` (default 1; pass the store's next id).
 *
 * API: `new VisitTracker(opts)`, `update(nowMs, tracks, crossings)` → `VisitUpdate`,
 * `tick(nowMs)` (closes by time alone, for a stalled detector), `flush()` (closes the open
 * visit at its `endMs`, e.g. at shutdown), `open`. Returned visits are copies.
 */
import type { Box } from "../shared/types.ts";
import { boxArea } from "./geometry.ts";
import type { Direction, LineCrossing } from "./lines.ts";

export interface VisitTrack {
  id: number;
  box: Box;
  score: number;
  /** Matched in this result (not coasting on a prediction). */
  matched: boolean;
  /** Feet in a zone (or in the picture when there are no zones). */
  inZone: boolean;
  /** Names of the zones the feet are in ([] without zones). */
  zones: readonly string[];
  /** Since when the feet have been in a zone without a break (matched results), or null. */
  inZoneSinceMs: number | null;
}

export interface BestShot {
  /** Time of the result whose frame is the snapshot. */
  atMs: number;
  trackId: number;
  box: Box;
  score: number;
  /** Box area, 0..1 of the picture. */
  area: number;
  /** No side of the box within borderMargin of the picture's border. */
  uncut: boolean;
}

export interface Visit {
  id: number;
  startMs: number;
  /** The last time someone was in. */
  endMs: number;
  /** Zone names in order of first entry ([] without zones). */
  zones: string[];
  /** Confirmed track ids that were in, in order of first entry. */
  trackIds: number[];
  /** Most people in at once. */
  maxPeople: number;
  /** Line crossings while the visit was open, per line name. */
  crossings: Record<string, Record<Direction, number>>;
  best: BestShot | null;
}

export interface VisitUpdate {
  /** The open visit after this update, or null. */
  open: Visit | null;
  /** Opened in this update (also `open`). */
  opened: Visit | null;
  /** Closed in this update (final). */
  closed: Visit | null;
  /** This result's frame is the open visit's new best snapshot: keep it. */
  newBest: boolean;
}

export interface VisitOptions {
  visitGapSec?: number;
  firstVisitId?: number;
  borderMargin?: number;
}

function copy(v: Visit): Visit {
  const crossings: Visit["crossings"] = {};
  for (const [k, c] of Object.entries(v.crossings)) crossings[k] = { ...c };
  return {
    ...v,
    zones: [...v.zones],
    trackIds: [...v.trackIds],
    crossings,
    best: v.best && { ...v.best, box: { ...v.best.box } },
  };
}

export class VisitTracker {
  readonly gapMs: number;
  readonly borderMargin: number;
  #nextId: number;
  #open: Visit | null = null;
  #lastEndMs = -Infinity;

  constructor(opts: VisitOptions = {}) {
    this.gapMs = (opts.visitGapSec ?? 5) * 1000;
    this.borderMargin = opts.borderMargin ?? 0.01;
    this.#nextId = Math.max(1, Math.floor(opts.firstVisitId ?? 1));
  }

  get open(): Visit | null {
    return this.#open && copy(this.#open);
  }

  get nextId(): number {
    return this.#nextId;
  }

  update(
    nowMs: number,
    tracks: readonly VisitTrack[],
    crossings: readonly LineCrossing[] = [],
  ): VisitUpdate {
    const inNow = tracks.filter((t) => t.inZone && t.matched);
    let closed: Visit | null = null;
    if (this.#open && nowMs - this.#open.endMs >= this.gapMs) closed = this.flush();
    let opened: Visit | null = null;
    if (!this.#open && inNow.length > 0) opened = this.#start(inNow, nowMs);
    let newBest = false;
    const v = this.#open;
    if (v) {
      this.#record(v, inNow, tracks, nowMs);
      for (const c of crossings) {
        const per = (v.crossings[c.line] ??= { in: 0, out: 0 });
        per[c.direction]++;
      }
      newBest = this.#best(v, inNow, nowMs);
    }
    const open = v && copy(v);
    return { open, opened: opened && open, closed, newBest };
  }

  /** Closes the open visit if the gap has passed at nowMs (no result needed). */
  tick(nowMs: number): Visit | null {
    if (this.#open && nowMs - this.#open.endMs >= this.gapMs) return this.flush();
    return null;
  }

  /** Closes the open visit now, at its endMs; returns it (or null when none was open). */
  flush(): Visit | null {
    const v = this.#open;
    if (!v) return null;
    this.#open = null;
    this.#lastEndMs = v.endMs;
    return copy(v);
  }

  #start(inNow: readonly VisitTrack[], nowMs: number): Visit {
    const since = Math.min(...inNow.map((t) => t.inZoneSinceMs ?? nowMs));
    const startMs = Math.min(nowMs, Math.max(since, this.#lastEndMs));
    this.#open = {
      id: this.#nextId++,
      startMs,
      endMs: nowMs,
      zones: [],
      trackIds: [],
      maxPeople: 0,
      crossings: {},
      best: null,
    };
    return this.#open;
  }

  #record(
    v: Visit,
    inNow: readonly VisitTrack[],
    tracks: readonly VisitTrack[],
    nowMs: number,
  ): void {
    if (inNow.length > 0) v.endMs = Math.max(v.endMs, nowMs);
    for (const t of inNow) {
      if (!v.trackIds.includes(t.id)) v.trackIds.push(t.id);
      for (const z of t.zones) if (!v.zones.includes(z)) v.zones.push(z);
    }
    const present = tracks.filter((t) => t.inZone).length;
    if (present > v.maxPeople) v.maxPeople = present;
  }

  #uncut(b: Box): boolean {
    const m = this.borderMargin;
    return b.xmin > m && b.ymin > m && b.xmax < 1 - m && b.ymax < 1 - m;
  }

  /** Updates the best shot from this result's in tracks; true when it is the new best. */
  #best(v: Visit, inNow: readonly VisitTrack[], nowMs: number): boolean {
    let pick: VisitTrack | null = null;
    let pickUncut = false;
    for (const t of inNow) {
      const u = this.#uncut(t.box);
      if (!pick || (u && !pickUncut) || (u === pickUncut && t.score > pick.score)) {
        pick = t;
        pickUncut = u;
      }
    }
    if (!pick) return false;
    const area = boxArea(pick.box);
    const b = v.best;
    if (b && b.uncut && !pickUncut) return false;
    if (b && b.uncut === pickUncut && area <= b.area) return false;
    v.best = {
      atMs: nowMs,
      trackId: pick.id,
      box: { ...pick.box },
      score: pick.score,
      area,
      uncut: pickUncut,
    };
    return true;
  }
}
