/**
 * Child process for detect.test.ts: opens a Detector with the fake libedgetpu
 * (HAZARDCAM_EDGETPU_LIB, FAKE_EDGETPU_* in the environment, which the C side reads with
 * getenv) and prints what happened, plus the fake's call counts, as JSON.
 * usage: bun fake-edgetpu-child.ts <model> [--cpu-fallback]
 */
import { dlopen } from "bun:ffi";
import { Detector } from "../../src/detect/detector.ts";
import { HcError } from "../../src/shared/errors.ts";
import { tryLoadEdgeTpu } from "../../src/native/edgetpu.ts";

const [model, flag] = process.argv.slice(2);
const result: Record<string, unknown> = {};
const load = tryLoadEdgeTpu();
result.devices = "lib" in load ? load.lib.listDevices() : load.error;
try {
  const d = Detector.open({ modelPath: model!, cpuFallback: flag === "--cpu-fallback" });
  result.opened = {
    backend: d.backend,
    modelPath: d.modelPath,
    edgetpuVersion: d.edgetpuVersion,
    warnings: d.warnings,
  };
  d.close();
  d.close();
} catch (e) {
  if (!(e instanceof HcError)) throw e;
  result.error = { code: e.code, exitCode: e.exitCode, message: e.message, fix: e.fix };
}
const fake = dlopen(process.env.HAZARDCAM_EDGETPU_LIB!, {
  fake_edgetpu_counts: { args: ["ptr"], returns: "void" },
});
const counts = new Int32Array(5);
fake.symbols.fake_edgetpu_counts(counts);
const [list, freeDevices, create, freeDelegate, liveDelegates] = counts;
result.counts = { list, freeDevices, create, freeDelegate, liveDelegates };
console.log(JSON.stringify(result));
