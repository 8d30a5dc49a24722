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

/** Returns the process exit code: 0, 2 for bad input (files, models, no TPU), 1 for runtime. */
export async function runDetect(opts: DetectCliOptions): Promise<number> {
  const out = (line: string): void => console.log(line);
  if (!(opts.threshold >= 0 && opts.threshold <= 1)) {
    log.error(`threshold must be 0..1, got ${opts.threshold}`);
    return 2;
  }
  if (opts.topK !== undefined && !(Number.isInteger(opts.topK) && opts.topK >= 0)) {
    log.error(`top-k must be a whole number >= 0, got ${opts.topK}`);
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
    const steadyRuns = opts.steadyRuns ?? 5;
    if (!opts.json) {
      out(
        `model ${detector.modelPath}: ${detector.backend}, TFLite ${detector.tfliteVersion}, ` +
          `libedgetpu ${detector.edgetpuVersion ?? "not used"}, input ${detector.inputWidth}x${detector.inputHeight}` +
          (detector.threads
            ? `, ${detector.threads} thread${detector.threads > 1 ? "s" : ""}`
            : ""),
      );
    }
    let exitCode = 0;
    let firstInvokeMs: number | null = null;
    const steadyMs: number[] = [];
    const reports: ImageReport[] = [];
    for (const path of opts.images) {
      const report: ImageReport = { path };
      reports.push(report);
      try {
        const t0 = performance.now();
        const img = loadImage(path);
        report.decodeMs = performance.now() - t0;
        const detectOpts = { threshold: opts.threshold, topK: opts.topK };
        const r = detector.detect(img.rgb, img.width, img.height, detectOpts);
        if (firstInvokeMs === null) {
          firstInvokeMs = r.inferMs;
          for (let i = 0; i < steadyRuns; i++) {
            steadyMs.push(detector.detect(img.rgb, img.width, img.height, detectOpts).inferMs);
          }
        }
        Object.assign(report, {
          width: img.width,
          height: img.height,
          resizeMs: r.resizeMs,
          inferMs: r.inferMs,
          detections: r.detections.map((d) => ({
            ...d,
            boxPx: toPixels(d.box, img.width, img.height),
          })),
        });
        if (!opts.json) {
          const n = r.detections.length;
          out(
            `${path} (${img.width}x${img.height}): ${n} detection${n === 1 ? "" : "s"} >= ${opts.threshold}`,
          );
          for (const d of report.detections ?? []) {
            const b = d.boxPx;
            out(`  ${d.label} ${d.score.toFixed(2)} box ${b.x0},${b.y0},${b.x1},${b.y1} (px)`);
          }
          out(`  decode ${ms(report.decodeMs)}, resize ${ms(r.resizeMs)}, invoke ${ms(r.inferMs)}`);
        }
      } catch (e) {
        const info = errorInfo(e);
        report.error = { code: info.code, message: info.message };
        log.error(info.message);
        if (exitCode === 0) exitCode = info.exitCode;
        // A runtime failure (not a bad file) will repeat for every image: stop.
        if (!(e instanceof HcError) || e.exitCode !== 2) break;
      }
    }
    const timing = {
      firstInvokeMs: firstInvokeMs === null ? null : round2(firstInvokeMs),
      steadyP50Ms: steadyMs.length ? round2(median(steadyMs)) : null,
      steadyRuns: steadyMs.length,
    };
    if (opts.json) {
      const r2 = (v: number | undefined): number | undefined => (v === undefined ? v : round2(v));
      out(
        JSON.stringify(
          {
            model: detector.modelPath,
            requestedModel: detector.requestedModelPath,
            backend: detector.backend,
            tfliteVersion: detector.tfliteVersion,
            edgetpuVersion: detector.edgetpuVersion,
            input: { width: detector.inputWidth, height: detector.inputHeight },
            threads: detector.threads,
            threshold: opts.threshold,
            warnings: detector.warnings,
            timing,
            images: reports.map((r) => ({
              ...r,
              name: basename(r.path),
              decodeMs: r2(r.decodeMs),
              resizeMs: r2(r.resizeMs),
              inferMs: r2(r.inferMs),
            })),
          },
          null,
          2,
        ),
      );
    } else if (timing.firstInvokeMs !== null) {
      out(
        `timing: first invoke ${ms(timing.firstInvokeMs)}` +
          (timing.steadyP50Ms !== null
            ? `, steady state p50 ${ms(timing.steadyP50Ms)} (${timing.steadyRuns} invokes)`
            : ""),
      );
    }
    return exitCode;
  } finally {
    detector.close();
  }
}
