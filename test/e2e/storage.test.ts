/**
 * Storage faults on the compiled binary: a full card (a 4 MB tmpfs filled with ballast; skipped
 * where mounting is not allowed), and kill -9 at random moments while saving every frame.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import { join } from "node:path";
import { jpegDecode } from "../../src/native/shim.ts";
import { fillDisk, mountTmpfs, unmountAll } from "../http/tmpfs.ts";
import { CPU_MODEL, fakecamEnv, readParts, startServer, tempDir, type Running } from "./harness.ts";

let srv: Running | null = null;
afterEach(async () => {
  const s = srv;
  srv = null;
  if (s && s.proc.exitCode === null) expect(await s.stop("SIGINT")).toBe(0);
});
afterAll(unmountAll);

interface Status {
  online: boolean;
  fps: number;
  events_total: number;
  storage_error: string | null;
}

/** The server's resident memory (VmRSS), MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

async function status(s: Running): Promise<Status> {
  return (await (await fetch(`${s.url}/status`)).json()) as Status;
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
      [CPU_MODEL, "0", "0.5", "640", "480", "{port}", outdir, "0", "--bind", "127.0.0.1"].concat([
        "--min-free-mb",
        "0",
      ]),
      fakecamEnv(),
    );
    const s = srv;
    await s.waitFor(/ready in \d+ ms/, 30000);
    await s.waitFor(/(events: saved .*\n[^]*){3}/, 20000);
    const rssBefore = rssMb(s.proc.pid);
    const ballast = fillDisk(tmpfs!);

    const full = await (async () => {
      const end = Date.now() + 10000;
      while (Date.now() < end) {
        const st = await status(s);
        if (st.storage_error) return st;
        await Bun.sleep(100);
      }
      throw new Error(`no storage error shown; output:\n${s.output()}`);
    })();
    expect(full.storage_error).toMatch(/^disk full/);
    expect(full.online).toBe(true);
    // The picture keeps coming while nothing can be saved.
    const parts = await readParts(await fetch(`${s.url}/video?raw=1`), 10, 5000);
    expect(parts.length).toBe(10);
    const snap = await fetch(`${s.url}/snapshot`, { redirect: "manual" });
    expect(snap.status).toBe(503);
    expect(((await snap.json()) as { reason: string }).reason).toMatch(/disk full/);
    await Bun.sleep(1000);
    const duringFull = folderIsClean(outdir);
    expect(await apiFiles(s)).toEqual(duringFull.sort());
    const stillFull = await status(s);
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
    const end = Date.now() + 10000;
    let st = await status(s);
    while (Date.now() < end && (st.storage_error || st.events_total <= full.events_total)) {
      await Bun.sleep(100);
      st = await status(s);
    }
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
  const argv = [CPU_MODEL, "0", "0.5", "640", "480", "{port}", outdir, "0", "--bind", "127.0.0.1"];
  let kills = 0;
  let midWrite = 0;
  const reconciled: string[] = [];
  for (let round = 0; round < 8; round++) {
    const s = await startServer(argv, fakecamEnv());
    await s.waitFor(/ready in \d+ ms/, 30000);
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
  const quiet = argv.map((a, i) => (i === 7 ? "3600" : a));
  srv = await startServer(quiet, fakecamEnv());
  const s = srv;
  await s.waitFor(/ready in \d+ ms/, 30000);
  await s.waitFor(/events: saved/, 10000);
  await Bun.sleep(500);
  const files = folderIsClean(outdir, true);
  expect(files.length).toBeGreaterThanOrEqual(10);
  expect(await apiFiles(s)).toEqual(files.sort());
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
