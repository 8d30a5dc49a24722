/**
 * Issue 13's benchmark: the server's CPU for 10 dashboard tabs on the WebSocket (/api/live)
 * against 10 `/video?raw=1` clients, on one server (fake camera, CPU model on 1 thread, the
 * detect thread reniced to 19 and left out, as in bench/server.ts's streaming figures). The
 * phases alternate (raw, tabs, raw, tabs, then tabs with nine hidden), so a change of machine
 * load hits both sides alike; each side keeps its lower run.
 *   bun bench/tabs.ts [--seconds 15] [--fps 30] [--tabs 10]     prints the result as JSON
 *   bun bench/tabs.ts clients --url U --tabs N --hidden H --seconds S --warmup W
 *     the load generator (its own process): N WebSocket tabs, H of them hidden, counting the
 *     JPEG frames each receives; prints "measuring", then one JSON line.
 * Run by bench/run.ts (`--only tabs`); docs/PERFORMANCE.md has the figures.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cpuSec, loadavg, round, rssMb, summarize, type Summary } from "./lib.ts";
import { clients, detectThread, spawnServer, threadSec, type Server } from "./server.ts";

export interface TabsPhase {
  kind: "idle" | "video_raw" | "ws_tabs" | "ws_tabs_hidden";
  clients: number;
  hidden: number;
  seconds: number;
  cpuPerSecNoInference: number;
  cpuPerSec: number;
  rssMb: number;
  /** Frames per second each client got (visible tabs only for ws_tabs_hidden). */
  clientFps: Summary | null;
  captureFps: number;
  /** ws_frames_sent per second on the server: hidden tabs must add nothing. */
  serverFramesPerSec: number | null;
  loadavg: [number, number, number][];
}

export interface TabsResult {
  cameraFps: number;
  tabs: number;
  phases: TabsPhase[];
  /** Lower of the two runs of each side, CPU s/s without the inference thread. */
  videoRawCpu: number;
  wsTabsCpu: number;
  idleCpu: number;
  /** wsTabsCpu / videoRawCpu: the budget is <= 1. */
  ratio: number;
  /** (ws - idle) / (raw - idle): the cost of the clients alone. */
  ratioMarginal: number;
}

interface StatusLite {
  fps: number;
  ws_frames_sent: number;
}

async function status(s: Server): Promise<StatusLite> {
  return (await (await fetch(`${s.url}/status`)).json()) as StatusLite;
}

async function phase(
  s: Server,
  detectTid: number,
  kind: TabsPhase["kind"],
  n: number,
  seconds: number,
): Promise<TabsPhase> {
  const hidden = kind === "ws_tabs_hidden" ? n - 1 : 0;
  const common = ["--url", s.url, "--seconds", String(seconds), "--warmup", "2"];
  const load =
    kind === "idle"
      ? null
      : kind === "video_raw"
        ? clients(["video", "--clients", String(n), "--path", "/video?raw=1", ...common])
        : clients(
            ["clients", "--tabs", String(n), "--hidden", String(hidden), ...common],
            join(import.meta.dir, "tabs.ts"),
          );
  if (load) await load.measuring;
  const l0 = loadavg();
  const c0 = cpuSec(s.pid);
  const d0 = threadSec(s.pid, detectTid);
  const w0 = (await status(s)).ws_frames_sent;
  const t0 = performance.now();
  const r = load
    ? ((await load.result) as { fpsPerClient: Summary })
    : await Bun.sleep(seconds * 1000);
  const sec = (performance.now() - t0) / 1000;
  const c1 = cpuSec(s.pid);
  const d1 = threadSec(s.pid, detectTid);
  const st = await status(s);
  return {
    kind,
    clients: kind === "idle" ? 0 : n,
    hidden,
    seconds: round(sec, 1),
    cpuPerSecNoInference: round((c1 - c0 - (d1 - d0)) / sec),
    cpuPerSec: round((c1 - c0) / sec),
    rssMb: rssMb(s.pid),
    clientFps: r ? r.fpsPerClient : null,
    captureFps: round(st.fps, 2),
    serverFramesPerSec: kind.startsWith("ws") ? round((st.ws_frames_sent - w0) / sec, 2) : null,
    loadavg: [l0, loadavg()],
  };
}

export async function tabsBench(o: {
  seconds: number;
  cameraFps: number;
  tabs: number;
}): Promise<TabsResult> {
  const s = await spawnServer({ fps: o.cameraFps, threads: 1 });
  try {
    await s.waitFor(/ready in \d+ ms/);
    const det = await detectThread(s.pid);
    Bun.spawnSync(["renice", "-n", "19", "-p", String(det.tid)]);
    const phases: TabsPhase[] = [];
    const kinds: TabsPhase["kind"][] = ["idle", "video_raw", "ws_tabs", "video_raw", "ws_tabs"];
    for (const kind of [...kinds, "ws_tabs_hidden" as const]) {
      phases.push(await phase(s, det.tid, kind, o.tabs, kind === "idle" ? 5 : o.seconds));
    }
    const best = (k: TabsPhase["kind"]): number =>
      Math.min(...phases.filter((p) => p.kind === k).map((p) => p.cpuPerSecNoInference));
    const raw = best("video_raw");
    const ws = best("ws_tabs");
    const idle = best("idle");
    return {
      cameraFps: o.cameraFps,
      tabs: o.tabs,
      phases,
      videoRawCpu: raw,
      wsTabsCpu: ws,
      idleCpu: idle,
      ratio: round(ws / raw),
      ratioMarginal: round((ws - idle) / (raw - idle)),
    };
  } finally {
    await s.stop();
  }
}

// ---- the load generator ------------------------------------------------------------------------

/** N tabs on /api/live; the first `hidden` say so at once. Counts binary messages per tab. */
async function tabClients(v: Record<string, string | boolean | undefined>): Promise<void> {
  const url = `${String(v.url).replace(/^http/, "ws")}/api/live`;
  const n = Number(v.tabs);
  const hidden = Number(v.hidden ?? 0);
  const seconds = Number(v.seconds);
  const frames = new Array<number>(n).fill(0);
  const errors: string[] = [];
  let measuring = false;
  await Promise.all(
    frames.map(
      (_, i) =>
        new Promise<void>((resolve) => {
          const ws = new WebSocket(url);
          ws.binaryType = "arraybuffer";
          ws.onopen = () => {
            if (i < hidden) ws.send(JSON.stringify({ type: "visibility", visible: false }));
            resolve();
          };
          ws.onmessage = (e) => {
            if (measuring && typeof e.data !== "string") frames[i]!++;
          };
          ws.onerror = () => errors.push(`tab ${i}: error`);
          ws.onclose = () => resolve();
        }),
    ),
  );
  await Bun.sleep(Number(v.warmup ?? 2) * 1000);
  measuring = true;
  const t0 = performance.now();
  console.log("measuring");
  await Bun.sleep(seconds * 1000);
  measuring = false;
  const sec = (performance.now() - t0) / 1000;
  const visible = frames.slice(hidden).map((f) => f / sec);
  const out = { framesPerClient: frames, fpsPerClient: summarize(visible), errors };
  console.log(JSON.stringify(out));
  process.exit(0);
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: "string" },
      tabs: { type: "string", default: "10" },
      hidden: { type: "string", default: "0" },
      seconds: { type: "string", default: "15" },
      warmup: { type: "string", default: "2" },
      fps: { type: "string", default: "30" },
    },
  });
  if (positionals[0] === "clients") await tabClients(values);
  else {
    const r = await tabsBench({
      seconds: Number(values.seconds),
      cameraFps: Number(values.fps),
      tabs: Number(values.tabs),
    });
    console.log(JSON.stringify(r, null, 2));
  }
}
