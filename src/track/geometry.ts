/**
 * Plane geometry of the tracking layer, in normalized picture coordinates: a point is `[x, y]`,
 * both 0..1, x to the right and y DOWN from the top left corner (as the SSD's boxes). Pure.
 *
 * API:
 * - `feet(box)`: the bottom centre of a box, where a standing person touches the floor; zones,
 *   masks and lines all test this point.
 * - `pointInPolygon(p, polygon)`: even-odd rule, so concave polygons are right. Edge rule: a
 *   point ON an edge or vertex (within `EDGE_EPS` = 1e-9) is INSIDE (the polygon is closed).
 *   Deterministic: the on-edge test runs first; otherwise the half-open crossing rule counts an
 *   edge when one end is strictly below the point's y and the other at or above it, so a ray
 *   through a vertex is counted once.
 * - `cross(a, b, p)` and `side(p, a, b)`: which side of the directed segment a→b a point is on,
 *   as seen on the picture: standing at a and looking at b, +1 = on your RIGHT hand, -1 = on your
 *   LEFT hand, 0 = on the line. (With y down, a→b = left-to-right has +1 below it.)
 * - `crossesSegment(p, q, a, b)`: the movement p→q goes from one side of a→b to the other
 *   (p and q strictly on opposite sides) through the segment itself, its end points included,
 *   not through its extension.
 * - `segmentsIntersect`: closed segments touch or cross (used to refuse self-crossing polygons).
 * - `iou`, `boxArea`, `polygonArea` (signed, shoelace).
 */
import type { Box } from "../shared/types.ts";

/** `[x, y]`, 0..1 of the picture's width and height, from the top left, y down. */
export type Point = readonly [number, number];

/** Distance (normalized units) within which a point counts as on an edge: inside. */
export const EDGE_EPS = 1e-9;

/** The bottom centre of a box: the feet of a standing person. */
export function feet(box: Box): Point {
  return [(box.xmin + box.xmax) / 2, box.ymax];
}

export function boxArea(b: Box): number {
  return Math.max(0, b.xmax - b.xmin) * Math.max(0, b.ymax - b.ymin);
}

/** Intersection over union of two boxes, 0..1 (0 when either is empty). */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin);
  if (w <= 0) return 0;
  const h = Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin);
  if (h <= 0) return 0;
  const inter = w * h;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * (b - a) × (p - a): > 0 when p is on the right of a→b as seen on the picture (y down),
 * < 0 on the left, 0 on the line. Its magnitude / |b - a| is p's distance from the line.
 */
export function cross(a: Point, b: Point, p: Point): number {
  return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
}

/** +1: p is on the right of a→b (looking from a to b on the picture), -1: left, 0: on the line. */
export function side(p: Point, a: Point, b: Point): -1 | 0 | 1 {
  const c = cross(a, b, p);
  return c > 0 ? 1 : c < 0 ? -1 : 0;
}

/** Signed distance of p from the infinite line through a and b: > 0 on the right of a→b. */
export function signedDistance(p: Point, a: Point, b: Point): number {
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  return len > 0 ? cross(a, b, p) / len : 0;
}

/** Distance from p to the closed segment a-b. */
export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/**
 * The movement p→q crosses the segment a-b: p and q strictly on opposite sides of its line, and
 * the crossing point on the segment (end points included), not on its extension.
 */
export function crossesSegment(p: Point, q: Point, a: Point, b: Point): boolean {
  const d1 = cross(a, b, p);
  const d2 = cross(a, b, q);
  if (!((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0))) return false;
  const d3 = cross(p, q, a);
  const d4 = cross(p, q, b);
  return (d3 >= 0 && d4 <= 0) || (d3 <= 0 && d4 >= 0);
}

/** Closed segments p-q and a-b share at least one point (touching or collinear overlap included). */
export function segmentsIntersect(p: Point, q: Point, a: Point, b: Point): boolean {
  const d1 = cross(a, b, p);
  const d2 = cross(a, b, q);
  const d3 = cross(p, q, a);
  const d4 = cross(p, q, b);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
    return true;
  return (
    distanceToSegment(p, a, b) <= EDGE_EPS ||
    distanceToSegment(q, a, b) <= EDGE_EPS ||
    distanceToSegment(a, p, q) <= EDGE_EPS ||
    distanceToSegment(b, p, q) <= EDGE_EPS
  );
}

/** Shoelace area: > 0 when the points run clockwise on the picture (y down), < 0 otherwise. */
export function polygonArea(points: readonly Point[]): number {
  let s = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const pi = points[i]!;
    const pj = points[j]!;
    s += pj[0] * pi[1] - pi[0] * pj[1];
  }
  return s / 2;
}

/**
 * p is inside the polygon (even-odd rule, any simple polygon incl. concave), or on one of its
 * edges or vertices (within EDGE_EPS): points on the boundary are inside.
 */
export function pointInPolygon(p: Point, polygon: readonly Point[]): boolean {
  const n = polygon.length;
  if (n < 3) return false;
  const [px, py] = p;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = polygon[j]!;
    const b = polygon[i]!;
    if (distanceToSegment(p, a, b) <= EDGE_EPS) return true;
    // Half-open in y: an edge counts when exactly one end is strictly below py.
    if (a[1] > py !== b[1] > py) {
      const x = a[0] + ((py - a[1]) * (b[0] - a[0])) / (b[1] - a[1]);
      if (px < x) inside = !inside;
    }
  }
  return inside;
}

/** The picture itself, [0,1]², closed. */
export function inPicture(p: Point): boolean {
  return p[0] >= 0 && p[0] <= 1 && p[1] >= 0 && p[1] <= 1;
}
