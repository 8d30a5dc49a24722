/**
 * Event file names, exactly as the original:
 *   YYYYmmdd_HHMMSS_{auto|snapshot}_people{N}_tpu{ms}ms_fps{fps}.jpg   (local time)
 * with `_2`, `_3`... before `.jpg` when two saves fall in the same second.
 */

export type SaveReason = "auto" | "snapshot";

export interface EventName {
  /** Local time of the save, second resolution. */
  at: Date;
  reason: SaveReason;
  people: number;
  inferMs: number;
  fps: number;
  /** 1 for the plain name, 2.. for `_2`... collision suffixes. */
  n: number;
}

/** Names the archive can serve and index: no path separators, no `%`, no leading dot. */
export const SAFE_JPEG_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.jpg$/;

const NAME_RE =
  /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_(auto|snapshot)_people(\d{1,6})_tpu(\d{1,9}(?:\.\d+)?)ms_fps(\d{1,9}(?:\.\d+)?)(?:_(\d{1,6}))?\.jpg$/;

const pad = (v: number, width = 2): string => String(v).padStart(width, "0");

/** `YYYYmmdd_HHMMSS` in local time, as Python's time.strftime("%Y%m%d_%H%M%S"). */
export function stamp(at: Date): string {
  return (
    `${pad(at.getFullYear(), 4)}${pad(at.getMonth() + 1)}${pad(at.getDate())}_` +
    `${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`
  );
}

/** One decimal, as the original's `{:.1f}`; NaN, infinities and negatives become 0. */
function oneDecimal(v: number): string {
  return Number.isFinite(v) && v > 0 ? v.toFixed(1) : "0.0";
}

export function eventFileName(
  e: { at: Date; reason: SaveReason; people: number; inferMs: number; fps: number },
  n = 1,
): string {
  const people = Number.isFinite(e.people) && e.people > 0 ? Math.floor(e.people) : 0;
  const suffix = n > 1 ? `_${Math.floor(n)}` : "";
  return (
    `${stamp(e.at)}_${e.reason}_people${people}_tpu${oneDecimal(e.inferMs)}ms` +
    `_fps${oneDecimal(e.fps)}${suffix}.jpg`
  );
}

/** Parses a name written by eventFileName (or the original); null for anything else. */
export function parseEventFileName(name: string): EventName | null {
  const m = NAME_RE.exec(name);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const at = new Date(y, mo - 1, d, h, mi, s);
  // Date rolls 20240231 over into March: reject names that are not real local times.
  if (
    at.getFullYear() !== y ||
    at.getMonth() !== mo - 1 ||
    at.getDate() !== d ||
    at.getHours() !== h ||
    at.getMinutes() !== mi ||
    at.getSeconds() !== s
  ) {
    return null;
  }
  const n = m[11] === undefined ? 1 : Number(m[11]);
  if (n < 2 && m[11] !== undefined) return null;
  return {
    at,
    reason: m[7] as SaveReason,
    people: Number(m[8]),
    inferMs: Number(m[9]),
    fps: Number(m[10]),
    n,
  };
}

/** Local calendar day `YYYY-MM-DD` of a time in ms (the /events day filter). */
export function localDay(timeMs: number): string {
  const d = new Date(timeMs);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar day written `YYYY-MM-DD`. */
export function isDay(s: string): boolean {
  const m = DAY_RE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = new Date(y, mo - 1, d);
  return at.getFullYear() === y && at.getMonth() === mo - 1 && at.getDate() === d;
}
