/**
 * The detector's scores (issue 11): it runs at the tracker's low score
 * (src/track/tracker.ts defaultLowScore), and its result is split at the threshold here, in the
 * detect Worker, so the capture loop and everything after it see the same detections as before.
 */
import type { Detection } from "../shared/types.ts";

/**
 * The detector runs at the tracker's low score; the result is split at the threshold: what
 * everything used before (every class) and the low persons the tracker's second pass needs.
 */
export function splitAtThreshold(
  detections: Detection[],
  threshold: number,
): { detections: Detection[]; low: Detection[] } {
  const high: Detection[] = [];
  const low: Detection[] = [];
  for (const d of detections) {
    if (d.score >= threshold) high.push(d);
    else if (d.classId === 0) low.push(d);
  }
  return { detections: high, low };
}
