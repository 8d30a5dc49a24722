/**
 * The JSON of a visit (issue 11) for /api/visits, /api/visits/:id, the MQTT `visit` message and
 * the webhooks, as events/json.ts is for events. Times are ms since the epoch (with an ISO copy);
 * URLs are relative to the server root unless `base` (--public-url) makes them absolute.
 *
 * Visit images: VisitRecord.image / .thumb are file names in <outdir>/visits/ and
 * <outdir>/visits/thumbs/ (a stored "visits/x.jpg" is taken by its last part), served at
 * /out/visits/<file> and /out/visits/thumbs/<file>.
 */
import type { EventJson } from "./json.ts";
import { THUMBS_DIR } from "./types.ts";
import { VISITS_DIR } from "./visit-files.ts";
import type { CrossingRecord, LineCounts, VisitDetail, VisitRecord } from "./visit-types.ts";

export interface VisitJson {
  id: number;
  start: number;
  start_iso: string;
  /** The last time someone was in (so far, while open). */
  end: number;
  end_iso: string;
  open: boolean;
  duration_ms: number;
  /** Zones entered, in order ([] without zones: the whole picture). */
  zones: string[];
  /** People (tracks) seen. */
  people: number;
  /** Most people in at once. */
  max_people: number;
  /** Line crossings during the visit, per line: {"gate": {"in": 1, "out": 0}}. */
  crossings: Record<string, LineCounts>;
  /** Cooldown stills (events) saved during the visit. */
  stills_count: number;
  /** The best snapshot's file name and thumbnail (null until the visit closed). */
  image: string | null;
  thumb: string | null;
  image_url: string | null;
  /** The thumbnail, or the image when there is no thumbnail. */
  thumb_url: string | null;
  page_url: string;
}

export interface VisitTrackJson {
  id: number;
  first_seen: number;
  last_seen: number;
  zones: string[];
}

export interface CrossingJson {
  time: number;
  line: string;
  direction: CrossingRecord["direction"];
  track_id: number;
}

/** /api/visits/:id: the visit, its tracks, its crossings one by one, its stills and clips. */
export interface VisitDetailJson extends VisitJson {
  tracks: VisitTrackJson[];
  crossing_list: CrossingJson[];
  /** The stills still in the archive, oldest first, as /api/events items. */
  stills: EventJson[];
  /** The visit's clips (issue 12), [] without clips. */
  clips: unknown[];
}

const lastPart = (f: string): string => f.slice(f.lastIndexOf("/") + 1);

/** `/out/visits/<file>` or `/out/visits/thumbs/<file>`, relative to the server root. */
export function visitImagePath(file: string, thumb = false): string {
  return `/out/${VISITS_DIR}/${thumb ? `${THUMBS_DIR}/` : ""}${lastPart(file)}`;
}

export function visitJson(v: VisitRecord, base = ""): VisitJson {
  const image = v.image ? `${base}${visitImagePath(v.image)}` : null;
  return {
    id: v.id,
    start: v.start,
    start_iso: new Date(v.start).toISOString(),
    end: v.end,
    end_iso: new Date(v.end).toISOString(),
    open: v.open,
    duration_ms: v.durationMs,
    zones: [...v.zones],
    people: v.people,
    max_people: v.maxPeople,
    crossings: copyCounts(v.crossings),
    stills_count: v.stills,
    image: v.image ? lastPart(v.image) : null,
    thumb: v.thumb ? lastPart(v.thumb) : null,
    image_url: image,
    thumb_url: v.thumb ? `${base}${visitImagePath(v.thumb, true)}` : image,
    page_url: `${base}/visits/${v.id}`,
  };
}

/** The detail; `stills` and `clips` come from the archive and the clips (the caller's). */
export function visitDetailJson(
  v: VisitDetail,
  stills: EventJson[],
  clips: unknown[],
  base = "",
): VisitDetailJson {
  return {
    ...visitJson(v, base),
    tracks: v.tracks.map((t) => ({
      id: t.trackId,
      first_seen: t.firstSeen,
      last_seen: t.lastSeen,
      zones: [...t.zones],
    })),
    crossing_list: v.crossingList.map((c) => ({
      time: c.time,
      line: c.line,
      direction: c.direction,
      track_id: c.trackId,
    })),
    stills,
    clips,
  };
}

function copyCounts(c: Record<string, LineCounts>): Record<string, LineCounts> {
  const out: Record<string, LineCounts> = {};
  for (const [k, v] of Object.entries(c)) out[k] = { in: v.in, out: v.out };
  return out;
}
