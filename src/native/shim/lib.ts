/**
 * The one owner of libhazardcam.so (ffi/hazardcam.h): its symbols, loaded lazily once per thread
 * (a Worker has its own module copy) and checked against the ABI these bindings were written for.
 * camera.ts, image.ts and reporter.ts call through shim(); nothing else dlopens it.
 */
import { dlopen, FFIType, type Library } from "bun:ffi";
import { existsSync } from "node:fs";
import { HcError, errorMessage } from "../../shared/errors.ts";
import { libPaths } from "../libs.ts";

/** HC_ABI_VERSION of the header these bindings were written against. */
const ABI_VERSION = 1;

const { i32, u32, i64, ptr } = FFIType;
const symbols = {
  hc_abi_version: { args: [], returns: i32 },
  hc_last_errno: { args: [], returns: i32 },
  hc_cam_open: { args: [ptr, ptr], returns: ptr },
  hc_cam_formats: { args: [ptr, ptr, i32], returns: i32 },
  hc_cam_start: { args: [ptr, i32, i32, u32, i32, i32], returns: i32 },
  hc_cam_width: { args: [ptr], returns: i32 },
  hc_cam_height: { args: [ptr], returns: i32 },
  hc_cam_fourcc: { args: [ptr], returns: u32 },
  hc_cam_buffer_size: { args: [ptr], returns: i32 },
  hc_cam_grab: { args: [ptr, ptr, i32, i32, ptr], returns: i32 },
  hc_cam_stop: { args: [ptr], returns: i32 },
  hc_cam_free: { args: [ptr], returns: FFIType.void },
  hc_jpeg_info: { args: [ptr, i32, ptr], returns: i32 },
  hc_jpeg_decode: { args: [ptr, i32, ptr, i32], returns: i32 },
  hc_jpeg_encode: { args: [ptr, i32, i32, i32, ptr, i32], returns: i32 },
  hc_jpeg_bound: { args: [i32, i32], returns: i32 },
  hc_yuyv_to_rgb: { args: [ptr, i32, i32, ptr, i32], returns: i32 },
  hc_resize: { args: [ptr, i32, i32, ptr, i32, i32, i32, ptr], returns: i32 },
  hc_draw_rect: { args: [ptr, i32, i32, i32, i32, i32, i32, u32, i32], returns: i32 },
  hc_draw_text: { args: [ptr, i32, i32, i32, i32, ptr, i32, u32, i64], returns: i32 },
  hc_tflite_reporter: { args: [], returns: ptr },
  hc_tflite_take_errors: { args: [ptr, i32], returns: i32 },
} as const;

export type Shim = Library<typeof symbols>["symbols"];
let lib: Shim | null = null;

export function shim(): Shim {
  if (lib) return lib;
  const path = libPaths().shim;
  const embedded = path.startsWith("/$bunfs");
  if (!embedded && !existsSync(path)) {
    throw new HcError(
      "SHIM_MISSING",
      `native shim not found: ${path}`,
      "build it with `bun run build:ffi` (source tree), or point HAZARDCAM_SHIM_LIB at libhazardcam.so",
    );
  }
  let l: Library<typeof symbols>;
  try {
    l = dlopen(path, symbols);
  } catch (e) {
    throw new HcError(
      "SHIM_LOAD",
      `cannot load the native shim ${path} (${errorMessage(e)})`,
      "rebuild it for this machine with `bun run build:ffi`",
    );
  }
  const abi = l.symbols.hc_abi_version();
  if (abi !== ABI_VERSION) {
    l.close();
    throw new HcError(
      "SHIM_ABI",
      `native shim ${path} has ABI ${abi}, these bindings need ${ABI_VERSION}`,
      "rebuild it with `bun run build:ffi`",
    );
  }
  lib = l.symbols;
  return lib;
}
