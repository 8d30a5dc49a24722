/**
 * A loaded model becomes a ready interpreter, on the CPU or with the Edge TPU delegate: each
 * failure is an HcError saying which part is missing or does not fit, and how to fix it.
 */
import { realpathSync } from "node:fs";
import { inputError, type HcError } from "../shared/errors.ts";
import { logger } from "../shared/log.ts";
import { tryLoadEdgeTpu, type EdgeTpuDelegate, type EdgeTpuDevice } from "../native/edgetpu.ts";
import {
  TfLiteStatus,
  TfliteInterpreter,
  loadTflite,
  type TensorInfo,
  type TfliteModel,
} from "../native/tflite.ts";
import { edgeTpuAbiWarning } from "./abi.ts";
import { edgeTpuName } from "./fallback.ts";
import { MODEL_EXAMPLE } from "./model-check.ts";
import { tfliteErrors, type Reporter } from "./model-file.ts";
import { findSsdOutputs } from "./ssd.ts";

export interface Opened {
  interp: TfliteInterpreter;
  delegate: EdgeTpuDelegate | null;
  device: EdgeTpuDevice | null;
  edgetpuVersion: string | null;
}

const FALLBACK_HINT = "or pass --cpu-fallback";

/**
 * Edge TPU models have their output shapes in the file: check them before any delegate work,
 * so a non-detector is reported as such rather than as a TPU problem. CPU models compute their
 * output shapes in AllocateTensors: those are checked afterwards.
 */
export function precheckOutputs(model: TfliteModel, reporter: Reporter, path: string): void {
  const interp = TfliteInterpreter.create(model, { errorReporter: reporter });
  if (!interp) return; // the real open reports it
  try {
    const outs = interp.outputInfos();
    if (outs.length !== 4 || outs.every((o) => o.dims.length > 0)) findSsdOutputs(outs, path);
  } finally {
    interp.close();
  }
}

export function openOnCpu(
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
        `name it ${edgeTpuName()} so hazardcam uses the Edge TPU, or use the CPU model`,
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

/** libedgetpu loaded, an Edge TPU listed, and its delegate created: or the error saying which. */
function createDelegate(): { delegate: EdgeTpuDelegate; version: string } {
  const load = tryLoadEdgeTpu();
  if ("error" in load) {
    throw inputError(
      "EDGETPU_LIB_MISSING",
      `libedgetpu is not installed or cannot be loaded (${load.error})`,
      `install Coral's libedgetpu1-std (see README), point --edgetpu-lib at it, ${FALLBACK_HINT}`,
    );
  }
  const lib = load.lib;
  const version = lib.version();
  warnAbi(lib.path, version);
  const device = lib.listDevices()[0];
  if (!device) {
    throw inputError(
      "EDGETPU_NO_DEVICE",
      "No Edge TPU found",
      `check \`lsusb\` for 1a6e:089a or 18d1:9302, use a powered USB3 port, ${FALLBACK_HINT}`,
    );
  }
  const delegate = lib.createDelegate(device);
  if (!delegate) {
    throw inputError(
      "EDGETPU_OPEN",
      `the Edge TPU at ${device.path} (${device.kind}) cannot be opened`,
      `check the udev rules of libedgetpu1-std and that your user may use the device, replug it, ${FALLBACK_HINT}`,
    );
  }
  return { delegate, version };
}

/** Said once per thread, before the first delegate is made: a mismatch crashes right there. */
function warnAbi(path: string, version: string): void {
  let resolved = path;
  try {
    resolved = realpathSync(path);
  } catch {
    // a bare soname: the loader found it, we cannot tell where
  }
  const warning = edgeTpuAbiWarning(loadTflite().version, {
    path,
    names: [path, resolved, version],
  });
  if (warning) logger("tpu").once("edgetpu-abi", "warn", warning);
}

export function openOnEdgeTpu(
  model: TfliteModel,
  path: string,
  threads: number | undefined,
  reporter: Reporter,
): Opened {
  const { delegate, version } = createDelegate();
  const versions = `TFLite ${loadTflite().version}, libedgetpu ${version}`;
  const failed = (errs: string, status: number | null): HcError => {
    // Delegates are applied in TfLiteInterpreterCreate (a null interpreter) or, lazily, in
    // AllocateTensors (status 7): either way the custom op was not claimed.
    if (errs.includes("edgetpu-custom-op") || status === TfLiteStatus.kTfLiteUnresolvedOps) {
      return inputError(
        "EDGETPU_MISMATCH",
        `the Edge TPU delegate did not take the model's edgetpu-custom-op: TFLite and libedgetpu don't match (${versions})`,
        `point --tflite-lib/--edgetpu-lib at matching builds, ${FALLBACK_HINT}`,
      );
    }
    return inputError(
      "EDGETPU_DELEGATE",
      `the Edge TPU delegate cannot run ${path} (${status === null ? "TfLiteInterpreterCreate failed" : `AllocateTensors status ${status}`}${errs ? `: ${errs}` : ""}; ${versions})`,
      `point --tflite-lib/--edgetpu-lib at matching builds, ${FALLBACK_HINT}`,
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
  return { interp, delegate, device: delegate.device, edgetpuVersion: version };
}

/** The model input as hazardcam feeds it: uint8 [1,H,W,3]. */
export function inputSize(info: TensorInfo, path: string): { width: number; height: number } {
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
