/** `hazardcam devices` and `--version`: cameras with their formats, Edge TPUs, library versions. */
import { readdirSync } from "node:fs";
import { errorMessage } from "../shared/errors.ts";
import { libPaths } from "../native/libs.ts";
import { tryLoadEdgeTpu, type EdgeTpuDevice } from "../native/edgetpu.ts";
import { Camera } from "../native/shim.ts";
import { tfliteVersion } from "../native/tflite.ts";

export interface Versions {
  tflite: string | null;
  tfliteError: string | null;
  tflitePath: string;
  edgetpu: string | null;
  edgetpuError: string | null;
  edgetpuPath: string;
}

export function versions(): Versions {
  const paths = libPaths();
  const v: Versions = {
    tflite: null,
    tfliteError: null,
    tflitePath: paths.tflite,
    edgetpu: null,
    edgetpuError: null,
    edgetpuPath: paths.edgetpu,
  };
  try {
    v.tflite = tfliteVersion();
  } catch (e) {
    v.tfliteError = errorMessage(e);
  }
  const tpu = tryLoadEdgeTpu(paths.edgetpu);
  if ("lib" in tpu) v.edgetpu = tpu.lib.version();
  else v.edgetpuError = tpu.error;
  return v;
}

interface CameraReport {
  device: string;
  formats: unknown;
  error: string | null;
}

function videoDevices(): string[] {
  let names: string[] = [];
  try {
    names = readdirSync("/dev").filter((n) => /^video\d+$/.test(n));
  } catch {
    // No /dev (unusual): report none.
  }
  const extra = process.env.FAKECAM_DEVICES?.split(",").map((d) => d.replace(/^\/dev\//, "")) ?? [];
  return [...new Set([...names, ...extra])]
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((n) => `/dev/${n}`);
}

export async function runDevices(opts: { json: boolean }): Promise<number> {
  const cams: CameraReport[] = videoDevices().map((device) => {
    try {
      const cam = Camera.open(device);
      try {
        return { device, formats: cam.formats(), error: null };
      } finally {
        cam.close();
      }
    } catch (e) {
      return { device, formats: [], error: errorMessage(e) };
    }
  });
  const v = versions();
  let tpus: EdgeTpuDevice[] = [];
  let tpuError: string | null = v.edgetpuError;
  const tpu = tryLoadEdgeTpu(v.edgetpuPath);
  if ("lib" in tpu) {
    try {
      tpus = tpu.lib.listDevices();
    } catch (e) {
      tpuError = errorMessage(e);
    }
  }
  if (opts.json) {
    console.log(
      JSON.stringify(
        { cameras: cams, edgetpus: tpus, edgetpuError: tpuError, versions: v },
        null,
        2,
      ),
    );
    return 0;
  }
  console.log("Cameras:");
  if (cams.length === 0)
    console.log("  none found (/dev/video*): is the camera plugged in? `lsusb`, `dmesg | tail`");
  for (const c of cams) {
    if (c.error) {
      console.log(`  ${c.device}: ${c.error}`);
      continue;
    }
    console.log(`  ${c.device}`);
    for (const f of c.formats as { fourcc: string; sizes: string[] }[]) {
      console.log(`    ${f.fourcc} ${f.sizes.join(" ")}`);
    }
  }
  console.log("Edge TPUs:");
  if (tpus.length === 0) {
    console.log(
      `  none found${tpuError ? ` (${tpuError})` : ""}: check \`lsusb\` for 1a6e:089a or 18d1:9302, use a powered USB3 port`,
    );
  }
  for (const t of tpus) console.log(`  ${t.type} ${t.path}`);
  console.log("Libraries:");
  console.log(`  TFLite ${v.tflite ?? `not loaded: ${v.tfliteError}`} (${v.tflitePath})`);
  console.log(`  libedgetpu ${v.edgetpu ?? `not found: ${v.edgetpuError}`} (${v.edgetpuPath})`);
  return 0;
}
