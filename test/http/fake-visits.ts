/**
 * A fake visits store behind ServerDeps.scene (issue 11/12 contract, src/events/visit-types.ts):
 * visits and per-minute aggregates held in memory, seeded by the test. The minutes come from the
 * real ActivityAggregator fed with one sample per second of each seeded visit, so they look like
 * what the scene engine stores. Its hour and day buckets are computed independently of
 * src/http/activity-data.ts (hours counted from local midnight), so tests compare two
 * implementations.
 */
import type {
  ActivityBucket,
  ActivityQuery,
  LineCounts,
  VisitDetail,
  VisitQuery,
  VisitRecord,
  VisitsReader,
  ZoneActivity,
} from "../../src/events/visit-types.ts";
import type { SceneDeps } from "../../src/http/deps.ts";
import type { SceneStatusJson } from "../../src/shared/status.ts";
import { ActivityAggregator, type MinuteActivity } from "../../src/track/activity.ts";
import type { Direction } from "../../src/track/lines.ts";

const HOUR_MS = 3_600_000;

/** What a test says about one visit; times relative to `dayStart` of seedVisits. */
export interface VisitSpec {
  /** Minutes after the day start (fractions allowed). */
  atMin: number;
  durationSec: number;
  people: number;
  zones?: string[];
  crossings?: { line: string; direction: Direction }[];
  open?: boolean;
}

function localMidnight(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Bucket start of `ms`: minutes as stored, hours counted from local midnight, local days. */
function fakeBucket(ms: number, bucket: ActivityQuery["bucket"]): number {
  if (bucket === "minute") return ms;
  const day = localMidnight(ms);
  if (bucket === "day") return day;
  return day + Math.floor((ms - day) / HOUR_MS) * HOUR_MS;
}

function addCounts(acc: ZoneActivity, maxPeople: number, personSec: number): void {
  acc.peopleMax = Math.max(acc.peopleMax, maxPeople);
  acc.personSeconds += personSec;
}

function addMinute(b: ActivityBucket, m: MinuteActivity): void {
  addCounts(b.total, m.maxPeople, m.personSec);
  for (const [z, c] of Object.entries(m.zones)) {
    addCounts((b.zones[z] ??= { peopleMax: 0, personSeconds: 0 }), c.maxPeople, c.personSec);
  }
  for (const [l, c] of Object.entries(m.lines)) {
    const acc: LineCounts = (b.lines[l] ??= { in: 0, out: 0 });
    acc.in += c.in;
    acc.out += c.out;
  }
}

export class FakeVisits implements VisitsReader {
  readonly minutes: MinuteActivity[] = [];
  readonly visits: VisitRecord[] = [];
  activityCalls = 0;
  #nextId = 1;

  activity(q: ActivityQuery): ActivityBucket[] {
    this.activityCalls++;
    const out = new Map<number, ActivityBucket>();
    for (const m of this.minutes) {
      if (m.minuteMs < q.from || m.minuteMs >= q.to) continue;
      const start = fakeBucket(m.minuteMs, q.bucket);
      let b = out.get(start);
      if (!b) {
        b = { start, total: { peopleMax: 0, personSeconds: 0 }, zones: {}, lines: {} };
        out.set(start, b);
      }
      addMinute(b, m);
    }
    return [...out.values()].sort((a, b) => a.start - b.start);
  }

  #matching(q: VisitQuery = {}): VisitRecord[] {
    const from = q.from ?? -Infinity;
    const to = q.to ?? Infinity;
    const zone = q.zone;
    const all = this.visits.filter(
      (v) => v.end >= from && v.start < to && (zone === undefined || v.zones.includes(zone)),
    );
    return all.sort((a, b) => (q.order === "asc" ? a.start - b.start : b.start - a.start));
  }

  list(q: VisitQuery = {}): VisitRecord[] {
    const offset = q.offset ?? 0;
    return this.#matching(q).slice(offset, offset + Math.min(q.limit ?? 50, 500));
  }

  count(q: VisitQuery = {}): number {
    return this.#matching(q).length;
  }

  get(id: number): VisitDetail | null {
    const v = this.visits.find((x) => x.id === id);
    return v ? { ...v, tracks: [], crossingList: [], stillIds: [] } : null;
  }

  current(): VisitRecord | null {
    return this.visits.find((v) => v.open) ?? null;
  }

  at(time: number): VisitRecord | null {
    return this.visits.find((v) => v.start <= time && time <= v.end) ?? null;
  }

  pathOf(file: string): string {
    return `/nonexistent/visits/${file}`;
  }

  /** Adds visits and their minutes (through ActivityAggregator at 1 sample/s). */
  seed(dayStart: number, specs: VisitSpec[]): VisitRecord[] {
    const added: VisitRecord[] = [];
    const agg = new ActivityAggregator();
    for (const s of [...specs].sort((a, b) => a.atMin - b.atMin)) {
      const start = Math.round(dayStart + s.atMin * 60_000);
      const end = start + s.durationSec * 1000;
      const zones = s.zones ?? [];
      for (let t = start; t <= end; t += 1000) {
        const zonePeople = Object.fromEntries(zones.map((z) => [z, s.people]));
        const crossings =
          t === start ? (s.crossings ?? []).map((c) => ({ ...c, trackId: 1, atMs: t })) : [];
        this.minutes.push(...agg.update({ atMs: t, people: s.people, zonePeople, crossings }));
      }
      // Nobody after the visit: closes its held count.
      this.minutes.push(...agg.update({ atMs: end + 1, people: 0, zonePeople: {}, crossings: [] }));
      added.push(this.#visit(s, start, end));
    }
    this.minutes.push(...agg.flush());
    this.minutes.sort((a, b) => a.minuteMs - b.minuteMs);
    this.visits.push(...added);
    return added;
  }

  #visit(s: VisitSpec, start: number, end: number): VisitRecord {
    const crossings: Record<string, LineCounts> = {};
    for (const c of s.crossings ?? []) (crossings[c.line] ??= { in: 0, out: 0 })[c.direction]++;
    return {
      id: this.#nextId++,
      start,
      end,
      open: s.open ?? false,
      durationMs: end - start,
      zones: s.zones ?? [],
      people: s.people,
      maxPeople: s.people,
      crossings,
      image: null,
      thumb: null,
      stills: 0,
    };
  }

  /** Adds stored minutes as they are (benchmarks, odd cases). */
  addMinutes(ms: MinuteActivity[]): void {
    this.minutes.push(...ms);
    this.minutes.sort((a, b) => a.minuteMs - b.minuteMs);
  }
}

const NO_SCENE: SceneStatusJson = {
  tracks: [],
  zone_people: {},
  people_in_zones: 0,
  lines: {},
  day: "1970-01-01",
  visit: null,
  zones_error: null,
};

/** ServerDeps.scene around a FakeVisits: a feed that never updates, a zones file never saved. */
export function fakeScene(visits: VisitsReader): SceneDeps {
  const empty = { zones: [], masks: [], lines: [] };
  return {
    visits,
    feed: {
      onUpdate: () => () => undefined,
      onVisit: () => () => undefined,
      statusJson: () => NO_SCENE,
    },
    zones: {
      path: "/nonexistent/zones.json",
      current: () => empty,
      error: () => null,
      save: async () => empty,
      onChange: () => () => undefined,
    },
  };
}
