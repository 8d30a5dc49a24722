import { describe, expect, test } from "bun:test";
import {
  crossesSegment,
  feet,
  iou,
  pointInPolygon,
  side,
  type Point,
} from "../../src/track/geometry.ts";

// A "U" opening upwards: the notch x 0.4..0.6, y 0.2..0.6 is outside.
const U: Point[] = [
  [0.2, 0.2],
  [0.4, 0.2],
  [0.4, 0.6],
  [0.6, 0.6],
  [0.6, 0.2],
  [0.8, 0.2],
  [0.8, 0.8],
  [0.2, 0.8],
];

describe("feet", () => {
  test("is the bottom centre of the box", () => {
    expect(feet({ ymin: 0.1, xmin: 0.2, ymax: 0.9, xmax: 0.4 })).toEqual([
      0.30000000000000004, 0.9,
    ]);
  });
});

describe("pointInPolygon on a concave polygon", () => {
  test("inside the arms and the base, outside in the notch and around", () => {
    expect(pointInPolygon([0.3, 0.4], U)).toBe(true);
    expect(pointInPolygon([0.7, 0.4], U)).toBe(true);
    expect(pointInPolygon([0.5, 0.7], U)).toBe(true);
    expect(pointInPolygon([0.5, 0.4], U)).toBe(false);
    expect(pointInPolygon([0.1, 0.5], U)).toBe(false);
    expect(pointInPolygon([0.5, 0.9], U)).toBe(false);
  });

  test("points on an edge or a vertex are inside, the concave corners included", () => {
    for (const p of [...U, [0.5, 0.6], [0.4, 0.4], [0.2, 0.5], [0.5, 0.8], [0.3, 0.2]] as Point[])
      expect(pointInPolygon(p, U)).toBe(true);
    expect(pointInPolygon([0.5, 0.6 - 1e-6], U)).toBe(false);
    expect(pointInPolygon([0.5, 0.2], U)).toBe(false); // the notch's open top
  });

  test("a ray through vertices counts them once: points level with the U's top corners", () => {
    // y = 0.2 runs along the top edges; y = 0.6 through the notch's bottom corners.
    expect(pointInPolygon([0.1, 0.6], U)).toBe(false);
    expect(pointInPolygon([0.3, 0.6], U)).toBe(true);
    expect(pointInPolygon([0.7, 0.6], U)).toBe(true);
    expect(pointInPolygon([0.9, 0.6], U)).toBe(false);
    expect(pointInPolygon([0.1, 0.2], U)).toBe(false);
  });

  test("does not depend on the direction the points run", () => {
    const rev = [...U].reverse();
    for (let x = 0.05; x < 1; x += 0.05)
      for (let y = 0.05; y < 1; y += 0.05)
        expect(pointInPolygon([x, y], rev)).toBe(pointInPolygon([x, y], U));
  });
});

describe("side of a directed segment (y down)", () => {
  test("a→b left to right: below is on the right (+1)", () => {
    expect(side([0.5, 0.6], [0.1, 0.5], [0.9, 0.5])).toBe(1);
    expect(side([0.5, 0.4], [0.1, 0.5], [0.9, 0.5])).toBe(-1);
    expect(side([0.7, 0.5], [0.1, 0.5], [0.9, 0.5])).toBe(0);
  });

  test("a→b top to bottom: the left of the picture is on the right (+1)", () => {
    expect(side([0.6, 0.5], [0.8, 0], [0.8, 1])).toBe(1);
    expect(side([0.9, 0.5], [0.8, 0], [0.8, 1])).toBe(-1);
  });
});

describe("crossesSegment", () => {
  const a: Point = [0.5, 0.4];
  const b: Point = [0.5, 0.6];
  test("within the segment, either way", () => {
    expect(crossesSegment([0.4, 0.5], [0.6, 0.5], a, b)).toBe(true);
    expect(crossesSegment([0.6, 0.55], [0.4, 0.45], a, b)).toBe(true);
  });
  test("through an end point counts; through the extension does not", () => {
    expect(crossesSegment([0.4, 0.6], [0.6, 0.6], a, b)).toBe(true);
    expect(crossesSegment([0.4, 0.7], [0.6, 0.7], a, b)).toBe(false);
    expect(crossesSegment([0.4, 0.2], [0.6, 0.3], a, b)).toBe(false);
  });
  test("staying on one side, or starting on the line, is no crossing", () => {
    expect(crossesSegment([0.4, 0.5], [0.45, 0.5], a, b)).toBe(false);
    expect(crossesSegment([0.5, 0.5], [0.6, 0.5], a, b)).toBe(false);
    expect(crossesSegment([0.5, 0.3], [0.5, 0.7], a, b)).toBe(false);
  });
});

describe("iou", () => {
  test("identical, disjoint, half overlapping", () => {
    const x = { ymin: 0, xmin: 0, ymax: 1, xmax: 0.5 };
    expect(iou(x, x)).toBe(1);
    expect(iou(x, { ymin: 0, xmin: 0.5, ymax: 1, xmax: 1 })).toBe(0);
    expect(iou(x, { ymin: 0, xmin: 0.25, ymax: 1, xmax: 0.75 })).toBeCloseTo(1 / 3, 9);
  });
});
