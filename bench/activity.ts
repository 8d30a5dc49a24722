/**
 * Issue 12's activity budget: a day of aggregates (1,440 minutes × 4 zones + 2 lines) answered
 * by /api/activity in under 20 ms p99. Prints one JSON document.
 *   bun bench/activity.ts [--runs 200] [--rounds 3]
 *
 * The day: every minute has people in every zone (the worst case: nothing is left out), and
 * each line counts crossings in every fifth minute. Two stores behind the same route:
 * - `fake`: the in-memory fake of the tests (test/http/fake-visits.ts): the route's own cost
 *   (summing, JSON) over the store's simplest answer;
 * - `sqlite`: a provisional bun:sqlite table, one row per minute and zone and per minute and line,
 *   summed by SQL (GROUP BY the bucket start), until the scene engine's store (migration 2) is on
 *   main; then the lead re-runs this against the real reader (swap `sqliteReader`).
 * Each store is asked through app.handle (in process: route + store + JSON + reading the body)
 * and over a socket with fetch (what a browser waits for), for bucket=minute (the largest
 * answer: 1,440 buckets), 10min (the dashboard's chart) and hour. Each figure is the best of
 * `--rounds` rounds by p99 (the machine is shared; the load average is recorded).
 */
import { Database } from "bun:sqlite";
import { parseArgs } from "node:util";
import type { ActivityBucket, ActivityQuery, VisitsReader } from "../src/events/visit-types.ts";
import { addLocalDays, bucketStart, localDayStart } from "../src/http/activity-data.ts";
import { createServer } from "../src/http/server.tsx";
import { setQuiet } from "../src/shared/log.ts";
import type { MinuteActivity } from "../src/track/activity.ts";
import { FakeVisits, fakeScene, makeFake } from "../test/http/fake-deps.ts";
import { loadavg, round, summarize, type Summary } from "./lib.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "200" }, rounds: { type: "string", default: "3" } },
});
const RUNS = Number(values.runs);
const ROUNDS = Number(values.rounds);
const WARMUP = 20;
const ZONES = ["door", "yard", "path", "drive"];
const LINES = ["gate", "porch"];
setQuiet(true);

const dayStart = localDayStart(Date.now() - 86_400_000);

function dayOfMinutes(): MinuteActivity[] {
  const out: MinuteActivity[] = [];
  for (let i = 0; i < 1440; i++) {
    const zones: MinuteActivity["zones"] = {};
    ZONES.forEach((z, k) => (zones[z] = { maxPeople: 1 + ((i + k) % 3), personSec: 30 + k }));
    const lines: MinuteActivity["lines"] = {};
    if (i % 5 === 0) for (const l of LINES) lines[l] = { in: 1 + (i % 2), out: i % 3 };
    out.push({ minuteMs: dayStart + i * 60_000, maxPeople: 3, personSec: 130, zones, lines });
  }
  return out;
}

/** A provisional sqlite store: rows per (minute, zone) and (minute, line). */
function sqliteReader(minutes: MinuteActivity[]): Pick<VisitsReader, "activity"> {
  const db = new Database(":memory:");
  db.exec(`CREATE TABLE activity_zone (minute INTEGER NOT NULL, zone TEXT NOT NULL,
    people_max INTEGER NOT NULL, person_sec REAL NOT NULL, PRIMARY KEY (minute, zone))`);
  db.exec(`CREATE TABLE activity_line (minute INTEGER NOT NULL, line TEXT NOT NULL,
    n_in INTEGER NOT NULL, n_out INTEGER NOT NULL, PRIMARY KEY (minute, line))`);
  const zi = db.prepare("INSERT INTO activity_zone VALUES (?, ?, ?, ?)");
  const li = db.prepare("INSERT INTO activity_line VALUES (?, ?, ?, ?)");
  db.transaction(() => {
    for (const m of minutes) {
      zi.run(m.minuteMs, "", m.maxPeople, m.personSec); // "": the total
      for (const [z, c] of Object.entries(m.zones)) zi.run(m.minuteMs, z, c.maxPeople, c.personSec);
      for (const [l, c] of Object.entries(m.lines)) li.run(m.minuteMs, l, c.in, c.out);
    }
  })();
  const zq = db.prepare(
    "SELECT minute, zone, people_max, person_sec FROM activity_zone WHERE minute >= ? AND minute < ? ORDER BY minute",
  );
  const lq = db.prepare(
    "SELECT minute, line, n_in, n_out FROM activity_line WHERE minute >= ? AND minute < ? ORDER BY minute",
  );
  return {
    activity(q: ActivityQuery): ActivityBucket[] {
      // Local hours and days: summed here (a zone's UTC offset is not SQL's to know).
      const step = q.bucket;
      const out = new Map<number, ActivityBucket>();
      const bucket = (minute: number): ActivityBucket => {
        const start = bucketStart(minute, step);
        let b = out.get(start);
        if (!b)
          out.set(
            start,
            (b = { start, total: { peopleMax: 0, personSeconds: 0 }, zones: {}, lines: {} }),
          );
        return b;
      };
      for (const r of zq.all(q.from, q.to) as {
        minute: number;
        zone: string;
        people_max: number;
        person_sec: number;
      }[]) {
        const b = bucket(r.minute);
        const z =
          r.zone === "" ? b.total : (b.zones[r.zone] ??= { peopleMax: 0, personSeconds: 0 });
        z.peopleMax = Math.max(z.peopleMax, r.people_max);
        z.personSeconds += r.person_sec;
      }
      for (const r of lq.all(q.from, q.to) as {
        minute: number;
        line: string;
        n_in: number;
        n_out: number;
      }[]) {
        const l = (bucket(r.minute).lines[r.line] ??= { in: 0, out: 0 });
        l.in += r.n_in;
        l.out += r.n_out;
      }
      return [...out.values()].sort((a, b) => a.start - b.start);
    },
  };
}

type Ask = () => Promise<string>;

async function measure(ask: Ask): Promise<{ ms: Summary; bytes: number }> {
  let bytes = 0;
  for (let i = 0; i < WARMUP; i++) bytes = (await ask()).length;
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await ask();
    ms.push(performance.now() - t0);
  }
  return { ms: summarize(ms), bytes };
}

const minutes = dayOfMinutes();
const fake = new FakeVisits();
fake.addMinutes(minutes);
const stores: Record<string, Pick<VisitsReader, "activity">> = {
  fake,
  sqlite: sqliteReader(minutes),
};
const to = addLocalDays(dayStart, 1);
const results: Record<string, { ms: Summary; bytes: number; rounds: [number, number][] }> = {};
const load0 = loadavg();

for (const [name, store] of Object.entries(stores)) {
  const reader: VisitsReader = {
    list: (q) => fake.list(q),
    count: (q) => fake.count(q),
    get: (id) => fake.get(id),
    current: () => fake.current(),
    at: (t) => fake.at(t),
    pathOf: (file) => fake.pathOf(file),
    activity: (q) => store.activity(q),
  };
  const f = makeFake({ scene: fakeScene(reader) });
  const app = createServer(f.deps);
  app.listen({ port: 0, hostname: "127.0.0.1" });
  const base = `http://127.0.0.1:${app.server!.port}`;
  for (const bucket of ["minute", "10min", "hour"]) {
    const path = `/api/activity?from=${dayStart}&to=${to}&bucket=${bucket}`;
    const asks: Record<string, Ask> = {
      handle: async () => (await app.handle(new Request(`http://hazardcam.test${path}`))).text(),
      socket: async () => (await fetch(base + path)).text(),
    };
    for (const [how, ask] of Object.entries(asks)) {
      const rounds: { ms: Summary; bytes: number }[] = [];
      for (let r = 0; r < ROUNDS; r++) rounds.push(await measure(ask));
      const best = [...rounds].sort((a, b) => a.ms.p99 - b.ms.p99)[0]!;
      results[`${name}_${bucket}_${how}`] = {
        ...best,
        rounds: rounds.map((x) => [round(x.ms.p50), round(x.ms.p99)]),
      };
    }
  }
  await app.stop(true);
  f.cleanup();
}

const worst = Math.max(...Object.values(results).map((r) => r.ms.p99));
const doc = {
  day: { minutes: minutes.length, zones: ZONES.length, lines: LINES.length },
  runs: RUNS,
  rounds: ROUNDS,
  budgetMs: 20,
  worstP99Ms: round(worst),
  results,
  loadavg: [load0, loadavg()],
};
for (const [k, r] of Object.entries(results)) {
  console.error(
    `activity ${k}: p50 ${round(r.ms.p50)} / p99 ${round(r.ms.p99)} ms, ${r.bytes} bytes`,
  );
}
console.log(JSON.stringify(doc, null, 2));
