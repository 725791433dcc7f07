/**
 * The h36m17 kinematic skeleton as the fitter parametrises it: 16 bones (bone j joins joint j to its
 * parent H36M17_PARENTS[j]), 10 unique bone lengths (left and right limbs share one length, so the fit is
 * symmetric by construction), canonical proportions and the hinge (knee / elbow) limit definitions.
 */
import { H36M17_PARENTS } from '../../contracts/layouts.js';
import { H36M_JOINTS } from '../../contracts/types.js';

export const NJ = H36M_JOINTS;
export const PARENTS: readonly number[] = H36M17_PARENTS;

/** Unique bone lengths: hip, thigh, shin, spine, thorax->neck... (see LENGTH_NAMES). */
export const NLEN = 10;
export const LENGTH_NAMES = [
  'hip', 'thigh', 'shin', 'pelvis_spine', 'spine_thorax', 'thorax_neck', 'neck_head', 'shoulder', 'upper_arm', 'forearm',
] as const;

/** For bone j (joint j, 1..16): index of its unique length; index 0 unused (-1). */
export const BONE_LEN: readonly number[] = [-1, 0, 1, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 8, 9];

/**
 * Canonical bone lengths (mm): medians over the Human3.6M training subjects S1, S5, S6, S7, S8 (every
 * 10th frame), indexed like LENGTH_NAMES. Used only as proportions (scaled to the person).
 */
export const CANONICAL_LENGTHS: readonly number[] = [135.9, 448.6, 442.4, 233.5, 255.4, 119.4, 115.0, 149.4, 278.9, 248.6];

/** chain[j] = bones (= child joints) on the path from the root to joint j, j first. chain[0] = []. */
export const CHAINS: readonly (readonly number[])[] = (() => {
  const out: number[][] = [];
  for (let j = 0; j < NJ; j++) {
    const c: number[] = [];
    for (let k = j; k > 0; k = PARENTS[k]) c.push(k);
    out.push(c);
  }
  return out;
})();

/**
 * A hinge (knee or elbow) limit. With a = unit(mid - prox), b = unit(dist - mid) and a body-fixed
 * reference axis n = unit(X[n1] - X[n0]), the signed flexion sine is s = (a x b) . n (= sin of the
 * flexion angle when the limb's plane contains n). Natural flexion gives s > 0; a limb bent the wrong way
 * (hyper-extension) gives s < 0. The penalty is ((s - minSin)/sigma)^2 when s < minSin.
 *  - knees: n = right hip -> left hip. On Human3.6M ground truth the 0.05 % quantile of s is -0.11 and no
 *    frame is below -0.15 (every 10th frame of S1/5/6/7/8), so minSin = -0.15 (about -9 degrees).
 *  - elbows: n = left shoulder -> right shoulder. This is a heuristic (the elbow axis turns with the
 *    humerus): hands behind the back legitimately give s < 0. On Human3.6M ground truth 2.4 % of arms have
 *    s < -0.1 and 0.1 % have s < -0.45, so minSin = -0.45 only stops gross backward bends.
 */
export interface Hinge {
  name: string;
  prox: number;
  mid: number;
  dist: number;
  n0: number;
  n1: number;
  minSin: number;
}

export const HINGES: readonly Hinge[] = [
  { name: 'right_knee', prox: 1, mid: 2, dist: 3, n0: 1, n1: 4, minSin: -0.15 },
  { name: 'left_knee', prox: 4, mid: 5, dist: 6, n0: 1, n1: 4, minSin: -0.15 },
  { name: 'right_elbow', prox: 14, mid: 15, dist: 16, n0: 11, n1: 14, minSin: -0.45 },
  { name: 'left_elbow', prox: 11, mid: 12, dist: 13, n0: 11, n1: 14, minSin: -0.45 },
];

/** Signed flexion sine s of a hinge on camera-frame joints (17 x 3). NaN when a bone is degenerate. */
export function hingeSin(joints: ArrayLike<number>, h: Hinge): number {
  const a = unitDiff(joints, h.mid, h.prox), b = unitDiff(joints, h.dist, h.mid), n = unitDiff(joints, h.n1, h.n0);
  if (!a || !b || !n) return NaN;
  return (a[1] * b[2] - a[2] * b[1]) * n[0] + (a[2] * b[0] - a[0] * b[2]) * n[1] + (a[0] * b[1] - a[1] * b[0]) * n[2];
}

function unitDiff(x: ArrayLike<number>, i: number, j: number): [number, number, number] | null {
  const d0 = x[i * 3] - x[j * 3], d1 = x[i * 3 + 1] - x[j * 3 + 1], d2 = x[i * 3 + 2] - x[j * 3 + 2];
  const n = Math.hypot(d0, d1, d2);
  if (!(n > 1e-9)) return null;
  return [d0 / n, d1 / n, d2 / n];
}

/** Bone lengths of a 17 x 3 pose, averaged over left/right pairs: NLEN values (NaN where undefined). */
export function uniqueBoneLengths(joints: ArrayLike<number>): Float64Array {
  const sum = new Float64Array(NLEN), cnt = new Float64Array(NLEN);
  for (let j = 1; j < NJ; j++) {
    const p = PARENTS[j];
    const l = Math.hypot(joints[j * 3] - joints[p * 3], joints[j * 3 + 1] - joints[p * 3 + 1], joints[j * 3 + 2] - joints[p * 3 + 2]);
    if (Number.isFinite(l)) { sum[BONE_LEN[j]] += l; cnt[BONE_LEN[j]]++; }
  }
  for (let u = 0; u < NLEN; u++) sum[u] = cnt[u] > 0 ? sum[u] / cnt[u] : NaN;
  return sum;
}
