/**
 * /api/counts (issue 11): line crossings and zone occupancy per time bucket, from the visits
 * store's per-minute aggregates (VisitsReader.activity). Pure: the route parses the query and
 * reads the store; this picks the range and shapes the JSON.
 *
 *   GET /api/counts?from&to&bucket=minute|hour|day
 *   {"from": 1716501600000, "to": 1716540000000, "from_iso": "...", "to_iso": "...",
 *    "bucket": "hour", "zones": ["door"], "lines": ["gate"],
 *    "buckets": [{"start": 1716526800000, "start_iso": "...",
 *                 "lines": {"gate": {"in": 3, "out": 2}},
 *                 "zones": {"door": {"person_seconds": 42.5, "people_max": 2}},
 *                 "total": {"person_seconds": 42.5, "people_max": 2}}],
 *    "totals": {"lines": {...}, "zones": {...}, "total": {...}}}
 *
 * - from/to: ms or ISO as /api/events takes them; default today (local midnight) to now; a
 *   missing `from` is the local midnight of `to`'s day. Buckets start on local minute, hour and
 *   day boundaries (hour and day buckets sum the minutes, people_max is the max of the maxima).
 * - Buckets with no activity are left out; every bucket lists every zone and line of `zones` and
 *   `lines` (the zones file's names and any other name in the data), zeros included.
 * - `total` is the whole picture (all zones together when zones are set). person_seconds: the
 *   people count summed over time (2 people for 30 s = 60), one decimal.
 * - Ranges are bounded (MAX_RANGE_MS): 31 days of minutes, 366 days of hours, 10 years of days.
 */
import type { ActivityBucket, Bucket, LineCounts, ZoneActivity } from "../events/visit-types.ts";
import { localDayStart } from "./activity-data.ts";
import { BadRequest } from "./query.ts";

export const BUCKETS: readonly Bucket[] = ["minute", "hour", "day"];

const DAY_MS = 86_400_000;
export const MAX_RANGE_MS: Readonly<Record<Bucket, number>> = {
  minute: 31 * DAY_MS,
  hour: 366 * DAY_MS,
  day: 3660 * DAY_MS,
};
const RANGE_TEXT: Readonly<Record<Bucket, string>> = {
  minute: "31 days",
  hour: "366 days",
  day: "3660 days",
};

export interface ZoneCountsJson {
  person_seconds: number;
  people_max: number;
}

export interface CountsBucketJson {
  start: number;
  start_iso: string;
  lines: Record<string, LineCounts>;
  zones: Record<string, ZoneCountsJson>;
  total: ZoneCountsJson;
}

export interface CountsJson {
  from: number;
  to: number;
  from_iso: string;
  to_iso: string;
  bucket: Bucket;
  zones: string[];
  lines: string[];
  buckets: CountsBucketJson[];
  totals: Omit<CountsBucketJson, "start" | "start_iso">;
}

/** The range asked for, with its defaults; 400 for an empty or too long one. */
export function countsRange(
  q: { from?: number; to?: number; bucket?: Bucket },
  nowMs: number,
): { from: number; to: number; bucket: Bucket } {
  const bucket = q.bucket ?? "hour";
  const to = q.to ?? nowMs;
  const from = q.from ?? localDayStart(to);
  if (from >= to) throw new BadRequest("from", "from must be before to");
  if (to - from > MAX_RANGE_MS[bucket]) {
    throw new BadRequest("to", `at most ${RANGE_TEXT[bucket]} of ${bucket} buckets at once`);
  }
  return { from, to, bucket };
}

const round1 = (v: number): number => Math.round(v * 10) / 10;
const zoneJson = (z: ZoneActivity | undefined): ZoneCountsJson => ({
  person_seconds: round1(z?.personSeconds ?? 0),
  people_max: z?.peopleMax ?? 0,
});

/** The JSON of the buckets; `names` are the zones file's zone and line names. */
export function countsJson(
  range: { from: number; to: number; bucket: Bucket },
  buckets: readonly ActivityBucket[],
  names: { zones: readonly string[]; lines: readonly string[] },
): CountsJson {
  const zones = union(
    names.zones,
    buckets.map((b) => Object.keys(b.zones)),
  );
  const lines = union(
    names.lines,
    buckets.map((b) => Object.keys(b.lines)),
  );
  const sum: ActivityBucket = { start: range.from, total: zeroZone(), zones: {}, lines: {} };
  const out = buckets.map((b) => {
    addInto(sum, b);
    return {
      start: b.start,
      start_iso: new Date(b.start).toISOString(),
      ...shape(b, zones, lines),
    };
  });
  return {
    from: range.from,
    to: range.to,
    from_iso: new Date(range.from).toISOString(),
    to_iso: new Date(range.to).toISOString(),
    bucket: range.bucket,
    zones,
    lines,
    buckets: out,
    totals: shape(sum, zones, lines),
  };
}

function shape(
  b: ActivityBucket,
  zones: readonly string[],
  lines: readonly string[],
): Omit<CountsBucketJson, "start" | "start_iso"> {
  const l: Record<string, LineCounts> = {};
  for (const n of lines) l[n] = { in: b.lines[n]?.in ?? 0, out: b.lines[n]?.out ?? 0 };
  const z: Record<string, ZoneCountsJson> = {};
  for (const n of zones) z[n] = zoneJson(b.zones[n]);
  return { lines: l, zones: z, total: zoneJson(b.total) };
}

const zeroZone = (): ZoneActivity => ({ peopleMax: 0, personSeconds: 0 });

function addZone(into: ZoneActivity, z: ZoneActivity): void {
  into.personSeconds += z.personSeconds;
  into.peopleMax = Math.max(into.peopleMax, z.peopleMax);
}

function addInto(sum: ActivityBucket, b: ActivityBucket): void {
  addZone(sum.total, b.total);
  for (const [n, z] of Object.entries(b.zones)) addZone((sum.zones[n] ??= zeroZone()), z);
  for (const [n, c] of Object.entries(b.lines)) {
    const s = (sum.lines[n] ??= { in: 0, out: 0 });
    s.in += c.in;
    s.out += c.out;
  }
}

/** `first` in its order, then the other names in order of appearance. */
function union(first: readonly string[], more: readonly string[][]): string[] {
  const seen = new Set(first);
  const out = [...first];
  for (const names of more) {
    for (const n of names) {
      if (!seen.has(n)) {
        seen.add(n);
        out.push(n);
      }
    }
  }
  return out;
}
