/**
 * Rows of the visits tables (migration 2, src/events/migrations.ts) and the records of
 * src/events/visit-types.ts they become; the WHERE clause of a VisitQuery. Pure. JSON columns
 * that do not parse (a hand-edited row) read as empty.
 */
import { HcError } from "../shared/errors.ts";
import type {
  CrossingRecord,
  Direction,
  LineCounts,
  VisitQuery,
  VisitRecord,
  VisitTrackRecord,
} from "./visit-types.ts";

export interface VisitRow {
  id: number;
  start_ms: number;
  end_ms: number;
  open: number;
  /** JSON array of zone names. */
  zones: string;
  people: number;
  max_people: number;
  /** JSON {line: {in, out}}. */
  crossings: string;
  image: string | null;
  thumb: string | null;
  /** Events linked to the visit (a subquery). */
  stills: number;
}

export interface TrackRow {
  track_id: number;
  first_ms: number;
  last_ms: number;
  zones: string;
}

export interface CrossingRow {
  time: number;
  line: string;
  direction: string;
  track_id: number;
}

/** The SELECT of a VisitRow (alias v), the stills counted. */
export const VISIT_COLUMNS =
  "v.id, v.start_ms, v.end_ms, v.open, v.zones, v.people, v.max_people, v.crossings, v.image, v.thumb, " +
  "(SELECT COUNT(*) FROM events e WHERE e.visit_id = v.id) AS stills";

function parse<T>(text: string, ok: (v: unknown) => v is T, dflt: T): T {
  try {
    const v: unknown = JSON.parse(text);
    return ok(v) ? v : dflt;
  } catch {
    return dflt;
  }
}

const isNames = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === "string");

const isCounts = (v: unknown): v is Record<string, LineCounts> =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every(
    (c) =>
      typeof c === "object" && c !== null && typeof c.in === "number" && typeof c.out === "number",
  );

export function toVisit(r: VisitRow): VisitRecord {
  return {
    id: r.id,
    start: r.start_ms,
    end: r.end_ms,
    open: r.open !== 0,
    durationMs: Math.max(0, r.end_ms - r.start_ms),
    zones: parse(r.zones, isNames, []),
    people: r.people,
    maxPeople: r.max_people,
    crossings: parse(r.crossings, isCounts, {}),
    image: r.image,
    thumb: r.thumb,
    stills: r.stills,
  };
}

export function toTrack(r: TrackRow): VisitTrackRecord {
  return {
    trackId: r.track_id,
    firstSeen: r.first_ms,
    lastSeen: r.last_ms,
    zones: parse(r.zones, isNames, []),
  };
}

export function toCrossing(r: CrossingRow): CrossingRecord {
  const direction: Direction = r.direction === "in" ? "in" : "out";
  return { time: r.time, line: r.line, direction, trackId: r.track_id };
}

const finite = (v: number | undefined, what: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!Number.isFinite(v))
    throw new HcError("VISITS_QUERY", `bad ${what} ${v}`, "give a time in ms since the epoch");
  return v;
};

/** Visits that overlap [from, to) and entered `zone`; alias v. */
export function visitWhere(q: VisitQuery): { sql: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  const from = finite(q.from, "from");
  const to = finite(q.to, "to");
  if (from !== undefined) {
    parts.push("(v.end_ms >= ? OR v.open = 1)");
    params.push(from);
  }
  if (to !== undefined) {
    parts.push("v.start_ms < ?");
    params.push(to);
  }
  if (q.zone !== undefined) {
    parts.push("EXISTS (SELECT 1 FROM json_each(v.zones) j WHERE j.value = ?)");
    params.push(q.zone);
  }
  return { sql: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
}

/** limit 1..500 (default 50), offset ≥ 0. */
export function paging(q: VisitQuery): { limit: number; offset: number } {
  const limit = Math.min(500, Math.max(1, Math.floor(q.limit ?? 50) || 50));
  const offset = Math.max(0, Math.floor(q.offset ?? 0) || 0);
  return { limit, offset };
}
