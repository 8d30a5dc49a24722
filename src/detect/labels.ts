/**
 * Label maps, in the two formats Coral ships: one label per line (line index = class id, as in
 * models/coco_labels.txt) or "ID  label" lines (as in Coral's edgetpu test_data/coco_labels.txt).
 * Ids whose label is `n/a` (or empty) are unused by the model and left out.
 */
import { readFileSync } from "node:fs";
import { errorMessage, inputError } from "../shared/errors.ts";

export type Labels = ReadonlyMap<number, string>;

const ID_LINE = /^\s*(\d+)[\s:]+(\S.*?)\s*$/;

function unused(label: string): boolean {
  return label === "" || label.toLowerCase() === "n/a";
}

export function parseLabels(text: string): Labels {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  // A trailing newline is not an extra id.
  if (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
  const nonEmpty = lines.filter((l) => l.trim() !== "");
  const withIds = nonEmpty.length > 0 && nonEmpty.every((l) => ID_LINE.test(l));
  const labels = new Map<number, string>();
  lines.forEach((line, index) => {
    let id = index;
    let label = line.trim();
    if (withIds) {
      const m = ID_LINE.exec(line);
      if (!m) return;
      id = Number(m[1]);
      label = m[2]!;
    }
    if (!unused(label)) labels.set(id, label);
  });
  return labels;
}

export function readLabels(path: string): Labels {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw inputError(
      "LABELS_UNREADABLE",
      `cannot read labels file ${path} (${errorMessage(e)})`,
      "pass a text file with one label per line, or 'ID  label' lines",
    );
  }
  const labels = parseLabels(text);
  if (labels.size === 0) {
    throw inputError(
      "LABELS_EMPTY",
      `labels file ${path} has no labels`,
      "pass a text file with one label per line, or 'ID  label' lines",
    );
  }
  return labels;
}

/** The label for a class id, or "id 95" for ids the map does not know. */
export function labelFor(labels: Labels, classId: number): string {
  return labels.get(classId) ?? `id ${classId}`;
}
