/**
 * The checks of a model file a user gets a clear error from before anything starts (missing,
 * not a file, unreadable, not TFLite): file system only, no native library, so the CLI's
 * argument checks (src/config/run.ts) and the detector's open (model-file.ts) share them.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { HcError, errorMessage, inputError } from "../shared/errors.ts";

export const MODEL_EXAMPLE = "e.g. models/ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite";

/** Exists, is a readable file, and carries the TFLite flatbuffer identifier "TFL3". */
export function checkModelFile(path: string, shown = path): void {
  const fix = `pass a .tflite model, ${MODEL_EXAMPLE}`;
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw inputError("MODEL_NOT_FILE", `model "${shown}" is not a file`, fix);
    size = st.size;
  } catch (e) {
    if (e instanceof HcError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw inputError("MODEL_MISSING", `model "${shown}" not found`, fix);
    }
    throw inputError(
      "MODEL_UNREADABLE",
      `model "${shown}" cannot be read (${errorMessage(e)})`,
      fix,
    );
  }
  const head = new Uint8Array(8);
  try {
    const fd = openSync(path, "r");
    try {
      readSync(fd, head, 0, 8, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw inputError(
      "MODEL_UNREADABLE",
      `model "${shown}" cannot be read (${errorMessage(e)})`,
      "check the file's permissions",
    );
  }
  if (size < 8 || new TextDecoder().decode(head.subarray(4, 8)) !== "TFL3") {
    throw inputError(
      "MODEL_NOT_TFLITE",
      `model "${shown}" is not a TFLite model (no TFL3 identifier)`,
      fix,
    );
  }
}
