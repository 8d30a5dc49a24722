/**
 * Coral's libedgetpu 16.0 was built against TensorFlow 2.5 and reaches TFLite only through
 * struct layouts and TfLiteContext function pointers. TFLite 2.12 appended fields to
 * TfLiteRegistration and TfLiteDelegate, which libedgetpu 16.0 passes and allocates at their
 * 2.5 size: the process segfaults (google-coral/edgetpu#812). test/native/abi.test.ts pins the
 * layouts of the headers we build against; this warns about a --tflite-lib that breaks them.
 */
import { withFix } from "../shared/errors.ts";

/** TFLite versions from this one on do not fit a libedgetpu built for TFLite 2.5. */
const FIRST_INCOMPATIBLE = { major: 2, minor: 12 };

function majorMinor(version: string): { major: number; minor: number } | null {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

/**
 * The TFLite version a libedgetpu says it was built for, from its file names or its version
 * string (builds for newer TFLite are named like "libedgetpu1-std_16.0tf2.16.1"): "2.16", or
 * null for a stock (TFLite 2.5) build.
 */
export function builtForTflite(names: readonly string[]): string | null {
  for (const name of names) {
    const m = /tf-?(\d+)\.(\d+)/i.exec(name);
    if (m) return `${m[1]}.${m[2]}`;
  }
  return null;
}

/**
 * A warning (with its fix) when `tfliteVersion` is 2.12 or newer and the libedgetpu is not
 * named as a build for that TFLite; null when they fit. `names`: libedgetpu's path as given,
 * its resolved path, its version string.
 */
export function edgeTpuAbiWarning(
  tfliteVersion: string,
  edgetpu: { path: string; names: readonly string[] },
): string | null {
  const v = majorMinor(tfliteVersion);
  if (!v) return null;
  const { major, minor } = FIRST_INCOMPATIBLE;
  if (v.major < major || (v.major === major && v.minor < minor)) return null;
  const mine = `${v.major}.${v.minor}`;
  const built = builtForTflite(edgetpu.names);
  if (built === mine) return null;
  const which = built ? `a libedgetpu built for TFLite ${built}` : "a stock libedgetpu";
  return withFix(
    `TFLite ${tfliteVersion} with ${which} (${edgetpu.path}): libedgetpu reaches into ` +
      "TFLite's structs, which changed in TFLite 2.12, and may crash hazardcam " +
      "(google-coral/edgetpu#812)",
    "use TFLite 2.11 or older (without --tflite-lib hazardcam uses its TFLite 2.9), or a " +
      `libedgetpu built for TFLite ${mine}, through an --edgetpu-lib path that says so ` +
      `(e.g. .../libedgetpu-tf${mine}/libedgetpu.so.1)`,
  );
}
