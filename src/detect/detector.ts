/**
 * The SSD detector: owns the TFLite model, the Edge TPU delegate (if any) and the interpreter,
 * and frees them in reverse order. `_edgetpu.tflite` models run on the Edge TPU, or with
 * cpuFallback on their sibling CPU model; any other model runs on the CPU.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import embeddedCocoLabels from "../../models/coco_labels.txt" with { type: "text" };
import { HcError, errorMessage, inputError } from "../shared/errors.ts";
import { tryLoadEdgeTpu, type EdgeTpuDelegate, type EdgeTpuDevice } from "../native/edgetpu.ts";
import { resizeRgb, takeTfliteErrors, tfliteReporterPtr } from "../native/shim.ts";
import {
  TfLiteStatus,
  TfliteInterpreter,
  TfliteModel,
  loadTflite,
  type TensorInfo,
} from "../native/tflite.ts";
import type { Backend, Detection } from "../shared/types.ts";
import { parseLabels, readLabels, type Labels } from "./labels.ts";
import {
  decodeSsd,
  findSsdOutputs,
  letterboxFor,
  unletterbox,
  type SsdOutputIndices,
} from "./ssd.ts";

export interface DetectorOptions {
  modelPath: string;
  /** CPU threads for TFLite (TfLiteInterpreterOptionsSetNumThreads); TFLite's default if unset. */
  threads?: number;
  /** For an `_edgetpu.tflite` model: when the Edge TPU can't be used, run the sibling CPU model. */
  cpuFallback?: boolean;
  /** Label file; default coco_labels.txt next to the model, else the copy built into hazardcam. */
  labelsPath?: string;
  /** detect(): keep the frame's aspect ratio (pad) instead of the bilinear stretch. */
  letterbox?: boolean;
}

export interface InferOptions {
  /** Keep detections with score >= threshold (default 0: every valid slot). */
  threshold?: number;
  /** At most this many, best first. */
  topK?: number;
  /** The input holds this frame letterboxed (hc_resize letterbox = 1): map boxes back to it. */
  letterboxFrom?: { width: number; height: number };
}

export interface InferResult {
  detections: Detection[];
  /** TfLiteInterpreterInvoke only. */
  inferMs: number;
}

export interface DetectResult extends InferResult {
  /** Resize of the frame to the model input (0 when it already has that size). */
  resizeMs: number;
}

const EDGETPU_SUFFIX = "_edgetpu.tflite";
const MODEL_EXAMPLE = "e.g. models/ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite";
/** Errors that mean "the Edge TPU can't be used here": the ones cpuFallback recovers from. */
const TPU_UNAVAILABLE = new Set([
  "EDGETPU_LIB_MISSING",
  "EDGETPU_NO_DEVICE",
  "EDGETPU_OPEN",
  "EDGETPU_DELEGATE",
  "EDGETPU_MISMATCH",
]);

export function isEdgeTpuModel(path: string): boolean {
  return basename(path).endsWith(EDGETPU_SUFFIX);
}

/** The CPU model that goes with an Edge TPU model: the same path without `_edgetpu`. */
export function cpuSibling(path: string): string {
  return join(dirname(path), basename(path).slice(0, -EDGETPU_SUFFIX.length) + ".tflite");
}

/** The TFLite error reporter of the shim, or null (then TFLite prints to stderr). */
function errorReporter(): ReturnType<typeof tfliteReporterPtr> | null {
  try {
    return tfliteReporterPtr();
  } catch {
    return null;
  }
}

/** Messages TFLite reported since the last call, on one line. */
function tfliteErrors(): string {
  try {
    return takeTfliteErrors()
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .join("; ");
  } catch {
    return "";
  }
}

/** Exists, is a readable file, and carries the TFLite flatbuffer identifier "TFL3". */
function checkModelFile(path: string): void {
  const fix = `pass a .tflite model, ${MODEL_EXAMPLE}`;
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw inputError("MODEL_NOT_FILE", `model ${path} is not a file`, fix);
    size = st.size;
  } catch (e) {
    if (e instanceof HcError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw inputError("MODEL_MISSING", `model file not found: ${path}`, fix);
    }
    throw inputError("MODEL_UNREADABLE", `cannot read model ${path} (${errorMessage(e)})`, fix);
  }
  const head = new Uint8Array(8);
  try {
    const fd = openSync(path, "r");
    try {
      readSync(fd, head, 0, 8, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw inputError(
      "MODEL_UNREADABLE",
      `cannot read model ${path} (${errorMessage(e)})`,
      "check the file's permissions",
    );
  }
  if (size < 8 || new TextDecoder().decode(head.subarray(4, 8)) !== "TFL3") {
    throw inputError("MODEL_NOT_TFLITE", `${path} is not a TFLite model (no TFL3 identifier)`, fix);
  }
}

function openModel(path: string): TfliteModel {
  tfliteErrors();
  const model = TfliteModel.fromFile(path);
  if (model) return model;
  const why = tfliteErrors() || "not a valid TFLite flatbuffer";
  throw inputError(
    "MODEL_INVALID",
    `TFLite cannot load ${path}: truncated or corrupt (${why})`,
    `download the model again, ${MODEL_EXAMPLE}`,
  );
}

function loadLabels(modelPath: string, labelsPath?: string): { labels: Labels; source: string } {
  if (labelsPath) return { labels: readLabels(labelsPath), source: labelsPath };
  const beside = join(dirname(modelPath), "coco_labels.txt");
  if (existsSync(beside)) return { labels: readLabels(beside), source: beside };
  return { labels: parseLabels(embeddedCocoLabels), source: "built-in COCO labels" };
}

/** An HcError's message without its fix. */
function what(e: HcError): string {
  return e.fix ? e.message.slice(0, -(e.fix.length + 2)) : e.message;
}

function validThreads(threads: number | undefined): number | undefined {
  if (threads === undefined) return undefined;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw inputError("ARG_THREADS", `--threads must be a whole number 1..64, got ${threads}`);
  }
  return threads;
}

interface Opened {
  interp: TfliteInterpreter;
  delegate: EdgeTpuDelegate | null;
  device: EdgeTpuDevice | null;
  edgetpuVersion: string | null;
}

type Reporter = ReturnType<typeof errorReporter>;

/**
 * Edge TPU models have their output shapes in the file: check them before any delegate work,
 * so a non-detector is reported as such rather than as a TPU problem. CPU models compute their
 * output shapes in AllocateTensors: those are checked afterwards.
 */
function precheckOutputs(model: TfliteModel, reporter: Reporter, path: string): void {
  const interp = TfliteInterpreter.create(model, { errorReporter: reporter });
  if (!interp) return; // the real open reports it
  try {
    const outs = interp.outputInfos();
    if (outs.length !== 4 || outs.every((o) => o.dims.length > 0)) findSsdOutputs(outs, path);
  } finally {
    interp.close();
  }
}

function openOnCpu(
  model: TfliteModel,
  path: string,
  threads: number | undefined,
  reporter: Reporter,
): Opened {
  tfliteErrors();
  const interp = TfliteInterpreter.create(model, { threads, errorReporter: reporter });
  if (!interp) {
    throw inputError(
      "MODEL_INVALID",
      `TFLite cannot build an interpreter for ${path}: ${tfliteErrors()}`,
    );
  }
  const status = interp.allocateTensors();
  if (status !== TfLiteStatus.kTfLiteOk) {
    const errs = tfliteErrors();
    interp.close();
    if (errs.includes("edgetpu-custom-op")) {
      throw inputError(
        "MODEL_NEEDS_EDGETPU",
        `${path} contains edgetpu-custom-op: it runs only on an Edge TPU`,
        `name it *${EDGETPU_SUFFIX} so hazardcam uses the Edge TPU, or use the CPU model`,
      );
    }
    throw inputError(
      "MODEL_ALLOCATE",
      `TFLite cannot prepare ${path} (AllocateTensors status ${status}: ${errs || "no details"})`,
      `use an SSD detector model, ${MODEL_EXAMPLE}`,
    );
  }
  return { interp, delegate: null, device: null, edgetpuVersion: null };
}

function openOnEdgeTpu(
  model: TfliteModel,
  path: string,
  threads: number | undefined,
  reporter: Reporter,
): Opened {
  const fallback = "or pass --cpu-fallback";
  const load = tryLoadEdgeTpu();
  if ("error" in load) {
    throw inputError(
      "EDGETPU_LIB_MISSING",
      `libedgetpu is not installed or cannot be loaded (${load.error})`,
      `install Coral's libedgetpu1-std (see README), point --edgetpu-lib at it, ${fallback}`,
    );
  }
  const lib = load.lib;
  const edgetpuVersion = lib.version();
  const device = lib.listDevices()[0];
  if (!device) {
    throw inputError(
      "EDGETPU_NO_DEVICE",
      "No Edge TPU found",
      `check \`lsusb\` for 1a6e:089a or 18d1:9302, use a powered USB3 port, ${fallback}`,
    );
  }
  const delegate = lib.createDelegate(device);
  if (!delegate) {
    throw inputError(
      "EDGETPU_OPEN",
      `the Edge TPU at ${device.path} (${device.kind}) cannot be opened`,
      `check the udev rules of libedgetpu1-std and that your user may use the device, replug it, ${fallback}`,
    );
  }
  const versions = `TFLite ${loadTflite().version}, libedgetpu ${edgetpuVersion}`;
  const failed = (errs: string, status: number | null): HcError => {
    // Delegates are applied in TfLiteInterpreterCreate (a null interpreter) or, lazily, in
    // AllocateTensors (status 7): either way the custom op was not claimed.
    if (errs.includes("edgetpu-custom-op") || status === TfLiteStatus.kTfLiteUnresolvedOps) {
      return inputError(
        "EDGETPU_MISMATCH",
        `the Edge TPU delegate did not take the model's edgetpu-custom-op: TFLite and libedgetpu don't match (${versions})`,
        `point --tflite-lib/--edgetpu-lib at matching builds, ${fallback}`,
      );
    }
    return inputError(
      "EDGETPU_DELEGATE",
      `the Edge TPU delegate cannot run ${path} (${status === null ? "TfLiteInterpreterCreate failed" : `AllocateTensors status ${status}`}${errs ? `: ${errs}` : ""}; ${versions})`,
      `point --tflite-lib/--edgetpu-lib at matching builds, ${fallback}`,
    );
  };
  tfliteErrors();
  const interp = TfliteInterpreter.create(model, {
    threads,
    delegates: [delegate.ptr],
    errorReporter: reporter,
  });
  if (!interp) {
    const errs = tfliteErrors();
    delegate.close();
    throw failed(errs, null);
  }
  const status = interp.allocateTensors();
  if (status !== TfLiteStatus.kTfLiteOk) {
    const errs = tfliteErrors();
    interp.close();
    delegate.close();
    throw failed(errs, status);
  }
  return { interp, delegate, device, edgetpuVersion };
}

function inputSize(info: TensorInfo, path: string): { width: number; height: number } {
  const [n, h, w, c] = info.dims;
  if (info.type !== "uint8" || info.dims.length !== 4 || n !== 1 || c !== 3 || !h || !w) {
    throw inputError(
      "MODEL_INPUT",
      `${path}: input is [${info.dims.join(",")}] ${info.type}, hazardcam feeds uint8 [1,H,W,3] RGB`,
      `use a quantized SSD detector, ${MODEL_EXAMPLE}`,
    );
  }
  return { width: w, height: h };
}

export class Detector {
  readonly backend: Backend;
  readonly tfliteVersion: string;
  /** libedgetpu's version string when it was loaded, else null. */
  readonly edgetpuVersion: string | null;
  /** The Edge TPU in use (backend "edgetpu"), else null. */
  readonly device: EdgeTpuDevice | null;
  /** The model actually loaded: the CPU sibling after a fallback. */
  readonly modelPath: string;
  /** The model the caller asked for. */
  readonly requestedModelPath: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Things the caller should log loudly (e.g. the CPU fallback). */
  readonly warnings: string[];
  readonly labels: Labels;
  /** Where the labels came from: a path, or "built-in COCO labels". */
  readonly labelsSource: string;
  readonly threads: number | null;
  /** detect() letterboxes instead of stretching. */
  readonly letterbox: boolean;

  #model: TfliteModel | null;
  #delegate: EdgeTpuDelegate | null;
  #interp: TfliteInterpreter | null;
  readonly #outputs: SsdOutputIndices;
  /** Model-size RGB, reused by detect() for the resize. */
  readonly #input: Uint8Array;
  // Output copies, reused by every invoke: [N*4], [N], [N], [1].
  readonly #boxes: Float32Array;
  readonly #classes: Float32Array;
  readonly #scores: Float32Array;
  readonly #count = new Float32Array(1);

  private constructor(init: {
    model: TfliteModel;
    opened: Opened;
    outputs: SsdOutputIndices;
    size: { width: number; height: number };
    modelPath: string;
    requestedModelPath: string;
    warnings: string[];
    labels: { labels: Labels; source: string };
    threads: number | undefined;
    letterbox: boolean;
  }) {
    this.#model = init.model;
    this.#delegate = init.opened.delegate;
    this.#interp = init.opened.interp;
    this.backend = init.opened.delegate ? "edgetpu" : "cpu";
    this.device = init.opened.device;
    this.tfliteVersion = loadTflite().version;
    this.edgetpuVersion = init.opened.edgetpuVersion;
    this.modelPath = init.modelPath;
    this.requestedModelPath = init.requestedModelPath;
    this.inputWidth = init.size.width;
    this.inputHeight = init.size.height;
    this.warnings = init.warnings;
    this.labels = init.labels.labels;
    this.labelsSource = init.labels.source;
    this.threads = init.threads ?? null;
    this.letterbox = init.letterbox;
    this.#outputs = init.outputs;
    this.#input = new Uint8Array(init.size.width * init.size.height * 3);
    this.#boxes = new Float32Array(init.outputs.n * 4);
    this.#classes = new Float32Array(init.outputs.n);
    this.#scores = new Float32Array(init.outputs.n);
  }

  /** Throws an HcError with a code and a fix: exit code 2 for bad models or a missing TPU. */
  static open(opts: DetectorOptions): Detector {
    const requested = opts.modelPath;
    const threads = validThreads(opts.threads);
    checkModelFile(requested);
    const labels = loadLabels(requested, opts.labelsPath);
    loadTflite();
    const reporter = errorReporter();
    const warnings: string[] = [];
    let modelPath = requested;
    let model = openModel(requested);
    let opened: Opened | null = null;
    try {
      precheckOutputs(model, reporter, requested);
      if (isEdgeTpuModel(requested)) {
        try {
          opened = openOnEdgeTpu(model, requested, threads, reporter);
        } catch (e) {
          if (!opts.cpuFallback || !(e instanceof HcError) || !TPU_UNAVAILABLE.has(e.code)) throw e;
          const sibling = cpuSibling(requested);
          if (!existsSync(sibling)) {
            throw inputError(
              "MODEL_NO_CPU_SIBLING",
              `${what(e)}, and --cpu-fallback found no CPU model: ${sibling} does not exist`,
              "put the CPU model (the same name without _edgetpu) next to the Edge TPU model",
            );
          }
          checkModelFile(sibling);
          model.close();
          model = openModel(sibling);
          modelPath = sibling;
          precheckOutputs(model, reporter, sibling);
          opened = openOnCpu(model, sibling, threads, reporter);
          warnings.push(
            `CPU FALLBACK (--cpu-fallback): ${what(e)}. ` +
              `Running ${sibling} on the CPU, about 10x slower than on the Edge TPU`,
          );
        }
      } else {
        opened = openOnCpu(model, requested, threads, reporter);
      }
      const outputs = findSsdOutputs(opened.interp.outputInfos(), modelPath);
      if (opened.interp.inputCount !== 1) {
        throw inputError(
          "MODEL_INPUT",
          `${modelPath} has ${opened.interp.inputCount} inputs, hazardcam feeds one image`,
          `use an SSD detector model, ${MODEL_EXAMPLE}`,
        );
      }
      const size = inputSize(opened.interp.inputInfo(0), modelPath);
      return new Detector({
        model,
        opened,
        outputs,
        size,
        modelPath,
        requestedModelPath: requested,
        warnings,
        labels,
        threads,
        letterbox: opts.letterbox ?? false,
      });
    } catch (e) {
      opened?.interp.close();
      opened?.delegate?.close();
      model.close();
      throw e;
    }
  }

  get closed(): boolean {
    return this.#interp === null;
  }

  #live(): TfliteInterpreter {
    if (!this.#interp) {
      throw new HcError("DETECTOR_CLOSED", "Detector used after close()", "a bug in hazardcam");
    }
    return this.#interp;
  }

  /**
   * Runs the model on an image already at the model's input size (inputWidth x inputHeight
   * packed RGB24). Boxes are normalized to the input, or to opts.letterboxFrom's frame.
   */
  inferRgb300(input: Uint8Array, opts: InferOptions = {}): InferResult {
    const interp = this.#live();
    const want = this.#input.length;
    if (input.length !== want) {
      throw new HcError(
        "DETECT_INPUT_SIZE",
        `model input must be ${this.inputWidth}x${this.inputHeight} RGB (${want} bytes), got ${input.length} bytes`,
      );
    }
    interp.copyToInput(0, input);
    const t0 = performance.now();
    const status = interp.invoke();
    const inferMs = performance.now() - t0;
    if (status !== TfLiteStatus.kTfLiteOk) {
      const errs = tfliteErrors();
      throw new HcError(
        "TFLITE_INVOKE",
        `inference failed (TfLiteInterpreterInvoke status ${status}${errs ? `: ${errs}` : ""})`,
        this.backend === "edgetpu" ? "check the Edge TPU's USB connection, then restart" : "",
      );
    }
    // Tensor memory is reused by the next invoke: copy out now.
    const o = this.#outputs;
    interp.copyFromOutput(o.boxes, this.#boxes);
    interp.copyFromOutput(o.classes, this.#classes);
    interp.copyFromOutput(o.scores, this.#scores);
    interp.copyFromOutput(o.count, this.#count);
    let detections = decodeSsd(
      { boxes: this.#boxes, classes: this.#classes, scores: this.#scores, count: this.#count[0]! },
      { threshold: opts.threshold ?? 0, labels: this.labels, topK: opts.topK },
    );
    const from = opts.letterboxFrom;
    if (from) {
      const [dw, dh] = [this.inputWidth, this.inputHeight];
      detections = unletterbox(detections, letterboxFor(from.width, from.height, dw, dh), dw, dh);
    }
    return { detections, inferMs };
  }

  /** inferRgb300 with a threshold (the detect Worker's call). */
  inferInput(input: Uint8Array, threshold: number, opts: InferOptions = {}): InferResult {
    return this.inferRgb300(input, { ...opts, threshold });
  }

  /**
   * Resizes a packed RGB24 frame to the model input (bilinear stretch, or letterbox if opened
   * with it), then infers. Boxes are normalized to the frame.
   */
  detect(
    rgb: Uint8Array,
    width: number,
    height: number,
    opts: { threshold: number; topK?: number },
  ): DetectResult {
    this.#live();
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new HcError("DETECT_INPUT_SIZE", `bad frame size ${width}x${height}`);
    }
    if (rgb.length < width * height * 3) {
      throw new HcError(
        "DETECT_INPUT_SIZE",
        `frame ${width}x${height} needs ${width * height * 3} bytes of RGB, got ${rgb.length}`,
      );
    }
    let input: Uint8Array;
    let resizeMs = 0;
    const letterbox = this.letterbox ? { width, height } : undefined;
    if (width === this.inputWidth && height === this.inputHeight) {
      input = rgb.subarray(0, this.#input.length);
    } else {
      const t0 = performance.now();
      const [dw, dh] = [this.inputWidth, this.inputHeight];
      input = resizeRgb(rgb, width, height, dw, dh, { letterbox: this.letterbox }, this.#input);
      resizeMs = performance.now() - t0;
    }
    return { ...this.inferRgb300(input, { ...opts, letterboxFrom: letterbox }), resizeMs };
  }

  /** Frees the interpreter, then the delegate, then the model. Idempotent. */
  close(): void {
    this.#interp?.close();
    this.#interp = null;
    this.#delegate?.close();
    this.#delegate = null;
    this.#model?.close();
    this.#model = null;
  }
}
