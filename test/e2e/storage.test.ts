/**
 * Storage faults on the compiled binary: a full card (a 4 MB tmpfs filled with ballast; skipped
 * where mounting is not allowed), and kill -9 at random moments while saving every frame.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import { jpegDecode } from "../../src/native/shim.ts";
import type { StatusJson } from "../../src/shared/status.ts";
import { fillDisk, mountTmpfs, unmountAll } from "../http/tmpfs.ts";
import {
  camArgs,
  fakecamEnv,
  fetchStatus,
  readParts,
  rssMb,
  startServer,
  tempDir,
  waitFor,
  type Running,
} from "./harness.ts";

let srv: Running | null = null;
afterEach(async () => {
  const s = srv;
  srv = null;
  if (s && s.proc.exitCode === null) expect(await s.stop("SIGINT")).toBe(0);
});
afterAll(unmountAll);

/** Waits for a /status that passes `ok`, and returns it. */
function statusUntil(
  s: Running,
  what: string,
  ok: (st: StatusJson) => boolean,
  timeoutMs = 10000,
): Promise<StatusJson> {
  return waitFor(
    async () => {
      const st = await fetchStatus(s.url);
      return ok(st) && st;
    },
    { timeoutMs, what, pollMs: 100, detail: () => `output:\n${s.output()}` },
  );
}

/**
 * Every image name shows a whole JPEG. `stopped`: also no hidden `.tmp-*` file is left (while
 * running, one may exist for the instant of a write: it never carries an event's name).
 */
function folderIsClean(dir: string, stopped = false): string[] {
  const names = fs.readdirSync(dir);
  if (stopped) expect(names.filter((n) => n.startsWith(".tmp-"))).toEqual([]);
  const images = names.filter((n) => n.endsWith(".jpg"));
  for (const n of images) {
    const img = jpegDecode(new Uint8Array(fs.readFileSync(join(dir, n))));
    expect(img.width).toBe(640);
  }
  return images;
}

/** Detector runs so far, from /metrics. */
async function inferences(s: Running): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return Number(/^hazardcam_inference_seconds_count (\d+)$/m.exec(text)?.[1]);
}

async function apiFiles(s: Running): Promise<string[]> {
  const r = (await (await fetch(`${s.url}/api/events?limit=500`)).json()) as {
    events: { file: string }[];
  };
  return r.events.map((e) => e.file).sort();
}

/**
 * Freezes the process (SIGSTOP) at short intervals until one of its open files is an archive
 * temp file, i.e. it is in the middle of writing an event, and kills it right there (SIGKILL).
 * Returns false if that moment did not come within timeoutMs (then it kills anyway).
 */
async function killMidWrite(pid: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    process.kill(pid, "SIGSTOP");
    let writing = false;
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).includes("/.tmp-")) writing = true;
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // the process is gone
    }
    if (writing) {
      process.kill(pid, "SIGKILL");
      return true;
    }
    process.kill(pid, "SIGCONT");
    await Bun.sleep(3);
  }
  process.kill(pid, "SIGKILL");
  return false;
}

const tmpfs = mountTmpfs(4);

test.skipIf(!tmpfs)(
  "a full card: the stream goes on, /status says why, no partial file, saving resumes",
  async () => {
    const outdir = join(tmpfs!, "out");
    srv = await startServer(
      camArgs("0", { outdir, cooldownSec: 0, flags: ["--min-free-mb", "0"] }),
      fakecamEnv(),
    );
    const s = await srv.ready();
    await s.waitFor(/(events: saved .*\n[^]*){3}/, 20000);
    const rssBefore = rssMb(s.proc.pid);
    const ballast = fillDisk(tmpfs!);

    const full = await statusUntil(s, "a storage error", (st) => st.storage_error !== null);
    expect(full.storage_error).toMatch(/^disk full/);
    expect(full.online).toBe(true);
    // The picture keeps coming while nothing can be saved.
    const parts = await readParts(await fetch(`${s.url}/video?raw=1`), 10, 5000);
    expect(parts.length).toBe(10);
    const snap = await fetch(`${s.url}/snapshot`, { redirect: "manual" });
    expect(snap.status).toBe(503);
    expect(((await snap.json()) as { reason: string }).reason).toMatch(/disk full/);
    // More frames go through the detector and people are seen while full (each such frame
    // would be an event, cooldown 0): still nothing saved.
    const ran = (await inferences(s)) + 5;
    const seen = await waitFor(
      async () => (await inferences(s)) >= ran && (await fetchStatus(s.url)).people > 0,
      { timeoutMs: 30000, what: "5 more detections and people seen", detail: s.output },
    );
    expect(seen).toBe(true);
    const stillFull = await fetchStatus(s.url);
    const duringFull = folderIsClean(outdir);
    expect(await apiFiles(s)).toEqual(duringFull.sort());
    expect(stillFull.storage_error).toMatch(/^disk full/);
    expect(stillFull.events_total).toBe(full.events_total);
    // Logged once, not once per frame.
    expect(
      s
        .output()
        .split("\n")
        .filter((l) => /cannot save an event/.test(l)).length,
    ).toBe(1);

    // Space is back: saving resumes without a restart.
    fs.rmSync(ballast);
    const resumedAt = Date.now();
    const st = await statusUntil(
      s,
      "saving again",
      (x) => x.storage_error === null && x.events_total > full.events_total,
    );
    console.log(
      `space back → saving again: ${Date.now() - resumedAt} ms; RSS ${rssBefore} → ${rssMb(s.proc.pid)} MB`,
    );
    expect(st.storage_error).toBeNull();
    expect(st.events_total).toBeGreaterThan(full.events_total);
    srv = null;
    expect(await s.stop("SIGINT")).toBe(0);
    folderIsClean(outdir, true);
  },
  60000,
);

test("kill -9 while saving every frame, 8 times: after a restart the index matches the folder", async () => {
  const outdir = join(tempDir("crash"), "out");
  const argv = camArgs("0", { outdir, cooldownSec: 0 });
  let kills = 0;
  let midWrite = 0;
  const reconciled: string[] = [];
  for (let round = 0; round < 8; round++) {
    const s = await (await startServer(argv, fakecamEnv())).ready();
    reconciled.push(...(s.output().match(/reconciled .*/g) ?? []));
    // Cooldown 0 saves every detected frame with a person: a save is nearly always under way.
    const want = 2 + Math.floor(Math.random() * 3);
    await s.waitFor(new RegExp(`(events: saved .*\\n[^]*){${want}}`), 20000);
    // Even rounds: at a random moment; odd rounds: while a file of an event is being written.
    if (round % 2 === 0) {
      await Bun.sleep(Math.floor(Math.random() * 250));
      s.proc.kill("SIGKILL");
    } else if (await killMidWrite(s.proc.pid, 10000)) {
      midWrite++;
    }
    await s.proc.exited;
    kills++;
  }
  expect(kills).toBe(8);
  // Restart with a long cooldown: one save at the first person, then a quiet folder to compare.
  srv = await startServer(camArgs("0", { outdir, cooldownSec: 3600 }), fakecamEnv());
  const s = await srv.ready();
  await s.waitFor(/events: saved/, 10000);
  // The one save of this run is indexed and on disk: the index matches the folder.
  const files = await waitFor(
    async () => {
      const names = folderIsClean(outdir, true).sort();
      return Bun.deepEquals(await apiFiles(s), names) && names;
    },
    { timeoutMs: 5000, what: "the index to match the folder", detail: s.output },
  );
  expect(files.length).toBeGreaterThanOrEqual(10);
  // Thumbnails exist only for indexed events.
  for (const t of fs.readdirSync(join(outdir, "thumbs"))) expect(files).toContain(t);
  expect(s.output()).not.toMatch(/unreadable|corrupt/);
  reconciled.push(...(s.output().match(/reconciled .*/g) ?? []));
  console.log(
    `after 8 kills (${midWrite} in the middle of a write): ${files.length} events; at the restarts:\n${reconciled.join("\n")}`,
  );
  expect(midWrite).toBeGreaterThanOrEqual(2);
  expect(reconciled.some((l) => /[1-9]\d* temp files deleted/.test(l))).toBe(true);
}, 120000);
