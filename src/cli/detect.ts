/**
 * `hazardcam detect <model> <image...>`: runs the detector on still images through the same
 * native path as the camera server, and prints detections and timings (or one JSON document).
 */
import { basename } from "node:path";
import { Detector } from "../detect/detector.ts";
import { HcError, errorMessage } from "../shared/errors.ts";
import { loadImage } from "../image/load.ts";
import { logger } from "../shared/log.ts";
import type { Box, Detection } from "../shared/types.ts";

export interface DetectCliOptions {
  model: string;
  images: string[];
  /** 0..1 */
  threshold: number;
  json: boolean;
  threads?: number;
  cpuFallback?: boolean;
  /** At most this many detections per image, best first. */
  topK?: number;
  /** Extra invokes on the first image for the steady-state figure (default 5). */
  steadyRuns?: number;
}

/** A box in pixels of the image, inclusive-exclusive: x0,y0 top-left, x1,y1 bottom-right. */
interface PixelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

interface ImageReport {
  path: string;
  width?: number;
  height?: number;
  decodeMs?: number;
  resizeMs?: number;
  inferMs?: number;
  detections?: (Detection & { boxPx: PixelBox })[];
  error?: { code: string; message: string };
}

const log = logger("detect");
const tpuLog = logger("tpu");

function toPixels(box: Box, width: number, height: number): PixelBox {
  return {
    x0: Math.round(box.xmin * width),
    y0: Math.round(box.ymin * height),
    x1: Math.round(box.xmax * width),
    y1: Math.round(box.ymax * height),
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const ms = (v: number): string => `${v.toFixed(1)} ms`;
const round2 = (v: number): number => Math.round(v * 100) / 100;

function errorInfo(e: unknown): { code: string; message: string; exitCode: number } {
  if (e instanceof HcError) return { code: e.code, message: e.message, exitCode: e.exitCode };
  return { code: "INTERNAL", message: errorMessage(e), exitCode: 1 };
}

interface Timing {
  firstInvokeMs: number | null;
  steadyP50Ms: number | null;
  steadyRuns: number;
}

/** Inference times across the run: the first invoke, then the extra ones on the first image. */
class Timer {
  private firstMs: number | null = null;
  private readonly steadyMs: number[] = [];

  get started(): boolean {
    return this.firstMs !== null;
  }
  first(ms: number): void {
    this.firstMs = ms;
  }
  steady(ms: number): void {
    this.steadyMs.push(ms);
  }
  summary(): Timing {
    return {
      firstInvokeMs: this.firstMs === null ? null : round2(this.firstMs),
      steadyP50Ms: this.steadyMs.length ? round2(median(this.steadyMs)) : null,
      steadyRuns: this.steadyMs.length,
    };
  }
}

/** The options' own checks: an error line, or null when they are fine. */
function optionsError(opts: DetectCliOptions): string | null {
  if (!(opts.threshold >= 0 && opts.threshold <= 1))
    return `threshold must be 0..1, got ${opts.threshold}`;
  if (opts.topK !== undefined && !(Number.isInteger(opts.topK) && opts.topK >= 0))
    return `top-k must be a whole number >= 0, got ${opts.topK}`;
  return null;
}

function describeDetector(d: Detector): string {
  return (
    `model ${d.modelPath}: ${d.backend}, TFLite ${d.tfliteVersion}, ` +
    `libedgetpu ${d.edgetpuVersion ?? "not used"}, input ${d.inputWidth}x${d.inputHeight}` +
    (d.threads ? `, ${d.threads} thread${d.threads > 1 ? "s" : ""}` : "")
  );
}

/**
 * Decodes one image and detects on it, filling in its report as it goes (a failure leaves what
 * was measured before it); the first image that gets this far is also run `steadyRuns` more
 * times for the steady-state figure. Throws what loading or detecting throws.
 */
function detectImage(
  detector: Detector,
  report: ImageReport,
  opts: DetectCliOptions,
  timer: Timer,
): void {
  const t0 = performance.now();
  const img = loadImage(report.path);
  report.decodeMs = performance.now() - t0;
  const detectOpts = { threshold: opts.threshold, topK: opts.topK };
  const r = detector.detect(img.rgb, img.width, img.height, detectOpts);
  if (!timer.started) {
    timer.first(r.inferMs);
    for (let i = 0; i < (opts.steadyRuns ?? 5); i++) {
      timer.steady(detector.detect(img.rgb, img.width, img.height, detectOpts).inferMs);
    }
  }
  Object.assign(report, {
    width: img.width,
    height: img.height,
    resizeMs: r.resizeMs,
    inferMs: r.inferMs,
    detections: r.detections.map((d) => ({ ...d, boxPx: toPixels(d.box, img.width, img.height) })),
  });
}

/** The text lines of one image that was detected on. */
function imageLines(r: ImageReport, threshold: number): string[] {
  const dets = r.detections ?? [];
  const n = dets.length;
  return [
    `${r.path} (${r.width}x${r.height}): ${n} detection${n === 1 ? "" : "s"} >= ${threshold}`,
    ...dets.map((d) => {
      const b = d.boxPx;
      return `  ${d.label} ${d.score.toFixed(2)} box ${b.x0},${b.y0},${b.x1},${b.y1} (px)`;
    }),
    `  decode ${ms(r.decodeMs ?? 0)}, resize ${ms(r.resizeMs ?? 0)}, invoke ${ms(r.inferMs ?? 0)}`,
  ];
}

function jsonDocument(
  d: Detector,
  opts: DetectCliOptions,
  reports: ImageReport[],
  timing: Timing,
): string {
  const r2 = (v: number | undefined): number | undefined => (v === undefined ? v : round2(v));
  const doc = {
    model: d.modelPath,
    requestedModel: d.requestedModelPath,
    backend: d.backend,
    tfliteVersion: d.tfliteVersion,
    edgetpuVersion: d.edgetpuVersion,
    input: { width: d.inputWidth, height: d.inputHeight },
    threads: d.threads,
    threshold: opts.threshold,
    warnings: d.warnings,
    timing,
    images: reports.map((r) => ({
      ...r,
      name: basename(r.path),
      decodeMs: r2(r.decodeMs),
      resizeMs: r2(r.resizeMs),
      inferMs: r2(r.inferMs),
    })),
  };
  return JSON.stringify(doc, null, 2);
}

function timingLine(t: Timing): string | null {
  if (t.firstInvokeMs === null) return null;
  return (
    `timing: first invoke ${ms(t.firstInvokeMs)}` +
    (t.steadyP50Ms !== null
      ? `, steady state p50 ${ms(t.steadyP50Ms)} (${t.steadyRuns} invokes)`
      : "")
  );
}

/** Runs every image; returns the reports and the exit code of the first failure (else 0). */
function detectAll(
  detector: Detector,
  opts: DetectCliOptions,
  timer: Timer,
  out: (line: string) => void,
): { reports: ImageReport[]; exitCode: number } {
  let exitCode = 0;
  const reports: ImageReport[] = [];
  for (const path of opts.images) {
    const report: ImageReport = { path };
    reports.push(report);
    try {
      detectImage(detector, report, opts, timer);
      if (!opts.json) for (const line of imageLines(report, opts.threshold)) out(line);
    } catch (e) {
      const info = errorInfo(e);
      report.error = { code: info.code, message: info.message };
      log.error(info.message);
      if (exitCode === 0) exitCode = info.exitCode;
      // A runtime failure (not a bad file) will repeat for every image: stop.
      if (!(e instanceof HcError) || e.exitCode !== 2) break;
    }
  }
  return { reports, exitCode };
}

/** Returns the process exit code: 0, 2 for bad input (files, models, no TPU), 1 for runtime. */
export async function runDetect(opts: DetectCliOptions): Promise<number> {
  const out = (line: string): void => console.log(line);
  const bad = optionsError(opts);
  if (bad !== null) {
    log.error(bad);
    return 2;
  }
  let detector: Detector;
  try {
    detector = Detector.open({
      modelPath: opts.model,
      threads: opts.threads,
      cpuFallback: opts.cpuFallback,
    });
  } catch (e) {
    const info = errorInfo(e);
    if (opts.json) out(JSON.stringify({ error: { code: info.code, message: info.message } }));
    log.error(info.message);
    return info.exitCode;
  }
  try {
    for (const w of detector.warnings) tpuLog.warn(w);
    if (!opts.json) out(describeDetector(detector));
    const timer = new Timer();
    const { reports, exitCode } = detectAll(detector, opts, timer, out);
    const timing = timer.summary();
    const last = opts.json ? jsonDocument(detector, opts, reports, timing) : timingLine(timing);
    if (last !== null) out(last);
    return exitCode;
  } finally {
    detector.close();
  }
}
