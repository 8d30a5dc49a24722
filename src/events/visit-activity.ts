/**
 * /api/counts buckets from the stored per-minute activity (issue 11, 12): the minutes of a
 * bucket summed (person-seconds, line crossings) with the max of their maxima. Hour and day
 * buckets start on LOCAL boundaries (the process's time zone, DST included: a day may have 23
 * or 25 hours). Buckets with no data are absent. Pure.
 */
import type { MinuteActivity } from "../track/activity.ts";
import type { ActivityBucket, Bucket, ZoneActivity } from "./visit-types.ts";

/** Zone name of the whole picture's (or all zones') row in the `activity` table. */
export const TOTAL_ZONE = "";

export interface MinuteRow {
  minute: number;
  zone: string;
  people_max: number;
  person_sec: number;
}

export interface LineRow {
  minute: number;
  line: string;
  n_in: number;
  n_out: number;
}

/** Start of the bucket holding `ms`: the minute, or the local hour or day. */
export function bucketStart(ms: number, bucket: Bucket): number {
  if (bucket === "minute") return Math.floor(ms / 60_000) * 60_000;
  const d = new Date(ms);
  // Minus the local minutes, not setMinutes(0): each pass of a DST change's repeated hour is
  // its own hour (setMinutes would put both in the first).
  if (bucket === "hour")
    return ms - (d.getMinutes() * 60_000 + d.getSeconds() * 1000 + d.getMilliseconds());
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** The rows of one closed (or live) minute of the aggregator. */
export function minuteRows(m: MinuteActivity): { zones: MinuteRow[]; lines: LineRow[] } {
  const zones: MinuteRow[] = [
    { minute: m.minuteMs, zone: TOTAL_ZONE, people_max: m.maxPeople, person_sec: m.personSec },
  ];
  for (const [zone, z] of Object.entries(m.zones)) {
    zones.push({ minute: m.minuteMs, zone, people_max: z.maxPeople, person_sec: z.personSec });
  }
  const lines = Object.entries(m.lines).map(([line, c]) => ({
    minute: m.minuteMs,
    line,
    n_in: c.in,
    n_out: c.out,
  }));
  return { zones, lines };
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

function add(acc: ZoneActivity, r: MinuteRow): void {
  acc.peopleMax = Math.max(acc.peopleMax, r.people_max);
  acc.personSeconds += r.person_sec;
}

/** Sums minute and line rows into buckets, oldest first. */
export function toBuckets(zones: MinuteRow[], lines: LineRow[], bucket: Bucket): ActivityBucket[] {
  const out = new Map<number, ActivityBucket>();
  const at = (minute: number): ActivityBucket => {
    const start = bucketStart(minute, bucket);
    let b = out.get(start);
    if (!b) {
      b = { start, total: { peopleMax: 0, personSeconds: 0 }, zones: {}, lines: {} };
      out.set(start, b);
    }
    return b;
  };
  for (const r of zones) {
    const b = at(r.minute);
    if (r.zone === TOTAL_ZONE) add(b.total, r);
    else add((b.zones[r.zone] ??= { peopleMax: 0, personSeconds: 0 }), r);
  }
  for (const r of lines) {
    const c = (at(r.minute).lines[r.line] ??= { in: 0, out: 0 });
    c.in += r.n_in;
    c.out += r.n_out;
  }
  const list = [...out.values()].sort((a, b) => a.start - b.start);
  for (const b of list) {
    b.total.personSeconds = round3(b.total.personSeconds);
    for (const z of Object.values(b.zones)) z.personSeconds = round3(z.personSeconds);
  }
  return list;
}
