/**
 * The zones file (`<outdir>/zones.json` or `--zones PATH`): its model, validation and a stable
 * serializer. Pure: the caller reads and (atomically) writes the file.
 *
 *   {"zones": [{"name": "door", "points": [[x, y], ...]}],
 *    "masks": [{"name": "tv", "points": [[x, y], ...]}],
 *    "lines": [{"name": "gate", "a": [x, y], "b": [x, y]}]}
 *
 * - Coordinates are 0..1 of the picture from the top left, y down (src/track/geometry.ts).
 * - zones: a person is in a zone when the feet of their box (bottom centre) is inside the
 *   polygon or on its edge. masks: detections whose feet are inside are ignored (a TV, a poster,
 *   the street). lines: counting lines (src/track/lines.ts). Each key may be left out (= []).
 * - Names: 1-32 characters of A-Z a-z 0-9 _ -, starting with a letter or digit, so they are safe
 *   as MQTT topic levels, Home Assistant ids and Prometheus label values. UNIQUE ACROSS ALL
 *   THREE KINDS, ignoring case ("Door" and a line "door" collide): /api/counts, MQTT and the
 *   dashboard name them side by side, and Home Assistant lowercases ids.
 * - Limits: ≤ 32 zones, ≤ 32 masks, ≤ 32 lines; a polygon has 3..64 points, a non-zero area
 *   (≥ 1e-6 of the picture) and no crossing or touching edges; a line's a and b are ≥ 0.01
 *   apart. Unknown keys are refused (a typo must not silently disable a zone).
 *
 * LINE DIRECTION (`LINE_DIRECTION_TEXT`, for the README and the dashboard): standing at `a` and
 * looking towards `b` on the picture, crossing from your LEFT-hand side to your RIGHT-hand side
 * is `in`; the other way is `out`. On the screen (y down) the `in` side is where the arrow a→b
 * points after turning it 90° clockwise (`inNormal`): a line drawn left to right counts walking
 * DOWN the picture as `in`; a line drawn top to bottom counts walking from right to LEFT as `in`.
 *
 * API: `parseZones(text)` / `validateZones(value)` → `ZonesConfig`, or throws a `ZonesError`
 * (HcError code "ZONES_INVALID", exit code 2) whose `key` names the offending key, e.g.
 * `zones[1].points[2][0]: must be a number 0..1`. `EMPTY_ZONES`, `hasZones(c)`,
 * `serializeZones(c)` (fixed key order, one item per line, trailing newline;
 * parseZones(serializeZones(c)) deep-equals c), `inNormal(line)`.
 */
import { HcError } from "../shared/errors.ts";
import { polygonArea, segmentsIntersect, type Point } from "./geometry.ts";

export interface Zone {
  name: string;
  /** Polygon, 3..64 points, closed implicitly (last → first). */
  points: Point[];
}

/** Same shape as a zone: detections with their feet inside are ignored. */
export type Mask = Zone;

export interface Line {
  name: string;
  a: Point;
  b: Point;
}

export interface ZonesConfig {
  zones: Zone[];
  masks: Mask[];
  lines: Line[];
}

/** No zones, masks or lines (frozen): the whole picture is the one implicit zone. */
export const EMPTY_ZONES: ZonesConfig = Object.freeze({
  zones: Object.freeze([]),
  masks: Object.freeze([]),
  lines: Object.freeze([]),
}) as unknown as ZonesConfig;

export const LIMITS = {
  zones: 32,
  masks: 32,
  lines: 32,
  minPoints: 3,
  maxPoints: 64,
  nameLength: 32,
  minArea: 1e-6,
  minLineLength: 0.01,
} as const;

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

export const LINE_DIRECTION_TEXT =
  "Standing at a and looking towards b on the picture, crossing from your left-hand side to " +
  "your right-hand side counts as in, the other way as out. The in side is where the arrow " +
  "a→b points after turning it 90° clockwise on the screen.";

const FIX =
  'fix the key named in the message (coordinates 0..1 from the top left, names of letters, digits, "_" and "-"), or delete the file to start without zones';

/** An invalid zones file or body; `key` is the offending key ("" for the document itself). */
export class ZonesError extends HcError {
  readonly key: string;
  readonly problem: string;
  constructor(key: string, problem: string) {
    super("ZONES_INVALID", key ? `${key}: ${problem}` : problem, FIX, 2);
    this.name = "ZonesError";
    this.key = key;
    this.problem = problem;
  }
}

/** The unit normal of a→b pointing to the `in` side, in picture coordinates (y down). */
export function inNormal(line: Line): Point {
  const dx = line.b[0] - line.a[0];
  const dy = line.b[1] - line.a[1];
  const len = Math.hypot(dx, dy) || 1;
  return [(0 - dy) / len, dx / len];
}

export function hasZones(c: ZonesConfig): boolean {
  return c.zones.length > 0;
}

export function parseZones(text: string): ZonesConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ZonesError("", `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return validateZones(value);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkKeys(v: Obj, key: string, allowed: readonly string[]): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k))
      throw new ZonesError(key ? `${key}.${k}` : k, `unknown key (allowed: ${allowed.join(", ")})`);
  }
}

function point(v: unknown, key: string): Point {
  if (!Array.isArray(v) || v.length !== 2) throw new ZonesError(key, "must be [x, y]");
  const out: number[] = [];
  v.forEach((c, i) => {
    if (typeof c !== "number" || !Number.isFinite(c) || c < 0 || c > 1)
      throw new ZonesError(`${key}[${i}]`, "must be a number 0..1");
    out.push(c);
  });
  return [out[0]!, out[1]!];
}

function name(v: unknown, key: string, seen: Map<string, string>): string {
  if (typeof v !== "string") throw new ZonesError(key, "must be a string");
  if (!NAME_PATTERN.test(v))
    throw new ZonesError(
      key,
      `${JSON.stringify(v)} must be 1-${LIMITS.nameLength} letters, digits, "_" or "-", starting with a letter or digit`,
    );
  const prev = seen.get(v.toLowerCase());
  if (prev) throw new ZonesError(key, `${JSON.stringify(v)} is already used by ${prev}`);
  seen.set(v.toLowerCase(), key);
  return v;
}

function polygon(v: unknown, key: string): Point[] {
  if (!Array.isArray(v)) throw new ZonesError(key, "must be a list of [x, y] points");
  if (v.length < LIMITS.minPoints || v.length > LIMITS.maxPoints)
    throw new ZonesError(
      key,
      `must have ${LIMITS.minPoints} to ${LIMITS.maxPoints} points, has ${v.length}`,
    );
  const pts = v.map((p, i) => point(p, `${key}[${i}]`));
  if (Math.abs(polygonArea(pts)) < LIMITS.minArea)
    throw new ZonesError(key, "has no area (the points are on one line)");
  const n = pts.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      // Neighbouring edges share a vertex; skip them (edges i and n-1 are neighbours of 0).
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (segmentsIntersect(pts[i]!, pts[(i + 1) % n]!, pts[j]!, pts[(j + 1) % n]!))
        throw new ZonesError(key, `edges ${i}-${(i + 1) % n} and ${j}-${(j + 1) % n} cross`);
    }
  }
  return pts;
}

function list(v: unknown, key: string, max: number): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ZonesError(key, "must be a list");
  if (v.length > max) throw new ZonesError(key, `at most ${max} allowed, has ${v.length}`);
  return v;
}

function polygons(v: unknown, key: "zones" | "masks", seen: Map<string, string>): Zone[] {
  return list(v, key, LIMITS[key]).map((item, i) => {
    const k = `${key}[${i}]`;
    if (!isObj(item)) throw new ZonesError(k, 'must be {"name": ..., "points": [[x, y], ...]}');
    checkKeys(item, k, ["name", "points"]);
    return {
      name: name(item.name, `${k}.name`, seen),
      points: polygon(item.points, `${k}.points`),
    };
  });
}

function lines(v: unknown, seen: Map<string, string>): Line[] {
  return list(v, "lines", LIMITS.lines).map((item, i) => {
    const k = `lines[${i}]`;
    if (!isObj(item)) throw new ZonesError(k, 'must be {"name": ..., "a": [x, y], "b": [x, y]}');
    checkKeys(item, k, ["name", "a", "b"]);
    const n = name(item.name, `${k}.name`, seen);
    const a = point(item.a, `${k}.a`);
    const b = point(item.b, `${k}.b`);
    if (Math.hypot(b[0] - a[0], b[1] - a[1]) < LIMITS.minLineLength)
      throw new ZonesError(`${k}.b`, `must be at least ${LIMITS.minLineLength} away from a`);
    return { name: n, a, b };
  });
}

/** Validates an already parsed JSON value (e.g. an HTTP body); returns a fresh copy. */
export function validateZones(value: unknown): ZonesConfig {
  if (!isObj(value))
    throw new ZonesError(
      "",
      'must be a JSON object {"zones": [...], "masks": [...], "lines": [...]}',
    );
  checkKeys(value, "", ["zones", "masks", "lines"]);
  const seen = new Map<string, string>();
  return {
    zones: polygons(value.zones, "zones", seen),
    masks: polygons(value.masks, "masks", seen),
    lines: lines(value.lines, seen),
  };
}

const pt = (p: Point): string => `[${p[0]}, ${p[1]}]`;

/** Stable text of a config: fixed key order, one zone/mask/line per line, "\n" at the end. */
export function serializeZones(c: ZonesConfig): string {
  const poly = (z: Zone): string =>
    `{"name": ${JSON.stringify(z.name)}, "points": [${z.points.map(pt).join(", ")}]}`;
  const line = (l: Line): string =>
    `{"name": ${JSON.stringify(l.name)}, "a": ${pt(l.a)}, "b": ${pt(l.b)}}`;
  const block = (key: string, items: string[]): string =>
    items.length ? `  "${key}": [\n    ${items.join(",\n    ")}\n  ]` : `  "${key}": []`;
  return (
    "{\n" +
    [
      block("zones", c.zones.map(poly)),
      block("masks", c.masks.map(poly)),
      block("lines", c.lines.map(line)),
    ].join(",\n") +
    "\n}\n"
  );
}
