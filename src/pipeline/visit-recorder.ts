/**
 * The analyzer's visits into the visits store (issue 11), on the main thread:
 * - a visit that opens is written at once (src/events/visits.ts begin), then told ("open");
 * - while it is open, its end, tracks and counts are written at most once a second (by the
 *   results' times), its tracks' first/last seen and zones gathered here;
 * - the best snapshot: when the analyzer says `newBest`, that result's frame JPEG and detections
 *   are kept (one per visit, replacing the last); at close the capture Worker draws it (boxes,
 *   the best person's track id, the overlay line) and its thumbnail; without a Worker (stopped,
 *   restarting, too slow) the frame is saved as the camera gave it;
 * - at close the images are saved, the row made final, and then "close" is told;
 * - line crossings go to the store as they happen, with the open visit's id.
 */
import type { VisitImages } from "../events/visit-files.ts";
import type { VisitState } from "../events/visits.ts";
import type { VisitRecord } from "../events/visit-types.ts";
import { errorMessage } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { Backend, Detection, DetectionResult } from "../shared/types.ts";
import { iou } from "../track/geometry.ts";
import type { SceneUpdate } from "../track/scene.ts";
import type { BestShot, Visit } from "../track/visits.ts";
import type { RenderedImages, RenderInput } from "../workers/protocol.ts";
import type { VisitEvent } from "./scene-api.ts";

/** What the recorder writes to (VisitsStore implements it). */
export interface VisitWriter {
  begin(v: VisitState): VisitRecord;
  progress(v: VisitState): void;
  finish(v: VisitState, images: VisitImages | null): Promise<VisitRecord>;
  addCrossings(
    list: {
      time: number;
      line: string;
      direction: "in" | "out";
      trackId: number;
      visitId: number | null;
    }[],
  ): void;
  /** Retention, after each visit. */
  enforce(): number;
}

export interface VisitRecorderOptions {
  store: VisitWriter;
  /** Draws a best snapshot in the capture Worker; null when it cannot now. */
  render(input: RenderInput): Promise<RenderedImages | null>;
  /** The overlay line's fps and backend now. */
  overlay(): { fps: number; backend: Backend | null };
  emit(e: VisitEvent): void;
  log: Logger;
  /** Least time between two writes of an open visit, ms (default 1000). */
  progressMs?: number;
}

/** The frame of a visit's best snapshot so far. */
interface Kept {
  best: BestShot;
  jpeg: Uint8Array;
  detections: Detection[];
  inferMs: number;
}

interface OpenVisit {
  id: number;
  tracks: Map<number, { trackId: number; firstSeen: number; lastSeen: number; zones: string[] }>;
  lastWriteMs: number;
}

export class VisitRecorder {
  readonly #o: VisitRecorderOptions;
  #open: OpenVisit | null = null;
  readonly #kept = new Map<number, Kept>();
  /** Closes under way and the events waiting behind them (see #tell), and their chain. */
  #pending = 0;
  #told: Promise<void> = Promise.resolve();

  constructor(o: VisitRecorderOptions) {
    this.#o = o;
  }

  /** One analyzer update; `r` is its detection result (for the best snapshot's frame). */
  update(u: SceneUpdate, r: DetectionResult): void {
    const v = u.visit;
    if (v.closed) this.close(v.closed, u.atMs);
    if (v.opened) this.#begin(v.opened, u);
    const open = v.open;
    if (open && this.#open?.id === open.id) {
      this.#gather(open, u);
      if (v.newBest && open.best) {
        this.#kept.set(open.id, {
          best: open.best,
          jpeg: r.jpeg,
          detections: r.detections,
          inferMs: r.inferMs,
        });
      }
      if (u.atMs - this.#open.lastWriteMs >= (this.#o.progressMs ?? 1000)) {
        this.#open.lastWriteMs = u.atMs;
        this.#write(() => this.#o.store.progress(this.#state(open)));
      }
    }
    if (u.crossings.length > 0) {
      const visitId = open?.id ?? null;
      const list = u.crossings.map((c) => ({
        time: c.atMs,
        line: c.line,
        direction: c.direction,
        trackId: c.trackId,
        visitId,
      }));
      this.#write(() => this.#o.store.addCrossings(list));
    }
  }

  /** A visit closed (by a result, the tick or the flush) at `atMs`: saved, then told. */
  close(v: Visit, atMs: number): void {
    const state = this.#state(v);
    if (this.#open?.id === v.id) this.#open = null;
    const kept = this.#kept.get(v.id) ?? null;
    this.#kept.delete(v.id);
    const p = this.#finish(state, kept, atMs);
    this.#tell(p);
  }

  /** Waits for the closes under way (their images and rows) and for them to be told. */
  async settle(): Promise<void> {
    while (this.#pending > 0) await this.#told;
  }

  /**
   * Tells the events in the order they happened: a close takes a moment (its snapshot is drawn
   * and saved first), and the next visit's "open" must not overtake it (MQTT, webhooks and the
   * clips would see visit 2 open before visit 1 closed). With nothing under way, told at once.
   */
  #tell(e: VisitEvent | Promise<VisitEvent | null>): void {
    if (this.#pending === 0 && !(e instanceof Promise)) return this.#emit(e);
    this.#pending++;
    this.#told = this.#told
      .then(() => e)
      .then((ev) => void (ev && this.#emit(ev)))
      .finally(() => void this.#pending--);
  }

  #begin(v: Visit, u: SceneUpdate): void {
    this.#open = { id: v.id, tracks: new Map(), lastWriteMs: u.atMs };
    this.#gather(v, u);
    let rec: VisitRecord;
    try {
      rec = this.#o.store.begin(this.#state(v));
    } catch (e) {
      this.#o.log.once("write", "error", `cannot store visit ${v.id}: ${errorMessage(e)}`);
      return;
    }
    this.#o.log.info(`visit ${v.id} opened (${v.zones.length ? v.zones.join(", ") : "picture"})`);
    this.#tell({ type: "open", at: u.atMs, visit: rec });
  }

  /** The visit's tracks as seen in this update: first/last seen, zones their feet were in. */
  #gather(v: Visit, u: SceneUpdate): void {
    const open = this.#open;
    if (!open) return;
    for (const t of u.tracks) {
      if (!v.trackIds.includes(t.id)) continue;
      let rec = open.tracks.get(t.id);
      if (!rec) {
        rec = { trackId: t.id, firstSeen: t.firstSeenMs, lastSeen: t.lastSeenMs, zones: [] };
        open.tracks.set(t.id, rec);
      }
      rec.lastSeen = Math.max(rec.lastSeen, t.lastSeenMs);
      if (t.matched) for (const z of t.zones) if (!rec.zones.includes(z)) rec.zones.push(z);
    }
  }

  #state(v: Visit): VisitState {
    const tracks = this.#open?.id === v.id ? this.#open.tracks : new Map();
    return {
      id: v.id,
      start: v.startMs,
      end: v.endMs,
      zones: v.zones,
      maxPeople: v.maxPeople,
      crossings: v.crossings,
      tracks: v.trackIds.map(
        (id) =>
          tracks.get(id) ?? { trackId: id, firstSeen: v.startMs, lastSeen: v.endMs, zones: [] },
      ),
    };
  }

  /** Saves the images and the final row; the "close" to tell, or null when saving failed. */
  async #finish(state: VisitState, kept: Kept | null, atMs: number): Promise<VisitEvent | null> {
    try {
      const images = kept ? await this.#images(kept) : null;
      const rec = await this.#o.store.finish(state, images);
      const secs = Math.round(rec.durationMs / 100) / 10;
      this.#o.log.info(
        `visit ${rec.id} closed: ${secs} s, ${rec.people} people, ${rec.image ?? "no snapshot"}`,
      );
      this.#write(() => this.#o.store.enforce());
      return { type: "close", at: atMs, visit: rec };
    } catch (e) {
      this.#o.log.once("write", "error", `cannot store visit ${state.id}: ${errorMessage(e)}`);
      return null;
    }
  }

  /** The kept frame drawn by the capture Worker, or as the camera gave it. */
  async #images(kept: Kept): Promise<VisitImages> {
    const { fps, backend } = this.#o.overlay();
    const people = kept.detections.filter((d) => d.classId === 0).length;
    const drawn = await this.#o.render({
      jpeg: kept.jpeg,
      detections: labelled(kept.detections, kept.best),
      overlay: { people, inferMs: kept.inferMs, fps, backend },
    });
    return drawn ?? { jpeg: kept.jpeg, thumbJpeg: null };
  }

  #write(fn: () => unknown): void {
    try {
      fn();
      this.#o.log.clear("write");
    } catch (e) {
      this.#o.log.once("write", "error", `cannot store visits: ${errorMessage(e)}`);
    }
  }

  #emit(e: VisitEvent): void {
    try {
      this.#o.emit(e);
    } catch (err) {
      this.#o.log.once("listener", "error", `a visit listener failed: ${errorMessage(err)}`);
    }
  }
}

/**
 * The boxes to draw: the result's, with the best person's labelled by its track id (the box
 * that overlaps it most; the track's own box when it was a low-score match, not drawn else).
 */
export function labelled(dets: readonly Detection[], best: BestShot): Detection[] {
  let at = -1;
  let most = 0.5;
  dets.forEach((d, i) => {
    const v = d.classId === 0 ? iou(d.box, best.box) : 0;
    if (v > most) {
      most = v;
      at = i;
    }
  });
  const label = `person #${best.trackId}`;
  const out = dets.map((d, i) => (i === at ? { ...d, label } : d));
  if (at < 0) out.push({ classId: 0, label, score: best.score, box: best.box });
  return out;
}
