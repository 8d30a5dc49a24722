/**
 * Strict query parsing: a bad value is a 400 with the parameter's name, never a 500 and never
 * silently ignored. A parameter given twice is an error too.
 */
import { EVENT_REASONS, MAX_LIMIT, type EventReason } from "../events/archive.ts";
import { isDay } from "../events/names.ts";

export class BadRequest extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = "BadRequest";
  }
}

/** `name[]=...` (PHP-style arrays) where one value is expected. */
function noArray(sp: URLSearchParams, name: string): void {
  if (sp.has(`${name}[]`)) throw new BadRequest(name, `${name} takes one value, not a list`);
}

/** The single value of `name`, or undefined when absent or empty. */
function one(sp: URLSearchParams, name: string): string | undefined {
  noArray(sp, name);
  const all = sp.getAll(name);
  if (all.length > 1) throw new BadRequest(name, `${name} given ${all.length} times`);
  const v = all[0];
  return v === undefined || v === "" ? undefined : v;
}

export function intParam(
  sp: URLSearchParams,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const v = one(sp, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new BadRequest(name, `${name} must be an integer`);
  const n = Number(v);
  if (n < min || n > max) throw new BadRequest(name, `${name} must be between ${min} and ${max}`);
  return n;
}

/** A positive rate in frames per second, up to `max`; decimals allowed (0.5 = one every 2 s). */
export function fpsParam(sp: URLSearchParams, name: string, max: number): number | undefined {
  const v = one(sp, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,4}(\.\d{1,3})?$/.test(v)) throw new BadRequest(name, `${name} must be a number`);
  const n = Number(v);
  if (!(n > 0 && n <= max)) throw new BadRequest(name, `${name} must be > 0 and <= ${max}`);
  return n;
}

/** `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`; a bare `?raw` means true. */
export function flagParam(sp: URLSearchParams, name: string): boolean {
  noArray(sp, name);
  const all = sp.getAll(name);
  if (all.length > 1) throw new BadRequest(name, `${name} given ${all.length} times`);
  const v = all[0];
  if (v === undefined) return false;
  const s = v.toLowerCase();
  if (s === "" || s === "1" || s === "true" || s === "yes" || s === "on") return true;
  if (s === "0" || s === "false" || s === "no" || s === "off") return false;
  throw new BadRequest(name, `${name} must be 1 or 0`);
}

/**
 * A time: ms since epoch, or ISO 8601 (`2024-05-01`, `2024-05-01T12:00`, `2024-05-01T12:00:00Z`);
 * without a zone it is local time, as in the file names.
 */
export function timeParam(sp: URLSearchParams, name: string): number | undefined {
  const v = one(sp, name);
  if (v === undefined) return undefined;
  if (/^\d{1,15}$/.test(v)) return Number(v);
  // A bare date means local midnight (Date.parse would take UTC), like the day filter.
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (day) {
    if (!isDay(v)) throw new BadRequest(name, `${name} is not a calendar date`);
    return new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])).getTime();
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  throw new BadRequest(name, `${name} must be ms since epoch or an ISO 8601 time`);
}

export function reasonParam(sp: URLSearchParams, name = "reason"): EventReason | undefined {
  const v = one(sp, name);
  if (v === undefined) return undefined;
  if (!(EVENT_REASONS as readonly string[]).includes(v)) {
    throw new BadRequest(name, `${name} must be one of ${EVENT_REASONS.join(", ")}`);
  }
  return v as EventReason;
}

export function dayParam(sp: URLSearchParams, name = "day"): string | undefined {
  const v = one(sp, name);
  if (v === undefined) return undefined;
  if (!isDay(v)) throw new BadRequest(name, `${name} must be a date YYYY-MM-DD`);
  return v;
}

export function orderParam(sp: URLSearchParams, name = "order"): "asc" | "desc" | undefined {
  const v = one(sp, name);
  if (v === undefined) return undefined;
  if (v !== "asc" && v !== "desc") throw new BadRequest(name, `${name} must be asc or desc`);
  return v;
}

/** A zone or line name (src/track/zones.ts: 1-32 of A-Z a-z 0-9 _ -, not starting with _ or -). */
export function nameParam(sp: URLSearchParams, name: string): string | undefined {
  const v = one(sp, name);
  if (v === undefined) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(v)) {
    throw new BadRequest(name, `${name} must be a zone or line name (letters, digits, _ and -)`);
  }
  return v;
}

/** One of `allowed` (e.g. bucket=minute|hour|day). */
export function choiceParam<T extends string>(
  sp: URLSearchParams,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const v = one(sp, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new BadRequest(name, `${name} must be one of ${allowed.join(", ")}`);
  }
  return v as T;
}

export { MAX_LIMIT };
