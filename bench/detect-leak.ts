/**
 * Memory of repeated detection: RSS growth over many Detector.detect calls (resize + copy in +
 * invoke + copy out + decode) in one process, after a warm-up. Prints one JSON document.
 * usage: bun bench/detect-leak.ts [--calls 1000] [--warmup 10] [--threads 2]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Detector } from "../src/detect/detector.ts";
import { jpegDecode } from "../src/native/shim.ts";

const root = join(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "1000" },
    warmup: { type: "string", default: "10" },
    threads: { type: "string", default: "2" },
  },
});
const calls = Number(values.calls);
const warmup = Number(values.warmup);
const threads = Number(values.threads);

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 100) / 100;
function rss(): number {
  Bun.gc(true);
  return process.memoryUsage.rss();
}

const img = jpegDecode(new Uint8Array(readFileSync(join(root, "test/fixtures/kite_and_cold.jpg"))));
const detector = Detector.open({
  modelPath: join(root, "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite"),
  threads,
});
try {
  for (let i = 0; i < warmup; i++)
    detector.detect(img.rgb, img.width, img.height, { threshold: 0.5 });
  const before = rss();
  const samples: { calls: number; rssMB: number }[] = [];
  const t0 = performance.now();
  for (let i = 1; i <= calls; i++) {
    detector.detect(img.rgb, img.width, img.height, { threshold: 0.5 });
    if (i % 100 === 0 || i === calls) samples.push({ calls: i, rssMB: mb(rss()) });
  }
  const elapsedMs = performance.now() - t0;
  const after = rss();
  console.log(
    JSON.stringify(
      {
        bench: "detect-leak",
        image: "kite_and_cold.jpg",
        threads,
        warmup,
        calls,
        msPerCall: Math.round((elapsedMs / calls) * 100) / 100,
        rssBeforeMB: mb(before),
        rssAfterMB: mb(after),
        growthMB: mb(after - before),
        targetMB: 5,
        samples,
      },
      null,
      2,
    ),
  );
} finally {
  detector.close();
}
