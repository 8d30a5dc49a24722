/**
 * What /metrics and /healthz need beyond PipelineStatus, recorded on the main thread from the
 * frames and saved events: the inference time histogram, events saved by reason, and when the
 * detector last produced a result. Recording is O(buckets) per frame and never allocates.
 */
import type { EventReason, EventRecord } from "../events/archive.ts";
import type { FrameState } from "../shared/types.ts";
import type { SceneUpdate, VisitEvent } from "../pipeline/scene-api.ts";
import type { Direction } from "../track/lines.ts";

/** Inference time bucket bounds in seconds: 5 ms (Edge TPU) to 500 ms (a slow CPU). */
export const INFER_BUCKETS_S: readonly number[] = [
  0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5,
];

export interface HistogramSnapshot {
  /** Upper bounds, ascending, without +Inf. */
  bounds: readonly number[];
  /** Cumulative counts per bound (observations <= bound). */
  cumulative: number[];
  sum: number;
  count: number;
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    this.sum += v;
    this.count++;
    const i = this.bounds.findIndex((b) => v <= b);
    if (i >= 0) this.counts[i] = (this.counts[i] ?? 0) + 1;
  }

  snapshot(): HistogramSnapshot {
    let acc = 0;
    const cumulative = this.counts.map((c) => (acc += c));
    return { bounds: this.bounds, cumulative, sum: this.sum, count: this.count };
  }
}

export class Telemetry {
  readonly inferSeconds = new Histogram(INFER_BUCKETS_S);
  private readonly saved = new Map<EventReason, number>([
    ["auto", 0],
    ["snapshot", 0],
  ]);
  /** Date.now() when this recorder was made: the detector's grace period starts here. */
  readonly createdAt: number;
  /** Date.now() of the latest new detection result, null before the first. */
  lastInferAt: number | null = null;
  /** FrameState.detectSeq of the latest result counted. */
  private lastDetectSeq = 0;

  constructor(now: number = Date.now()) {
    this.createdAt = now;
  }

  /**
   * Frames repeat the latest detection result until the next one; FrameState.detectSeq counts
   * the results, so a frame whose detectSeq moved on brings new ones. When two results came
   * between two frames (a fast detector), both are counted, with the inference time of the
   * newer one (the only one the frame carries).
   */
  observeFrame(s: FrameState, now: number = Date.now()): void {
    // A lower number: the counter started again (a new pipeline); count from there.
    if (s.detectSeq < this.lastDetectSeq) this.lastDetectSeq = 0;
    const results = s.detectSeq - this.lastDetectSeq;
    if (results <= 0) return;
    this.lastDetectSeq = s.detectSeq;
    this.lastInferAt = now;
    for (let i = 0; i < results; i++) this.inferSeconds.observe(s.inferMs / 1000);
  }

  observeSaved(e: EventRecord): void {
    this.saved.set(e.reason, (this.saved.get(e.reason) ?? 0) + 1);
  }

  /** Events saved since start, by reason ("auto" and "snapshot" always present). */
  savedByReason(): [EventReason, number][] {
    return [...this.saved.entries()];
  }

  // ---- the live scene (issue 11), once attached ----

  /** Line crossings since start, per line and direction. */
  private readonly crossings = new Map<string, Record<Direction, number>>();
  /** Visits opened since start; null until a scene is attached (no metric without one). */
  visitsOpened: number | null = null;

  observeScene(u: Pick<SceneUpdate, "crossings">): void {
    for (const c of u.crossings) {
      const per = this.crossings.get(c.line) ?? { in: 0, out: 0 };
      per[c.direction]++;
      this.crossings.set(c.line, per);
    }
  }

  observeVisit(e: Pick<VisitEvent, "type">): void {
    if (e.type === "open") this.visitsOpened = (this.visitsOpened ?? 0) + 1;
  }

  /** Crossings since start per line (`lines`: also these, with zeros), sorted by name. */
  crossingsByLine(lines: Iterable<string> = []): [string, Record<Direction, number>][] {
    const all = new Map(this.crossings);
    for (const l of lines) if (!all.has(l)) all.set(l, { in: 0, out: 0 });
    return [...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
