/**
 * Two small helpers of the clips wiring (src/pipeline/clips.ts), pure and unit-tested:
 * - OverlayCache: the per-frame overlay stored in the clip index (ClipOverlay, clips-api.ts),
 *   built once per detection result and scene update and shared by the frames that repeat them;
 * - OpenDelay: how long after a visit's start its open event can arrive, from --min-frames and
 *   the observed interval between detection results: the pre-roll ring must keep that much more.
 */
import type { SceneUpdate } from "../track/scene.ts";
import type { Box, DetectionResult, FrameState } from "../shared/types.ts";
import type { ClipOverlay, OverlayBox } from "./clips-api.ts";

const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;
const r3 = (v: number): number => Math.round(v * 1e3) / 1e3;

export function overlayBox(b: Box): OverlayBox {
  return [r4(b.ymin), r4(b.xmin), r4(b.ymax), r4(b.xmax)];
}

type Tracks = NonNullable<ClipOverlay["tracks"]>;

export class OverlayCache {
  private tracks: Tracks | undefined = undefined;
  private detectSeq = -1;
  /** Capture times of the frames of the latest results, by detectSeq. */
  private readonly resultAt = new Map<number, number>();
  private current: ClipOverlay | null = null;

  /** Detections below `threshold` are left out (the scene engine may ask for lower ones). */
  constructor(private readonly threshold: number) {}

  /** A detection result (before the frames that carry it): remembers its frame's time. */
  result(r: Pick<DetectionResult, "detectSeq" | "grabbedAt">): void {
    this.resultAt.set(r.detectSeq, r.grabbedAt);
    if (this.resultAt.size > 8) this.resultAt.delete(this.resultAt.keys().next().value as number);
  }

  /** The latest scene update: its confirmed tracks go into the overlays from now on. */
  scene(u: Pick<SceneUpdate, "tracks">): void {
    this.tracks = u.tracks.map((t) => ({
      id: t.id,
      score: r3(t.score),
      box: overlayBox(t.box),
      zones: [...t.zones],
    }));
    this.current = null;
  }

  /**
   * The overlay of `s`: the same object for frames that carry the same result (detectSeq: each
   * frame's detections are a fresh copy from the Worker) and the same tracks.
   */
  of(s: Pick<FrameState, "detections" | "detectSeq">): ClipOverlay {
    if (this.current && s.detectSeq === this.detectSeq) return this.current;
    const det = s.detections
      .filter((d) => d.score >= this.threshold)
      .map((d) => ({ label: d.label, score: r3(d.score), box: overlayBox(d.box) }));
    const o: ClipOverlay = { r: s.detectSeq, det };
    const rt = this.resultAt.get(s.detectSeq);
    if (rt !== undefined) o.rt = rt;
    if (this.tracks) o.tracks = this.tracks;
    this.detectSeq = s.detectSeq;
    this.current = o;
    return o;
  }
}

/** Results remembered for the interval estimate. */
const WINDOW = 16;
/** Assumed before two results were seen: a slow Pi on the CPU model. */
export const ASSUMED_RESULT_INTERVAL_MS = 500;
/** Slack on top of the results: Worker messages, the scene engine, the store. */
const SLACK_MS = 1000;
/** Intervals longer than this are a stall or an outage, not the detector's rate. */
const MAX_INTERVAL_MS = 5000;
export const MAX_OPEN_DELAY_MS = 30_000;

/**
 * A visit starts when its person's feet entered the zone (visits.ts backdates it) but opens only
 * once the track is confirmed, --min-frames results later, and reaches the recorder after the
 * result that confirmed it. The pre-roll must therefore reach back clip-pre + that delay from
 * the newest frame: (minFrames + 2) × the longest recent result interval + 1 s, at least
 * RING_MARGIN_MS (recorder.ts) and at most 30 s; the byte budget bounds the ring in any case.
 */
export class OpenDelay {
  private last: number | null = null;
  private intervals: number[] = [];

  constructor(private readonly minFrames: number) {}

  /** A detection result of the frame grabbed at `grabbedAtMs`; returns the delay now. */
  result(grabbedAtMs: number): number {
    if (this.last !== null) {
      const d = grabbedAtMs - this.last;
      if (d > 0 && d <= MAX_INTERVAL_MS) {
        this.intervals.push(d);
        if (this.intervals.length > WINDOW) this.intervals.shift();
      }
    }
    this.last = grabbedAtMs;
    return this.delayMs();
  }

  delayMs(): number {
    const interval =
      this.intervals.length > 0 ? Math.max(...this.intervals) : ASSUMED_RESULT_INTERVAL_MS;
    return Math.min(MAX_OPEN_DELAY_MS, (this.minFrames + 2) * interval + SLACK_MS);
  }
}
