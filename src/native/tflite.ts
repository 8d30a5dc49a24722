/**
 * bun:ffi bindings of the TFLite C API (tensorflow/lite/c/c_api.h, TFLite 2.9.0 from
 * tfjs-tflite-node unless --tflite-lib / HAZARDCAM_TFLITE_LIB points elsewhere).
 * TfLiteTensorQuantizationParams returns a struct by value, which bun:ffi cannot bind: not bound.
 */
import { dlopen, type Pointer } from "bun:ffi";
import { HcError, errorMessage } from "../shared/errors.ts";
import { libPaths } from "./libs.ts";

const symbols = {
  TfLiteVersion: { args: [], returns: "cstring" },
  TfLiteModelCreateFromFile: { args: ["cstring"], returns: "ptr" },
  TfLiteModelDelete: { args: ["ptr"], returns: "void" },
  TfLiteInterpreterOptionsCreate: { args: [], returns: "ptr" },
  TfLiteInterpreterOptionsDelete: { args: ["ptr"], returns: "void" },
  TfLiteInterpreterOptionsSetNumThreads: { args: ["ptr", "i32"], returns: "void" },
  TfLiteInterpreterOptionsAddDelegate: { args: ["ptr", "ptr"], returns: "void" },
  // reporter: void (*)(void* user_data, const char* format, va_list args)
  TfLiteInterpreterOptionsSetErrorReporter: { args: ["ptr", "ptr", "ptr"], returns: "void" },
  TfLiteInterpreterCreate: { args: ["ptr", "ptr"], returns: "ptr" },
  TfLiteInterpreterDelete: { args: ["ptr"], returns: "void" },
  TfLiteInterpreterGetInputTensorCount: { args: ["ptr"], returns: "i32" },
  TfLiteInterpreterGetInputTensor: { args: ["ptr", "i32"], returns: "ptr" },
  TfLiteInterpreterAllocateTensors: { args: ["ptr"], returns: "i32" },
  TfLiteInterpreterInvoke: { args: ["ptr"], returns: "i32" },
  TfLiteInterpreterGetOutputTensorCount: { args: ["ptr"], returns: "i32" },
  TfLiteInterpreterGetOutputTensor: { args: ["ptr", "i32"], returns: "ptr" },
  TfLiteTensorType: { args: ["ptr"], returns: "i32" },
  TfLiteTensorNumDims: { args: ["ptr"], returns: "i32" },
  TfLiteTensorDim: { args: ["ptr", "i32"], returns: "i32" },
  TfLiteTensorByteSize: { args: ["ptr"], returns: "u64" },
  TfLiteTensorData: { args: ["ptr"], returns: "ptr" },
  TfLiteTensorName: { args: ["ptr"], returns: "cstring" },
  TfLiteTensorCopyFromBuffer: { args: ["ptr", "ptr", "u64"], returns: "i32" },
  TfLiteTensorCopyToBuffer: { args: ["ptr", "ptr", "u64"], returns: "i32" },
} as const;

type TfliteSymbols = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

/** TfLiteStatus (c_api_types.h). */
export const TfLiteStatus = {
  kTfLiteOk: 0,
  kTfLiteError: 1,
  kTfLiteDelegateError: 2,
  kTfLiteApplicationError: 3,
  kTfLiteUnresolvedOps: 7,
} as const;

/** TfLiteType codes (c_api_types.h), by name. */
const TYPE_NAMES = [
  "notype",
  "float32",
  "int32",
  "uint8",
  "int64",
  "string",
  "bool",
  "int16",
  "complex64",
  "int8",
  "float16",
  "float64",
  "complex128",
  "uint64",
  "resource",
  "variant",
  "uint32",
] as const;

export type TensorType = (typeof TYPE_NAMES)[number] | "unknown";

export interface TensorInfo {
  index: number;
  name: string;
  type: TensorType;
  /** Empty until AllocateTensors for tensors whose shape the graph computes. */
  dims: number[];
  byteSize: number;
}

export interface TfliteLib {
  path: string;
  version: string;
  sym: TfliteSymbols;
}

/** A non-null native handle. */
type Handle = Pointer | bigint;

function handle(p: Pointer | bigint | null): Handle | null {
  return p === null || p === 0 || p === 0n ? null : p;
}

// Module state is per thread: a Worker gets its own dlopen.
let loaded: TfliteLib | null = null;

/** Opens the TFLite C library once per thread. Throws an HcError (exit code 1) if it can't. */
export function loadTflite(): TfliteLib {
  if (loaded) return loaded;
  const path = libPaths().tflite;
  let sym: TfliteSymbols;
  try {
    sym = dlopen(path, symbols).symbols;
  } catch (e) {
    throw new HcError(
      "TFLITE_LIB",
      `cannot load the TFLite C library ${path} (${errorMessage(e)})`,
      "run `bun install` (it ships with tfjs-tflite-node), or point --tflite-lib / HAZARDCAM_TFLITE_LIB at libtensorflowlite_c.so",
    );
  }
  loaded = { path, version: sym.TfLiteVersion() ?? "unknown", sym };
  return loaded;
}

export function tfliteVersion(): string {
  return loadTflite().version;
}

function closedError(what: string): HcError {
  return new HcError("TFLITE_CLOSED", `${what} used after close()`, "this is a bug in hazardcam");
}

/** Owns a TfLiteModel. */
export class TfliteModel {
  #ptr: Handle | null;
  readonly path: string;

  private constructor(ptr: Handle, path: string) {
    this.#ptr = ptr;
    this.path = path;
  }

  /** Returns null when TFLite rejects the file (it reports why on its default reporter). */
  static fromFile(path: string): TfliteModel | null {
    const p = handle(loadTflite().sym.TfLiteModelCreateFromFile(Buffer.from(`${path}\0`)));
    return p === null ? null : new TfliteModel(p, path);
  }

  get ptr(): Handle {
    if (this.#ptr === null) throw closedError("TfliteModel");
    return this.#ptr;
  }

  get closed(): boolean {
    return this.#ptr === null;
  }

  close(): void {
    if (this.#ptr === null) return;
    loadTflite().sym.TfLiteModelDelete(this.#ptr);
    this.#ptr = null;
  }
}

export interface InterpreterOptions {
  /** TfLiteInterpreterOptionsSetNumThreads; TFLite's default when undefined. */
  threads?: number;
  /** TfLiteDelegate* values; the caller keeps them alive until the interpreter is closed. */
  delegates?: Handle[];
  /** A C reporter function (e.g. the shim's hc_tflite_reporter); TFLite prints to stderr if unset. */
  errorReporter?: Handle | null;
}

/** Owns a TfLiteInterpreter. Does not own the model or the delegates it was created with. */
export class TfliteInterpreter {
  #ptr: Handle | null;
  readonly #sym: TfliteSymbols;
  /** Tensor pointers are stable between AllocateTensors calls; cached after one. */
  #inputs: Handle[] = [];
  #outputs: Handle[] = [];

  private constructor(ptr: Handle, sym: TfliteSymbols) {
    this.#ptr = ptr;
    this.#sym = sym;
  }

  /** Returns null when TFLite cannot build an interpreter (e.g. a delegate failed to apply). */
  static create(model: TfliteModel, opts: InterpreterOptions = {}): TfliteInterpreter | null {
    const { sym } = loadTflite();
    const options = handle(sym.TfLiteInterpreterOptionsCreate());
    if (options === null)
      throw new HcError("TFLITE_NOMEM", "TfLiteInterpreterOptionsCreate failed");
    try {
      if (opts.threads !== undefined)
        sym.TfLiteInterpreterOptionsSetNumThreads(options, opts.threads);
      for (const d of opts.delegates ?? []) sym.TfLiteInterpreterOptionsAddDelegate(options, d);
      if (opts.errorReporter) {
        sym.TfLiteInterpreterOptionsSetErrorReporter(options, opts.errorReporter, null);
      }
      // The interpreter copies what it needs from the options: they can go right after.
      const p = handle(sym.TfLiteInterpreterCreate(model.ptr, options));
      return p === null ? null : new TfliteInterpreter(p, sym);
    } finally {
      sym.TfLiteInterpreterOptionsDelete(options);
    }
  }

  get ptr(): Handle {
    if (this.#ptr === null) throw closedError("TfliteInterpreter");
    return this.#ptr;
  }

  get closed(): boolean {
    return this.#ptr === null;
  }

  /** TfLiteStatus: 0 ok, 7 unresolved ops (e.g. edgetpu-custom-op without its delegate). */
  allocateTensors(): number {
    const status = this.#sym.TfLiteInterpreterAllocateTensors(this.ptr);
    this.#inputs = [];
    this.#outputs = [];
    if (status === TfLiteStatus.kTfLiteOk) {
      for (let i = 0; i < this.inputCount; i++) this.#inputs.push(this.#tensor("input", i));
      for (let i = 0; i < this.outputCount; i++) this.#outputs.push(this.#tensor("output", i));
    }
    return status;
  }

  /** TfLiteStatus of TfLiteInterpreterInvoke. */
  invoke(): number {
    return this.#sym.TfLiteInterpreterInvoke(this.ptr);
  }

  get inputCount(): number {
    return this.#sym.TfLiteInterpreterGetInputTensorCount(this.ptr);
  }

  get outputCount(): number {
    return this.#sym.TfLiteInterpreterGetOutputTensorCount(this.ptr);
  }

  #tensor(kind: "input" | "output", index: number): Handle {
    const count = kind === "input" ? this.inputCount : this.outputCount;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new HcError("TFLITE_TENSOR", `no ${kind} tensor ${index} (the model has ${count})`);
    }
    const p =
      kind === "input"
        ? this.#sym.TfLiteInterpreterGetInputTensor(this.ptr, index)
        : this.#sym.TfLiteInterpreterGetOutputTensor(this.ptr, index);
    const t = handle(p);
    if (t === null)
      throw new HcError("TFLITE_TENSOR", `TFLite returned no ${kind} tensor ${index}`);
    return t;
  }

  #info(t: Handle, index: number): TensorInfo {
    const s = this.#sym;
    const dims: number[] = [];
    const n = s.TfLiteTensorNumDims(t);
    for (let i = 0; i < n; i++) dims.push(s.TfLiteTensorDim(t, i));
    const code = s.TfLiteTensorType(t);
    return {
      index,
      name: s.TfLiteTensorName(t) ?? "",
      type: TYPE_NAMES[code] ?? "unknown",
      dims,
      byteSize: Number(s.TfLiteTensorByteSize(t)),
    };
  }

  /** Shape and type of input `index` (valid before AllocateTensors for fixed-shape inputs). */
  inputInfo(index: number): TensorInfo {
    return this.#info(this.#tensor("input", index), index);
  }

  /** Shape and type of output `index`; computed shapes are empty until AllocateTensors. */
  outputInfo(index: number): TensorInfo {
    return this.#info(this.#tensor("output", index), index);
  }

  outputInfos(): TensorInfo[] {
    return Array.from({ length: this.outputCount }, (_, i) => this.outputInfo(i));
  }

  /** Copies data (exactly the tensor's byte size) into input `index`. After close() the cached
   * tensors are gone, so the lookup below throws: that is the guard. */
  copyToInput(index: number, data: NodeJS.TypedArray): void {
    const t = this.#inputs[index] ?? this.#tensor("input", index);
    const status = this.#sym.TfLiteTensorCopyFromBuffer(t, data, data.byteLength);
    if (status !== TfLiteStatus.kTfLiteOk) {
      throw new HcError(
        "TFLITE_COPY",
        `input ${index}: ${data.byteLength} bytes do not fit the tensor (${this.inputInfo(index).byteSize} bytes)`,
      );
    }
  }

  /** Copies output `index` (exactly the tensor's byte size) into dst. */
  copyFromOutput(index: number, dst: NodeJS.TypedArray): void {
    const t = this.#outputs[index] ?? this.#tensor("output", index);
    const status = this.#sym.TfLiteTensorCopyToBuffer(t, dst, dst.byteLength);
    if (status !== TfLiteStatus.kTfLiteOk) {
      throw new HcError(
        "TFLITE_COPY",
        `output ${index}: a ${dst.byteLength}-byte buffer does not match the tensor (${this.outputInfo(index).byteSize} bytes)`,
      );
    }
  }

  close(): void {
    if (this.#ptr === null) return;
    this.#sym.TfLiteInterpreterDelete(this.#ptr);
    this.#ptr = null;
    this.#inputs = [];
    this.#outputs = [];
  }
}
