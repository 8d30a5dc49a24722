/**
 * Minimum-cost assignment (the Hungarian method, Kuhn-Munkres with potentials, O(n² m)) for
 * the tracker's IoU association. Pure.
 *
 * Why not greedy: two people crossing give pairs whose best IoUs compete; taking the single best
 * pair first can leave the other track with the wrong box. With ≤ 32 people a 32×32 solve is a
 * few microseconds, so the optimal assignment costs nothing worth saving.
 *
 * `assign(cost, rows, cols)`: cost is row-major (rows × cols), every row and column may stay
 * unassigned only when rows ≠ cols. Returns, per row, the assigned column or -1.
 */

export function assign(cost: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return out;
  if (rows > cols) {
    // The method below needs rows ≤ cols: solve the transpose.
    const t = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) t[c * rows + r] = cost[r * cols + c]!;
    const byCol = assign(t, cols, rows);
    byCol.forEach((r, c) => {
      if (r >= 0) out[r] = c;
    });
    return out;
  }
  const n = rows;
  const m = cols;
  // 1-based potentials u (rows), v (cols); p[j] = row matched to column j; way = augmenting path.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * m + (j - 1)]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  for (let j = 1; j <= m; j++) if (p[j]! > 0) out[p[j]! - 1] = j - 1;
  return out;
}
