import { describe, expect, test } from "bun:test";
import { parseLabels } from "../../src/detect/labels.ts";
import {
  decodeSsd,
  findSsdOutputs,
  letterboxFor,
  unletterbox,
  type SsdTensorMeta,
} from "../../src/detect/ssd.ts";
import { HcError } from "../../src/shared/errors.ts";

const labels = parseLabels("person\nbicycle\ncar\n");

/** Hand-written outputs of a 4-slot SSD, as libcoral's adapter_test builds them. */
function outputs(
  rows: [cls: number, score: number, box: [number, number, number, number]][],
  count = rows.length,
  n = rows.length,
) {
  const boxes = new Float32Array(n * 4);
  const classes = new Float32Array(n);
  const scores = new Float32Array(n);
  rows.slice(0, n).forEach(([c, s, b], i) => {
    classes[i] = c;
    scores[i] = s;
    boxes.set(b, i * 4);
  });
  return { boxes, classes, scores, count };
}

describe("decodeSsd", () => {
  test("keeps scores at or above the threshold, best first, with labels", () => {
    const out = outputs([
      [0, 0.9, [0.1, 0.2, 0.5, 0.6]],
      [2, 0.5, [0, 0, 1, 1]],
      [1, 0.4999, [0, 0, 1, 1]],
    ]);
    const dets = decodeSsd(out, { threshold: 0.5, labels });
    expect(dets.map((d) => [d.label, d.classId])).toEqual([
      ["person", 0],
      ["car", 2],
    ]);
    expect(dets[0]!.score).toBeCloseTo(0.9, 6);
    expect(dets[0]!.box.ymin).toBeCloseTo(0.1, 6);
    expect(dets[0]!.box.xmin).toBeCloseTo(0.2, 6);
    expect(dets[0]!.box.ymax).toBeCloseTo(0.5, 6);
    expect(dets[0]!.box.xmax).toBeCloseTo(0.6, 6);
  });

  test("reads only the first `count` slots", () => {
    const out = outputs(
      [
        [0, 0.9, [0, 0, 1, 1]],
        [0, 0.8, [0, 0, 1, 1]],
        [0, 0.7, [0, 0, 1, 1]],
      ],
      2,
    );
    expect(decodeSsd(out, { threshold: 0.1, labels })).toHaveLength(2);
  });

  test("a count larger than the tensors, negative or NaN is clamped", () => {
    const rows: [number, number, [number, number, number, number]][] = [
      [0, 0.9, [0, 0, 1, 1]],
      [1, 0.8, [0, 0, 1, 1]],
    ];
    expect(decodeSsd(outputs(rows, 20), { threshold: 0.1, labels })).toHaveLength(2);
    expect(decodeSsd(outputs(rows, -3), { threshold: 0.1, labels })).toHaveLength(0);
    expect(decodeSsd(outputs(rows, Number.NaN), { threshold: 0.1, labels })).toHaveLength(0);
    expect(decodeSsd(outputs(rows, 1.9), { threshold: 0.1, labels })).toHaveLength(1);
  });

  test("boxes are clamped to 0..1 and ordered min/max", () => {
    const out = outputs([[0, 0.9, [-0.2, 1.3, 1.5, -0.1]]]);
    const [d] = decodeSsd(out, { threshold: 0.5, labels });
    expect(d!.box).toEqual({ ymin: 0, xmin: 0, ymax: 1, xmax: 1 });
  });

  test("class ids the label map does not know are reported by number", () => {
    const out = outputs([[95, 0.7, [0, 0, 0.5, 0.5]]]);
    const [d] = decodeSsd(out, { threshold: 0.5, labels });
    expect(d!.classId).toBe(95);
    expect(d!.label).toBe("id 95");
  });

  test("NaN scores and negative class ids are dropped; topK keeps the best", () => {
    const out = outputs([
      [0, Number.NaN, [0, 0, 1, 1]],
      [-1, 0.9, [0, 0, 1, 1]],
      [1, 0.6, [0, 0, 1, 1]],
      [2, 0.95, [0, 0, 1, 1]],
    ]);
    const dets = decodeSsd(out, { threshold: 0.5, labels, topK: 1 });
    expect(dets.map((d) => d.label)).toEqual(["car"]);
    expect(decodeSsd(out, { threshold: 0.5, labels })).toHaveLength(2);
  });

  test("a threshold of 0 keeps every valid slot", () => {
    const out = outputs([
      [0, 0, [0, 0, 1, 1]],
      [1, 0.01, [0, 0, 1, 1]],
    ]);
    expect(decodeSsd(out, { threshold: 0, labels })).toHaveLength(2);
  });
});

const coral: SsdTensorMeta[] = [
  { name: "TFLite_Detection_PostProcess", type: "float32", dims: [1, 20, 4] },
  { name: "TFLite_Detection_PostProcess:1", type: "float32", dims: [1, 20] },
  { name: "TFLite_Detection_PostProcess:2", type: "float32", dims: [1, 20] },
  { name: "TFLite_Detection_PostProcess:3", type: "float32", dims: [1] },
];

describe("findSsdOutputs", () => {
  test("the Coral model's outputs in their usual order", () => {
    expect(findSsdOutputs(coral)).toEqual({ boxes: 0, classes: 1, scores: 2, count: 3, n: 20 });
  });

  test("shape decides boxes and count; names decide classes vs scores, in any order", () => {
    const shuffled = [coral[3]!, coral[2]!, coral[0]!, coral[1]!];
    expect(findSsdOutputs(shuffled)).toEqual({ boxes: 2, classes: 3, scores: 1, count: 0, n: 20 });
    const named: SsdTensorMeta[] = [
      { name: "detection_scores", type: "float32", dims: [1, 10] },
      { name: "detection_boxes", type: "float32", dims: [1, 10, 4] },
      { name: "num_detections", type: "float32", dims: [1] },
      { name: "detection_classes", type: "float32", dims: [1, 10] },
    ];
    expect(findSsdOutputs(named)).toEqual({ boxes: 1, classes: 3, scores: 0, count: 2, n: 10 });
  });

  test("without telling names, classes come before scores (post-process order)", () => {
    const anon = coral.map((m) => ({ ...m, name: "" }));
    expect(findSsdOutputs(anon)).toEqual({ boxes: 0, classes: 1, scores: 2, count: 3, n: 20 });
  });

  function rejection(metas: SsdTensorMeta[]): HcError {
    try {
      findSsdOutputs(metas, "seg.tflite");
    } catch (e) {
      if (e instanceof HcError) return e;
      throw e;
    }
    throw new Error("accepted a non-SSD model");
  }

  test("a feature-map model is rejected, naming its outputs and what is needed", () => {
    const e = rejection([
      { name: "a", type: "uint8", dims: [1, 10, 10, 960] },
      { name: "b", type: "uint8", dims: [1, 19, 19, 576] },
    ]);
    expect(e.code).toBe("MODEL_NOT_SSD");
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("seg.tflite: not an SSD detector");
    expect(e.message).toContain("outputs are [1,10,10,960] uint8, [1,19,19,576] uint8");
    expect(e.message).toContain("TFLite_Detection_PostProcess");
  });

  test("near misses are rejected: wrong type, mismatched N, a missing count", () => {
    rejection(coral.map((m) => ({ ...m, type: "uint8" })));
    rejection([coral[0]!, coral[1]!, { ...coral[2]!, dims: [1, 10] }, coral[3]!]);
    rejection([coral[0]!, coral[1]!, coral[2]!, { ...coral[3]!, dims: [1, 20] }]);
    rejection(coral.slice(0, 3));
    rejection([]);
  });
});

describe("letterbox", () => {
  test("a 4:3 frame in a 300x300 input: full width, centred band", () => {
    expect(letterboxFor(640, 480, 300, 300)).toEqual({ x: 0, y: 37, width: 300, height: 225 });
    expect(letterboxFor(480, 640, 300, 300)).toEqual({ x: 37, y: 0, width: 225, height: 300 });
    expect(letterboxFor(300, 300, 300, 300)).toEqual({ x: 0, y: 0, width: 300, height: 300 });
  });

  test("boxes map back to the frame; the padding clamps to its edge", () => {
    const lb = letterboxFor(640, 480, 300, 300);
    const det = {
      classId: 0,
      label: "person",
      score: 0.9,
      box: { ymin: 37 / 300, xmin: 0.25, ymax: 0.5, xmax: 1 },
    };
    const [d] = unletterbox(
      [det, { ...det, box: { ymin: 0, xmin: 0, ymax: 1, xmax: 1 } }],
      lb,
      300,
      300,
    );
    expect(d!.box.ymin).toBeCloseTo(0, 6);
    expect(d!.box.xmin).toBeCloseTo(0.25, 6);
    expect(d!.box.ymax).toBeCloseTo((150 - 37) / 225, 6);
    expect(d!.box.xmax).toBeCloseTo(1, 6);
    const [, full] = unletterbox(
      [det, { ...det, box: { ymin: 0, xmin: 0, ymax: 1, xmax: 1 } }],
      lb,
      300,
      300,
    );
    expect(full!.box).toEqual({ ymin: 0, xmin: 0, ymax: 1, xmax: 1 });
  });
});
