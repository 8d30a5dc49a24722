/** Per-minute activity: most people at once, person-seconds, crossings. */
import { describe, expect, test } from "bun:test";
import { ActivityAggregator, type ActivitySample } from "../../src/track/activity.ts";
import type { LineCrossing } from "../../src/track/lines.ts";

const M0 = Date.UTC(2024, 4, 31, 10, 0, 0);

function sample(
  atMs: number,
  people: number,
  zonePeople: Record<string, number> = {},
  crossings: LineCrossing[] = [],
): ActivitySample {
  return { atMs, people, zonePeople, crossings };
}

const cross = (line: string, direction: "in" | "out"): LineCrossing => ({
  line,
  direction,
  trackId: 1,
  atMs: 0,
});

describe("ActivityAggregator", () => {
  test("a steady count at 10 results/s: person-seconds and the most at once, per zone too", () => {
    const a = new ActivityAggregator();
    for (let t = 0; t < 30_000; t += 100) {
      expect(a.update(sample(M0 + t, 2, { door: 1, yard: 0 }))).toEqual([]);
    }
    expect(a.current()).toMatchObject({ minuteMs: M0, maxPeople: 2, personSec: 59.8 });
    // Everybody gone at 30 s, seen by a result only at 60.5 s: the last count holds 2 s more.
    const closed = a.update(sample(M0 + 60_500, 0, { door: 0, yard: 0 }));
    expect(closed).toEqual([
      {
        minuteMs: M0,
        maxPeople: 2,
        personSec: 63.8,
        zones: { door: { maxPeople: 1, personSec: 31.9 } },
        lines: {},
      },
    ]);
  });

  test("a stall integrates at most maxStepSec", () => {
    const a = new ActivityAggregator({ maxStepSec: 2 });
    a.update(sample(M0, 3));
    a.update(sample(M0 + 10_000, 0));
    expect(a.flush()).toEqual([{ minuteMs: M0, maxPeople: 3, personSec: 6, zones: {}, lines: {} }]);
  });

  test("an interval across a minute boundary is split, and the count held into the new minute", () => {
    const a = new ActivityAggregator();
    a.update(sample(M0 + 59_500, 3, { door: 3 }));
    const closed = a.update(sample(M0 + 60_500, 0, { door: 0 }));
    expect(closed).toEqual([
      {
        minuteMs: M0,
        maxPeople: 3,
        personSec: 1.5,
        zones: { door: { maxPeople: 3, personSec: 1.5 } },
        lines: {},
      },
    ]);
    expect(a.flush(M0 + 70_000)).toEqual([
      {
        minuteMs: M0 + 60_000,
        maxPeople: 3,
        personSec: 1.5,
        zones: { door: { maxPeople: 3, personSec: 1.5 } },
        lines: {},
      },
    ]);
  });

  test("crossings per line in their minute; empty minutes are not emitted", () => {
    const a = new ActivityAggregator();
    a.update(sample(M0 + 1000, 1, {}, [cross("gate", "in")]));
    a.update(sample(M0 + 1100, 1, {}, [cross("gate", "in"), cross("door", "out")]));
    a.update(sample(M0 + 1200, 0));
    // Nothing for ten minutes, then one crossing.
    const closed = a.update(sample(M0 + 600_000, 0, {}, [cross("gate", "out")]));
    expect(closed).toEqual([
      {
        minuteMs: M0,
        maxPeople: 1,
        personSec: 0.2,
        zones: {},
        lines: { gate: { in: 2, out: 0 }, door: { in: 0, out: 1 } },
      },
    ]);
    expect(a.current()).toEqual({
      minuteMs: M0 + 600_000,
      maxPeople: 0,
      personSec: 0,
      zones: {},
      lines: { gate: { in: 0, out: 1 } },
    });
  });

  test("a time before the previous sample closes what is open and starts over", () => {
    const a = new ActivityAggregator();
    a.update(sample(M0 + 120_000, 1));
    a.update(sample(M0 + 120_100, 1));
    const closed = a.update(sample(M0, 1));
    expect(closed.map((m) => [m.minuteMs, m.personSec])).toEqual([[M0 + 120_000, 0.1]]);
    expect(a.current()?.minuteMs).toBe(M0);
  });
});
