/**
 * Cost of the tracking layer per detection result (issue 11's budget: ≤ 0.3 ms per result with
 * 20 people). 20 people random-walk over the picture (irregular 70-130 ms steps, 5 % missed,
 * 10 % under the threshold, box jitter) plus 2 false positives per result, with 3 zones (one
 * concave), 1 mask and 3 lines. Times `Tracker.update` alone, `SceneAnalyzer.update`, and the
 * analyzer followed by `ActivityAggregator.update`. Deterministic input (seeded PRNG); each
 * figure is the best of `--rounds` runs by p50 (the machine is shared). Prints one JSON document.
 *   bun bench/track.ts [--results 4000] [--rounds 3] [--people 20]
 */
import { parseArgs } from "node:util";
import type { Detection } from "../src/shared/types.ts";
import { ActivityAggregator } from "../src/track/activity.ts";
import { SceneAnalyzer, offsetDayKey } from "../src/track/scene.ts";
import { Tracker } from "../src/track/tracker.ts";
import type { ZonesConfig } from "../src/track/zones.ts";
import { loadavg, summarize, type Summary } from "./lib.ts";

const { values } = parseArgs({
  options: {
    results: { type: "string", default: "4000" },
    rounds: { type: "string", default: "3" },
    people: { type: "string", default: "20" },
  },
});
const RESULTS = Number(values.results);
const ROUNDS = Number(values.rounds);
const PEOPLE = Number(values.people);
const WARMUP = 300;

/** mulberry32: a small seeded PRNG, so every run sees the same scene. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const zones: ZonesConfig = {
  zones: [
    {
      name: "door",
      points: [
        [0.05, 0.5],
        [0.3, 0.5],
        [0.3, 0.7],
        [0.2, 0.7],
        [0.2, 0.8],
        [0.3, 0.8],
        [0.3, 0.98],
        [0.05, 0.98],
      ],
    },
    {
      name: "yard",
      points: [
        [0.5, 0.4],
        [0.95, 0.4],
        [0.95, 0.95],
        [0.5, 0.95],
      ],
    },
    {
      name: "path",
      points: Array.from({ length: 12 }, (_, i) => {
        const a = (2 * Math.PI * i) / 12;
        return [0.4 + 0.1 * Math.cos(a), 0.6 + 0.15 * Math.sin(a)] as [number, number];
      }),
    },
  ],
  masks: [
    {
      name: "tv",
      points: [
        [0.7, 0.05],
        [0.9, 0.05],
        [0.9, 0.25],
        [0.7, 0.25],
      ],
    },
  ],
  lines: [
    { name: "gate", a: [0.5, 0.3], b: [0.5, 1] },
    { name: "step", a: [0.1, 0.6], b: [0.9, 0.6] },
    { name: "side", a: [0.2, 0.3], b: [0.8, 0.9] },
  ],
};

interface Walker {
  x: number;
  y: number;
  vx: number;
  vy: number;
  w: number;
  h: number;
}

/** The results: detections and a time for each, random-walking people. */
function scene(n: number): { dets: Detection[]; atMs: number }[] {
  const rnd = prng(11);
  const walkers: Walker[] = Array.from({ length: PEOPLE }, () => ({
    x: 0.1 + 0.8 * rnd(),
    y: 0.35 + 0.6 * rnd(),
    vx: (rnd() - 0.5) * 0.3,
    vy: (rnd() - 0.5) * 0.15,
    w: 0.05 + 0.04 * rnd(),
    h: 0.18 + 0.15 * rnd(),
  }));
  const out: { dets: Detection[]; atMs: number }[] = [];
  let t = Date.UTC(2024, 4, 31, 12);
  for (let i = 0; i < n; i++) {
    const dt = 70 + 60 * rnd();
    t += dt;
    const dets: Detection[] = [];
    for (const p of walkers) {
      // Damped random walk of the velocity: people wander at up to ~0.3 picture widths/s.
      p.vx = 0.98 * p.vx + (rnd() - 0.5) * 0.05;
      p.vy = 0.98 * p.vy + (rnd() - 0.5) * 0.03;
      p.x += (p.vx * dt) / 1000;
      p.y += (p.vy * dt) / 1000;
      if (p.x < 0.05 || p.x > 0.95) p.vx = -p.vx;
      if (p.y < 0.3 || p.y > 0.98) p.vy = -p.vy;
      p.x = Math.min(0.95, Math.max(0.05, p.x));
      p.y = Math.min(0.98, Math.max(0.3, p.y));
      if (rnd() < 0.05) continue;
      const j = (): number => (rnd() - 0.5) * 0.006;
      const score = rnd() < 0.1 ? 0.3 + 0.19 * rnd() : 0.55 + 0.4 * rnd();
      const box = {
        ymin: p.y - p.h + j(),
        xmin: p.x - p.w / 2 + j(),
        ymax: p.y + j(),
        xmax: p.x + p.w / 2 + j(),
      };
      dets.push({ classId: 0, label: "person", score, box });
    }
    for (let k = 0; k < 2; k++) {
      const x = rnd();
      const y = rnd();
      const box = { ymin: y * 0.8, xmin: x * 0.9, ymax: y * 0.8 + 0.2, xmax: x * 0.9 + 0.1 };
      dets.push({ classId: 0, label: "person", score: 0.1 + 0.5 * rnd(), box });
    }
    out.push({ dets, atMs: t });
  }
  return out;
}

function time(
  results: ReturnType<typeof scene>,
  step: (d: Detection[], t: number) => void,
): number[] {
  const ms: number[] = [];
  results.forEach((r, i) => {
    const t0 = performance.now();
    step(r.dets, r.atMs);
    const dt = performance.now() - t0;
    if (i >= WARMUP) ms.push(dt);
  });
  return ms;
}

const results = scene(RESULTS + WARMUP);
const opts = { threshold: 0.5, dayKey: offsetDayKey(0) };
const load0 = loadavg();
const rounds: Record<string, Summary[]> = { tracker: [], analyzer: [], analyzerActivity: [] };
let liveTracks = 0;
for (let r = 0; r < ROUNDS; r++) {
  const tracker = new Tracker(opts);
  rounds.tracker!.push(summarize(time(results, (d, t) => void tracker.update(d, t))));
  const s = new SceneAnalyzer({ ...opts, zones });
  rounds.analyzer!.push(summarize(time(results, (d, t) => void s.update(d, t))));
  const s2 = new SceneAnalyzer({ ...opts, zones });
  const act = new ActivityAggregator();
  rounds.analyzerActivity!.push(
    summarize(
      time(results, (d, t) => {
        const u = s2.update(d, t);
        liveTracks = u.tracks.length;
        act.update(u);
      }),
    ),
  );
}
const best = (k: string): Summary => [...rounds[k]!].sort((a, b) => a.p50 - b.p50)[0]!;
const doc = {
  people: PEOPLE,
  results: RESULTS,
  rounds: ROUNDS,
  confirmedTracksAtEnd: liveTracks,
  budgetMs: 0.3,
  trackerMs: best("tracker"),
  analyzerMs: best("analyzer"),
  analyzerActivityMs: best("analyzerActivity"),
  /** [p50, p99] of every round. */
  allRounds: Object.fromEntries(
    Object.entries(rounds).map(([k, v]) => [k, v.map((s) => [s.p50, s.p99])]),
  ),
  loadavg: [load0, loadavg()],
};
console.error(
  `track: ${PEOPLE} people, ${RESULTS} results: tracker p50 ${doc.trackerMs.p50} / p99 ${doc.trackerMs.p99} ms; ` +
    `analyzer p50 ${doc.analyzerMs.p50} / p99 ${doc.analyzerMs.p99} ms; ` +
    `+ activity p50 ${doc.analyzerActivityMs.p50} / p99 ${doc.analyzerActivityMs.p99} ms (budget 0.3 ms)`,
);
console.log(JSON.stringify(doc, null, 2));
