/**
 * Per-minute activity from the scene's updates (src/track/scene.ts SceneUpdate fits
 * `ActivitySample`), for the caller to store (sqlite) and sum into /api/counts buckets. Pure.
 *
 * Per minute (`minuteMs` = its start, ms since the epoch, a multiple of 60 000: whole minutes in
 * UTC are whole minutes in every real time zone), in total (`people`: confirmed tracks in the
 * picture) and per zone (`zonePeople`):
 * - `maxPeople`: the most people at once: the largest count seen in a result of that minute, or
 *   held into it from the previous result.
 * - `personSec`: the count integrated over time: each result's count holds until the next
 *   result, for at most `maxStepSec` (default 2 s), so a stalled detector does not invent
 *   presence; an interval that spans a minute boundary is split between the two minutes.
 * - `lines`: crossings per line name, in and out, in the minute of the result that counted them.
 * The counts are the scene's: confirmed tracks, coasting ones included (a person missed for a
 * result is still there), so a person who leaves is counted up to `lostSec` longer.
 * Only minutes with something in them are kept and emitted (empty minutes are implicit zeros),
 * so a clock jump forward costs nothing. A time earlier than the previous sample closes every
 * open minute and starts over from the new time.
 *
 * API: `new ActivityAggregator({ maxStepSec })`, `update(sample)` → the minutes that closed
 * (a later sample arrived in a later minute), oldest first; `current()` → the partial minute of
 * the last sample (or null); `flush(nowMs?)` → integrates up to nowMs (capped) and closes all.
 * personSec values are rounded to 1 ms.
 */
import type { Direction, LineCrossing } from "./lines.ts";

export interface ActivitySample {
  atMs: number;
  people: number;
  zonePeople: Readonly<Record<string, number>>;
  crossings: readonly LineCrossing[];
}

export interface MinuteCounts {
  maxPeople: number;
  personSec: number;
}

export interface MinuteActivity extends MinuteCounts {
  /** Start of the minute, ms since the epoch. */
  minuteMs: number;
  /** Zones with anybody in them during the minute. */
  zones: Record<string, MinuteCounts>;
  /** Lines with crossings during the minute. */
  lines: Record<string, Record<Direction, number>>;
}

const MINUTE_MS = 60_000;
const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

interface Held {
  atMs: number;
  people: number;
  zonePeople: Record<string, number>;
}

function counts(acc: MinuteCounts, people: number, sec: number): void {
  if (people > acc.maxPeople) acc.maxPeople = people;
  acc.personSec += people * sec;
}

function finish(m: MinuteActivity): MinuteActivity {
  const r = (v: number): number => Math.round(v * 1000) / 1000;
  const zones: MinuteActivity["zones"] = {};
  for (const [k, z] of Object.entries(m.zones)) zones[k] = { ...z, personSec: r(z.personSec) };
  const lines: MinuteActivity["lines"] = {};
  for (const [k, l] of Object.entries(m.lines)) lines[k] = { ...l };
  return { ...m, personSec: r(m.personSec), zones, lines };
}

export class ActivityAggregator {
  readonly maxStepMs: number;
  readonly #minutes = new Map<number, MinuteActivity>();
  #prev: Held | null = null;

  constructor(opts: { maxStepSec?: number } = {}) {
    this.maxStepMs = (opts.maxStepSec ?? 2) * 1000;
  }

  update(s: ActivitySample): MinuteActivity[] {
    const prev = this.#prev;
    let early: MinuteActivity[] = [];
    if (prev && s.atMs < prev.atMs) early = this.#closeBefore(Infinity);
    else if (prev) this.#integrate(prev, Math.min(s.atMs, prev.atMs + this.maxStepMs));
    this.#sample(s);
    this.#prev = { atMs: s.atMs, people: s.people, zonePeople: { ...s.zonePeople } };
    return [...early, ...this.#closeBefore(minuteOf(s.atMs))];
  }

  /** The minute of the last sample so far (a copy), or null when nothing is in it. */
  current(): MinuteActivity | null {
    if (!this.#prev) return null;
    const m = this.#minutes.get(minuteOf(this.#prev.atMs));
    return m ? finish(m) : null;
  }

  /** Integrates the last count up to nowMs (at most maxStepSec) and closes every minute. */
  flush(nowMs?: number): MinuteActivity[] {
    const prev = this.#prev;
    if (prev && nowMs !== undefined && nowMs > prev.atMs)
      this.#integrate(prev, Math.min(nowMs, prev.atMs + this.maxStepMs));
    this.#prev = null;
    return this.#closeBefore(Infinity);
  }

  #minute(ms: number): MinuteActivity {
    const key = minuteOf(ms);
    let m = this.#minutes.get(key);
    if (!m) {
      m = { minuteMs: key, maxPeople: 0, personSec: 0, zones: {}, lines: {} };
      this.#minutes.set(key, m);
    }
    return m;
  }

  /** The held counts of `prev` over [prev.atMs, toMs), split at minute boundaries. */
  #integrate(prev: Held, toMs: number): void {
    const zones = Object.entries(prev.zonePeople).filter(([, n]) => n > 0);
    if (prev.people <= 0 && zones.length === 0) return;
    let from = prev.atMs;
    while (from < toMs) {
      const to = Math.min(toMs, minuteOf(from) + MINUTE_MS);
      const sec = (to - from) / 1000;
      const m = this.#minute(from);
      if (prev.people > 0) counts(m, prev.people, sec);
      for (const [z, n] of zones) counts((m.zones[z] ??= { maxPeople: 0, personSec: 0 }), n, sec);
      from = to;
    }
  }

  #sample(s: ActivitySample): void {
    const zones = Object.entries(s.zonePeople).filter(([, n]) => n > 0);
    if (s.people <= 0 && zones.length === 0 && s.crossings.length === 0) return;
    const m = this.#minute(s.atMs);
    counts(m, s.people, 0);
    for (const [z, n] of zones) counts((m.zones[z] ??= { maxPeople: 0, personSec: 0 }), n, 0);
    for (const c of s.crossings) (m.lines[c.line] ??= { in: 0, out: 0 })[c.direction]++;
  }

  #closeBefore(minuteMs: number): MinuteActivity[] {
    const out: MinuteActivity[] = [];
    for (const [k, m] of this.#minutes) {
      if (k < minuteMs) {
        out.push(finish(m));
        this.#minutes.delete(k);
      }
    }
    return out.sort((a, b) => a.minuteMs - b.minuteMs);
  }
}
