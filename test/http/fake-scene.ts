/**
 * A fake of ServerDeps.scene (issue 11) for the visits routes, pages, SSE, MQTT, webhooks and
 * metrics tests: a SceneFeed the test drives (statusJson, updates and visit events), an
 * in-memory VisitsReader with visits and per-minute activity the test adds, and the zones
 * service of fake-deps.ts. Images live under <dir>/visits/ as the real store keeps them.
 */
import fs from "node:fs";
import { join } from "node:path";
import type { SceneDeps } from "../../src/http/deps.ts";
import type {
  ActivityBucket,
  ActivityQuery,
  VisitDetail,
  VisitQuery,
  VisitRecord,
  VisitsReader,
} from "../../src/events/visit-types.ts";
import type { SceneFeed, SceneUpdate, VisitEvent } from "../../src/pipeline/scene-api.ts";
import type { SceneStatusJson } from "../../src/shared/status.ts";
import type { ZonesConfig } from "../../src/track/zones.ts";
import { fakeZonesService, type FakeZonesService } from "./fake-deps.ts";

/** A visit as a test writes it: id and start at least, the rest defaulted. */
export type VisitSpec = Partial<VisitDetail> & { id: number; start: number };

export function visitDetail(s: VisitSpec): VisitDetail {
  const end = s.end ?? s.start + 30_000;
  return {
    end,
    open: false,
    durationMs: end - s.start,
    zones: [],
    people: 1,
    maxPeople: 1,
    crossings: {},
    image: null,
    thumb: null,
    stills: s.stillIds?.length ?? 0,
    tracks: [],
    crossingList: [],
    stillIds: [],
    ...s,
  };
}

const strip = (d: VisitDetail): VisitRecord => {
  const { tracks: _t, crossingList: _c, stillIds: _s, ...rec } = d;
  return rec;
};

export class FakeVisits implements VisitsReader {
  readonly visits: VisitDetail[] = [];
  /** Per-minute buckets (start on a minute). */
  readonly minutes: ActivityBucket[] = [];
  /** Every activity() query, for tests of the ranges. */
  readonly activityQueries: ActivityQuery[] = [];

  constructor(readonly dir: string) {}

  add(spec: VisitSpec): VisitDetail {
    const v = visitDetail(spec);
    this.visits.push(v);
    return v;
  }

  /** Writes a visit image (and its thumbnail) where pathOf says. */
  writeImage(file: string, bytes: Uint8Array, thumb = false): string {
    const path = this.pathOf(file, thumb);
    fs.mkdirSync(join(path, ".."), { recursive: true });
    fs.writeFileSync(path, bytes);
    return path;
  }

  #match(q: VisitQuery = {}): VisitDetail[] {
    return this.visits.filter(
      (v) =>
        (q.from === undefined || v.end >= q.from) &&
        (q.to === undefined || v.start < q.to) &&
        (q.zone === undefined || v.zones.includes(q.zone)),
    );
  }

  list(q: VisitQuery = {}): VisitRecord[] {
    const dir = q.order === "asc" ? 1 : -1;
    const all = this.#match(q).sort((a, b) => dir * (a.start - b.start));
    const offset = q.offset ?? 0;
    return all.slice(offset, offset + Math.min(q.limit ?? 50, 500)).map(strip);
  }

  count(q: VisitQuery = {}): number {
    return this.#match(q).length;
  }

  get(id: number): VisitDetail | null {
    return this.visits.find((v) => v.id === id) ?? null;
  }

  current(): VisitRecord | null {
    const v = this.visits.find((x) => x.open);
    return v ? strip(v) : null;
  }

  at(time: number): VisitRecord | null {
    const v = this.visits.find((x) => x.start <= time && time <= x.end);
    return v ? strip(v) : null;
  }

  activity(q: ActivityQuery): ActivityBucket[] {
    this.activityQueries.push(q);
    const out = new Map<number, ActivityBucket>();
    for (const m of this.minutes) {
      if (m.start < q.from || m.start >= q.to) continue;
      const start = bucketStart(m.start, q.bucket);
      const b = out.get(start) ?? { start, total: zero(), zones: {}, lines: {} };
      addZone(b.total, m.total);
      for (const [n, z] of Object.entries(m.zones)) addZone((b.zones[n] ??= zero()), z);
      for (const [n, c] of Object.entries(m.lines)) {
        const l = (b.lines[n] ??= { in: 0, out: 0 });
        l.in += c.in;
        l.out += c.out;
      }
      out.set(start, b);
    }
    return [...out.values()].sort((a, b) => a.start - b.start);
  }

  pathOf(file: string, thumb = false): string {
    return thumb ? join(this.dir, "visits", "thumbs", file) : join(this.dir, "visits", file);
  }
}

const zero = () => ({ peopleMax: 0, personSeconds: 0 });
function addZone(into: { peopleMax: number; personSeconds: number }, z: typeof into): void {
  into.personSeconds += z.personSeconds;
  into.peopleMax = Math.max(into.peopleMax, z.peopleMax);
}

function bucketStart(ms: number, bucket: ActivityQuery["bucket"]): number {
  const d = new Date(ms);
  d.setSeconds(0, 0);
  if (bucket !== "minute") d.setMinutes(0);
  if (bucket === "day") d.setHours(0);
  return d.getTime();
}

/** A SceneFeed whose status the test sets and whose updates and visits it emits. */
export class FakeFeed implements SceneFeed {
  status: SceneStatusJson;
  readonly #updates = new Set<(u: SceneUpdate) => void>();
  readonly #visits = new Set<(e: VisitEvent) => void>();

  constructor(zones: ZonesConfig) {
    this.status = emptyStatus(zones);
  }

  onUpdate(cb: (u: SceneUpdate) => void): () => void {
    this.#updates.add(cb);
    return () => void this.#updates.delete(cb);
  }

  onVisit(cb: (e: VisitEvent) => void): () => void {
    this.#visits.add(cb);
    return () => void this.#visits.delete(cb);
  }

  statusJson(): SceneStatusJson {
    return structuredClone(this.status);
  }

  get listeners(): number {
    return this.#updates.size + this.#visits.size;
  }

  emitUpdate(u: SceneUpdate): void {
    for (const cb of this.#updates) cb(u);
  }

  emitVisit(e: VisitEvent): void {
    for (const cb of this.#visits) cb(e);
  }
}

export function emptyStatus(zones: ZonesConfig): SceneStatusJson {
  return {
    tracks: [],
    zone_people: Object.fromEntries(zones.zones.map((z) => [z.name, 0])),
    people_in_zones: 0,
    lines: Object.fromEntries(zones.lines.map((l) => [l.name, { in: 0, out: 0 }])),
    day: "2024-05-24",
    visit: null,
    zones_error: null,
  };
}

/** A SceneUpdate with only what the consumers read set; the rest empty. */
export function sceneUpdate(p: Partial<SceneUpdate> & { atMs?: number } = {}): SceneUpdate {
  return {
    atMs: Date.now(),
    tracks: [],
    tentative: 0,
    ended: [],
    people: 0,
    peopleInZones: 0,
    zonePeople: {},
    crossings: [],
    lineTotals: { day: "2024-05-24", lines: {} },
    visit: { open: null, opened: null, closed: null, newBest: false },
    masked: 0,
    ...p,
  };
}

export interface FakeScene {
  scene: SceneDeps;
  feed: FakeFeed;
  visits: FakeVisits;
  zones: FakeZonesService;
}

/** Zones "door" and "yard", a line "gate" (unless `zones` is given). */
export const DOOR_YARD_GATE: ZonesConfig = {
  zones: [
    {
      name: "door",
      points: [
        [0.1, 0.5],
        [0.4, 0.5],
        [0.4, 0.95],
        [0.1, 0.95],
      ],
    },
    {
      name: "yard",
      points: [
        [0.5, 0.5],
        [0.9, 0.5],
        [0.9, 0.95],
        [0.5, 0.95],
      ],
    },
  ],
  masks: [],
  lines: [{ name: "gate", a: [0.45, 0.1], b: [0.45, 0.99] }],
};

export function fakeScene(dir: string, zonesConfig: ZonesConfig = DOOR_YARD_GATE): FakeScene {
  const zones = fakeZonesService(zonesConfig, join(dir, "zones.json"));
  const feed = new FakeFeed(zonesConfig);
  const visits = new FakeVisits(dir);
  return { scene: { feed, zones, visits }, feed, visits, zones };
}
