/**
 * A visit's open or close as MQTT (`<topic>/visit`) and the webhooks send it (issue 11):
 * /api/visits' JSON with absolute URLs (--public-url), the camera's name, and a `type` that tells
 * it from a saved event's message (which has none, as before):
 *
 *   {"type": "visit_open", "at": 1716540000123, "at_iso": "...", "camera": "kitchen",
 *    "id": 7, "start": ..., "end": ..., "open": true, "duration_ms": 0, "zones": ["door"],
 *    "people": 1, "max_people": 1, "crossings": {}, "stills_count": 0, "image": null, ...,
 *    "page_url": "http://kitchen-pi.local:8080/visits/7", "clip_url": "http://.../clip.mjpeg"}
 *
 * "visit_close" comes once the visit is stored for good, with its best snapshot's URLs.
 * `clip_url` is there when a clip provider is given (issue 12): its URL, or null.
 */
import { visitJson, type VisitJson } from "../events/visit-json.ts";
import type { VisitEvent } from "../pipeline/scene-api.ts";

export type VisitMessage = {
  type: "visit_open" | "visit_close";
  /** When it opened, or closed (ms since the epoch). */
  at: number;
  at_iso: string;
  camera: string;
} & VisitJson & { clip_url?: string | null };

/** A visit's clip URL, relative to the server root or absolute; null when it has none. */
export type ClipUrl = (visitId: number) => string | null;

export function visitMessage(
  e: VisitEvent,
  base: string,
  camera: string,
  clipUrl?: ClipUrl,
): VisitMessage {
  const msg: VisitMessage = {
    type: e.type === "open" ? "visit_open" : "visit_close",
    at: e.at,
    at_iso: new Date(e.at).toISOString(),
    camera,
    ...visitJson(e.visit, base),
  };
  if (clipUrl) {
    const url = clipUrl(e.visit.id);
    msg.clip_url = url && url.startsWith("/") ? `${base}${url}` : url;
  }
  return msg;
}
