/**
 * The numbers of /api/activity and of the activity charts (issue 12), from the stored per-minute
 * aggregates (VisitsReader.activity, src/events/visit-types.ts). Pure but for the local time
 * zone: bucket boundaries are local (the server's TZ, as the event file names and the /events
 * day filter), and a DST change makes a 23 or 25 hour day.
 *
 * Buckets (`bucket` query value):
 *   minute   the stored minutes as they are
 *   10min    the minutes of each local 10 minutes summed (the dashboard's people chart); the
 *            store knows minute|hour|day only, so these are summed here from the minutes
 *   hour     local hours (the repeated hour of a DST change is two buckets)
 *   day      local days
 * Summing: `people_max` is the max of the maxima, `person_seconds` and the line counts add up.
 * Buckets with no data are absent (zero); `totals` sums every bucket of the range.
 *
 * JSON (ms since the epoch; person_seconds rounded to 1 ms):
 *   { from, to, bucket, zones: [name...], lines: [name...],
 *     buckets: [{ start, end, people_max, person_seconds,
 *                 zones: { <zone>: { people_max, person_seconds } },
 *                 lines: { <line>: { in, out } }, crossings: { in, out } }],
 *     totals: { people_max, person_seconds, zones, lines, crossings } }
 * `from`/`to` are the range summed: the asked range widened to whole buckets. `zones` and
 * `lines` name every zone and line that has data in the range, sorted; `crossings` is the sum
 * over the lines.
 */
import type {
  ActivityBucket,
  Bucket,
  LineCounts,
  VisitsReader,
  ZoneActivity,
} from "../events/visit-types.ts";
import { BadRequest, choiceParam, timeParam } from "./query.ts";

export type ActivityStep = Bucket | "10min";
export const ACTIVITY_STEPS: readonly ActivityStep[] = ["minute", "10min", "hour", "day"];

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const STEP_MS: Record<Exclude<ActivityStep, "day">, number> = {
  minute: MINUTE_MS,
  "10min": 10 * MINUTE_MS,
  hour: 60 * MINUTE_MS,
};

/** The longest range per bucket, in days (a DST hour more is allowed). */
export const MAX_RANGE_DAYS: Record<ActivityStep, number> = {
  minute: 31,
  "10min": 31,
  hour: 93,
  day: 400,
};

export interface ZoneJson {
  people_max: number;
  person_seconds: number;
}

export interface ActivitySums extends ZoneJson {
  zones: Record<string, ZoneJson>;
  lines: Record<string, LineCounts>;
  /** The lines' counts summed. */
  crossings: LineCounts;
}

export interface BucketJson extends ActivitySums {
  start: number;
  end: number;
}

export interface ActivityJson {
  from: number;
  to: number;
  bucket: ActivityStep;
  zones: string[];
  lines: string[];
  buckets: BucketJson[];
  totals: ActivitySums;
}

export interface ActivityRange {
  from: number;
  to: number;
  bucket: ActivityStep;
}

// ---- local time ------------------------------------------------------------------------------

/** Local midnight of the day of `ms`. */
export function localDayStart(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Local midnight `n` days after the day of `ms` (23, 24 or 25 hours a day). */
export function addLocalDays(ms: number, n: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n).getTime();
}

/** Local midnight of a `YYYY-MM-DD` day (already validated). */
export function dayStartOf(day: string): number {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(y, m - 1, d).getTime();
}

/**
 * Start of the local minute / 10 minutes / hour holding `ms`: floored in local time at the UTC
 * offset of `ms` itself, so the repeated hour of a DST change keeps its own start (setting the
 * minutes of a Date would pick the first of the two).
 */
function floorLocal(ms: number, stepMs: number): number {
  const offMs = new Date(ms).getTimezoneOffset() * MINUTE_MS;
  const local = ms - offMs;
  return local - (((local % stepMs) + stepMs) % stepMs) + offMs;
}

/** Start of the bucket holding `ms`. */
export function bucketStart(ms: number, step: ActivityStep): number {
  return step === "day" ? localDayStart(ms) : floorLocal(ms, STEP_MS[step]);
}

/** End of the bucket that starts at `start`. */
export function bucketEnd(start: number, step: ActivityStep): number {
  return step === "day" ? addLocalDays(start, 1) : start + STEP_MS[step];
}

/** `ms` if it is a bucket start, else the end of its bucket. */
function bucketCeil(ms: number, step: ActivityStep): number {
  const s = bucketStart(ms, step);
  return s === ms ? ms : bucketEnd(s, step);
}

// ---- the query -------------------------------------------------------------------------------

/**
 * ?from&to&bucket: times in ms or ISO (src/http/query.ts). Without both: today (local). With
 * `from` alone: up to the next local midnight; with `to` alone: from the local midnight before.
 * Widened to whole buckets; bucket defaults to hour.
 */
export function parseActivityQuery(sp: URLSearchParams, nowMs = Date.now()): ActivityRange {
  const bucket = choiceParam(sp, "bucket", ACTIVITY_STEPS) ?? "hour";
  let from = timeParam(sp, "from");
  let to = timeParam(sp, "to");
  from ??= to === undefined ? localDayStart(nowMs) : localDayStart(to - 1);
  to ??= addLocalDays(from, 1);
  if (to <= from) throw new BadRequest("to", "to must be after from");
  from = bucketStart(from, bucket);
  to = bucketCeil(to, bucket);
  const maxDays = MAX_RANGE_DAYS[bucket];
  if (to - from > maxDays * DAY_MS + STEP_MS.hour) {
    throw new BadRequest("to", `to - from must be at most ${maxDays} days with bucket=${bucket}`);
  }
  return { from, to, bucket };
}

// ---- sums ------------------------------------------------------------------------------------

const r3 = (v: number): number => Math.round(v * 1000) / 1000;

export function emptySums(): ActivitySums {
  return { people_max: 0, person_seconds: 0, zones: {}, lines: {}, crossings: { in: 0, out: 0 } };
}

function addZone(acc: ZoneJson, z: ZoneActivity | ZoneJson): void {
  const max = "peopleMax" in z ? z.peopleMax : z.people_max;
  const sec = "personSeconds" in z ? z.personSeconds : z.person_seconds;
  if (max > acc.people_max) acc.people_max = max;
  acc.person_seconds += sec;
}

function addLines(acc: ActivitySums, lines: Record<string, LineCounts>): void {
  for (const [name, c] of Object.entries(lines)) {
    const l = (acc.lines[name] ??= { in: 0, out: 0 });
    l.in += c.in;
    l.out += c.out;
    acc.crossings.in += c.in;
    acc.crossings.out += c.out;
  }
}

/** Adds a stored bucket (or another sum) into `acc`. */
function addBucket(acc: ActivitySums, b: ActivityBucket | ActivitySums): void {
  if ("total" in b) addZone(acc, b.total);
  else addZone(acc, b);
  for (const [name, z] of Object.entries(b.zones)) {
    addZone((acc.zones[name] ??= { people_max: 0, person_seconds: 0 }), z);
  }
  addLines(acc, b.lines);
}

/** person_seconds rounded to 1 ms (sums of floats), in place. */
function rounded<T extends ActivitySums>(s: T): T {
  s.person_seconds = r3(s.person_seconds);
  for (const z of Object.values(s.zones)) z.person_seconds = r3(z.person_seconds);
  return s;
}

/** The stored buckets summed into our buckets of `step` (the store's own step or 10min). */
export function sumBuckets(stored: ActivityBucket[], step: ActivityStep): BucketJson[] {
  const out = new Map<number, BucketJson>();
  for (const b of stored) {
    const start = step === "10min" ? bucketStart(b.start, step) : b.start;
    let acc = out.get(start);
    if (!acc) {
      acc = { start, end: bucketEnd(start, step), ...emptySums() };
      out.set(start, acc);
    }
    addBucket(acc, b);
  }
  return [...out.values()].sort((a, b) => a.start - b.start).map(rounded);
}

/** The sums of some buckets (a range's totals, a day of the week overview). */
export function totalOf(buckets: readonly BucketJson[]): ActivitySums {
  const acc = emptySums();
  for (const b of buckets) addBucket(acc, b);
  return rounded(acc);
}

/** What /api/activity answers for a range, read from the store. */
export function readActivity(
  reader: Pick<VisitsReader, "activity">,
  q: ActivityRange,
): ActivityJson {
  const bucket = q.bucket === "10min" ? "minute" : q.bucket;
  const buckets = sumBuckets(reader.activity({ from: q.from, to: q.to, bucket }), q.bucket);
  const zones = new Set<string>();
  const lines = new Set<string>();
  for (const b of buckets) {
    for (const z of Object.keys(b.zones)) zones.add(z);
    for (const l of Object.keys(b.lines)) lines.add(l);
  }
  return {
    from: q.from,
    to: q.to,
    bucket: q.bucket,
    zones: [...zones].sort(),
    lines: [...lines].sort(),
    buckets,
    totals: totalOf(buckets),
  };
}
