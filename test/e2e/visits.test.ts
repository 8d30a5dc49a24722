/**
 * Issue 11's engine on the compiled binary with the bundled clip at 10 fps (the CPU model: a
 * result every 1-3 frames here). The clip: a man stands with his feet near (0.63, 0.85), walks
 * out to the right (feet across x = 0.8 around frame 38, gone after 42); nobody until frame
 * 106; a woman walks in from the bottom and stays to the end (frame 199, then the clip loops:
 * nothing here depends on what the tracker makes of that cut). Times are measured from the
 * first frame's grab time, which the scene's debug trace (HAZARDCAM_SCENE_TRACE) gives with
 * each result; visits and crossings are read from the index (sqlite) as the VisitsReader does.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import { INDEX_FILE, THUMBS_DIR } from "../../src/events/types.ts";
import { serializeZones, type ZonesConfig } from "../../src/track/zones.ts";
import {
  camArgs,
  CLIP,
  countLines,
  fetchStatus,
  readLog,
  startServer,
  tempDir,
  waitFor,
  type Running,
} from "./harness.ts";

const GAP_SEC = 5;
/** The first pass through the clip, ms from its first frame. */
const PASS_MS = 20_000;

let servers: Running[] = [];
afterEach(async () => {
  for (const s of servers) if (s.proc.exitCode === null) await s.stop("SIGKILL");
  servers = [];
});

interface Trace {
  type: string;
  at: number;
  id?: number;
  event?: string;
}

function start(outdir: string, trace: string, flags: string[] = []): Promise<Running> {
  const args = camArgs(CLIP, { outdir, cooldownSec: 2, flags: ["--fps", "10", ...flags] });
  return startServer(args, { HAZARDCAM_SCENE_TRACE: trace }).then((s) => {
    servers.push(s);
    return s.ready();
  });
}

const traceOf = (path: string): Trace[] => readLog(path).map((l) => JSON.parse(l) as Trace);

/** Waits for a visit event in the trace ("open" 2: the woman's visit opened). */
function visitEvent(s: Running, path: string, event: string, id: number, timeoutMs = 60_000) {
  return waitFor(
    () => traceOf(path).find((t) => t.type === "visit" && t.event === event && t.id === id),
    { timeoutMs, what: `visit ${id} ${event}`, pollMs: 200, detail: () => s.output() },
  );
}

function query<T>(outdir: string, sql: string, ...params: (number | string)[]): T[] {
  const db = new Database(join(outdir, INDEX_FILE), { strict: true });
  try {
    return db.query(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

interface VisitRow {
  id: number;
  start_ms: number;
  end_ms: number;
  open: number;
  people: number;
  image: string | null;
}

const square = (x0: number, y0: number, x1: number, y1: number): [number, number][] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];

/** Runs the clip's first pass with these zones; returns what a user would look at. */
async function firstPass(zones: ZonesConfig) {
  const outdir = join(tempDir("visits"), "out");
  fs.mkdirSync(outdir);
  fs.writeFileSync(join(outdir, "zones.json"), serializeZones(zones));
  const trace = join(outdir, "..", "trace.jsonl");
  const s = await start(outdir, trace);
  await visitEvent(s, trace, "open", 2);
  expect(await s.stop("SIGINT")).toBe(0);
  const t0 = traceOf(trace).find((t) => t.type === "frame")!.at;
  const closeAt = traceOf(trace).find(
    (t) => t.type === "visit" && t.event === "close" && t.id === 1,
  )?.at;
  const results = traceOf(trace).filter((t) => t.type === "result" && t.at - t0 < PASS_MS);
  const visits = query<VisitRow>(outdir, "SELECT * FROM visits ORDER BY id");
  const crossings = query<{ line: string; direction: string }>(
    outdir,
    "SELECT line, direction FROM crossings WHERE time < ? ORDER BY time",
    t0 + PASS_MS,
  );
  const sec = (ms: number): number => (ms - t0) / 1000;
  return { s, outdir, t0, sec, closeAt, results, visits, crossings };
}

describe("the bundled clip's first pass (issue 11's acceptance)", () => {
  test("two visits; a line at x = 0.8 counts the man once, out; swapped, in", async () => {
    const r = await firstPass({
      zones: [],
      masks: [],
      lines: [
        { name: "x80", a: [0.8, 0], b: [0.8, 1] },
        { name: "x80swapped", a: [0.8, 1], b: [0.8, 0] },
      ],
    });
    const framesPerResult = PASS_MS / 100 / r.results.length;
    const [man, woman] = r.visits;
    expect(man).toMatchObject({ id: 1, open: 0, people: 1 });
    expect(Math.abs(r.sec(man!.end_ms) - 4.2)).toBeLessThanOrEqual(0.6);
    // It closed the visit gap after its end, at the first result after (1-3 frames).
    const after = (r.closeAt! - man!.end_ms) / 1000;
    expect(after).toBeGreaterThanOrEqual(GAP_SEC);
    expect(after).toBeLessThanOrEqual(GAP_SEC + 0.1 * Math.max(3, framesPerResult) + 0.3);
    expect(man!.image).toMatch(/^\d{8}_\d{6}_visit1\.jpg$/);
    expect(fs.existsSync(join(r.outdir, "visits", man!.image!))).toBe(true);
    expect(fs.existsSync(join(r.outdir, "visits", THUMBS_DIR, man!.image!))).toBe(true);
    expect(woman).toMatchObject({ id: 2 });
    expect(Math.abs(r.sec(woman!.start_ms) - 10.6)).toBeLessThanOrEqual(1);
    expect(r.crossings).toEqual([
      { line: "x80", direction: "out" },
      { line: "x80swapped", direction: "in" },
    ]);
  }, 120_000);

  test("with a mask over x ≥ 0.75 the line counts nothing and both visits remain", async () => {
    const r = await firstPass({
      zones: [],
      masks: [{ name: "right", points: square(0.75, 0, 1, 1) }],
      lines: [{ name: "x80", a: [0.8, 0], b: [0.8, 1] }],
    });
    expect(r.crossings).toEqual([]);
    expect(r.visits.slice(0, 2).map((v) => [v.id, v.people])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(Math.abs(r.sec(r.visits[1]!.start_ms) - 10.6)).toBeLessThanOrEqual(1);
  }, 120_000);
});

test("a malformed zones.json is reported, the server keeps running, a fix applies live", async () => {
  const outdir = join(tempDir("visits"), "out");
  fs.mkdirSync(outdir);
  const path = join(outdir, "zones.json");
  fs.writeFileSync(path, '{"zones": [{"name": "door", "points": [[0, 0], [1.5, 0], [0, 1]]}]}');
  const s = await start(outdir, join(outdir, "..", "trace.jsonl"));
  expect(
    countLines(s.output(), /zones\.json: zones\[0\]\.points\[1\]\[0\]: must be a number 0\.\.1/),
  ).toBe(1);
  expect((await fetchStatus(s.url)).online).toBe(true);
  fs.writeFileSync(
    path,
    serializeZones({ zones: [], masks: [], lines: [{ name: "gate", a: [0.5, 0], b: [0.5, 1] }] }),
  );
  await s.waitFor(/zones\.json: 0 zones, 0 masks, 1 line/, 10_000);
  fs.writeFileSync(path, "{ not json");
  await s.waitFor(/not valid JSON.*keeping the last good zones/, 10_000);
  expect((await fetch(`${s.url}/status`)).status).toBe(200);
  expect(await s.stop("SIGINT")).toBe(0);
}, 60_000);

test("an outdir made by the previous version: its events stay listed, visits start from then", async () => {
  const outdir = join(tempDir("visits"), "out");
  fs.mkdirSync(join(outdir, THUMBS_DIR), { recursive: true });
  const jpeg = fs.readFileSync(join(import.meta.dir, "../fixtures/kite_and_cold.jpg"));
  const db = new Database(join(outdir, INDEX_FILE), { create: true, strict: true });
  db.exec("PRAGMA journal_mode=WAL");
  db.exec(`CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,
    day TEXT NOT NULL, reason TEXT NOT NULL, people INTEGER NOT NULL, detections TEXT NOT NULL,
    infer_ms REAL NOT NULL, fps REAL NOT NULL, file TEXT NOT NULL UNIQUE, thumb TEXT,
    bytes INTEGER NOT NULL DEFAULT 0)`);
  db.exec("CREATE INDEX events_time ON events(time, id)");
  db.exec("CREATE INDEX events_day ON events(day, time)");
  db.exec("PRAGMA user_version=1");
  const old = [
    "20240501_120000_auto_people2_tpu7.3ms_fps23.9.jpg",
    "20240502_093005_snapshot_people0_tpu8.0ms_fps10.0.jpg",
    "20240503_180000_auto_people1_tpu7.0ms_fps24.0.jpg",
  ];
  old.forEach((file, i) => {
    fs.writeFileSync(join(outdir, file), jpeg);
    fs.writeFileSync(join(outdir, THUMBS_DIR, file), jpeg);
    db.query(
      `INSERT INTO events (time, day, reason, people, detections, infer_ms, fps, file, thumb, bytes)
       VALUES (?, ?, 'auto', 1, '[]', 7, 24, ?, ?, ?)`,
    ).run(Date.now() - (i + 1) * 86_400_000, `2024-05-0${i + 1}`, file, file, jpeg.length);
  });
  db.close();
  const trace = join(outdir, "..", "trace.jsonl");
  const s = await start(outdir, trace);
  const listed = (await (await fetch(`${s.url}/api/events?limit=500`)).json()) as {
    events: { file: string }[];
  };
  expect(listed.events.map((e) => e.file).sort()).toEqual(old);
  await visitEvent(s, trace, "open", 1);
  expect(await s.stop("SIGINT")).toBe(0);
  const visits = query<VisitRow>(outdir, "SELECT * FROM visits");
  expect(visits.map((v) => v.id)).toEqual([1]);
  const version = query<{ user_version: number }>(outdir, "PRAGMA user_version")[0]!;
  expect(version.user_version).toBeGreaterThanOrEqual(2);
  expect(
    query(outdir, "SELECT id FROM events WHERE visit_id IS NULL").length,
  ).toBeGreaterThanOrEqual(3);
}, 60_000);

test("kill -9 during a visit: after a restart it is closed at its last known time", async () => {
  const outdir = join(tempDir("visits"), "out");
  const trace = join(outdir, "..", "trace.jsonl");
  fs.mkdirSync(outdir);
  const s = await start(outdir, trace);
  await visitEvent(s, trace, "open", 1);
  // Open for a while: its end has been stored past its start.
  await waitFor(
    () =>
      query<VisitRow>(outdir, "SELECT * FROM visits WHERE id = 1 AND end_ms > start_ms + 1000")[0],
    { timeoutMs: 30_000, what: "visit 1's end stored while open", pollMs: 200 },
  );
  s.proc.kill("SIGKILL");
  await s.proc.exited;
  const [before] = query<VisitRow>(outdir, "SELECT * FROM visits WHERE id = 1");
  expect(before).toMatchObject({ open: 1 });
  const again = await start(outdir, trace);
  expect(again.output()).toContain("visit 1 was open when hazardcam stopped");
  const [after] = query<VisitRow>(outdir, "SELECT * FROM visits WHERE id = 1");
  expect(after).toMatchObject({ open: 0, start_ms: before!.start_ms, end_ms: before!.end_ms });
  expect(await again.stop("SIGINT")).toBe(0);
}, 90_000);
