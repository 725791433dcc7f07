/**
 * Global translation of a root-relative pose from its 2D keypoints.
 *
 * Inputs (all camera frame, h36m17):
 *  - rel:  17 x 3 root-relative joints P_j (mm, pelvis = 0),
 *  - kp2d: 17 x 2 undistorted normalised coordinates (u_j, v_j) = (X_j / Z_j, Y_j / Z_j),
 *  - conf: 17 confidences in [0, 1]; a joint is used when conf > 0 and u, v, P_j are finite.
 * The pose in the camera frame is X_j = P_j + T.
 */

export type Vec3 = [number, number, number];

function checkLengths(rel: ArrayLike<number>, kp2d: ArrayLike<number>, conf: ArrayLike<number>, what: string): number {
  const n = conf.length;
  if (rel.length !== n * 3 || kp2d.length !== n * 2) {
    throw new Error(`${what}: expected rel J x 3, kp2d J x 2 and conf J values, got ${rel.length}, ${kp2d.length}, ${conf.length}`);
  }
  return n;
}

/** Weight of joint j, 0 when it is missing (NaN / non-positive confidence, NaN 2D or 3D). */
export function jointWeight(rel: ArrayLike<number>, kp2d: ArrayLike<number>, conf: ArrayLike<number>, j: number): number {
  const c = conf[j];
  if (!(c > 0)) return 0;
  if (!Number.isFinite(kp2d[j * 2]) || !Number.isFinite(kp2d[j * 2 + 1])) return 0;
  if (!Number.isFinite(rel[j * 3]) || !Number.isFinite(rel[j * 3 + 1]) || !Number.isFinite(rel[j * 3 + 2])) return 0;
  return c;
}

export interface ClosedFormOptions {
  /** Optional prior on T_z (mm); also makes the problem solvable with a single joint. */
  zPrior?: number;
  /** Weight of the prior, in units of one joint with confidence 1 (its residual is in mm). Default 0. */
  zPriorWeight?: number;
}

/**
 * Closed-form least-squares translation (Mehta et al. 2017, VNect, eq. 6):
 *
 *     min_T  sum_j c_j || (P_j + T)_xy - (u_j, v_j) (P_j + T)_z ||^2
 *
 * Each joint gives two residuals linear in T:  [1 0 -u] T + (X_j - u Z_j)  and  [0 1 -v] T + (Y_j - v Z_j),
 * so the normal equations are A T = r with
 *
 *     A = sum_j c_j [[1, 0, -u], [0, 1, -v], [-u, -v, u^2 + v^2]],
 *     r = -sum_j c_j [b1, b2, -u b1 - v b2],  b1 = X_j - u Z_j,  b2 = Y_j - v Z_j.
 *
 * This is an algebraic error (mm, each joint weighted by its depth), the standard initialiser. Needs two
 * used joints (or a z prior); otherwise returns [NaN, NaN, NaN].
 */
export function closedFormTranslation(
  rel: ArrayLike<number>,
  kp2d: ArrayLike<number>,
  conf: ArrayLike<number>,
  opts: ClosedFormOptions = {},
): Vec3 {
  const n = checkLengths(rel, kp2d, conf, 'closedFormTranslation');
  let sc = 0, su = 0, sv = 0, suv2 = 0, r0 = 0, r1 = 0, r2 = 0;
  for (let j = 0; j < n; j++) {
    const c = jointWeight(rel, kp2d, conf, j);
    if (c === 0) continue;
    const u = kp2d[j * 2], v = kp2d[j * 2 + 1];
    const X = rel[j * 3], Y = rel[j * 3 + 1], Z = rel[j * 3 + 2];
    const b1 = X - u * Z, b2 = Y - v * Z;
    sc += c; su += c * u; sv += c * v; suv2 += c * (u * u + v * v);
    r0 -= c * b1; r1 -= c * b2; r2 += c * (u * b1 + v * b2);
  }
  const wz = opts.zPrior !== undefined && opts.zPriorWeight ? opts.zPriorWeight : 0;
  // A = [[sc, 0, -su], [0, sc, -sv], [-su, -sv, suv2 + wz]]
  const a22 = suv2 + wz;
  if (wz) r2 += wz * (opts.zPrior as number);
  if (!(sc > 0)) return [NaN, NaN, NaN];
  // Eliminate T_x, T_y: T_x = (r0 + su T_z) / sc, T_y = (r1 + sv T_z) / sc.
  const s = a22 - (su * su + sv * sv) / sc; // Schur complement (>= 0, = weighted spread of the 2D points)
  if (!(s > 1e-12 * Math.max(a22, 1e-300))) return [NaN, NaN, NaN];
  const tz = (r2 + (su * r0 + sv * r1) / sc) / s;
  return [(r0 + su * tz) / sc, (r1 + sv * tz) / sc, tz];
}

export interface DepthSearchOptions {
  /** Focal lengths (px) so that the cost is in pixels. */
  fx: number;
  fy: number;
  /** Half-width of the search window as a fraction of zRoot. Default 0.3 (zRoot +- 30 %). */
  window?: number;
  /** Std-dev of a Gaussian prior on T_z around zRoot (mm). Default Infinity (no prior). */
  zSigmaMm?: number;
  /** Std-dev of the 2D error (px) that the reprojection term is divided by. Default 1. */
  pxSigma?: number;
  /** Coarse grid size. Default 41. */
  coarseSteps?: number;
  /** Stop refining when the grid step is below this (mm). Default 0.01. */
  tolMm?: number;
  /** Every used joint must stay at least this far in front of the camera (mm). Default 50. */
  minDepthMm?: number;
}

export interface DepthSearchResult {
  /** translation of the root: camera-frame pelvis (mm) */
  T: Vec3;
  /** objective at T: sum_j c_j |reprojection error|^2 / pxSigma^2 (px) + prior */
  cost: number;
  /** RMS over used joints of the (unweighted) reprojection error, px */
  residualPx: number;
}

/**
 * Depth search: for each candidate root depth z = zRoot + dz, dz in [-window, +window] * zRoot, the
 * keypoints are back-projected at the joints' depths z + Z_j and the best x, y translation for that depth
 * is found in closed form (for a fixed z the reprojection error u_j - (X_j + T_x) / (Z_j + z) is linear in
 * T_x, so T_x = -sum c a (aX - u) / sum c a^2 with a = 1 / (Z_j + z)). The 1D profile of the remaining
 * geometric reprojection error (px, not the algebraic error of the closed form) plus an optional Gaussian
 * prior on z is minimised coarse-to-fine (grid, then repeated zooms around the best node).
 *
 * With no used joint returns T = [0, 0, zRoot] and cost NaN. With one used joint x, y follow it and z
 * stays at zRoot (a tiny tie-break prior toward zRoot is always present).
 */
export function depthSearch(
  rel: ArrayLike<number>,
  kp2d: ArrayLike<number>,
  conf: ArrayLike<number>,
  zRoot: number,
  opts: DepthSearchOptions,
): DepthSearchResult {
  const n = checkLengths(rel, kp2d, conf, 'depthSearch');
  if (!(zRoot > 0)) throw new Error(`depthSearch: zRoot must be a positive depth in mm, got ${zRoot}`);
  const { fx, fy } = opts;
  if (!(fx > 0) || !(fy > 0)) throw new Error(`depthSearch: fx, fy must be positive, got ${fx}, ${fy}`);
  const window = opts.window ?? 0.3;
  const zSigma = opts.zSigmaMm ?? Infinity;
  const pxSigma = opts.pxSigma ?? 1;
  const steps = Math.max(5, Math.floor(opts.coarseSteps ?? 41));
  const tol = opts.tolMm ?? 0.01;
  const minDepth = opts.minDepthMm ?? 50;

  // gather used joints
  const idx: number[] = [];
  const w: number[] = [];
  let zMin = Infinity;
  for (let j = 0; j < n; j++) {
    if (Number.isFinite(rel[j * 3 + 2])) zMin = Math.min(zMin, rel[j * 3 + 2]);
    const c = jointWeight(rel, kp2d, conf, j);
    if (c > 0) { idx.push(j); w.push(c); }
  }
  if (idx.length === 0) return { T: [0, 0, zRoot], cost: NaN, residualPx: NaN };
  const m = idx.length;
  const X = new Float64Array(m), Y = new Float64Array(m), Z = new Float64Array(m), U = new Float64Array(m), V = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const j = idx[i];
    X[i] = rel[j * 3]; Y[i] = rel[j * 3 + 1]; Z[i] = rel[j * 3 + 2]; U[i] = kp2d[j * 2]; V[i] = kp2d[j * 2 + 1];
  }
  const fx2 = (fx * fx) / (pxSigma * pxSigma), fy2 = (fy * fy) / (pxSigma * pxSigma);
  const priorW = Number.isFinite(zSigma) && zSigma > 0 ? 1 / (zSigma * zSigma) : 0;
  const tieW = 1e-12 / (zRoot * zRoot);
  let lastTx = 0, lastTy = 0;
  const cost = (z: number): number => {
    let saa = 0, sabx = 0, saby = 0, sbbx = 0, sbby = 0;
    for (let i = 0; i < m; i++) {
      const d = Z[i] + z;
      const a = 1 / d, c = w[i];
      const bx = a * X[i] - U[i], by = a * Y[i] - V[i];
      saa += c * a * a; sabx += c * a * bx; saby += c * a * by; sbbx += c * bx * bx; sbby += c * by * by;
    }
    lastTx = -sabx / saa; lastTy = -saby / saa;
    const e = fx2 * (sbbx - (sabx * sabx) / saa) + fy2 * (sbby - (saby * saby) / saa);
    const dz = z - zRoot;
    return Math.max(0, e) + priorW * dz * dz + tieW * dz * dz;
  };

  let lo = Math.max(zRoot * (1 - window), minDepth - zMin);
  let hi = zRoot * (1 + window);
  if (!(hi > lo)) hi = lo + Math.max(1, tol);
  let best = zRoot, bestCost = Infinity;
  let k = steps;
  for (let round = 0; round < 60; round++) {
    const step = (hi - lo) / (k - 1);
    for (let i = 0; i < k; i++) {
      const z = lo + i * step;
      const c = cost(z);
      if (c < bestCost) { bestCost = c; best = z; }
    }
    if (step < tol) break;
    // zoom into +- one grid step around the best node found so far
    lo = Math.max(lo, best - step);
    hi = Math.min(hi, best + step);
    k = 11;
  }
  bestCost = cost(best);
  const T: Vec3 = [lastTx, lastTy, best];
  // RMS reprojection error in px
  let se = 0;
  for (let i = 0; i < m; i++) {
    const d = Z[i] + best;
    const ex = fx * ((X[i] + T[0]) / d - U[i]), ey = fy * ((Y[i] + T[1]) / d - V[i]);
    se += ex * ex + ey * ey;
  }
  return { T, cost: bestCost, residualPx: Math.sqrt(se / m) };
}
