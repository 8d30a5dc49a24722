/** Boxes, labels and the original's `people:N tpu:X.Xms fps:Y.Y` overlay, drawn into RGB24. */
import { drawRect, drawText } from "../native/shim.ts";
import type { Backend, Detection } from "../shared/types.ts";

const PERSON_RGB = 0x00e676;
const OTHER_RGB = 0xffab00;
const TEXT_RGB = 0xffffff;
const LABEL_BG = 0x000000;

export interface OverlayInfo {
  people: number;
  inferMs: number;
  fps: number;
  backend: Backend | null;
}

/** Overlay line as the original printed it; "cpu:" instead of "tpu:" when the CPU runs the model. */
export function overlayText(o: OverlayInfo): string {
  const unit = o.backend === "cpu" ? "cpu" : "tpu";
  return `people:${o.people} ${unit}:${o.inferMs.toFixed(1)}ms fps:${o.fps.toFixed(1)}`;
}

/** Draws in place. `detections` are already filtered by the threshold. */
export function annotate(
  rgb: Uint8Array,
  width: number,
  height: number,
  detections: readonly Detection[],
  info: OverlayInfo,
): void {
  const scale = width >= 1280 ? 2 : 1;
  const thickness = Math.max(2, Math.round(width / 320));
  const text = overlayText(info);
  const overlayScale = scale + (width >= 640 ? 1 : 0);
  // The overlay line is drawn last, at (4, 4): a label it would hide goes just below it.
  const overlayRight = 4 + text.length * 8 * overlayScale;
  const overlayBottom = 4 + 8 * overlayScale;
  for (const d of detections) {
    const color = d.classId === 0 ? PERSON_RGB : OTHER_RGB;
    const x0 = Math.round(d.box.xmin * (width - 1));
    const y0 = Math.round(d.box.ymin * (height - 1));
    const x1 = Math.round(d.box.xmax * (width - 1));
    const y1 = Math.round(d.box.ymax * (height - 1));
    drawRect(rgb, width, height, x0, y0, x1, y1, color, thickness);
    const label = `${d.label} ${d.score.toFixed(2)}`;
    let ty = y0 >= 10 * scale ? y0 - 10 * scale : y0 + thickness;
    if (ty < overlayBottom && x0 < overlayRight) ty = overlayBottom + 2;
    drawText(rgb, width, height, x0, ty, label, scale, TEXT_RGB, color);
  }
  drawText(rgb, width, height, 4, 4, text, overlayScale, TEXT_RGB, LABEL_BG);
}
