/**
 * The stored visits and activity as the rest of the program reads them (issue 11, 12): the
 * contract between the visits store (src/events/visits*.ts, bun:sqlite tables next to the events)
 * and its readers (HTTP routes, pages, integrations). Times are ms since the epoch; plain data.
 */
import type { Direction } from "../track/lines.ts";

export type { Direction } from "../track/lines.ts";

/** In/out counts of one line. */
export type LineCounts = Record<Direction, number>;

export interface VisitRecord {
  id: number;
  /** When the first person entered (the visit rules backdate it to the zone entry). */
  start: number;
  /** The last time someone was in; for an open visit the last time known so far. */
  end: number;
  /** Still open (someone is in, or the visit gap has not passed yet). */
  open: boolean;
  /** end - start. */
  durationMs: number;
  /** Zones entered, in order of first entry ([] when no zones are set: the whole picture). */
  zones: string[];
  /** Tracks (people) seen in the visit. */
  people: number;
  /** Most people in at once. */
  maxPeople: number;
  /** Line crossings during the visit, per line name. */
  crossings: Record<string, LineCounts>;
  /** The best snapshot: a file under <outdir>/visits/ and its thumbnail under visits/thumbs/. */
  image: string | null;
  thumb: string | null;
  /** Cooldown stills (events) that fell in the visit. */
  stills: number;
}

export interface VisitTrackRecord {
  trackId: number;
  firstSeen: number;
  lastSeen: number;
  /** Zones this track's feet were in. */
  zones: string[];
}

export interface CrossingRecord {
  time: number;
  line: string;
  direction: Direction;
  trackId: number;
}

export interface VisitDetail extends VisitRecord {
  tracks: VisitTrackRecord[];
  crossingList: CrossingRecord[];
  /** Ids of the events (cooldown stills) that fell in the visit, oldest first. */
  stillIds: number[];
}

export interface VisitQuery {
  /** Visits that overlap [from, to). */
  from?: number;
  to?: number;
  /** Only visits that entered this zone. */
  zone?: string;
  /** Default 50, at most 500. */
  limit?: number;
  offset?: number;
  /** Default "desc" (newest first). */
  order?: "asc" | "desc";
}

export type Bucket = "minute" | "hour" | "day";

export interface ActivityQuery {
  from: number;
  to: number;
  bucket: Bucket;
}

/** One zone's share of a bucket. */
export interface ZoneActivity {
  /** Most people at once in the bucket. */
  peopleMax: number;
  /** Sum over time of the people count, in person-seconds. */
  personSeconds: number;
}

/**
 * One bucket of the per-minute aggregates (a minute, or the minutes of an hour or a local day
 * summed, with the max of the maxima). Buckets with no data are absent.
 */
export interface ActivityBucket {
  /** Start of the bucket (a local hour or day boundary for those buckets). */
  start: number;
  /** The whole picture (or all zones together when zones are set). */
  total: ZoneActivity;
  zones: Record<string, ZoneActivity>;
  lines: Record<string, LineCounts>;
}

/** What the routes and pages read of the visits store. */
export interface VisitsReader {
  list(q?: VisitQuery): VisitRecord[];
  count(q?: VisitQuery): number;
  get(id: number): VisitDetail | null;
  /** The open visit, or null. */
  current(): VisitRecord | null;
  /** The visit a time falls in (for a still's "part of visit" link), or null. */
  at(time: number): VisitRecord | null;
  activity(q: ActivityQuery): ActivityBucket[];
  /** Absolute path of a visit image (thumb: its thumbnail), for /out/visits/. */
  pathOf(file: string, thumb?: boolean): string;
}
