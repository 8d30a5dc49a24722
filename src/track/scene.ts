/**
 * SceneAnalyzer: one object that turns each detection result into what people care about:
 * tracks with ids, people per zone, line crossings and totals, visits. Pure: the caller passes
 * every result's detections and time (ms since the epoch, the frame's grab time) and does the
 * I/O with what comes back (/status, the live dashboard, MQTT, the visits store, activity.ts).
 *
 * INPUT: every detection of the result down to `lowScore` (default max(0.1, threshold / 2)),
 * not only those ≥ the threshold: the tracker's second pass needs the low ones. So the detector
 * must run with threshold `analyzer.lowScore`; the consumers of today (annotation, the people
 * count, events) keep filtering at the threshold themselves.
 *
 * Per `update(detections, nowMs)`:
 * 1. Person detections (class 0) with score ≥ the tracker's low score whose feet are in a mask
 *    are dropped (`masked` counts them); the rest go to the tracker (src/track/tracker.ts).
 * 2. Each track's feet (bottom centre of its box: matched box, or predicted while coasting)
 *    are tested against the zones; without zones the whole picture is one implicit zone.
 * 3. Matched tracks' feet go to the line counter (src/track/lines.ts); crossings add to the
 *    totals of the current day (`dayKey(nowMs)`, default the process's local date), which
 *    restart from 0 when the day key changes.
 * 4. The visit rules (src/track/visits.ts) get the confirmed tracks and the crossings.
 * Time: if nowMs steps back by more than 1 s (a clock step), every track ends and the open
 * visit closes at its last time, then the update goes on from the new time.
 *
 * `setZones(config)` applies a new zones file live: track ids, visits and totals keep going;
 * lines whose name, a and b are unchanged keep their per-track sides; removed lines leave the
 * totals. `cooldownPeople(detections)` is the people count of the cooldown stills: persons ≥ the
 * threshold, not in a mask, and in a zone when zones exist (as today when there are none); the
 * pure functions `cooldownPeople(detections, zones, threshold)` and `dropMasked(detections,
 * masks)` do the same without an analyzer (the capture Worker uses them).
 * `tick(nowMs)` closes a visit by time alone (no results, e.g. a stalled detector);
 * `flush()` ends everything (shutdown) and returns what ended.
 */
import type { Detection } from "../shared/types.ts";
import { feet, inPicture, pointInPolygon, type Point } from "./geometry.ts";
import { LineCounter, type Direction, type LineCrossing } from "./lines.ts";
import { Tracker, type TrackState } from "./tracker.ts";
import { VisitTracker, type Visit, type VisitTrack, type VisitUpdate } from "./visits.ts";
import { EMPTY_ZONES, type Mask, type Zone, type ZonesConfig } from "./zones.ts";

export const PERSON_CLASS = 0;

export interface SceneOptions {
  /** Detection threshold (0..1): high scores start and confirm tracks. */
  threshold: number;
  /** Lowest score the tracker uses (default max(0.1, threshold / 2)). */
  lowScore?: number;
  /** --min-frames, default 3. */
  minFrames?: number;
  /** --lost-sec, default 2. */
  lostSec?: number;
  /** --visit-gap, default 5. */
  visitGapSec?: number;
  /** First track id of this run (default 1). */
  firstTrackId?: number;
  /** First visit id (default 1: pass the store's next id). */
  firstVisitId?: number;
  zones?: ZonesConfig;
  /** Line hysteresis, normalized units (default 0.02). */
  deadband?: number;
  /** A box side this close to the border is cut (default 0.01). */
  borderMargin?: number;
  /** The local day of a time, e.g. "2024-05-31": line totals restart when it changes. */
  dayKey?: (ms: number) => string;
  /** Today's totals so far (from the store), to carry on after a restart. */
  lineTotals?: LineTotals;
}

export interface SceneTrack extends TrackState {
  /** Bottom centre of `box`. */
  feet: Point;
  /** Zones the feet are in ([] when there are no zones). */
  zones: string[];
  /** In a zone, or in the picture when there are no zones. */
  inZone: boolean;
}

export interface LineTotals {
  /** dayKey() of the day they count. */
  day: string;
  /** Per line name (every configured line, zeros included). */
  lines: Record<string, Record<Direction, number>>;
}

export interface SceneUpdate {
  /** The result's time, ms since the epoch. */
  atMs: number;
  /** Confirmed live tracks (matched in this result or coasting), by id. */
  tracks: SceneTrack[];
  /** Live tracks not confirmed yet (not shown, not counted). */
  tentative: number;
  /** Confirmed tracks that ended in this update (unseen for lostSec), in their last state. */
  ended: SceneTrack[];
  /** Confirmed live tracks anywhere in the picture (masked detections excluded). */
  people: number;
  /** Confirmed live tracks in any zone (= people when there are no zones). */
  peopleInZones: number;
  /** Confirmed live tracks per zone name; every zone is listed, 0 included. */
  zonePeople: Record<string, number>;
  /** Line crossings counted in this update. */
  crossings: LineCrossing[];
  /** Totals since local midnight (a copy). */
  lineTotals: LineTotals;
  visit: VisitUpdate;
  /** Person detections (score ≥ the low score) ignored because their feet are in a mask. */
  masked: number;
}

/** Day key for a fixed UTC offset in minutes (e.g. 120 for UTC+2): "YYYY-MM-DD". */
export function offsetDayKey(offsetMin: number): (ms: number) => string {
  return (ms) => new Date(ms + offsetMin * 60_000).toISOString().slice(0, 10);
}

/** Day key in the process's time zone (TZ), DST included: "YYYY-MM-DD". */
export function localDayKey(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** A clock step back larger than this resets the tracks (smaller ones count as no time). */
const BACKWARD_RESET_MS = 1000;

export class SceneAnalyzer {
  readonly #tracker: Tracker;
  readonly #lines: LineCounter;
  readonly #visits: VisitTracker;
  readonly #dayKey: (ms: number) => string;
  #zones: ZonesConfig;
  #totals: LineTotals;
  /** Per track id: since when its feet are in a zone (matched results), or null. */
  readonly #inZoneSince = new Map<number, number | null>();
  #lastMs = -Infinity;

  constructor(opts: SceneOptions) {
    this.#tracker = new Tracker({
      threshold: opts.threshold,
      lowScore: opts.lowScore,
      minFrames: opts.minFrames,
      lostSec: opts.lostSec,
      firstId: opts.firstTrackId,
    });
    this.#zones = opts.zones ?? EMPTY_ZONES;
    this.#lines = new LineCounter(this.#zones.lines, { deadband: opts.deadband });
    this.#visits = new VisitTracker({
      visitGapSec: opts.visitGapSec,
      firstVisitId: opts.firstVisitId,
      borderMargin: opts.borderMargin,
    });
    this.#dayKey = opts.dayKey ?? localDayKey;
    this.#totals = opts.lineTotals ?? { day: "", lines: {} };
    this.#totals = this.#withLines(this.#totals);
  }

  get zones(): ZonesConfig {
    return this.#zones;
  }

  get threshold(): number {
    return this.#tracker.threshold;
  }

  /** The lowest score the analyzer uses: run the detector at this threshold. */
  get lowScore(): number {
    return this.#tracker.lowScore;
  }

  /** The open visit (a copy), or null. */
  get openVisit(): Visit | null {
    return this.#visits.open;
  }

  /** Next ids (to persist or to show). */
  get nextIds(): { track: number; visit: number } {
    return { track: this.#tracker.nextId, visit: this.#visits.nextId };
  }

  setZones(config: ZonesConfig): void {
    this.#zones = config;
    this.#lines.setLines(config.lines);
    this.#totals = this.#withLines(this.#totals);
  }

  update(detections: readonly Detection[], nowMs: number): SceneUpdate {
    const reset = nowMs < this.#lastMs - BACKWARD_RESET_MS ? this.#reset() : null;
    this.#lastMs = Math.max(nowMs, reset ? nowMs : this.#lastMs);
    const { kept, masked } = this.#unmasked(detections);
    const r = this.#tracker.update(kept, nowMs);
    const ended = [...(reset?.ended ?? []), ...this.#end(r.ended)];
    const live = r.tracks.map((t) => this.#locate(t, nowMs));
    const crossings: LineCrossing[] = [];
    for (const t of live) {
      if (t.matched) crossings.push(...this.#lines.update(t.id, t.feet, nowMs, t.confirmed));
    }
    this.#count(crossings, nowMs);
    const tracks = live.filter((t) => t.confirmed);
    const visit = this.#visits.update(nowMs, tracks.map(visitTrack(this.#inZoneSince)), crossings);
    if (reset?.closed) visit.closed = reset.closed;
    const zonePeople: Record<string, number> = {};
    for (const z of this.#zones.zones) zonePeople[z.name] = 0;
    for (const t of tracks) for (const z of t.zones) zonePeople[z] = (zonePeople[z] ?? 0) + 1;
    return {
      atMs: nowMs,
      tracks,
      tentative: live.length - tracks.length,
      ended,
      people: tracks.length,
      peopleInZones: tracks.filter((t) => t.inZone).length,
      zonePeople,
      crossings,
      lineTotals: this.lineTotals(),
      visit,
      masked,
    };
  }

  /** Closes the open visit if the gap has passed (call when no results come). */
  tick(nowMs: number): Visit | null {
    return this.#visits.tick(nowMs);
  }

  /** Ends every track and closes the open visit at its last time (shutdown). */
  flush(): { ended: SceneTrack[]; closed: Visit | null } {
    return this.#reset();
  }

  /** Totals since local midnight (a copy). */
  lineTotals(): LineTotals {
    const lines: LineTotals["lines"] = {};
    for (const [k, v] of Object.entries(this.#totals.lines)) lines[k] = { ...v };
    return { day: this.#totals.day, lines };
  }

  /** People for the cooldown stills: persons ≥ threshold, not masked, in a zone if any exist. */
  cooldownPeople(detections: readonly Detection[], threshold = this.threshold): number {
    return cooldownPeople(detections, this.#zones, threshold);
  }

  #reset(): { ended: SceneTrack[]; closed: Visit | null } {
    const ended = this.#end(this.#tracker.clear());
    return { ended, closed: this.#visits.flush() };
  }

  /** Forgets ended tracks; returns the confirmed ones, located. */
  #end(ended: TrackState[]): SceneTrack[] {
    const out: SceneTrack[] = [];
    for (const t of ended) {
      if (t.confirmed) out.push(this.#where(t));
      this.#lines.endTrack(t.id);
      this.#inZoneSince.delete(t.id);
    }
    return out;
  }

  #unmasked(detections: readonly Detection[]): { kept: Detection[]; masked: number } {
    const low = this.#tracker.lowScore;
    const kept: Detection[] = [];
    let masked = 0;
    for (const d of detections) {
      if (d.classId !== PERSON_CLASS || d.score < low) continue;
      if (inMask(feet(d.box), this.#zones.masks)) masked++;
      else kept.push(d);
    }
    return { kept, masked };
  }

  #zonesOf(p: Point): string[] {
    return zonesOf(p, this.#zones.zones);
  }

  #where(t: TrackState): SceneTrack {
    const f = feet(t.box);
    const zones = this.#zonesOf(f);
    const inZone = this.#zones.zones.length === 0 ? inPicture(f) : zones.length > 0;
    return { ...t, feet: f, zones, inZone };
  }

  /** Zones of a live track, and its in-zone-since time (changed on matched results only). */
  #locate(t: TrackState, nowMs: number): SceneTrack {
    const s = this.#where(t);
    if (s.matched) {
      const since = this.#inZoneSince.get(t.id) ?? null;
      this.#inZoneSince.set(t.id, s.inZone ? (since ?? nowMs) : null);
    }
    return s;
  }

  #count(crossings: readonly LineCrossing[], nowMs: number): void {
    const day = this.#dayKey(nowMs);
    if (day !== this.#totals.day) this.#totals = this.#withLines({ day, lines: {} });
    for (const c of crossings) {
      const per = (this.#totals.lines[c.line] ??= { in: 0, out: 0 });
      per[c.direction]++;
    }
  }

  /** Totals with exactly the configured lines (kept counts, zeros for new ones). */
  #withLines(t: LineTotals): LineTotals {
    const lines: LineTotals["lines"] = {};
    for (const l of this.#zones.lines)
      lines[l.name] = { ...(t.lines[l.name] ?? { in: 0, out: 0 }) };
    return { day: t.day, lines };
  }
}

function inMask(p: Point, masks: readonly Mask[]): boolean {
  return masks.some((m) => pointInPolygon(p, m.points));
}

function zonesOf(p: Point, zones: readonly Zone[]): string[] {
  const out: string[] = [];
  for (const z of zones) if (pointInPolygon(p, z.points)) out.push(z.name);
  return out;
}

/**
 * The detections (any class) whose feet are in no mask: what the capture loop keeps for the
 * annotation, the people count, the stills and the analyzer. The same array when no mask is set.
 */
export function dropMasked<T extends Detection>(detections: T[], masks: readonly Mask[]): T[] {
  if (masks.length === 0) return detections;
  return detections.filter((d) => !inMask(feet(d.box), masks));
}

/**
 * People for the cooldown stills: persons with score ≥ threshold, feet in no mask, and in a zone
 * when the config has zones (everyone in the picture when it has none, as before zones).
 */
export function cooldownPeople(
  detections: readonly Detection[],
  config: ZonesConfig,
  threshold = 0,
): number {
  let n = 0;
  for (const d of detections) {
    if (d.classId !== PERSON_CLASS || d.score < threshold) continue;
    const f = feet(d.box);
    if (inMask(f, config.masks)) continue;
    if (config.zones.length === 0 || zonesOf(f, config.zones).length > 0) n++;
  }
  return n;
}

function visitTrack(since: Map<number, number | null>): (t: SceneTrack) => VisitTrack {
  return (t) => ({
    id: t.id,
    box: t.box,
    score: t.score,
    matched: t.matched,
    inZone: t.inZone,
    zones: t.zones,
    inZoneSinceMs: since.get(t.id) ?? null,
  });
}
