/**
 * The reads of the visits store (src/events/visits.ts), as functions over its connection: what
 * VisitsReader (src/events/visit-types.ts) answers. Synchronous, a few indexed queries each.
 */
import type { Database } from "bun:sqlite";
import { minuteRows, toBuckets, type LineRow, type MinuteRow } from "./visit-activity.ts";
import {
  paging,
  toCrossing,
  toTrack,
  toVisit,
  visitWhere,
  VISIT_COLUMNS,
  type CrossingRow,
  type TrackRow,
  type VisitRow,
} from "./visit-rows.ts";
import type { MinuteActivity } from "../track/activity.ts";
import type {
  ActivityBucket,
  ActivityQuery,
  VisitDetail,
  VisitQuery,
  VisitRecord,
} from "./visit-types.ts";

export function listVisits(db: Database, q: VisitQuery): VisitRecord[] {
  const { sql, params } = visitWhere(q);
  const { limit, offset } = paging(q);
  const dir = q.order === "asc" ? "ASC" : "DESC";
  const rows = db
    .query(
      `SELECT ${VISIT_COLUMNS} FROM visits v ${sql} ORDER BY v.start_ms ${dir}, v.id ${dir} LIMIT ? OFFSET ?`,
    )
    .all(...params, limit, offset) as VisitRow[];
  return rows.map(toVisit);
}

export function countVisits(db: Database, q: VisitQuery): number {
  const { sql, params } = visitWhere(q);
  const r = db.query(`SELECT COUNT(*) AS n FROM visits v ${sql}`).get(...params) as { n: number };
  return r.n;
}

export function visitDetail(db: Database, id: number): VisitDetail | null {
  const row = db
    .query(`SELECT ${VISIT_COLUMNS} FROM visits v WHERE v.id = ?`)
    .get(id) as VisitRow | null;
  if (!row) return null;
  const tracks = db
    .query(
      "SELECT track_id, first_ms, last_ms, zones FROM visit_tracks WHERE visit_id = ? ORDER BY first_ms, track_id",
    )
    .all(id) as TrackRow[];
  const crossings = db
    .query(
      "SELECT time, line, direction, track_id FROM crossings WHERE visit_id = ? ORDER BY time, id",
    )
    .all(id) as CrossingRow[];
  const stills = db.query("SELECT id FROM events WHERE visit_id = ? ORDER BY time, id").all(id) as {
    id: number;
  }[];
  return {
    ...toVisit(row),
    tracks: tracks.map(toTrack),
    crossingList: crossings.map(toCrossing),
    stillIds: stills.map((s) => s.id),
  };
}

/** The open visit (the newest, should a crash have left two), or null. */
export function openVisit(db: Database): VisitRecord | null {
  const row = db
    .query(`SELECT ${VISIT_COLUMNS} FROM visits v WHERE v.open = 1 ORDER BY v.id DESC LIMIT 1`)
    .get() as VisitRow | null;
  return row ? toVisit(row) : null;
}

/** The visit whose [start, end] holds `time` (an open one: from its start on), or null. */
export function visitAt(db: Database, time: number): VisitRecord | null {
  const row = db
    .query(
      `SELECT ${VISIT_COLUMNS} FROM visits v WHERE v.start_ms <= ? AND (v.end_ms >= ? OR v.open = 1)
       ORDER BY v.start_ms DESC, v.id DESC LIMIT 1`,
    )
    .get(time, time) as VisitRow | null;
  return row ? toVisit(row) : null;
}

/** Stored minutes of [from, to) in buckets, the minute under way (`live`) included. */
export function activityBuckets(
  db: Database,
  q: ActivityQuery,
  live: MinuteActivity | null,
): ActivityBucket[] {
  const zones = db
    .query(
      "SELECT minute, zone, people_max, person_sec FROM activity WHERE minute >= ? AND minute < ?",
    )
    .all(q.from, q.to) as MinuteRow[];
  const lines = db
    .query("SELECT minute, line, n_in, n_out FROM activity_lines WHERE minute >= ? AND minute < ?")
    .all(q.from, q.to) as LineRow[];
  if (live && live.minuteMs >= q.from && live.minuteMs < q.to) {
    const rows = minuteRows(live);
    zones.push(...rows.zones);
    lines.push(...rows.lines);
  }
  return toBuckets(zones, lines, q.bucket);
}
