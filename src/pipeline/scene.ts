/**
 * The live scene on the main thread (issue 11; SceneFeed of src/pipeline/scene-api.ts): a
 * SceneAnalyzer (src/track/scene.ts) fed with every detection result of the store (the
 * detections at the threshold and the low ones, at the frame's grab time), and what follows:
 * - visits into the store through the VisitRecorder (src/pipeline/visit-recorder.ts), "open" /
 *   "close" told to onVisit after the store has them;
 * - per-minute activity (src/track/activity.ts) stored as minutes close;
 * - each cooldown still linked to the visit it fell in (the archive's onSaved);
 * - `tick()` once a second: a visit closes by time when results stop (a stalled detector, the
 *   camera gone), the minute under way is stored after a pause, retention runs hourly;
 * - `flush()` at stop: every track ends, the open visit closes at its last time, saved.
 * Zones changes (the zones file service) apply to the analyzer live. Line totals continue
 * from the store's crossings since local midnight after a restart; ids continue too.
 */
import type { VisitsStore } from "../events/visits.ts";
import type { Config } from "../shared/config.ts";
import { errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { SceneStatusJson } from "../shared/status.ts";
import type { Backend, DetectionResult } from "../shared/types.ts";
import { ActivityAggregator } from "../track/activity.ts";
import { localDayKey, SceneAnalyzer, type SceneUpdate } from "../track/scene.ts";
import type { RenderedImages, RenderInput } from "../workers/protocol.ts";
import type { SceneFeed, VisitEvent, ZonesService } from "./scene-api.ts";
import { VisitRecorder } from "./visit-recorder.ts";

export interface SceneServiceOptions {
  config: Pick<Config, "threshold" | "scene">;
  visits: VisitsStore;
  zones: ZonesService;
  render(input: RenderInput): Promise<RenderedImages | null>;
  /** The overlay line's fps and backend now (the pipeline's status). */
  overlay(): { fps: number; backend: Backend | null };
  log?: Logger;
  now?: () => number;
}

const RETENTION_EVERY_MS = 60 * 60 * 1000;

/** Local midnight of the day of `ms`. */
function midnight(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

const r4 = (v: number): number => Math.round(v * 10000) / 10000;

export class SceneService implements SceneFeed {
  readonly #o: SceneServiceOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #analyzer: SceneAnalyzer;
  readonly #activity = new ActivityAggregator();
  readonly #recorder: VisitRecorder;
  readonly #updates = new Set<(u: SceneUpdate) => void>();
  readonly #visitListeners = new Set<(e: VisitEvent) => void>();
  readonly #offZones: () => void;
  #last: SceneUpdate | null = null;
  #lastResultMs = 0;
  /** The minute under way was stored after results stopped. */
  #activityIdle = true;
  #lastRetentionMs: number;
  #flushed: Promise<void> | null = null;

  constructor(o: SceneServiceOptions) {
    this.#o = o;
    this.#log = o.log ?? logger("scene");
    this.#now = o.now ?? Date.now;
    const now = this.#now();
    const s = o.config.scene;
    this.#analyzer = new SceneAnalyzer({
      threshold: o.config.threshold,
      minFrames: s.minFrames,
      lostSec: s.lostSec,
      visitGapSec: s.visitGapSec,
      firstTrackId: o.visits.nextTrackId(),
      firstVisitId: o.visits.nextVisitId(),
      zones: o.zones.current(),
      lineTotals: { day: localDayKey(now), lines: o.visits.lineTotalsSince(midnight(now)) },
    });
    this.#lastRetentionMs = now;
    this.#offZones = o.zones.onChange((c) => this.#analyzer.setZones(c));
    o.visits.setLiveMinute(() => this.#activity.current());
    this.#recorder = new VisitRecorder({
      store: o.visits,
      render: o.render,
      overlay: o.overlay,
      emit: (e) => this.#emitVisit(e),
      log: this.#log,
    });
  }

  onUpdate(cb: (u: SceneUpdate) => void): () => void {
    this.#updates.add(cb);
    return () => void this.#updates.delete(cb);
  }

  onVisit(cb: (e: VisitEvent) => void): () => void {
    this.#visitListeners.add(cb);
    return () => void this.#visitListeners.delete(cb);
  }

  /** The detector runs at this score (the analyzer's second pass needs the low boxes). */
  get lowScore(): number {
    return this.#analyzer.lowScore;
  }

  /** The open visit, for linking stills: its id and (backdated) start. */
  get openVisit(): { id: number; start: number } | null {
    const v = this.#analyzer.openVisit;
    return v && { id: v.id, start: v.startMs };
  }

  /** One detection result (the store's "result" event). */
  onResult(r: DetectionResult): void {
    if (this.#flushed) return;
    const u = this.#analyzer.update([...r.detections, ...r.low], r.grabbedAt);
    this.#last = u;
    this.#lastResultMs = r.grabbedAt;
    this.#recorder.update(u, r);
    this.#storeMinutes(
      this.#activity.update({
        atMs: u.atMs,
        people: u.peopleInZones,
        zonePeople: u.zonePeople,
        crossings: u.crossings,
      }),
    );
    this.#activityIdle = false;
    for (const cb of this.#updates) {
      try {
        cb(u);
      } catch (e) {
        this.#log.once("listener", "error", `a scene listener failed: ${errorMessage(e)}`);
      }
    }
  }

  /** Once a second: visits close by time, a paused minute is stored, retention hourly. */
  tick(nowMs = this.#now()): void {
    if (this.#flushed) return;
    const closed = this.#analyzer.tick(nowMs);
    if (closed) this.#recorder.close(closed, nowMs);
    const pauseMs = this.#activity.maxStepMs + 1000;
    if (!this.#activityIdle && nowMs - this.#lastResultMs > pauseMs) {
      this.#activityIdle = true;
      this.#storeMinutes(this.#activity.flush(nowMs));
    }
    if (nowMs - this.#lastRetentionMs >= RETENTION_EVERY_MS) {
      this.#lastRetentionMs = nowMs;
      try {
        this.#o.visits.enforce();
      } catch (e) {
        this.#log.once("retention", "warn", `visit retention failed: ${errorMessage(e)}`);
      }
    }
  }

  /** At stop: every track ends, the open visit closes (saved), the minutes are stored. */
  flush(): Promise<void> {
    this.#flushed ??= this.#flush();
    return this.#flushed;
  }

  async #flush(): Promise<void> {
    const now = this.#now();
    const { closed } = this.#analyzer.flush();
    if (closed) this.#recorder.close(closed, now);
    this.#storeMinutes(this.#activity.flush(now));
    this.#o.visits.setLiveMinute(null);
    this.#offZones();
    await this.#recorder.settle();
  }

  statusJson(): SceneStatusJson {
    const now = this.#now();
    const u = this.#last;
    // Results stopped: nobody is known to be there any more.
    const fresh = u !== null && now - this.#lastResultMs <= this.#o.config.scene.lostSec * 1000;
    const zones = this.#o.zones.current();
    const zonePeople: Record<string, number> = {};
    for (const z of zones.zones) zonePeople[z.name] = fresh ? (u.zonePeople[z.name] ?? 0) : 0;
    const day = localDayKey(now);
    const totals = this.#analyzer.lineTotals();
    const lines: SceneStatusJson["lines"] = {};
    for (const l of zones.lines) {
      const c = totals.day === day ? totals.lines[l.name] : undefined;
      lines[l.name] = { in: c?.in ?? 0, out: c?.out ?? 0 };
    }
    const v = this.#analyzer.openVisit;
    const err = this.#o.zones.error();
    return {
      tracks: (fresh ? u.tracks : []).map((t) => ({
        id: t.id,
        box: [r4(t.box.ymin), r4(t.box.xmin), r4(t.box.ymax), r4(t.box.xmax)],
        score: Math.round(t.score * 1000) / 1000,
        zones: t.zones,
      })),
      zone_people: zonePeople,
      people_in_zones: fresh ? u.peopleInZones : 0,
      lines,
      day,
      visit: v && {
        id: v.id,
        start: v.startMs,
        people: v.trackIds.length,
        max_people: v.maxPeople,
        zones: v.zones,
      },
      zones_error: err ? err.message : null,
    };
  }

  #storeMinutes(list: ReturnType<ActivityAggregator["flush"]>): void {
    if (list.length === 0) return;
    try {
      this.#o.visits.addMinutes(list);
    } catch (e) {
      this.#log.once("activity", "error", `cannot store activity: ${errorMessage(e)}`);
    }
  }

  #emitVisit(e: VisitEvent): void {
    for (const cb of this.#visitListeners) {
      try {
        cb(e);
      } catch (err) {
        this.#log.once("visit-listener", "error", `a visit listener failed: ${errorMessage(err)}`);
      }
    }
  }
}
