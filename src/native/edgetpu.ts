/**
 * bun:ffi bindings of libedgetpu (tflite/public/edgetpu_c.h). Most machines have no libedgetpu:
 * loading fails softly (tryLoadEdgeTpu), and the caller decides what that means.
 */
import { CString, dlopen, ptr, read, type Pointer } from "bun:ffi";
import { HcError, errorMessage } from "../shared/errors.ts";
import { libPaths } from "./libs.ts";

const symbols = {
  // struct edgetpu_device* edgetpu_list_devices(size_t* num_devices)
  edgetpu_list_devices: { args: ["ptr"], returns: "ptr" },
  edgetpu_free_devices: { args: ["ptr"], returns: "void" },
  // TfLiteDelegate* edgetpu_create_delegate(enum edgetpu_device_type type, const char* name,
  //     const struct edgetpu_option* options, size_t num_options)
  edgetpu_create_delegate: { args: ["i32", "ptr", "ptr", "u64"], returns: "ptr" },
  edgetpu_free_delegate: { args: ["ptr"], returns: "void" },
  edgetpu_version: { args: [], returns: "cstring" },
} as const;

type EdgeTpuSymbols = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

/** enum edgetpu_device_type. */
export const EDGETPU_APEX_PCI = 0;
export const EDGETPU_APEX_USB = 1;

/** struct edgetpu_device { enum edgetpu_device_type type; const char* path; } on LP64. */
const DEVICE_STRUCT_BYTES = 16;
const DEVICE_PATH_OFFSET = 8;
/** struct edgetpu_option { const char* name; const char* value; }. */
const OPTION_STRUCT_BYTES = 16;

export interface EdgeTpuDevice {
  /** EDGETPU_APEX_PCI (0) or EDGETPU_APEX_USB (1). */
  type: number;
  kind: "pci" | "usb" | "unknown";
  /** e.g. "/sys/bus/usb/devices/2-1" or "/dev/apex_0". */
  path: string;
}

type Handle = Pointer | bigint;

function handle(p: Pointer | bigint | null): Handle | null {
  return p === null || p === 0 || p === 0n ? null : p;
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`);
}

/** Owns a TfLiteDelegate* from edgetpu_create_delegate. */
export class EdgeTpuDelegate {
  #ptr: Handle | null;
  readonly #sym: EdgeTpuSymbols;
  readonly device: EdgeTpuDevice;

  constructor(ptr: Handle, sym: EdgeTpuSymbols, device: EdgeTpuDevice) {
    this.#ptr = ptr;
    this.#sym = sym;
    this.device = device;
  }

  get ptr(): Handle {
    if (this.#ptr === null) {
      throw new HcError(
        "EDGETPU_CLOSED",
        "Edge TPU delegate used after close()",
        "a bug in hazardcam",
      );
    }
    return this.#ptr;
  }

  get closed(): boolean {
    return this.#ptr === null;
  }

  /** Free only after the interpreter that uses it is deleted. */
  close(): void {
    if (this.#ptr === null) return;
    this.#sym.edgetpu_free_delegate(this.#ptr);
    this.#ptr = null;
  }
}

export class EdgeTpuLib {
  readonly path: string;
  readonly #sym: EdgeTpuSymbols;

  constructor(path: string, sym: EdgeTpuSymbols) {
    this.path = path;
    this.#sym = sym;
  }

  /** e.g. "BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,...), RuntimeVersion(14)". */
  version(): string {
    return this.#sym.edgetpu_version() ?? "unknown";
  }

  listDevices(): EdgeTpuDevice[] {
    const num = new BigUint64Array(1);
    const list = handle(this.#sym.edgetpu_list_devices(num));
    if (list === null) return [];
    try {
      const devices: EdgeTpuDevice[] = [];
      const base = Number(list);
      for (let i = 0; i < Number(num[0]); i++) {
        const at = base + i * DEVICE_STRUCT_BYTES;
        const type = read.i32(at as Pointer, 0);
        const pathPtr = read.ptr(at as Pointer, DEVICE_PATH_OFFSET);
        devices.push({
          type,
          kind: type === EDGETPU_APEX_PCI ? "pci" : type === EDGETPU_APEX_USB ? "usb" : "unknown",
          path: pathPtr ? new CString(pathPtr as Pointer).toString() : "",
        });
      }
      return devices;
    } finally {
      this.#sym.edgetpu_free_devices(list);
    }
  }

  /**
   * edgetpu_create_delegate for one device. Options are libedgetpu's name/value pairs
   * (e.g. { Performance: "Max" }). Returns null when libedgetpu cannot open the device.
   */
  createDelegate(
    device: EdgeTpuDevice,
    options: Record<string, string> = {},
  ): EdgeTpuDelegate | null {
    const opts = optionArray(options);
    const name = cstr(device.path);
    // The option structs hold raw pointers into opts.text: keep it reachable from a root until
    // the call returns, so no collection can free it while libedgetpu reads it.
    pinned.add(opts.text);
    let p: Handle | null;
    try {
      p = handle(
        this.#sym.edgetpu_create_delegate(
          device.type,
          name,
          opts.count > 0 ? opts.structs : null,
          opts.count,
        ),
      );
    } finally {
      pinned.delete(opts.text);
    }
    return p === null ? null : new EdgeTpuDelegate(p, this.#sym, device);
  }
}

/** Buffers C holds raw pointers into during a call. */
const pinned = new Set<Uint8Array>();

/**
 * struct edgetpu_option[] for `options`: `structs` of { const char* name, const char* value }
 * pointing into `text`, which holds every string NUL-terminated.
 */
function optionArray(options: Record<string, string>): {
  structs: BigUint64Array;
  text: Buffer;
  count: number;
} {
  const entries = Object.entries(options);
  const parts = entries.flatMap(([k, v]) => [cstr(k), cstr(v)]);
  const text = Buffer.concat([...parts, Buffer.alloc(1)]);
  const structs = new BigUint64Array(Math.max(1, (entries.length * OPTION_STRUCT_BYTES) / 8));
  const base = BigInt(ptr(text));
  let offset = 0;
  parts.forEach((part, i) => {
    structs[i] = base + BigInt(offset);
    offset += part.length;
  });
  return { structs, text, count: entries.length };
}

export type EdgeTpuLoad = { lib: EdgeTpuLib } | { error: string };

// Per thread, per path: dlopen once, remember failures too.
const cache = new Map<string, EdgeTpuLoad>();

/** dlopens libedgetpu (libPaths().edgetpu); on failure returns the loader's message. */
export function tryLoadEdgeTpu(path: string = libPaths().edgetpu): EdgeTpuLoad {
  const hit = cache.get(path);
  if (hit) return hit;
  let result: EdgeTpuLoad;
  try {
    result = { lib: new EdgeTpuLib(path, dlopen(path, symbols).symbols) };
  } catch (e) {
    const msg = errorMessage(e);
    // For a bare soname Bun reports the cwd-relative path it tried last: say what was searched.
    result = {
      error:
        !path.includes("/") && msg.includes("cannot open shared object file")
          ? `${path} is not in the dynamic loader's search path`
          : msg,
    };
  }
  cache.set(path, result);
  return result;
}
