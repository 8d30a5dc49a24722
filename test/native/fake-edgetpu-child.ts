/**
 * Child process for detect.test.ts: opens a Detector with the fake libedgetpu
 * (HAZARDCAM_EDGETPU_LIB, FAKE_EDGETPU_* in the environment, which the C side reads with
 * getenv) and prints what happened, plus the fake's call counts, as JSON.
 * usage: bun fake-edgetpu-child.ts <model> [--cpu-fallback] [--supervised] [--options k=v,...]
 *   --supervised  open as the detect Worker does (superviseDetector), not Detector.open
 *   --options     only create a delegate for the first device with these options
 */
import { CString, dlopen, type Pointer } from "bun:ffi";
import { Detector } from "../../src/detect/detector.ts";
import { superviseDetector } from "../../src/detect/supervise.ts";
import { HcError } from "../../src/shared/errors.ts";
import type { Logger } from "../../src/shared/log.ts";
import { tryLoadEdgeTpu } from "../../src/native/edgetpu.ts";

const [model, ...flags] = process.argv.slice(2);
const has = (f: string): boolean => flags.includes(f);
const result: Record<string, unknown> = {};
const load = tryLoadEdgeTpu();
result.devices = "lib" in load ? load.lib.listDevices() : load.error;

/** stdout carries only the JSON. */
const quiet: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
  once: () => {},
  clear: () => false,
};

function describe(d: Detector): object {
  return {
    backend: d.backend,
    modelPath: d.modelPath,
    edgetpuVersion: d.edgetpuVersion,
    warnings: d.warnings,
  };
}

const optionsAt = flags.indexOf("--options");
try {
  if (optionsAt >= 0 && "lib" in load) {
    const options = Object.fromEntries(
      (flags[optionsAt + 1] ?? "").split(",").map((kv) => kv.split("=") as [string, string]),
    );
    const device = load.lib.listDevices()[0]!;
    // Garbage to collect while the call runs, if anything were left unreferenced.
    for (let i = 0; i < 1000; i++) new Uint8Array(1024);
    load.lib.createDelegate(device, options)?.close();
  } else if (has("--supervised")) {
    const sup = superviseDetector(
      { modelPath: model!, cpuFallback: has("--cpu-fallback") },
      { log: quiet },
    );
    result.opened = describe(sup.engine!);
    sup.close();
    sup.close();
  } else {
    const d = Detector.open({ modelPath: model!, cpuFallback: has("--cpu-fallback") });
    result.opened = describe(d);
    d.close();
    d.close();
  }
} catch (e) {
  if (!(e instanceof HcError)) throw e;
  result.error = { code: e.code, exitCode: e.exitCode, message: e.message, fix: e.fix };
}
const fake = dlopen(process.env.HAZARDCAM_EDGETPU_LIB!, {
  fake_edgetpu_counts: { args: ["ptr"], returns: "void" },
  fake_edgetpu_last_options: { args: [], returns: "ptr" },
});
const counts = new Int32Array(5);
fake.symbols.fake_edgetpu_counts(counts);
const [list, freeDevices, create, freeDelegate, liveDelegates] = counts;
result.counts = { list, freeDevices, create, freeDelegate, liveDelegates };
result.lastOptions = new CString(fake.symbols.fake_edgetpu_last_options() as Pointer).toString();
console.log(JSON.stringify(result));
