/**
 * The Edge TPU ABI, guarded here because no Coral is attached to catch it. Coral's libedgetpu
 * 16.0 (libedgetpu1-std) was built against TensorFlow 2.5 and reaches TFLite only through
 * struct layouts and TfLiteContext function pointers (google-coral/libedgetpu
 * tflite/edgetpu_delegate_for_custom_op.cc, tflite/custom_op.cc): it copies TfLiteRegistration
 * (init .. version) and passes it by value to ReplaceNodeSubsetsWithDelegateKernels, allocates
 * its delegate as a TfLiteDelegate (data_ .. flags) plus its own members, indexes
 * context->tensors as TfLiteTensor[], and reads TfLiteNode, TfLiteDelegateParams and
 * TfLiteIntArray fields. TFLite 2.12 appended fields to TfLiteRegistration and TfLiteDelegate,
 * and libedgetpu 16.0 then crashes (google-coral/edgetpu#812); tflite_runtime 2.9.1 works
 * (google-coral/edgetpu#666).
 *
 * The expected values are TensorFlow 2.5's on LP64 (x86-64 and arm64 Linux): the field lists of
 * its tensorflow/lite/c/common.h, which is only ever appended to ("semi-ABI stable"), laid out
 * by the C rules. This test compiles against the TFLite C headers the bindings are built with
 * (tfjs-tflite-node's cc_deps/include, TFLite 2.9, as its libtensorflowlite_c.so) and fails
 * when an upgrade moves anything libedgetpu 16.0 touches; at run time src/detect/abi.ts warns
 * about a --tflite-lib of 2.12 or newer next to a stock libedgetpu.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtForTflite, edgeTpuAbiWarning } from "../../src/detect/abi.ts";
import { configureLibs } from "../../src/native/libs.ts";
import { tfliteVersion } from "../../src/native/tflite.ts";

const root = join(import.meta.dir, "..", "..");
const include = join(root, "node_modules/tfjs-tflite-node/cc_deps/include");
const tmp = mkdtempSync(join(tmpdir(), "hc-abi-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const off = (type: string, field: string): string => `offsetof(${type}, ${field})`;
const size = (type: string): string => `sizeof(${type})`;

/** C expression → its value in TensorFlow 2.5 (bytes on LP64, or an enum's value). */
const TF_2_5: readonly (readonly [string, number])[] = [
  // tensor shapes and indices; data[] is a flexible array member
  [off("TfLiteIntArray", "size"), 0],
  [off("TfLiteIntArray", "data"), 4],
  // context->tensors[i]: the element size and every field libedgetpu reads or writes
  [size("TfLiteTensor"), 112],
  [off("TfLiteTensor", "type"), 0],
  [off("TfLiteTensor", "data"), 8],
  [off("TfLiteTensor", "dims"), 16],
  [off("TfLiteTensor", "params.scale"), 24],
  [off("TfLiteTensor", "params.zero_point"), 28],
  [off("TfLiteTensor", "allocation_type"), 32],
  [off("TfLiteTensor", "bytes"), 40],
  [off("TfLiteTensor", "allocation"), 48],
  [off("TfLiteTensor", "name"), 56],
  [off("TfLiteTensor", "delegate"), 64],
  [off("TfLiteTensor", "buffer_handle"), 72],
  [off("TfLiteTensor", "data_is_stale"), 76],
  [off("TfLiteTensor", "is_variable"), 77],
  [off("TfLiteTensor", "quantization"), 80],
  [off("TfLiteTensor", "sparsity"), 96],
  [off("TfLiteTensor", "dims_signature"), 104],
  // nodes are reached through pointers: the fields, not the size
  [off("TfLiteNode", "inputs"), 0],
  [off("TfLiteNode", "outputs"), 8],
  [off("TfLiteNode", "intermediates"), 16],
  [off("TfLiteNode", "temporaries"), 24],
  [off("TfLiteNode", "user_data"), 32],
  [off("TfLiteNode", "builtin_data"), 40],
  [off("TfLiteNode", "custom_initial_data"), 48],
  [off("TfLiteNode", "custom_initial_data_size"), 56],
  [off("TfLiteNode", "delegate"), 64],
  // copied from RegisterCustomOp() and passed by value: the size is part of the call
  [size("TfLiteRegistration"), 64],
  [off("TfLiteRegistration", "init"), 0],
  [off("TfLiteRegistration", "free"), 8],
  [off("TfLiteRegistration", "prepare"), 16],
  [off("TfLiteRegistration", "invoke"), 24],
  [off("TfLiteRegistration", "profiling_string"), 32],
  [off("TfLiteRegistration", "builtin_code"), 40],
  [off("TfLiteRegistration", "custom_name"), 48],
  [off("TfLiteRegistration", "version"), 56],
  // libedgetpu's delegate is this struct followed by its own members: TFLite must read no more
  [size("TfLiteDelegate"), 48],
  [off("TfLiteDelegate", "data_"), 0],
  [off("TfLiteDelegate", "Prepare"), 8],
  [off("TfLiteDelegate", "CopyFromBufferHandle"), 16],
  [off("TfLiteDelegate", "CopyToBufferHandle"), 24],
  [off("TfLiteDelegate", "FreeBufferHandle"), 32],
  [off("TfLiteDelegate", "flags"), 40],
  [off("TfLiteDelegateParams", "delegate"), 0],
  [off("TfLiteDelegateParams", "nodes_to_replace"), 8],
  [off("TfLiteDelegateParams", "input_tensors"), 16],
  [off("TfLiteDelegateParams", "output_tensors"), 24],
  // EdgeTpuContext derives from TfLiteExternalContext
  [size("TfLiteExternalContext"), 16],
  [off("TfLiteExternalContext", "type"), 0],
  [off("TfLiteExternalContext", "Refresh"), 8],
  // the TfLiteContext function pointers libedgetpu calls, and the fields before them
  [off("TfLiteContext", "tensors_size"), 0],
  [off("TfLiteContext", "GetExecutionPlan"), 8],
  [off("TfLiteContext", "tensors"), 16],
  [off("TfLiteContext", "impl_"), 24],
  [off("TfLiteContext", "ResizeTensor"), 32],
  [off("TfLiteContext", "ReportError"), 40],
  [off("TfLiteContext", "AddTensors"), 48],
  [off("TfLiteContext", "GetNodeAndRegistration"), 56],
  [off("TfLiteContext", "ReplaceNodeSubsetsWithDelegateKernels"), 64],
  [off("TfLiteContext", "recommended_num_threads"), 72],
  [off("TfLiteContext", "GetExternalContext"), 80],
  [off("TfLiteContext", "SetExternalContext"), 88],
  // enum values compiled into libedgetpu
  ["kTfLiteOk", 0],
  ["kTfLiteError", 1],
  ["kTfLiteEdgeTpuContext", 2],
  ["kTfLiteDelegateFlagsAllowDynamicTensors", 1],
  ["kTfLiteFloat32", 1],
  ["kTfLiteInt32", 2],
  ["kTfLiteUInt8", 3],
  ["kTfLiteInt16", 7],
  ["kTfLiteInt8", 9],
  ["kTfLiteFloat16", 10],
];

const HEADER = `#include <stddef.h>
#include <stdio.h>
#include "tensorflow/lite/c/common.h"
`;

/** Compiles and runs a program printing each expression's value in this header. */
function measure(): Map<string, number> {
  const prog = join(tmp, "layout.c");
  const lines = TF_2_5.map(([expr], i) => `  printf("%d %ld\\n", ${i}, (long)(${expr}));`);
  writeFileSync(prog, `${HEADER}int main(void) {\n${lines.join("\n")}\n  return 0;\n}\n`);
  const exe = join(tmp, "layout");
  const cc = spawnSync("gcc", ["-std=c11", "-Wall", "-I", include, "-o", exe, prog], {
    encoding: "utf8",
  });
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  const run = spawnSync(exe, { encoding: "utf8" });
  const values = new Map<string, number>();
  for (const line of run.stdout.trim().split("\n")) {
    const [i, v] = line.split(" ").map(Number) as [number, number];
    values.set(TF_2_5[i]![0], v);
  }
  return values;
}

describe("the TFLite C headers the bindings are built against", () => {
  test("lay out what libedgetpu 16.0 touches as TensorFlow 2.5 did", () => {
    const got = measure();
    const differ = TF_2_5.filter(([expr, want]) => got.get(expr) !== want).map(
      ([expr, want]) => `${expr}: ${got.get(expr)} here, ${want} in TF 2.5`,
    );
    expect(differ).toEqual([]);
  });

  test("and so for arm64 (the Pi): the same checks, at compile time", () => {
    const cc = "aarch64-linux-gnu-gcc";
    if (spawnSync("sh", ["-c", `command -v ${cc}`]).status !== 0) {
      console.warn(`abi.test: ${cc} not installed, arm64 layout not checked`);
      return;
    }
    const prog = join(tmp, "layout-arm64.c");
    const asserts = TF_2_5.map(
      ([expr, want]) => `_Static_assert((${expr}) == ${want}, "${expr}");`,
    );
    writeFileSync(prog, `${HEADER}${asserts.join("\n")}\n`);
    const r = spawnSync(cc, ["-std=c11", "-fsyntax-only", "-I", include, prog], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("come with a TFLite library older than 2.12", () => {
    configureLibs({});
    const [major, minor] = tfliteVersion().split(".").map(Number) as [number, number];
    expect(major).toBe(2);
    expect(minor).toBeLessThan(12);
  });
});

describe("the startup warning about a --tflite-lib that does not fit a stock libedgetpu", () => {
  const stock = {
    path: "libedgetpu.so.1",
    names: ["libedgetpu.so.1", "BuildLabel(COMPILER=6.3.0)"],
  };

  test("says nothing for TFLite up to 2.11", () => {
    for (const v of ["2.5.0", "2.9.0", "2.11.1"]) expect(edgeTpuAbiWarning(v, stock)).toBeNull();
  });

  test("warns, with the fix, for TFLite 2.12 and newer with a stock libedgetpu", () => {
    for (const v of ["2.12.0", "2.16.1", "3.0.0"]) {
      const w = edgeTpuAbiWarning(v, stock);
      expect(w).toContain(`TFLite ${v} with a stock libedgetpu (libedgetpu.so.1)`);
      expect(w).toContain("google-coral/edgetpu#812");
      expect(w).toContain(": use TFLite 2.11 or older");
    }
  });

  test("says nothing when the libedgetpu is named as a build for that TFLite", () => {
    const built = {
      path: "/opt/libedgetpu-tf2.16/libedgetpu.so.1",
      names: ["/opt/libedgetpu-tf2.16/libedgetpu.so.1", "/opt/libedgetpu-tf2.16/libedgetpu.so.1.0"],
    };
    expect(builtForTflite(built.names)).toBe("2.16");
    expect(edgeTpuAbiWarning("2.16.1", built)).toBeNull();
    expect(edgeTpuAbiWarning("2.17.0", built)).toContain("a libedgetpu built for TFLite 2.16");
  });
});
