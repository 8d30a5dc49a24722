/**
 * Counting lines with hysteresis. Pure: the caller feeds each track's feet point when the
 * track was MATCHED in a result (predicted positions never count), with the result's time.
 *
 * Rules, per track and line:
 * - A point is clearly on a side when its distance from the line (the infinite line through a
 *   and b) is more than `deadband` (default `DEFAULT_DEADBAND` = 0.02, in normalized units: 2 %
 *   of the picture's width for a vertical line, of its height for a horizontal one). Inside the
 *   deadband nothing changes, so feet jittering on the line count nothing.
 * - A crossing is counted when the feet are clearly on the other side of the last side they
 *   were clearly on, AND the straight move from the last clear point to this one passes through
 *   the segment a-b itself (end points included). Going round the end of the segment changes the
 *   side without counting. A track first seen inside the deadband has no side until it leaves it.
 * - Direction (src/track/zones.ts LINE_DIRECTION_TEXT): from the left of a→b to its right
 *   (looking from a to b on the picture) is `in`, the other way `out`. Walking back counts again,
 *   the other way: one count per actual crossing.
 * - Crossings of a track that is not yet confirmed are held and reported (with their own times)
 *   when it confirms; a track that ends unconfirmed never counts.
 *
 * API: `new LineCounter(lines, { deadband })`, `update(trackId, feet, nowMs, confirmed)` →
 * crossings of this call, `endTrack(trackId)` (forget it, drop its held crossings),
 * `setLines(lines)` (keeps the per-track state of lines whose name, a and b are unchanged).
 */
import { crossesSegment, signedDistance, type Point } from "./geometry.ts";
import type { Line } from "./zones.ts";

export type Direction = "in" | "out";

export interface LineCrossing {
  line: string;
  trackId: number;
  direction: Direction;
  /** Time of the result in which the feet were first clearly across. */
  atMs: number;
}

export const DEFAULT_DEADBAND = 0.02;
/** Held crossings per unconfirmed track, at most (a tentative track lives a few results). */
const MAX_HELD = 16;

interface Side {
  /** -1 left of a→b, +1 right; 0 not yet clearly on a side. */
  side: -1 | 0 | 1;
  /** The last point that was clearly on `side`. */
  clear: Point;
}

interface TrackLines {
  /** Per line name. */
  sides: Map<string, Side>;
  held: LineCrossing[];
}

const sameLine = (x: Line, y: Line): boolean =>
  x.a[0] === y.a[0] && x.a[1] === y.a[1] && x.b[0] === y.b[0] && x.b[1] === y.b[1];

export class LineCounter {
  readonly deadband: number;
  #lines: readonly Line[];
  readonly #tracks = new Map<number, TrackLines>();

  constructor(lines: readonly Line[], opts: { deadband?: number } = {}) {
    this.#lines = lines;
    this.deadband = opts.deadband ?? DEFAULT_DEADBAND;
  }

  get lines(): readonly Line[] {
    return this.#lines;
  }

  setLines(lines: readonly Line[]): void {
    const keep = new Set(
      lines
        .filter((l) => this.#lines.some((o) => o.name === l.name && sameLine(o, l)))
        .map((l) => l.name),
    );
    for (const t of this.#tracks.values()) {
      for (const name of [...t.sides.keys()]) if (!keep.has(name)) t.sides.delete(name);
      t.held = t.held.filter((c) => keep.has(c.line));
    }
    this.#lines = lines;
  }

  update(trackId: number, feet: Point, nowMs: number, confirmed: boolean): LineCrossing[] {
    let t = this.#tracks.get(trackId);
    if (!t) {
      t = { sides: new Map(), held: [] };
      this.#tracks.set(trackId, t);
    }
    const found: LineCrossing[] = [];
    for (const line of this.#lines) {
      const d = signedDistance(feet, line.a, line.b);
      const now: -1 | 0 | 1 = d > this.deadband ? 1 : d < -this.deadband ? -1 : 0;
      const s = t.sides.get(line.name);
      if (now === 0) {
        if (!s) t.sides.set(line.name, { side: 0, clear: feet });
        continue;
      }
      if (!s) {
        t.sides.set(line.name, { side: now, clear: feet });
        continue;
      }
      if (s.side !== 0 && s.side !== now && crossesSegment(s.clear, feet, line.a, line.b)) {
        found.push({ line: line.name, trackId, direction: now > 0 ? "in" : "out", atMs: nowMs });
      }
      s.side = now;
      s.clear = feet;
    }
    if (!confirmed) {
      t.held.push(...found);
      if (t.held.length > MAX_HELD) t.held.splice(0, t.held.length - MAX_HELD);
      return [];
    }
    if (t.held.length === 0) return found;
    const out = [...t.held, ...found];
    t.held = [];
    return out;
  }

  endTrack(trackId: number): void {
    this.#tracks.delete(trackId);
  }

  /** Tracks with state (for tests and leak checks). */
  get trackCount(): number {
    return this.#tracks.size;
  }
}
