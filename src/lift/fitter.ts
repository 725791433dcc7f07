/**
 * SMPLify-style fitter of the h36m17 kinematic skeleton to 2D keypoints, with a root-relative 3D pose
 * (PoseNet output) and a root translation (depth search) as priors. Pure math, no allocation per
 * iteration beyond a few small scratch arrays.
 *
 * Parametrisation (per frame): root translation T (3) + one direction per bone (16 unit vectors, each
 * updated on its tangent plane by 2 parameters: d <- normalise(d + a e1 + b e2), re-linearised at every
 * iteration) + 10 bone lengths shared between left and right (symmetric by construction). Joints follow
 * by forward kinematics along H36M17_PARENTS: X_0 = T, X_j = X_parent(j) + L_bone(j) d_j. That is 45
 * parameters per frame (35 in a sequence, where the lengths are fixed per track).
 *
 * Energy (all terms are squared residuals divided by a sigma, i.e. a negative log-likelihood):
 *  E = sum_j c_j rho(|e_j|^2) / pxSigma^2              2D reprojection, e_j = f * (X_j.xy / X_j.z - u_j) px,
 *                                                     Geman-McClure rho(s) = s k^2 / (s + k^2), k = robustPx
 *    + sum_j |(X_j - T) - rel_j|^2 / relSigma_j^2        root-relative pose toward PoseNet's `rel`
 *    + (T_z - T0_z)^2 / depthSigma^2 (+ very weak x, y)  root depth toward the depth search (weak)
 *    + sum_u (L_u - Lt_u)^2 / boneSigma^2                lengths toward rel's, blended with canonical ratios
 *    + sum_hinges max(0, minSin - s)^2 / hingeSigma^2   knees / elbows not bent backwards (skeleton.ts)
 *    + sum_t,j |X_j(t-1) - 2 X_j(t) + X_j(t+1)|^2 / accSigma^2     (sequences only)
 * minimised by Levenberg-Marquardt with analytic Jacobians; the robust term by iteratively reweighted
 * least squares (Gauss-Newton weights rho'(s)), the step accepted on the true robust cost. Gradients are
 * exact (checked against finite differences), including the hinge terms' dependence on the reference axis.
 */
import type { Vec3 } from './depth-search.js';
import { choleskySolve, BandMatrix, bandCholeskySolve } from './linalg.js';
import {
  BONE_LEN as BONE_LEN_RO, CANONICAL_LENGTHS, CHAINS as CHAINS_RO, HINGES, NJ, NLEN, PARENTS as PARENTS_RO, hingeSin,
  uniqueBoneLengths, type Hinge,
} from './skeleton.js';

// local typed copies for the hot loops
const BONE_LEN = Int32Array.from(BONE_LEN_RO);
const PARENTS = Int32Array.from(PARENTS_RO);
const CHAINS: Int32Array[] = CHAINS_RO.map((c) => Int32Array.from(c));

/** One person-frame to fit. */
export interface FitFrame {
  /** root-relative joints (17 x 3, mm, pelvis = 0, camera-frame axes), e.g. PoseNet's output */
  rel: ArrayLike<number>;
  /** undistorted normalised 2D keypoints (17 x 2: X/Z, Y/Z); NaN = missing */
  kp2d: ArrayLike<number>;
  /** confidences (17) in [0, 1]; 0 / NaN = missing */
  conf: ArrayLike<number>;
  /** initial root translation (mm), e.g. from depthSearch; also the (weak) depth prior's centre */
  T0: ArrayLike<number>;
  /** focal lengths (px) so that reprojection residuals are in pixels */
  fx: number;
  fy: number;
}

export interface FitOptions {
  /** std-dev of the 2D keypoint error, px. Default 5. */
  pxSigma?: number;
  /** Geman-McClure scale, px (residuals well above it stop pulling). Default 20; Infinity = least squares. */
  robustPx?: number;
  /** std-dev of the root-relative prior, mm: one value or 17 per-joint values (Infinity = off). Default 40. */
  relSigmaMm?: number | ArrayLike<number>;
  /** std-dev of the root depth prior around T0.z, mm. Default 1000 (weak). */
  depthSigmaMm?: number;
  /** std-dev of the bone-length prior, mm. Default 30. */
  boneSigmaMm?: number;
  /**
   * Bone-length targets = (1 - b) * rel's lengths (left/right averaged) + b * canonical proportions scaled
   * to rel's total length. Default 0.7.
   */
  canonicalBlend?: number;
  /** Explicit bone-length targets (10, skeleton.ts LENGTH_NAMES order), overriding rel / canonical. */
  boneLengths?: ArrayLike<number>;
  /** Knee / elbow limit penalty on. Default true. */
  jointLimits?: boolean;
  /** std-dev of the hinge penalty (on the flexion sine). Default 0.02. */
  hingeSigma?: number;
  /**
   * Before fitting, a knee / elbow of rel that violates its limit is mirrored in depth (the distal joint
   * moved to the other point of its viewing ray at the same bone length), which keeps the 2D projection
   * and fixes the usual depth-flip error; the rel prior then uses the mirrored joint. Default true.
   */
  fixHinges?: boolean;
  /** Levenberg-Marquardt iteration cap. Default 20. */
  maxIterations?: number;
}

export interface SequenceOptions extends FitOptions {
  /** std-dev of joint accelerations, mm/s^2 (divided by fps^2 to get mm/frame^2). Default 5000. */
  accelSigmaMmS2?: number;
  /** frames per window. Default 64. */
  window?: number;
  /** look-ahead frames re-solved by the next window. Default 16. */
  overlap?: number;
  /** LM iteration cap per window. Default 4. */
  sequenceIterations?: number;
}

export interface FitResult {
  /** camera-frame joints, 17 x 3 mm */
  joints3d: Float64Array;
  /** camera-frame pelvis (mm) */
  root: Vec3;
  /** RMS over used joints (conf > 0) of the Euclidean reprojection error, px (NaN with no used joint) */
  residualPx: number;
  /** LM iterations (per frame; in a sequence: per-frame init + the window iterations) */
  iterations: number;
}

// ---------------------------------------------------------------------------------------------------
// Problem set-up

const NP_FRAME = 3 + 2 * (NJ - 1); // T + tangent updates of the 16 bone directions = 35
const NP_FULL = NP_FRAME + NLEN; // + bone lengths = 45

interface Problem {
  fx: number; fy: number;
  u: Float64Array; v: Float64Array; c: Float64Array; // 2D, c = 0 when missing
  relT: Float64Array; // rel target 17 x 3 (possibly with mirrored hinges)
  relW: Float64Array; // 1 / sigma^2 per joint (0 = off; joint 0 is always off)
  T0: Float64Array;
  wTz: number; wTxy: number;
  lenT: Float64Array; wLen: number;
  invPx2: number; k2: number;
  hingeW: number; limits: boolean;
}

interface State {
  T: Float64Array; // 3
  dir: Float64Array; // 17 x 3, bone j's unit direction at j*3 (joint 0 unused)
  len: Float64Array; // NLEN
}

interface Resolved {
  pxSigma: number; robustPx: number; relSigma: Float64Array; depthSigma: number; boneSigma: number;
  blend: number; limits: boolean; hingeSigma: number; fixHinges: boolean; maxIter: number;
}

function resolve(o: FitOptions): Resolved {
  const relSigma = new Float64Array(NJ);
  const rs = o.relSigmaMm ?? 40;
  for (let j = 0; j < NJ; j++) relSigma[j] = typeof rs === 'number' ? rs : rs[j];
  return {
    pxSigma: o.pxSigma ?? 5,
    robustPx: o.robustPx ?? 20,
    relSigma,
    depthSigma: o.depthSigmaMm ?? 1000,
    boneSigma: o.boneSigmaMm ?? 30,
    blend: Math.min(1, Math.max(0, o.canonicalBlend ?? 0.7)),
    limits: o.jointLimits ?? true,
    hingeSigma: o.hingeSigma ?? 0.02,
    fixHinges: o.fixHinges ?? true,
    maxIter: o.maxIterations ?? 20,
  };
}

function checkFrame(f: FitFrame, i: number): void {
  if (f.rel.length !== NJ * 3 || f.kp2d.length !== NJ * 2 || f.conf.length !== NJ || f.T0.length !== 3) {
    throw new Error(`fitter: frame ${i}: expected rel 17x3, kp2d 17x2, conf 17 and T0 3 values, got ` +
      `${f.rel.length}, ${f.kp2d.length}, ${f.conf.length}, ${f.T0.length}`);
  }
  if (!(f.fx > 0) || !(f.fy > 0)) throw new Error(`fitter: frame ${i}: fx, fy must be positive`);
  if (!Number.isFinite(f.T0[0]) || !Number.isFinite(f.T0[1]) || !(f.T0[2] > 0)) {
    throw new Error(`fitter: frame ${i}: T0 must be finite with T0.z > 0, got [${Array.from(f.T0).join(', ')}]`);
  }
}

/** Bone-length targets from rel (left/right averaged) blended with canonical proportions. */
export function boneLengthTargets(rel: ArrayLike<number>, canonicalBlend = 0.5): Float64Array {
  const rl = uniqueBoneLengths(rel);
  let num = 0, den = 0;
  for (let u = 0; u < NLEN; u++) {
    if (!Number.isFinite(rl[u])) continue;
    const m = u <= 2 || u >= 7 ? 2 : 1;
    num += m * rl[u]; den += m * CANONICAL_LENGTHS[u];
  }
  const scale = den > 0 ? num / den : 1;
  const out = new Float64Array(NLEN);
  for (let u = 0; u < NLEN; u++) {
    const canon = scale * CANONICAL_LENGTHS[u];
    out[u] = Number.isFinite(rl[u]) ? (1 - canonicalBlend) * rl[u] + canonicalBlend * canon : canon;
  }
  return out;
}

function makeProblem(f: FitFrame, r: Resolved, boneLengths: ArrayLike<number> | undefined): Problem {
  const u = new Float64Array(NJ), v = new Float64Array(NJ), c = new Float64Array(NJ);
  const relT = new Float64Array(NJ * 3), relW = new Float64Array(NJ);
  for (let j = 0; j < NJ; j++) {
    const cj = f.conf[j];
    if (cj > 0 && Number.isFinite(f.kp2d[j * 2]) && Number.isFinite(f.kp2d[j * 2 + 1])) {
      u[j] = f.kp2d[j * 2]; v[j] = f.kp2d[j * 2 + 1]; c[j] = Math.min(1, cj);
    }
    const finite = Number.isFinite(f.rel[j * 3]) && Number.isFinite(f.rel[j * 3 + 1]) && Number.isFinite(f.rel[j * 3 + 2]);
    for (let d = 0; d < 3; d++) relT[j * 3 + d] = finite ? f.rel[j * 3 + d] : NaN;
    const s = r.relSigma[j];
    relW[j] = j > 0 && finite && s > 0 && Number.isFinite(s) ? 1 / (s * s) : 0;
  }
  const lenT = new Float64Array(NLEN);
  if (boneLengths) {
    for (let i = 0; i < NLEN; i++) lenT[i] = boneLengths[i];
  } else {
    lenT.set(boneLengthTargets(relT, r.blend));
  }
  const k = r.robustPx;
  return {
    fx: f.fx, fy: f.fy, u, v, c, relT, relW,
    T0: Float64Array.from(f.T0),
    wTz: 1 / (r.depthSigma * r.depthSigma), wTxy: 1e-8,
    lenT, wLen: 1 / (r.boneSigma * r.boneSigma),
    invPx2: 1 / (r.pxSigma * r.pxSigma), k2: Number.isFinite(k) ? k * k : Infinity,
    hingeW: 1 / (r.hingeSigma * r.hingeSigma), limits: r.limits,
  };
}

/**
 * Mirror violating hinges of the rel target in depth: the distal joint D goes to the second intersection
 * of its viewing ray with the sphere of radius |D - M| around the middle joint M (same projection, same
 * bone length). Adopted only when it satisfies the limit.
 */
function mirrorHinges(p: Problem): void {
  const X = new Float64Array(NJ * 3);
  for (let j = 0; j < NJ * 3; j++) X[j] = p.relT[j] + p.T0[j % 3];
  for (const h of HINGES) {
    const s = hingeSin(X, h);
    if (!(s < h.minSin)) continue;
    const d = h.dist * 3, m = h.mid * 3;
    const D0 = X[d], D1 = X[d + 1], D2 = X[d + 2];
    const t = Math.hypot(D0, D1, D2);
    if (!(t > 0)) continue;
    const r0 = D0 / t, r1 = D1 / t, r2 = D2 / t;
    const t2 = 2 * (r0 * X[m] + r1 * X[m + 1] + r2 * X[m + 2]) - t;
    if (!(t2 > 0)) continue;
    X[d] = t2 * r0; X[d + 1] = t2 * r1; X[d + 2] = t2 * r2;
    if (hingeSin(X, h) >= h.minSin) {
      for (let c = 0; c < 3; c++) p.relT[d + c] = X[d + c] - p.T0[c];
    } else {
      X[d] = D0; X[d + 1] = D1; X[d + 2] = D2;
    }
  }
}

function initState(p: Problem): State {
  const T = Float64Array.from(p.T0);
  const dir = new Float64Array(NJ * 3);
  const len = Float64Array.from(p.lenT);
  for (let j = 1; j < NJ; j++) {
    const q = PARENTS[j];
    let d0 = p.relT[j * 3] - p.relT[q * 3], d1 = p.relT[j * 3 + 1] - p.relT[q * 3 + 1], d2 = p.relT[j * 3 + 2] - p.relT[q * 3 + 2];
    let n = Math.hypot(d0, d1, d2);
    if (!(n > 1e-6)) {
      // missing / degenerate: continue the parent's bone, or point down (+y)
      if (q > 0) { d0 = dir[q * 3]; d1 = dir[q * 3 + 1]; d2 = dir[q * 3 + 2]; } else { d0 = 0; d1 = 1; d2 = 0; }
      n = Math.hypot(d0, d1, d2);
    }
    dir[j * 3] = d0 / n; dir[j * 3 + 1] = d1 / n; dir[j * 3 + 2] = d2 / n;
  }
  return { T, dir, len };
}

function cloneState(s: State): State {
  return { T: Float64Array.from(s.T), dir: Float64Array.from(s.dir), len: Float64Array.from(s.len) };
}

function copyState(dst: State, src: State): void {
  dst.T.set(src.T); dst.dir.set(src.dir); dst.len.set(src.len);
}

function forward(s: State, X: Float64Array): void {
  X[0] = s.T[0]; X[1] = s.T[1]; X[2] = s.T[2];
  for (let j = 1; j < NJ; j++) {
    const q = PARENTS[j] * 3, L = s.len[BONE_LEN[j]], j3 = j * 3;
    X[j3] = X[q] + L * s.dir[j3];
    X[j3 + 1] = X[q + 1] + L * s.dir[j3 + 1];
    X[j3 + 2] = X[q + 2] + L * s.dir[j3 + 2];
  }
}

/** Orthonormal tangent basis (e1, e2) of every bone direction. */
function tangentBases(s: State, e1: Float64Array, e2: Float64Array): void {
  for (let j = 1; j < NJ; j++) {
    const j3 = j * 3, d0 = s.dir[j3], d1 = s.dir[j3 + 1], d2 = s.dir[j3 + 2];
    // helper axis least aligned with d
    let h0 = 0, h1 = 0, h2 = 0;
    if (Math.abs(d0) < 0.6) h0 = 1; else if (Math.abs(d1) < 0.6) h1 = 1; else h2 = 1;
    let a0 = h1 * d2 - h2 * d1, a1 = h2 * d0 - h0 * d2, a2 = h0 * d1 - h1 * d0;
    const n = Math.hypot(a0, a1, a2);
    a0 /= n; a1 /= n; a2 /= n;
    e1[j3] = a0; e1[j3 + 1] = a1; e1[j3 + 2] = a2;
    e2[j3] = d1 * a2 - d2 * a1; e2[j3 + 1] = d2 * a0 - d0 * a2; e2[j3 + 2] = d0 * a1 - d1 * a0;
  }
}

/** Apply an LM step delta (at offset off, length NP_FRAME or NP_FULL) to a state, in place. */
function applyStep(s: State, delta: Float64Array, off: number, lenFree: boolean, e1: Float64Array, e2: Float64Array): void {
  s.T[0] += delta[off]; s.T[1] += delta[off + 1]; s.T[2] += delta[off + 2];
  for (let j = 1; j < NJ; j++) {
    const a = delta[off + 3 + 2 * (j - 1)], b = delta[off + 4 + 2 * (j - 1)], j3 = j * 3;
    let d0 = s.dir[j3] + a * e1[j3] + b * e2[j3];
    let d1 = s.dir[j3 + 1] + a * e1[j3 + 1] + b * e2[j3 + 1];
    let d2 = s.dir[j3 + 2] + a * e1[j3 + 2] + b * e2[j3 + 2];
    const n = Math.hypot(d0, d1, d2);
    d0 /= n; d1 /= n; d2 /= n;
    s.dir[j3] = d0; s.dir[j3 + 1] = d1; s.dir[j3 + 2] = d2;
  }
  if (lenFree) for (let u = 0; u < NLEN; u++) s.len[u] = Math.max(1, s.len[u] + delta[off + NP_FRAME + u]);
}

// ---------------------------------------------------------------------------------------------------
// Residual rows and normal-equation accumulators

/** A sparse Jacobian row: (column, value) pairs. */
class Row {
  idx = new Int32Array(128);
  val = new Float64Array(128);
  n = 0;
  push(i: number, v: number): void { this.idx[this.n] = i; this.val[this.n] = v; this.n++; }
}

interface Acc { addRow(row: Row, r: number): void; }

class DenseAcc implements Acc {
  readonly H: Float64Array; readonly g: Float64Array;
  constructor(readonly n: number) { this.H = new Float64Array(n * n); this.g = new Float64Array(n); }
  clear(): void { this.H.fill(0); this.g.fill(0); }
  addRow(row: Row, r: number): void {
    const { idx, val, n } = row, N = this.n, H = this.H, g = this.g;
    for (let a = 0; a < n; a++) {
      const ia = idx[a], va = val[a];
      if (va === 0) continue;
      g[ia] += va * r;
      const base = ia * N;
      for (let b = 0; b < n; b++) { const ib = idx[b]; if (ib <= ia) H[base + ib] += va * val[b]; }
    }
  }
}

class BandAcc implements Acc {
  readonly H: BandMatrix; readonly g: Float64Array;
  constructor(n: number, bw: number) { this.H = new BandMatrix(n, bw); this.g = new Float64Array(n); }
  clear(): void { this.H.clear(); this.g.fill(0); }
  addRow(row: Row, r: number): void {
    const { idx, val, n } = row, d = this.H.data, w = this.H.bw + 1, bw = this.H.bw, g = this.g;
    for (let a = 0; a < n; a++) {
      const ia = idx[a], va = val[a];
      if (va === 0) continue;
      g[ia] += va * r;
      const base = ia * w + bw - ia;
      for (let b = 0; b < n; b++) { const ib = idx[b]; if (ib <= ia) d[base + ib] += va * val[b]; }
    }
  }
}

/** Append the Jacobian of a scalar g . X_j (or g . (X_j - T) when withT is false) w.r.t. frame params. */
function pushJoint(row: Row, j: number, g0: number, g1: number, g2: number, withT: boolean, s: State,
  e1: Float64Array, e2: Float64Array, off: number, lenFree: boolean): void {
  if (withT) { row.push(off, g0); row.push(off + 1, g1); row.push(off + 2, g2); }
  const chain = CHAINS[j];
  for (let i = 0; i < chain.length; i++) {
    const k = chain[i], k3 = k * 3, L = s.len[BONE_LEN[k]];
    row.push(off + 1 + 2 * k, L * (g0 * e1[k3] + g1 * e1[k3 + 1] + g2 * e1[k3 + 2]));
    row.push(off + 2 + 2 * k, L * (g0 * e2[k3] + g1 * e2[k3 + 1] + g2 * e2[k3 + 2]));
    if (lenFree) row.push(off + NP_FRAME + BONE_LEN[k], g0 * s.dir[k3] + g1 * s.dir[k3 + 1] + g2 * s.dir[k3 + 2]);
  }
}

/** Scratch buffers for one frame's linearisation. */
class Work {
  X = new Float64Array(NJ * 3);
  e1 = new Float64Array(NJ * 3);
  e2 = new Float64Array(NJ * 3);
  row = new Row();
}

/**
 * Cost of one frame's terms at state s (joints X already computed by forward(s, X)); with acc given,
 * also accumulates the Gauss-Newton normal equations (e1, e2 must hold the tangent bases of s).
 */
function frameTerms(p: Problem, s: State, X: Float64Array, acc: Acc | null, off: number, lenFree: boolean,
  e1: Float64Array, e2: Float64Array, row: Row): number {
  let cost = 0;
  // 2D reprojection, robust
  for (let j = 0; j < NJ; j++) {
    const c = p.c[j];
    if (c === 0) continue;
    const j3 = j * 3, x = X[j3], y = X[j3 + 1], z = X[j3 + 2];
    if (!(z > 1)) return Infinity;
    const iz = 1 / z;
    const ex = p.fx * (x * iz - p.u[j]), ey = p.fy * (y * iz - p.v[j]);
    const sq = ex * ex + ey * ey;
    let rho: number, wgt: number;
    if (p.k2 === Infinity) { rho = sq; wgt = 1; } else {
      const den = sq + p.k2;
      rho = (sq * p.k2) / den; wgt = (p.k2 * p.k2) / (den * den);
    }
    cost += c * p.invPx2 * rho;
    if (acc) {
      const sw = Math.sqrt(c * p.invPx2 * wgt);
      row.n = 0;
      pushJoint(row, j, sw * p.fx * iz, 0, -sw * p.fx * x * iz * iz, true, s, e1, e2, off, lenFree);
      acc.addRow(row, sw * ex);
      row.n = 0;
      pushJoint(row, j, 0, sw * p.fy * iz, -sw * p.fy * y * iz * iz, true, s, e1, e2, off, lenFree);
      acc.addRow(row, sw * ey);
    }
  }
  // root-relative prior
  const T0 = X[0], T1 = X[1], T2 = X[2];
  for (let j = 1; j < NJ; j++) {
    const w = p.relW[j];
    if (w === 0) continue;
    const j3 = j * 3;
    const r0 = X[j3] - T0 - p.relT[j3], r1 = X[j3 + 1] - T1 - p.relT[j3 + 1], r2 = X[j3 + 2] - T2 - p.relT[j3 + 2];
    cost += w * (r0 * r0 + r1 * r1 + r2 * r2);
    if (acc) {
      const sw = Math.sqrt(w);
      row.n = 0; pushJoint(row, j, sw, 0, 0, false, s, e1, e2, off, lenFree); acc.addRow(row, sw * r0);
      row.n = 0; pushJoint(row, j, 0, sw, 0, false, s, e1, e2, off, lenFree); acc.addRow(row, sw * r1);
      row.n = 0; pushJoint(row, j, 0, 0, sw, false, s, e1, e2, off, lenFree); acc.addRow(row, sw * r2);
    }
  }
  // root translation prior (depth weak, x/y negligible: only keeps the system regular)
  for (let d = 0; d < 3; d++) {
    const w = d === 2 ? p.wTz : p.wTxy, r = s.T[d] - p.T0[d];
    cost += w * r * r;
    if (acc) { const sw = Math.sqrt(w); row.n = 0; row.push(off + d, sw); acc.addRow(row, sw * r); }
  }
  // bone lengths
  if (lenFree) {
    for (let u = 0; u < NLEN; u++) {
      const r = s.len[u] - p.lenT[u];
      cost += p.wLen * r * r;
      if (acc) { const sw = Math.sqrt(p.wLen); row.n = 0; row.push(off + NP_FRAME + u, sw); acc.addRow(row, sw * r); }
    }
  }
  // hinge limits
  if (p.limits) for (const h of HINGES) cost += hingeTerm(p, h, s, X, acc, off, lenFree, e1, e2, row);
  return cost;
}

function hingeTerm(p: Problem, h: Hinge, s: State, X: Float64Array, acc: Acc | null, off: number, lenFree: boolean,
  e1: Float64Array, e2: Float64Array, row: Row): number {
  const a3 = h.mid * 3, b3 = h.dist * 3, d = s.dir;
  let n0 = X[h.n1 * 3] - X[h.n0 * 3], n1 = X[h.n1 * 3 + 1] - X[h.n0 * 3 + 1], n2 = X[h.n1 * 3 + 2] - X[h.n0 * 3 + 2];
  const nn = Math.hypot(n0, n1, n2);
  if (!(nn > 1e-9)) return 0;
  n0 /= nn; n1 /= nn; n2 /= nn;
  const a0 = d[a3], a1 = d[a3 + 1], a2 = d[a3 + 2], b0 = d[b3], b1 = d[b3 + 1], b2 = d[b3 + 2];
  const sn = (a1 * b2 - a2 * b1) * n0 + (a2 * b0 - a0 * b2) * n1 + (a0 * b1 - a1 * b0) * n2;
  if (sn >= h.minSin) return 0;
  const sw = Math.sqrt(p.hingeW), r = sw * (h.minSin - sn);
  if (acc) {
    // ds/da = b x n, ds/db = n x a; residual r = sw (minSin - s) -> dr = -sw ds
    const ga0 = b1 * n2 - b2 * n1, ga1 = b2 * n0 - b0 * n2, ga2 = b0 * n1 - b1 * n0;
    const gb0 = n1 * a2 - n2 * a1, gb1 = n2 * a0 - n0 * a2, gb2 = n0 * a1 - n1 * a0;
    row.n = 0;
    row.push(off + 1 + 2 * h.mid, -sw * (ga0 * e1[a3] + ga1 * e1[a3 + 1] + ga2 * e1[a3 + 2]));
    row.push(off + 2 + 2 * h.mid, -sw * (ga0 * e2[a3] + ga1 * e2[a3 + 1] + ga2 * e2[a3 + 2]));
    row.push(off + 1 + 2 * h.dist, -sw * (gb0 * e1[b3] + gb1 * e1[b3 + 1] + gb2 * e1[b3 + 2]));
    row.push(off + 2 + 2 * h.dist, -sw * (gb0 * e2[b3] + gb1 * e2[b3 + 1] + gb2 * e2[b3 + 2]));
    // through the reference axis n = m / |m|, m = X[n1] - X[n0]: ds/dm = (I - n n^T)(a x b) / |m|
    const c0 = a1 * b2 - a2 * b1, c1 = a2 * b0 - a0 * b2, c2 = a0 * b1 - a1 * b0;
    const k = -sw / nn;
    const gm0 = k * (c0 - sn * n0), gm1 = k * (c1 - sn * n1), gm2 = k * (c2 - sn * n2);
    pushJoint(row, h.n1, gm0, gm1, gm2, false, s, e1, e2, off, lenFree);
    pushJoint(row, h.n0, -gm0, -gm1, -gm2, false, s, e1, e2, off, lenFree);
    acc.addRow(row, r);
  }
  return r * r;
}

function reprojectionRms(p: Problem, X: Float64Array): number {
  let se = 0, n = 0;
  for (let j = 0; j < NJ; j++) {
    if (p.c[j] === 0) continue;
    const z = X[j * 3 + 2];
    const ex = p.fx * (X[j * 3] / z - p.u[j]), ey = p.fy * (X[j * 3 + 1] / z - p.v[j]);
    se += ex * ex + ey * ey; n++;
  }
  return n ? Math.sqrt(se / n) : NaN;
}

// ---------------------------------------------------------------------------------------------------
// Single frame

const LAMBDA0 = 1e-3;

/** Levenberg-Marquardt on one frame; s is updated in place. Returns the iteration count. */
function solveFrame(p: Problem, s: State, lenFree: boolean, maxIter: number, w: Work): number {
  const np = lenFree ? NP_FULL : NP_FRAME;
  const acc = new DenseAcc(np);
  const A = new Float64Array(np * np), delta = new Float64Array(np);
  const trial = cloneState(s), Xt = new Float64Array(NJ * 3);
  let lambda = LAMBDA0;
  let it = 0;
  forward(s, w.X);
  for (; it < maxIter; it++) {
    tangentBases(s, w.e1, w.e2);
    acc.clear();
    const c0 = frameTerms(p, s, w.X, acc, 0, lenFree, w.e1, w.e2, w.row);
    let accepted = false, c1 = c0;
    while (lambda < 1e10) {
      A.set(acc.H);
      for (let i = 0; i < np; i++) { A[i * np + i] += lambda * A[i * np + i] + 1e-9; delta[i] = -acc.g[i]; }
      if (choleskySolve(A, delta, np)) {
        copyState(trial, s);
        applyStep(trial, delta, 0, lenFree, w.e1, w.e2);
        forward(trial, Xt);
        c1 = frameTerms(p, trial, Xt, null, 0, lenFree, w.e1, w.e2, w.row);
        if (c1 < c0) { accepted = true; break; }
      }
      lambda *= 8;
    }
    if (!accepted) break;
    copyState(s, trial);
    w.X.set(Xt);
    lambda = Math.max(lambda / 4, 1e-9);
    if (c0 - c1 < 1e-6 * c0 + 1e-12) { it++; break; }
  }
  return it;
}

function resultOf(p: Problem, X: Float64Array, iterations: number): FitResult {
  return { joints3d: Float64Array.from(X), root: [X[0], X[1], X[2]], residualPx: reprojectionRms(p, X), iterations };
}

/** Fit the skeleton to one person-frame. */
export function fitFrame(frame: FitFrame, opts: FitOptions = {}): FitResult {
  checkFrame(frame, 0);
  const r = resolve(opts);
  const p = makeProblem(frame, r, opts.boneLengths);
  if (r.fixHinges) mirrorHinges(p);
  const s = initState(p);
  const w = new Work();
  const it = solveFrame(p, s, true, r.maxIter, w);
  forward(s, w.X);
  return resultOf(p, w.X, it);
}

// ---------------------------------------------------------------------------------------------------
// Sequences

/**
 * Fit a track (consecutive frames of one person at `fps`). Bone lengths are fixed for the whole track
 * (per-bone median of the per-frame targets); every frame is first fitted alone, then windows of
 * `window` frames are solved jointly with the acceleration term (block-banded normal equations, banded
 * Cholesky, cost linear in the number of frames). A window commits all but its last `overlap` frames;
 * the next window starts at the first uncommitted frame and its acceleration terms reach back to the two
 * committed frames before it (held fixed), so the result is continuous across windows.
 */
export function fitSequence(frames: readonly FitFrame[], fps: number, opts: SequenceOptions = {}): FitResult[] {
  const N = frames.length;
  if (N === 0) return [];
  if (!(fps > 0)) throw new Error(`fitSequence: fps must be positive, got ${fps}`);
  frames.forEach(checkFrame);
  const r = resolve(opts);
  const Wn = Math.max(3, Math.floor(opts.window ?? 64));
  const overlap = Math.min(Wn - 1, Math.max(0, Math.floor(opts.overlap ?? 16)));
  const seqIter = opts.sequenceIterations ?? 4;
  const accSigma = (opts.accelSigmaMmS2 ?? 5000) / (fps * fps);
  const wAcc = 1 / (accSigma * accSigma);

  // track bone lengths: median over frames of the per-frame targets
  let lengths: Float64Array;
  if (opts.boneLengths) {
    lengths = Float64Array.from(opts.boneLengths);
  } else {
    const per: number[][] = Array.from({ length: NLEN }, () => []);
    for (const f of frames) {
      const t = boneLengthTargets(f.rel, r.blend);
      for (let u = 0; u < NLEN; u++) if (Number.isFinite(t[u])) per[u].push(t[u]);
    }
    lengths = new Float64Array(NLEN);
    for (let u = 0; u < NLEN; u++) lengths[u] = median(per[u]) || CANONICAL_LENGTHS[u];
  }

  // per-frame fits with the track's lengths (fixed)
  const probs: Problem[] = [];
  const states: State[] = [];
  const iters = new Int32Array(N);
  const w = new Work();
  for (let t = 0; t < N; t++) {
    const p = makeProblem(frames[t], r, lengths);
    if (r.fixHinges) mirrorHinges(p);
    const s = initState(p);
    iters[t] = solveFrame(p, s, false, r.maxIter, w);
    probs.push(p); states.push(s);
  }
  if (N < 3 || !(wAcc > 0) || !Number.isFinite(wAcc)) {
    return states.map((s, t) => { const X = new Float64Array(NJ * 3); forward(s, X); return resultOf(probs[t], X, iters[t]); });
  }

  // joint windows
  const Xs: Float64Array[] = states.map((s) => { const X = new Float64Array(NJ * 3); forward(s, X); return X; });
  const E1: Float64Array[] = [], E2: Float64Array[] = [];
  for (let t = 0; t < Math.min(N, Wn); t++) { E1.push(new Float64Array(NJ * 3)); E2.push(new Float64Array(NJ * 3)); }
  const trials: State[] = [];
  const Xtr: Float64Array[] = [];
  for (let t = 0; t < Math.min(N, Wn); t++) { trials.push(cloneState(states[0])); Xtr.push(new Float64Array(NJ * 3)); }
  const row = w.row;

  for (let a = 0; a < N;) {
    const b = Math.min(N, a + Wn);
    const commit = b === N ? N : Math.max(a + 1, b - overlap);
    const m = b - a;
    const n = m * NP_FRAME;
    const bw = Math.min(n - 1, 3 * NP_FRAME - 1);
    const acc = new BandAcc(n, bw);
    const Hd = new BandMatrix(n, bw);
    const delta = new Float64Array(n);
    let lambda = 1e-6;
    const xsFree = (t: number, trial: boolean) => (trial && t >= a ? Xtr[t - a] : Xs[t]);

    const windowCost = (trial: boolean, withAcc: boolean): number => {
      let cost = 0;
      for (let t = a; t < b; t++) {
        const s = trial ? trials[t - a] : states[t];
        const X = xsFree(t, trial);
        const o = (t - a) * NP_FRAME;
        cost += frameTerms(probs[t], s, X, withAcc ? acc : null, o, false, E1[t - a], E2[t - a], row);
        if (cost === Infinity) return cost;
      }
      // acceleration terms with centre c, frames c-1, c, c+1 inside [max(0, a-2), b), at least one free
      const c0 = Math.max(1, a - 1), c1 = b - 2;
      const sw = Math.sqrt(wAcc);
      for (let c = c0; c <= c1; c++) {
        const Xa = xsFree(c - 1, trial), Xb = xsFree(c, trial), Xc = xsFree(c + 1, trial);
        for (let j = 0; j < NJ; j++) {
          for (let d = 0; d < 3; d++) {
            const q = j * 3 + d;
            const res = sw * (Xa[q] - 2 * Xb[q] + Xc[q]);
            cost += res * res;
            if (!withAcc) continue;
            row.n = 0;
            for (let k = 0; k < 3; k++) {
              const t = c - 1 + k;
              if (t < a) continue;
              const coef = k === 1 ? -2 * sw : sw;
              const s = states[t];
              pushJoint(row, j, d === 0 ? coef : 0, d === 1 ? coef : 0, d === 2 ? coef : 0, true, s,
                E1[t - a], E2[t - a], (t - a) * NP_FRAME, false);
            }
            acc.addRow(row, res);
          }
        }
      }
      return cost;
    };

    let it = 0;
    for (; it < seqIter; it++) {
      for (let t = a; t < b; t++) tangentBases(states[t], E1[t - a], E2[t - a]);
      acc.clear();
      const cBefore = windowCost(false, true);
      let accepted = false, cAfter = cBefore;
      while (lambda < 1e10) {
        Hd.data.set(acc.H.data);
        for (let i = 0; i < n; i++) {
          const ii = Hd.at(i, i);
          Hd.data[ii] += lambda * Hd.data[ii] + 1e-9;
          delta[i] = -acc.g[i];
        }
        if (bandCholeskySolve(Hd, delta)) {
          for (let t = a; t < b; t++) {
            copyState(trials[t - a], states[t]);
            applyStep(trials[t - a], delta, (t - a) * NP_FRAME, false, E1[t - a], E2[t - a]);
            forward(trials[t - a], Xtr[t - a]);
          }
          cAfter = windowCost(true, false);
          if (cAfter < cBefore) { accepted = true; break; }
        }
        lambda *= 8;
      }
      if (!accepted) break;
      for (let t = a; t < b; t++) { copyState(states[t], trials[t - a]); Xs[t].set(Xtr[t - a]); }
      lambda = Math.max(lambda / 4, 1e-9);
      if (cBefore - cAfter < 1e-6 * cBefore + 1e-12) { it++; break; }
    }
    for (let t = a; t < commit; t++) iters[t] += it;
    a = commit;
  }
  return Xs.map((X, t) => resultOf(probs[t], X, iters[t]));
}

function median(a: number[]): number {
  if (a.length === 0) return NaN;
  const s = [...a].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

