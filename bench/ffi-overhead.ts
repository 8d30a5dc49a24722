/**
 * FFI overhead: the same TFLite library, model and input, timed per inference (input copy,
 * invoke, output copies) from a tiny C program and through hazardcam's Detector (bun:ffi).
 * Rounds alternate C and Bun so machine noise hits both alike; on a shared machine trust
 * overheadPctPaired (median of per-round ratios) and overheadPctOfMin over the raw medians.
 * Prints one JSON document.
 * usage: bun bench/ffi-overhead.ts [--runs 10] [--rounds 6] [--threads 1]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Detector } from "../src/detect/detector.ts";
import { libPaths } from "../src/native/libs.ts";
import { jpegDecode, resizeRgb } from "../src/native/shim.ts";

const root = join(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    rounds: { type: "string", default: "6" },
    threads: { type: "string", default: "1" },
    warmup: { type: "string", default: "3" },
  },
});
const runs = Number(values.runs);
const rounds = Number(values.rounds);
const threads = Number(values.threads);
const warmup = Number(values.warmup);
const modelPath = join(root, "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite");

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const dir = mkdtempSync(join(tmpdir(), "hc-ffi-bench-"));
try {
  const exe = join(dir, "tflite_invoke");
  const cc = spawnSync(
    "gcc",
    ["-O2", "-o", exe, join(import.meta.dir, "c/tflite_invoke.c"), "-ldl"],
    {
      encoding: "utf8",
    },
  );
  if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);

  // The same 300x300 input both sides: kite_and_cold.jpg, bilinear stretch.
  const img = jpegDecode(
    new Uint8Array(readFileSync(join(root, "test/fixtures/kite_and_cold.jpg"))),
  );
  const input = resizeRgb(img.rgb, img.width, img.height, 300, 300, {});
  const inputPath = join(dir, "input.rgb");
  writeFileSync(inputPath, input);

  const detector = Detector.open({ modelPath, threads });
  const cMs: number[] = [];
  const bunMs: number[] = [];
  const bunInvokeMs: number[] = [];
  /** Per round: Bun median / C median (pairs neighbours in time, so load drift cancels). */
  const ratios: number[] = [];
  try {
    for (let w = 0; w < warmup; w++) detector.inferRgb300(input, { threshold: 0.5 });
    for (let r = 0; r < rounds; r++) {
      const c = spawnSync(
        exe,
        [libPaths().tflite, modelPath, inputPath, String(runs), String(warmup), String(threads)],
        { encoding: "utf8" },
      );
      if (c.status !== 0) throw new Error(`tflite_invoke failed: ${c.stderr}`);
      const cRound = (JSON.parse(c.stdout) as { ms: number[] }).ms;
      const bunRound: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        const res = detector.inferRgb300(input, { threshold: 0.5 });
        bunRound.push(performance.now() - t0);
        bunInvokeMs.push(res.inferMs);
      }
      cMs.push(...cRound);
      bunMs.push(...bunRound);
      ratios.push(median(bunRound) / median(cRound));
    }
  } finally {
    detector.close();
  }
  const cMedian = median(cMs);
  const bunMedian = median(bunMs);
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  console.log(
    JSON.stringify(
      {
        bench: "ffi-overhead",
        tfliteLib: libPaths().tflite,
        model: modelPath,
        threads,
        samples: { c: cMs.length, bun: bunMs.length },
        cMedianMs: round(cMedian),
        bunMedianMs: round(bunMedian),
        bunInvokeOnlyMedianMs: round(median(bunInvokeMs)),
        // Time per inference outside TfLiteInterpreterInvoke (input/output copies through FFI,
        // SSD decode): what the Bun path adds, measured without the invoke's noise.
        bunOutsideInvokeMedianMs: round(median(bunMs.map((v, i) => v - bunInvokeMs[i]!))),
        overheadPct: round(((bunMedian - cMedian) / cMedian) * 100),
        overheadPctPaired: round((median(ratios) - 1) * 100),
        // Minima are least disturbed by other load on the machine.
        cMinMs: round(Math.min(...cMs)),
        bunMinMs: round(Math.min(...bunMs)),
        overheadPctOfMin: round(((Math.min(...bunMs) - Math.min(...cMs)) / Math.min(...cMs)) * 100),
        targetPct: 5,
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
