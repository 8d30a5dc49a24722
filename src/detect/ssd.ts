/**
 * SSD post-processing outputs (TFLite_Detection_PostProcess): finding the four output tensors,
 * and decoding them into detections. Pure: no native code, tested with hand-written arrays.
 */
import { inputError } from "../shared/errors.ts";
import type { Detection } from "../shared/types.ts";
import { labelFor, type Labels } from "./labels.ts";

/** What findSsdOutputs needs to know of an output tensor (TensorInfo from native/tflite fits). */
export interface SsdTensorMeta {
  name: string;
  /** "float32", "uint8", ... */
  type: string;
  dims: readonly number[];
}

/** Output indices of the four SSD tensors, and N, the number of detection slots. */
export interface SsdOutputIndices {
  boxes: number;
  classes: number;
  scores: number;
  count: number;
  n: number;
}

/** Copies of the output tensors of one invoke. */
export interface SsdOutputs {
  /** [N*4]: ymin, xmin, ymax, xmax per detection, normalized 0..1. */
  boxes: Float32Array;
  /** [N]: class ids, as floats. */
  classes: Float32Array;
  /** [N]: scores 0..1, best first. */
  scores: Float32Array;
  /** How many of the N slots are valid (a float in the tensor). */
  count: number;
}

export interface DecodeOptions {
  /** Keep detections with score >= threshold. */
  threshold: number;
  labels: Labels;
  /** At most this many detections, best first. */
  topK?: number;
}

const NEEDS =
  "hazardcam needs a model with TFLite_Detection_PostProcess (boxes, classes, scores, count), " +
  "e.g. ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite";

function describe(metas: readonly SsdTensorMeta[]): string {
  if (metas.length === 0) return "none";
  return metas.map((m) => `[${m.dims.join(",")}] ${m.type}`).join(", ");
}

function sameDims(dims: readonly number[], want: readonly number[]): boolean {
  return dims.length === want.length && dims.every((d, i) => d === want[i]);
}

/** Picks classes vs scores among two [1,N] tensors: by name, else in post-process order. */
function classesFirst(a: SsdTensorMeta, ia: number, b: SsdTensorMeta, ib: number): boolean {
  const na = a.name.toLowerCase();
  const nb = b.name.toLowerCase();
  if (na.includes("class") || nb.includes("score")) return true;
  if (na.includes("score") || nb.includes("class")) return false;
  // TFLite_Detection_PostProcess names its outputs "", ":1" (classes), ":2" (scores), ":3".
  if (na.endsWith(":1") || nb.endsWith(":2")) return true;
  if (na.endsWith(":2") || nb.endsWith(":1")) return false;
  return ia < ib;
}

/**
 * Identifies the SSD outputs by shape (boxes [1,N,4], classes [1,N], scores [1,N], count [1],
 * all float32), using names only to tell classes from scores. Throws an HcError (exit code 2)
 * naming what the model outputs instead. `model` names the file in the message.
 */
export function findSsdOutputs(metas: readonly SsdTensorMeta[], model?: string): SsdOutputIndices {
  const reject = (why: string): never => {
    const where = model ? `${model}: ` : "";
    throw inputError(
      "MODEL_NOT_SSD",
      `${where}not an SSD detector: outputs are ${describe(metas)}${why ? ` (${why})` : ""}`,
      NEEDS,
    );
  };
  if (metas.length !== 4) reject("");
  if (metas.some((m) => m.type !== "float32")) reject("");
  const boxes = metas.findIndex((m) => m.dims.length === 3 && m.dims[0] === 1 && m.dims[2] === 4);
  if (boxes < 0) reject("");
  const n = metas[boxes]!.dims[1]!;
  if (n <= 0) reject("no detection slots");
  const count = metas.findIndex((m, i) => i !== boxes && sameDims(m.dims, [1]));
  if (count < 0) reject("");
  const pair = metas
    .map((m, i) => i)
    .filter((i) => i !== boxes && i !== count && sameDims(metas[i]!.dims, [1, n]));
  if (pair.length !== 2) reject("");
  const [a, b] = pair as [number, number];
  const aFirst = classesFirst(metas[a]!, a, metas[b]!, b);
  return { boxes, classes: aFirst ? a : b, scores: aFirst ? b : a, count, n };
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Detections with score >= threshold, best first, boxes clamped to 0..1. */
export function decodeSsd(out: SsdOutputs, opts: DecodeOptions): Detection[] {
  const slots = Math.min(out.scores.length, out.classes.length, Math.floor(out.boxes.length / 4));
  const count = Number.isFinite(out.count)
    ? Math.max(0, Math.min(slots, Math.floor(out.count)))
    : 0;
  const result: Detection[] = [];
  for (let i = 0; i < count; i++) {
    const score = out.scores[i]!;
    if (!(score >= opts.threshold)) continue; // also drops NaN
    const cls = out.classes[i]!;
    if (!Number.isFinite(cls) || cls < 0) continue;
    const classId = Math.round(cls);
    const y0 = clamp01(out.boxes[i * 4]!);
    const x0 = clamp01(out.boxes[i * 4 + 1]!);
    const y1 = clamp01(out.boxes[i * 4 + 2]!);
    const x1 = clamp01(out.boxes[i * 4 + 3]!);
    if ([y0, x0, y1, x1].some(Number.isNaN)) continue;
    result.push({
      classId,
      label: labelFor(opts.labels, classId),
      score,
      box: {
        ymin: Math.min(y0, y1),
        xmin: Math.min(x0, x1),
        ymax: Math.max(y0, y1),
        xmax: Math.max(x0, x1),
      },
    });
  }
  result.sort((p, q) => q.score - p.score);
  if (opts.topK !== undefined && opts.topK >= 0 && result.length > opts.topK) {
    result.length = opts.topK;
  }
  return result;
}

/** Where a letterboxed frame sits in the model input, in input pixels (as hc_resize pads). */
export interface Letterbox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The placement hc_resize uses for a sw x sh frame letterboxed into dw x dh. */
export function letterboxFor(sw: number, sh: number, dw: number, dh: number): Letterbox {
  const s = Math.min(dw / sw, dh / sh);
  const width = Math.min(dw, Math.max(1, Math.floor(sw * s + 0.5)));
  const height = Math.min(dh, Math.max(1, Math.floor(sh * s + 0.5)));
  return { x: Math.floor((dw - width) / 2), y: Math.floor((dh - height) / 2), width, height };
}

/** Maps boxes normalized to the dw x dh model input back to the letterboxed frame (0..1). */
export function unletterbox(dets: Detection[], lb: Letterbox, dw: number, dh: number): Detection[] {
  const mapX = (v: number): number => clamp01((v * dw - lb.x) / lb.width);
  const mapY = (v: number): number => clamp01((v * dh - lb.y) / lb.height);
  return dets.map((d) => ({
    ...d,
    box: {
      ymin: mapY(d.box.ymin),
      xmin: mapX(d.box.xmin),
      ymax: mapY(d.box.ymax),
      xmax: mapX(d.box.xmax),
    },
  }));
}
