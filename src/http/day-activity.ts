/**
 * What the events page's activity panel shows (issue 12; drawn by src/http/pages/day-activity.tsx):
 * one local day's visits and people per 10 minutes, and the week up to that day by hour. Read
 * from the visits store on each request; the page renders it as HTML and SVG, no script.
 *
 * A day is the `?day=YYYY-MM-DD` of the events page (its day filter), or today; the week is the
 * seven local days ending with it. Counts come from the same functions as /api/activity
 * (src/http/activity-data.ts), so the page and the API agree.
 */
import { localDay } from "../events/names.ts";
import type { VisitRecord, VisitsReader } from "../events/visit-types.ts";
import {
  addLocalDays,
  dayStartOf,
  localDayStart,
  readActivity,
  totalOf,
  type ActivitySums,
  type BucketJson,
} from "./activity-data.ts";

/** The most visits drawn on a day (the store's page limit). */
export const MAX_DAY_VISITS = 500;
export const WEEK_DAYS = 7;

export interface WeekDay {
  day: string;
  start: number;
  end: number;
  /** Hour buckets with data. */
  hours: BucketJson[];
  totals: ActivitySums;
  /** Visits that overlap the day. */
  visits: number;
}

export interface DayActivityData {
  day: string;
  /** Local midnight and the next (23, 24 or 25 hours apart). */
  start: number;
  end: number;
  nowMs: number;
  /** The day's visits, oldest first (at most MAX_DAY_VISITS). */
  visits: VisitRecord[];
  /** All visits that overlap the day. */
  visitsTotal: number;
  /** People per 10 minutes (buckets with data). */
  tenMin: BucketJson[];
  totals: ActivitySums;
  /** The seven days ending with `day`, oldest first. */
  week: WeekDay[];
}

function weekOf(reader: VisitsReader, dayStart: number): WeekDay[] {
  const from = addLocalDays(dayStart, 1 - WEEK_DAYS);
  const to = addLocalDays(dayStart, 1);
  const hours = readActivity(reader, { from, to, bucket: "hour" }).buckets;
  const week: WeekDay[] = [];
  for (let i = 0; i < WEEK_DAYS; i++) {
    const start = addLocalDays(from, i);
    const end = addLocalDays(from, i + 1);
    const mine = hours.filter((h) => h.start >= start && h.start < end);
    week.push({
      day: localDay(start),
      start,
      end,
      hours: mine,
      totals: totalOf(mine),
      visits: reader.count({ from: start, to: end }),
    });
  }
  return week;
}

/** The panel's data for `day` (default: today), read from the store. */
export function loadDayActivity(
  reader: VisitsReader,
  day: string | undefined,
  nowMs = Date.now(),
): DayActivityData {
  const start = day ? dayStartOf(day) : localDayStart(nowMs);
  const end = addLocalDays(start, 1);
  const range = { from: start, to: end };
  const tenMin = readActivity(reader, { ...range, bucket: "10min" });
  return {
    day: localDay(start),
    start,
    end,
    nowMs,
    visits: reader.list({ ...range, order: "asc", limit: MAX_DAY_VISITS }),
    visitsTotal: reader.count(range),
    tenMin: tenMin.buckets,
    totals: tenMin.totals,
    week: weekOf(reader, start),
  };
}
