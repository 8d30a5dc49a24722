/**
 * From a path to a loaded TFLite model and its labels: the checks a user gets a clear error
 * from (missing, not a file, not TFLite, truncated), and the TFLite error reporter that turns
 * TFLite's complaints into the text of those errors.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import embeddedCocoLabels from "../../models/coco_labels.txt" with { type: "text" };
import { inputError } from "../shared/errors.ts";
import { MODEL_EXAMPLE, checkModelFile } from "./model-check.ts";
import { takeTfliteErrors, tfliteReporterPtr } from "../native/shim.ts";
import { TfliteModel } from "../native/tflite.ts";
import { parseLabels, readLabels, type Labels } from "./labels.ts";

export type Reporter = ReturnType<typeof tfliteReporterPtr> | null;

/** The TFLite error reporter of the shim, or null (then TFLite prints to stderr). */
export function errorReporter(): Reporter {
  try {
    return tfliteReporterPtr();
  } catch {
    return null;
  }
}

/** Messages TFLite reported since the last call, on one line. */
export function tfliteErrors(): string {
  try {
    return takeTfliteErrors()
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .join("; ");
  } catch {
    return "";
  }
}

/** Checks the file, then has TFLite load it; a file TFLite rejects is MODEL_INVALID. */
export function openModel(path: string): TfliteModel {
  checkModelFile(path);
  tfliteErrors();
  const model = TfliteModel.fromFile(path);
  if (model) return model;
  const why = tfliteErrors() || "not a valid TFLite flatbuffer";
  throw inputError(
    "MODEL_INVALID",
    `TFLite cannot load ${path}: truncated or corrupt (${why})`,
    `download the model again, ${MODEL_EXAMPLE}`,
  );
}

/** The labels given, else coco_labels.txt next to the model, else the built-in COCO labels. */
export function loadLabels(
  modelPath: string,
  labelsPath?: string,
): { labels: Labels; source: string } {
  if (labelsPath) return { labels: readLabels(labelsPath), source: labelsPath };
  const beside = join(dirname(modelPath), "coco_labels.txt");
  if (existsSync(beside)) return { labels: readLabels(beside), source: beside };
  return { labels: parseLabels(embeddedCocoLabels), source: "built-in COCO labels" };
}
