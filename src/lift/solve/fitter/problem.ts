/**
 * The fitter's problem set-up: its options and results, the per-frame problem (targets, weights, bone-length
 * targets, hinge references), the state (root + bone directions + lengths) and its forward kinematics and
 * tangent-plane updates. The energy is described in ../fitter.ts.
 */
import type { Vec3 } from '../depth-search.js';
import { BONE_LEN as BONE_LEN_RO, CANONICAL_LENGTHS, CHAINS as CHAINS_RO, HINGES, NJ, NLEN, PARENTS as PARENTS_RO, hingeSin, uniqueBoneLengths } from '../skeleton.js';

// local typed copies for the hot loops
export const BONE_LEN = Int32Array.from(BONE_LEN_RO);
export const PARENTS = Int32Array.from(PARENTS_RO);
export const CHAINS: Int32Array[] = CHAINS_RO.map((c) => Int32Array.from(c));

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
  /**
   * LM iteration cap of each frame's own fit before the windows (their starting point). Default:
   * maxIterations.
   */
  initIterations?: number;
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

export const NP_FRAME = 3 + 2 * (NJ - 1); // T + tangent updates of the 16 bone directions = 35
export const NP_FULL = NP_FRAME + NLEN; // + bone lengths = 45

export interface Problem {
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

export interface State {
  T: Float64Array; // 3
  dir: Float64Array; // 17 x 3, bone j's unit direction at j*3 (joint 0 unused)
  len: Float64Array; // NLEN
}

export interface Resolved {
  pxSigma: number; robustPx: number; relSigma: Float64Array; depthSigma: number; boneSigma: number;
  blend: number; limits: boolean; hingeSigma: number; fixHinges: boolean; maxIter: number;
}

export function resolve(o: FitOptions): Resolved {
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

export function checkFrame(f: FitFrame, i: number): void {
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

export function makeProblem(f: FitFrame, r: Resolved, boneLengths: ArrayLike<number> | undefined): Problem {
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
export function mirrorHinges(p: Problem): void {
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

export function initState(p: Problem): State {
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

export function cloneState(s: State): State {
  return { T: Float64Array.from(s.T), dir: Float64Array.from(s.dir), len: Float64Array.from(s.len) };
}

export function copyState(dst: State, src: State): void {
  dst.T.set(src.T); dst.dir.set(src.dir); dst.len.set(src.len);
}

export function forward(s: State, X: Float64Array): void {
  X[0] = s.T[0]; X[1] = s.T[1]; X[2] = s.T[2];
  for (let j = 1; j < NJ; j++) {
    const q = PARENTS[j] * 3, L = s.len[BONE_LEN[j]], j3 = j * 3;
    X[j3] = X[q] + L * s.dir[j3];
    X[j3 + 1] = X[q + 1] + L * s.dir[j3 + 1];
    X[j3 + 2] = X[q + 2] + L * s.dir[j3 + 2];
  }
}

/** Orthonormal tangent basis (e1, e2) of every bone direction. */
export function tangentBases(s: State, e1: Float64Array, e2: Float64Array): void {
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
export function applyStep(s: State, delta: Float64Array, off: number, lenFree: boolean, e1: Float64Array, e2: Float64Array): void {
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
