/**
 * The SSD detector: owns the TFLite model, the Edge TPU delegate (if any) and the interpreter,
 * and frees them in reverse order. `_edgetpu.tflite` models run on the Edge TPU, or with
 * cpuFallback on their sibling CPU model (src/detect/fallback.ts decides when); any other
 * model runs on the CPU. Opening is in model-file.ts (the file) and backends.ts (CPU, Edge TPU).
 */
import { existsSync } from "node:fs";
import { HcError, errorWhat, inputError } from "../shared/errors.ts";
import type { EdgeTpuDelegate, EdgeTpuDevice } from "../native/edgetpu.ts";
import { resizeRgb } from "../native/shim.ts";
import {
  TfLiteStatus,
  loadTflite,
  type TfliteInterpreter,
  type TfliteModel,
} from "../native/tflite.ts";
import type { Backend } from "../shared/types.ts";
import { inputSize, openOnCpu, openOnEdgeTpu, precheckOutputs, type Opened } from "./backends.ts";
import { cpuSibling, isEdgeTpuModel, openWithFallback } from "./fallback.ts";
import type { Labels } from "./labels.ts";
import { MODEL_EXAMPLE } from "./model-check.ts";
import { errorReporter, loadLabels, openModel, tfliteErrors } from "./model-file.ts";
import {
  checkThreads,
  type DetectResult,
  type DetectorOptions,
  type InferOptions,
  type InferResult,
} from "./options.ts";
import {
  decodeSsd,
  findSsdOutputs,
  letterboxFor,
  unletterbox,
  type SsdOutputIndices,
} from "./ssd.ts";

export type { DetectResult, DetectorOptions, InferOptions, InferResult } from "./options.ts";

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

  /**
   * Opens the model (the CPU sibling instead, per src/detect/fallback.ts, when cpuFallback is set
   * and the Edge TPU cannot be used). Throws an HcError with a code and a fix: exit code 2 for
   * bad models or a missing Edge TPU.
   */
  static open(opts: DetectorOptions): Detector {
    const standIn =
      opts.cpuFallback && isEdgeTpuModel(opts.modelPath)
        ? (why: unknown) => Detector.openStandIn(opts, why)
        : null;
    return openWithFallback(() => Detector.#openAs(opts, opts.modelPath, []), standIn).engine;
  }

  /** The CPU model next to the Edge TPU model `opts.modelPath`, standing in for it because of `why`. */
  static openStandIn(opts: DetectorOptions, why: unknown): Detector {
    const sibling = cpuSibling(opts.modelPath);
    if (!existsSync(sibling)) {
      throw inputError(
        "MODEL_NO_CPU_SIBLING",
        `${errorWhat(why)}, and --cpu-fallback found no CPU model: ${sibling} does not exist`,
        "put the CPU model (the same name without _edgetpu) next to the Edge TPU model",
      );
    }
    const warning =
      `CPU FALLBACK (--cpu-fallback): ${errorWhat(why)}. ` +
      `Running ${sibling} on the CPU, about 10x slower than on the Edge TPU`;
    return Detector.#openAs(opts, sibling, [warning]);
  }

  /** Opens `path` on the backend its name asks for (the Edge TPU for `_edgetpu.tflite`). */
  static #openAs(opts: DetectorOptions, path: string, warnings: string[]): Detector {
    const threads = opts.threads === undefined ? undefined : checkThreads(opts.threads);
    const model = openModel(path);
    let opened: Opened | null = null;
    try {
      const labels = loadLabels(path, opts.labelsPath);
      const reporter = errorReporter();
      precheckOutputs(model, reporter, path);
      opened = isEdgeTpuModel(path)
        ? openOnEdgeTpu(model, path, threads, reporter)
        : openOnCpu(model, path, threads, reporter);
      const outputs = findSsdOutputs(opened.interp.outputInfos(), path);
      if (opened.interp.inputCount !== 1) {
        throw inputError(
          "MODEL_INPUT",
          `${path} has ${opened.interp.inputCount} inputs, hazardcam feeds one image`,
          `use an SSD detector model, ${MODEL_EXAMPLE}`,
        );
      }
      const size = inputSize(opened.interp.inputInfo(0), path);
      return new Detector({
        model,
        opened,
        outputs,
        size,
        modelPath: path,
        requestedModelPath: opts.modelPath,
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
