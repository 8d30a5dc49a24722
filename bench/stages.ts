/**
 * Per-stage time per 640x480 frame, in one process, on the same calls the capture and detect
 * Workers make. Prints one JSON document (milliseconds per call; p50/p95 over `runs`).
 *   bun bench/stages.ts grab --format MJPG|YUYV   (needs LD_PRELOAD=libfakecam.so, see run.ts)
 *   bun bench/stages.ts image                      (decode, resize, invoke, annotate, encode, save)
 * Options: --runs N (default 300; invoke uses runs/10, at least 10), --quick, --no-invoke (skip
 * the invoke stages: one inference only, for the detections annotate draws).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Detector } from "../src/detect/detector.ts";
import { Archive } from "../src/events/archive.ts";
import { annotate } from "../src/image/annotate.ts";
import { setQuiet } from "../src/shared/log.ts";
import {
  Camera,
  jpegDecode,
  jpegEncode,
  resizeRgb,
  yuyvToRgb,
  type Fourcc,
} from "../src/native/shim.ts";
import type { Detection } from "../src/shared/types.ts";
import { clip, CPU_MODEL, loadavg, root, summarize, timeRuns, type Summary } from "./lib.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    format: { type: "string", default: "MJPG" },
    runs: { type: "string" },
    quick: { type: "boolean", default: false },
    "no-invoke": { type: "boolean", default: false },
  },
});
const part = positionals[0] ?? "image";
const runs = Number(values.runs ?? (values.quick ? 100 : 300));
const W = 640;
const H = 480;

type Stage = Summary & { what: string };

function stage(what: string, ms: number[]): Stage {
  return { what, ...summarize(ms) };
}

/**
 * Camera.grab through the fake V4L2 camera (FAKECAM_FPS = fps). Frames are produced lazily
 * inside the grab's poll/DQBUF, so sleeping one frame period before each grab makes one frame
 * due and the call never waits for the pacing; the fake's own rendering of that frame (a memcpy
 * of the JPEG; for YUYV a JPEG decode and conversion) is inside the figure, which a real camera
 * does by DMA. YUYV runs at 100 fps: its rendering takes longer than 1 ms, and at 1000 fps every
 * DQBUF of the shim's drain loop would find a newer frame due.
 */
function grab(fourcc: Fourcc): Record<string, Stage> {
  const cam = Camera.open("/dev/video0");
  try {
    const fps = fourcc === "MJPG" ? 1000 : 100;
    const periodMs = 1000 / fps;
    const got = cam.start({ width: W, height: H, fourcc, fps, buffers: 4 });
    if (got.fourcc !== fourcc) throw new Error(`the fake camera gave ${got.fourcc}`);
    const buf = new Uint8Array(got.frameBytes);
    let bytes = 0;
    const ms: number[] = [];
    for (let i = -20; i < runs; i++) {
      Bun.sleepSync(periodMs + 0.5);
      const t0 = performance.now();
      bytes = cam.grab(buf, 1000).bytes;
      if (i >= 0) ms.push(performance.now() - t0);
    }
    // What the shim's memcpy of such a frame into the JS buffer costs on its own.
    const src = new Uint8Array(bytes).fill(7);
    const dst = new Uint8Array(bytes);
    const copy = timeRuns(runs, 20, () => dst.set(src));
    const key = fourcc === "MJPG" ? "mjpeg" : "yuyv";
    return {
      [`grab_${key}`]: stage(
        `Camera.grab of one ${W}x${H} ${fourcc} frame (${bytes} bytes), fake camera at ${fps} fps; includes the fake's rendering of the frame`,
        ms,
      ),
      [`grab_${key}_copy`]: stage(`memcpy of ${bytes} bytes (the copy part of a grab)`, copy),
    };
  } finally {
    cam.close();
  }
}

async function image(): Promise<Record<string, Stage>> {
  const frames = clip();
  const out: Record<string, Stage> = {};
  const rgb = new Uint8Array(W * H * 3);

  out.decode = stage(
    `jpegDecode ${W}x${H} q5 clip frame to RGB24 (cycles the 200 frames)`,
    timeRuns(runs, 20, (i) => jpegDecode(frames[i % frames.length]!, rgb)),
  );

  const input = new Uint8Array(300 * 300 * 3);
  jpegDecode(frames[0]!, rgb);
  out.resize = stage(
    `resizeRgb ${W}x${H} to 300x300 (bilinear stretch)`,
    timeRuns(runs, 20, () => resizeRgb(rgb, W, H, 300, 300, {}, input)),
  );

  const yuyvFile = new Uint8Array(
    readFileSync(join(root, "test/fixtures/people_640x480_yuyv422_f0_20_41_50.yuv")),
  );
  const yuyv = yuyvFile.subarray(0, W * H * 2);
  out.yuyv_to_rgb = stage(
    `yuyvToRgb ${W}x${H} (the YUYV path's "decode")`,
    timeRuns(runs, 20, () => yuyvToRgb(yuyv, W, H, rgb)),
  );

  // Detections of a frame with people, for the annotate stage.
  jpegDecode(frames[0]!, rgb);
  resizeRgb(rgb, W, H, 300, 300, {}, input);
  let dets: Detection[] = [];
  const invokeRuns = Math.max(10, Math.round(runs / 10));
  for (const threads of values["no-invoke"] ? [] : [1, 2]) {
    const d = Detector.open({ modelPath: CPU_MODEL, threads });
    try {
      const inferMs: number[] = [];
      const call = timeRuns(invokeRuns, 3, () => {
        const r = d.inferRgb300(input, { threshold: 0.5 });
        inferMs.push(r.inferMs);
        dets = r.detections;
      });
      out[`invoke_${threads}t`] = stage(
        `TfLiteInterpreterInvoke, CPU model, ${threads} thread(s)`,
        inferMs.slice(3),
      );
      out[`infer_call_${threads}t`] = stage(
        `Detector.inferRgb300 (input copy, invoke, output copies, SSD decode), ${threads} thread(s)`,
        call,
      );
    } finally {
      d.close();
    }
  }

  if (values["no-invoke"]) {
    const d = Detector.open({ modelPath: CPU_MODEL, threads: 1 });
    dets = d.inferRgb300(input, { threshold: 0.5 }).detections;
    d.close();
  }
  const work = new Uint8Array(W * H * 3);
  const info = { people: 2, inferMs: 7.5, fps: 30, backend: "edgetpu" as const };
  out.annotate = stage(
    `copy the frame and draw ${dets.length} boxes with labels and the overlay line`,
    timeRuns(runs, 20, () => {
      work.set(rgb);
      annotate(work, W, H, dets, info);
    }),
  );
  work.set(rgb);
  annotate(work, W, H, dets, info);
  out.encode_q80 = stage(
    `jpegEncode ${W}x${H} q80 4:2:0 (the annotated stream frame)`,
    timeRuns(runs, 20, () => jpegEncode(work, W, H, 80)),
  );
  let eventJpeg: Uint8Array = new Uint8Array(0);
  let thumbJpeg: Uint8Array = new Uint8Array(0);
  out.event_images = stage(
    "event images: annotated q95 encode, 320x240 thumbnail resize + q70 encode",
    timeRuns(Math.max(20, runs / 5), 5, () => {
      eventJpeg = jpegEncode(work, W, H, 95);
      const small = resizeRgb(rgb, W, H, 320, 240, {});
      thumbJpeg = jpegEncode(small, 320, 240, 70);
    }),
  );

  const dir = mkdtempSync(join(tmpdir(), "hc-bench-save-"));
  try {
    setQuiet(true);
    const archive = Archive.open(join(dir, "out"), { minFreeMb: 0 });
    let t = Date.UTC(2026, 0, 1);
    // The files are written on Bun's thread pool: `save` is the time until the record is back,
    // `save_call` the main thread's share (the call itself, before it awaits the files).
    const saveMs: number[] = [];
    const callMs: number[] = [];
    for (let i = -3; i < Math.max(20, runs / 5); i++) {
      t += 2000;
      const t0 = performance.now();
      const saved = archive.save({
        jpeg: eventJpeg,
        thumbJpeg,
        reason: "auto",
        at: new Date(t),
        people: 2,
        detections: dets,
        inferMs: 7.5,
        fps: 30,
      });
      const t1 = performance.now();
      await saved;
      if (i < 0) continue; // warmup
      saveMs.push(performance.now() - t0);
      callMs.push(t1 - t0);
    }
    out.save = stage(
      `Archive.save: ${eventJpeg.length} + ${thumbJpeg.length} bytes (write, fsync, link, fsync dir) and the index row, on ${tmpdir()}`,
      saveMs,
    );
    out.save_call = stage("Archive.save: the synchronous part of the call", callMs);
    archive.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const load0 = loadavg();
const stages = part === "grab" ? grab(values.format as Fourcc) : await image();
console.log(JSON.stringify({ part, runs, loadavg: [load0, loadavg()], stages }, null, 2));
