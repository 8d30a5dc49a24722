/**
 * Regenerates test/fixtures/people_clip_detections.json: the person detections of every frame
 * of the bundled clip (test/fixtures/people_640x480_q5.mjpeg, 200 frames, 10 fps) by the CPU
 * model through the same native path as the server (jpegDecode → Detector.detect, bilinear
 * stretch to 300x300), at a LOW threshold so the boxes under the usual 0.5 are there too (the
 * tracker's second pass uses them). test/unit/track-clip.test.ts replays it through the
 * SceneAnalyzer, so the tracking tests need neither the model nor the native shim.
 *
 *   bun scripts/clip-detections.ts [--threshold 0.1] [--threads 2] [--out PATH]
 *
 * Takes a few minutes of CPU inference on a small machine; run once, commit the JSON.
 * Shape: { source, model, threshold, fps, frames: [{ index, people: [{ score, box }] }] } with
 * scores rounded to 3 decimals and box coordinates (ymin, xmin, ymax, xmax, 0..1) to 4.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { splitJpegs } from "../src/camera/mjpeg.ts";
import { Detector } from "../src/detect/detector.ts";
import { jpegDecode } from "../src/native/shim.ts";
import type { Box } from "../src/shared/types.ts";

const root = join(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    threshold: { type: "string", default: "0.1" },
    threads: { type: "string", default: "2" },
    out: { type: "string", default: join(root, "test/fixtures/people_clip_detections.json") },
  },
});
const threshold = Number(values.threshold);
const clip = join(root, "test/fixtures/people_640x480_q5.mjpeg");
const model = join(root, "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite");

const r3 = (v: number): number => Math.round(v * 1000) / 1000;
const r4 = (v: number): number => Math.round(v * 10000) / 10000;
const box4 = (b: Box): Box => ({
  ymin: r4(b.ymin),
  xmin: r4(b.xmin),
  ymax: r4(b.ymax),
  xmax: r4(b.xmax),
});

const frames = splitJpegs(new Uint8Array(readFileSync(clip)));
const detector = Detector.open({ modelPath: model, threads: Number(values.threads) });
const out: { index: number; people: { score: number; box: Box }[] }[] = [];
try {
  const rgb = new Uint8Array(640 * 480 * 3);
  const t0 = performance.now();
  frames.forEach((jpg, index) => {
    const img = jpegDecode(jpg, rgb);
    const r = detector.detect(img.rgb, img.width, img.height, { threshold });
    const people = r.detections
      .filter((d) => d.classId === 0)
      .map((d) => ({ score: r3(d.score), box: box4(d.box) }));
    out.push({ index, people });
    if (index % 20 === 0)
      console.error(
        `frame ${index}/${frames.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
  });
} finally {
  detector.close();
}

const doc = {
  source: basename(clip),
  model: basename(model),
  threshold,
  fps: 10,
  frames: out,
};
// One frame per line: small diffs when regenerated, still readable.
const lines = doc.frames.map((f) => `    ${JSON.stringify(f)}`);
const text =
  `{\n  "source": ${JSON.stringify(doc.source)},\n  "model": ${JSON.stringify(doc.model)},\n` +
  `  "threshold": ${threshold},\n  "fps": 10,\n  "frames": [\n${lines.join(",\n")}\n  ]\n}\n`;
writeFileSync(values.out!, text);
console.error(`wrote ${values.out} (${out.length} frames)`);
