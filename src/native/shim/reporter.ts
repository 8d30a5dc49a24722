/** The shim's TFLite error reporter: TFLite's messages per thread, for the detector's errors. */
import type { Pointer } from "bun:ffi";
import { HcError } from "../../shared/errors.ts";
import { BUG } from "./errors.ts";
import { shim } from "./lib.ts";

/** For TfLiteInterpreterOptionsSetErrorReporter: collects messages per thread (user_data unused). */
export function tfliteReporterPtr(): Pointer {
  const p = shim().hc_tflite_reporter();
  if (!p) throw new HcError("SHIM_REPORTER", "the shim has no TFLite error reporter", BUG);
  return p as Pointer;
}

const errorBuf = new Uint8Array(4096);

/** Messages TFLite reported on this thread since the last call, newline-separated; clears them. */
export function takeTfliteErrors(): string {
  const n = shim().hc_tflite_take_errors(errorBuf, errorBuf.length);
  return n > 0 ? new TextDecoder().decode(errorBuf.subarray(0, n)) : "";
}
