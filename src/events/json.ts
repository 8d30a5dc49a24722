/** The JSON of an event for /api/events, the SSE "saved" event, MQTT and webhooks. */
import type { Box } from "../shared/types.ts";
import { THUMBS_DIR, type EventReason, type EventRecord } from "./types.ts";

/** The JSON shape of an event for /api/events (and later MQTT and webhooks). */
export interface EventJson {
  id: number;
  time: number;
  time_iso: string;
  reason: EventReason;
  people: number;
  infer_ms: number;
  fps: number;
  file: string;
  image_url: string;
  thumb_url: string;
  page_url: string;
  bytes: number;
  detections: { label: string; score: number; box: Box }[];
}

/** URLs are relative to the server root; `base` (e.g. "http://pi:8080") makes them absolute. */
export function eventJson(e: EventRecord, base = ""): EventJson {
  return {
    id: e.id,
    time: e.time,
    time_iso: new Date(e.time).toISOString(),
    reason: e.reason,
    people: e.people,
    infer_ms: Math.round(e.inferMs * 100) / 100,
    fps: Math.round(e.fps * 100) / 100,
    file: e.file,
    image_url: `${base}/out/${e.file}`,
    thumb_url: `${base}${thumbUrl(e)}`,
    page_url: `${base}/events/${e.id}`,
    bytes: e.bytes,
    detections: e.detections.map((d) => ({ label: d.label, score: d.score, box: d.box })),
  };
}

/** The thumbnail URL, or the full image for events without a thumbnail. */
export function thumbUrl(e: EventRecord): string {
  return e.thumb ? `/out/${THUMBS_DIR}/${e.thumb}` : `/out/${e.file}`;
}
