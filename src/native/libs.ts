/**
 * Where the native libraries are. Order: explicit configuration (flags, or the paths the main
 * thread hands a Worker) > environment > files embedded in the compiled binary > the dev tree.
 */
import { join } from "node:path";

export interface LibPaths {
  /** libtensorflowlite_c.so (TFLite C API 2.9.0 from tfjs-tflite-node unless overridden). */
  tflite: string;
  /** libedgetpu: a file path, or a soname the dynamic loader searches for. */
  edgetpu: string;
  /** Our shim, ffi/build/linux-<arch>/libhazardcam.so. */
  shim: string;
}

const repoRoot = join(import.meta.dir, "..", "..");
const archDir = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
const tfliteArchDir = process.arch === "arm64" ? "linux_arm64" : "linux_amd64";

let embedded: Partial<LibPaths> = {};
let configured: Partial<LibPaths> = {};

/** Called once by the compiled binary's entry with the `/$bunfs` paths of embedded files. */
export function setEmbeddedLibs(paths: Partial<LibPaths>): void {
  embedded = { ...paths };
}

/** Overrides from flags (`--tflite-lib`, `--edgetpu-lib`), or from the main thread in a Worker. */
export function configureLibs(paths: Partial<LibPaths>): void {
  configured = Object.fromEntries(Object.entries(paths).filter(([, v]) => v)) as Partial<LibPaths>;
}

export function libPaths(): LibPaths {
  const env = process.env;
  return {
    tflite:
      configured.tflite ??
      env.HAZARDCAM_TFLITE_LIB ??
      embedded.tflite ??
      join(
        repoRoot,
        "node_modules/tfjs-tflite-node/cc_deps",
        tfliteArchDir,
        "libtensorflowlite_c.so",
      ),
    edgetpu:
      configured.edgetpu ?? env.HAZARDCAM_EDGETPU_LIB ?? embedded.edgetpu ?? "libedgetpu.so.1",
    shim:
      configured.shim ??
      env.HAZARDCAM_SHIM_LIB ??
      embedded.shim ??
      join(repoRoot, "ffi/build", archDir, "libhazardcam.so"),
  };
}

/** Dev-tree build folder for this arch (tests use it for the fake camera). */
export const buildDir: string = join(repoRoot, "ffi/build", archDir);
