/**
 * 3D pose metrics (pure math). Poses are flat J x 3 arrays in millimetres (h36m17: J = 17, root = joint 0,
 * the pelvis). A joint counts where the ground truth is finite (NaN in gt = not defined, skipped); a NaN
 * in a prediction where gt is defined propagates (the metric becomes NaN) rather than being hidden.
 * Root-aligned metrics need a finite gt root and return NaN otherwise.
 *
 *  - mpjpe:     mean per-joint position error after translating both poses so that their roots coincide
 *               (Human3.6M protocol #1; the root itself is included and contributes 0).
 *  - paMpjpe:   after a similarity Procrustes alignment (rotation + uniform scale + translation, Umeyama /
 *               Kabsch via SVD, reflections excluded) over the valid joints (protocol #2).
 *  - nMpjpe:    root-aligned, prediction scaled by the least-squares optimal factor (Rhodin et al. 2018).
 *  - mpjpeAbs:  camera frame, no alignment.
 *  - rootError: MRPE, Euclidean error of the root and per-axis absolute errors.
 *  - pck / auc: fraction (0..1) of valid joints with root-aligned error <= threshold (150 mm); AUC = mean
 *               PCK over thresholds 0, 5, ..., 150 mm (31 values).
 *  - accelError: mean over frames t = 1..N-2 and joints of |(p[t-1] - 2 p[t] + p[t+1]) - (same for gt)|
 *               (mm / frame^2), camera frame as given (Kanazawa et al. 2019; VideoPose3D's MPJVE analogue).
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';

export type Pose = ArrayLike<number>;

const ROOT = 0;

function jointCount(pred: Pose, gt: Pose, what: string): number {
  if (pred.length !== gt.length || gt.length % 3 !== 0) {
    throw new Error(`${what}: pred and gt must both be J x 3 arrays of the same size, got ${pred.length} and ${gt.length}`);
  }
  return gt.length / 3;
}

function gtValid(gt: Pose, j: number): boolean {
  return Number.isFinite(gt[j * 3]) && Number.isFinite(gt[j * 3 + 1]) && Number.isFinite(gt[j * 3 + 2]);
}

/** Per-joint root-aligned errors over valid gt joints (NaN entries where pred is NaN); null without gt root. */
export function rootAlignedErrors(pred: Pose, gt: Pose): number[] | null {
  const J = jointCount(pred, gt, 'rootAlignedErrors');
  if (!gtValid(gt, ROOT)) return null;
  const out: number[] = [];
  const p0 = pred[ROOT * 3], p1 = pred[ROOT * 3 + 1], p2 = pred[ROOT * 3 + 2];
  const g0 = gt[ROOT * 3], g1 = gt[ROOT * 3 + 1], g2 = gt[ROOT * 3 + 2];
  for (let j = 0; j < J; j++) {
    if (!gtValid(gt, j)) continue;
    out.push(Math.hypot(pred[j * 3] - p0 - (gt[j * 3] - g0), pred[j * 3 + 1] - p1 - (gt[j * 3 + 1] - g1), pred[j * 3 + 2] - p2 - (gt[j * 3 + 2] - g2)));
  }
  return out;
}

function mean(a: number[] | null): number {
  if (!a || a.length === 0) return NaN;
  let s = 0;
  for (const x of a) s += x;
  return s / a.length;
}

/** Root-aligned MPJPE (mm). */
export function mpjpe(pred: Pose, gt: Pose): number {
  return mean(rootAlignedErrors(pred, gt));
}

/** Camera-frame MPJPE without alignment (mm). */
export function mpjpeAbs(pred: Pose, gt: Pose): number {
  return mean(absErrors(pred, gt));
}

function absErrors(pred: Pose, gt: Pose): number[] {
  const J = jointCount(pred, gt, 'mpjpeAbs');
  const out: number[] = [];
  for (let j = 0; j < J; j++) {
    if (!gtValid(gt, j)) continue;
    out.push(Math.hypot(pred[j * 3] - gt[j * 3], pred[j * 3 + 1] - gt[j * 3 + 1], pred[j * 3 + 2] - gt[j * 3 + 2]));
  }
  return out;
}

/** Per-joint errors after scale-only alignment of the root-aligned prediction; null without gt root. */
function nErrors(pred: Pose, gt: Pose): number[] | null {
  const J = jointCount(pred, gt, 'nMpjpe');
  if (!gtValid(gt, ROOT)) return null;
  const idx: number[] = [];
  for (let j = 0; j < J; j++) if (gtValid(gt, j)) idx.push(j);
  let pg = 0, pp = 0;
  for (const j of idx) {
    for (let d = 0; d < 3; d++) {
      const p = pred[j * 3 + d] - pred[ROOT * 3 + d], g = gt[j * 3 + d] - gt[ROOT * 3 + d];
      pg += p * g; pp += p * p;
    }
  }
  const s = pp > 0 ? pg / pp : 1;
  return idx.map((j) => {
    let e = 0;
    for (let d = 0; d < 3; d++) {
      const r = s * (pred[j * 3 + d] - pred[ROOT * 3 + d]) - (gt[j * 3 + d] - gt[ROOT * 3 + d]);
      e += r * r;
    }
    return Math.sqrt(e);
  });
}

/** N-MPJPE (mm): root-aligned, prediction scaled by argmin_s sum |s p - g|^2 (Rhodin et al. 2018). */
export function nMpjpe(pred: Pose, gt: Pose): number {
  return mean(nErrors(pred, gt));
}

export interface Procrustes {
  /** rotation (row-major 3x3, det = +1) */
  R: number[][];
  /** uniform scale */
  s: number;
  /** translation */
  t: [number, number, number];
  /** s R pred + t, J x 3 (NaN where gt is NaN) */
  aligned: Float64Array;
}

/**
 * Similarity Procrustes (Umeyama 1991) of pred onto gt over the joints where gt is finite: minimises
 * sum |s R p + t - g|^2 with R a proper rotation (the SVD's reflection is undone by flipping the sign of
 * the smallest singular direction). Needs 3 valid joints; null otherwise or when pred is NaN there.
 */
export function procrustes(pred: Pose, gt: Pose): Procrustes | null {
  const J = jointCount(pred, gt, 'procrustes');
  const idx: number[] = [];
  for (let j = 0; j < J; j++) if (gtValid(gt, j)) idx.push(j);
  if (idx.length < 3) return null;
  const mp = [0, 0, 0], mg = [0, 0, 0];
  for (const j of idx) for (let d = 0; d < 3; d++) { mp[d] += pred[j * 3 + d]; mg[d] += gt[j * 3 + d]; }
  for (let d = 0; d < 3; d++) { mp[d] /= idx.length; mg[d] /= idx.length; }
  if (!mp.every(Number.isFinite)) return null;
  // H = sum p g^T (centred), varP = sum |p|^2
  const H = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  let varP = 0;
  for (const j of idx) {
    const p = [pred[j * 3] - mp[0], pred[j * 3 + 1] - mp[1], pred[j * 3 + 2] - mp[2]];
    const g = [gt[j * 3] - mg[0], gt[j * 3 + 1] - mg[1], gt[j * 3 + 2] - mg[2]];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) H[a][b] += p[a] * g[b];
    varP += p[0] * p[0] + p[1] * p[1] + p[2] * p[2];
  }
  // Scale H to a max |entry| of 1 before the SVD (same U, V; singular values scale back below): ml-matrix's
  // SVD does not terminate on subnormal entries (e.g. poses ~1e-320), and overflowed sums have no answer.
  let hMax = 0;
  for (const row of H) for (const v of row) hMax = Math.max(hMax, Math.abs(v));
  if (!Number.isFinite(hMax) || !Number.isFinite(varP)) return null;
  if (hMax > 0) for (const row of H) for (let b = 0; b < 3; b++) row[b] = Math.abs(row[b] / hMax) < 1e-200 ? 0 : row[b] / hMax;
  const svd = new SingularValueDecomposition(new Matrix(H), { autoTranspose: false });
  const U = svd.leftSingularVectors, V = svd.rightSingularVectors, S = svd.diagonal.map((v) => v * hMax);
  // R = V D U^T with D = diag(1, 1, sign det(V U^T))
  const VUt = V.mmul(U.transpose());
  const sign = det3(VUt.to2DArray()) < 0 ? -1 : 1;
  const D = Matrix.diag([1, 1, sign]);
  const R = V.mmul(D).mmul(U.transpose()).to2DArray();
  const s = varP > 0 ? (S[0] + S[1] + sign * S[2]) / varP : 1;
  if (!Number.isFinite(s)) return null; // magnitudes beyond double range (e.g. a pred of ~1e-162 against ~1e308)
  const t: [number, number, number] = [0, 0, 0];
  for (let a = 0; a < 3; a++) t[a] = mg[a] - s * (R[a][0] * mp[0] + R[a][1] * mp[1] + R[a][2] * mp[2]);
  const aligned = new Float64Array(J * 3).fill(NaN);
  for (const j of idx) {
    for (let a = 0; a < 3; a++) {
      aligned[j * 3 + a] = s * (R[a][0] * pred[j * 3] + R[a][1] * pred[j * 3 + 1] + R[a][2] * pred[j * 3 + 2]) + t[a];
    }
  }
  return { R, s, t, aligned };
}

function det3(m: number[][]): number {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
    + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

function paErrors(pred: Pose, gt: Pose): number[] | null {
  const pa = procrustes(pred, gt);
  if (!pa) return null;
  return absErrors(pa.aligned, gt);
}

/** PA-MPJPE (mm): MPJPE after similarity Procrustes alignment. */
export function paMpjpe(pred: Pose, gt: Pose): number {
  return mean(paErrors(pred, gt));
}

export interface RootError {
  /** Euclidean root position error (mm) */
  error: number;
  /** per-axis absolute errors (mm) */
  x: number;
  y: number;
  z: number;
  /** signed depth error, predicted minus true root depth (mm; > 0 = placed too far) */
  dz: number;
}

/** MRPE of one frame: root (joint 0) error in the camera frame. NaN when the gt root is missing. */
export function rootError(pred: Pose, gt: Pose): RootError {
  jointCount(pred, gt, 'rootError');
  const x = Math.abs(pred[ROOT * 3] - gt[ROOT * 3]);
  const y = Math.abs(pred[ROOT * 3 + 1] - gt[ROOT * 3 + 1]);
  const dz = pred[ROOT * 3 + 2] - gt[ROOT * 3 + 2];
  const z = Math.abs(dz);
  return { error: Math.hypot(x, y, z), x, y, z, dz };
}

/** Root-aligned PCK: fraction (0..1) of valid joints within `threshold` mm. */
export function pck(pred: Pose, gt: Pose, threshold = 150): number {
  const e = rootAlignedErrors(pred, gt);
  if (!e || e.length === 0) return NaN;
  let n = 0;
  for (const x of e) if (x <= threshold) n++;
  return e.some(Number.isNaN) ? NaN : n / e.length;
}

/** AUC thresholds: 0, 5, ..., 150 mm. */
export const AUC_THRESHOLDS: readonly number[] = Array.from({ length: 31 }, (_, i) => i * 5);

/** Area under the root-aligned PCK curve: mean PCK over AUC_THRESHOLDS (0..1). */
export function auc(pred: Pose, gt: Pose): number {
  const e = rootAlignedErrors(pred, gt);
  if (!e || e.length === 0 || e.some(Number.isNaN)) return NaN;
  let n = 0;
  for (const th of AUC_THRESHOLDS) for (const x of e) if (x <= th) n++;
  return n / (e.length * AUC_THRESHOLDS.length);
}

/** Sum and count of acceleration errors of one frame triple (joints valid in all three gt frames). */
function accelTriple(p0: Pose, p1: Pose, p2: Pose, g0: Pose, g1: Pose, g2: Pose): [number, number] {
  const J = g1.length / 3;
  let sum = 0, n = 0;
  for (let j = 0; j < J; j++) {
    if (!gtValid(g0, j) || !gtValid(g1, j) || !gtValid(g2, j)) continue;
    let e = 0;
    for (let d = 0; d < 3; d++) {
      const q = j * 3 + d;
      const r = p0[q] - 2 * p1[q] + p2[q] - (g0[q] - 2 * g1[q] + g2[q]);
      e += r * r;
    }
    sum += Math.sqrt(e); n++;
  }
  return [sum, n];
}

/** Acceleration error (mm/frame^2) of a sequence of consecutive frames; NaN with fewer than 3 frames. */
export function accelError(predSeq: readonly Pose[], gtSeq: readonly Pose[]): number {
  if (predSeq.length !== gtSeq.length) throw new Error(`accelError: ${predSeq.length} predicted vs ${gtSeq.length} gt frames`);
  let sum = 0, n = 0;
  for (let t = 1; t + 1 < gtSeq.length; t++) {
    jointCount(predSeq[t], gtSeq[t], 'accelError');
    const [s, c] = accelTriple(predSeq[t - 1], predSeq[t], predSeq[t + 1], gtSeq[t - 1], gtSeq[t], gtSeq[t + 1]);
    sum += s; n += c;
  }
  return n ? sum / n : NaN;
}

export interface MetricsSummary {
  /** frames with a valid gt root */
  frames: number;
  /** mm, averaged over all valid joints of all frames (same for the other joint metrics) */
  mpjpe: number;
  pa_mpjpe: number;
  n_mpjpe: number;
  mpjpe_abs: number;
  /** mean root position error over frames, mm */
  mrpe: number;
  /** mean per-axis absolute root errors, mm */
  mrpe_xyz: [number, number, number];
  /** mean signed root depth error (predicted minus true), mm: > 0 = people placed too far on average */
  root_depth_bias: number;
  /** fraction 0..1 */
  pck150: number;
  /** fraction 0..1 */
  auc: number;
  /** mm / frame^2 over frame triples of the same sequence; NaN when no sequence was given */
  accel: number;
}

/**
 * Sums the metrics over many frames. Joint metrics are averaged over all valid joints (= per-frame
 * average when every frame has the same joints). Pass a sequence key to `add` for consecutive frames of
 * one track to also get the acceleration error (frames of a key must be added in order, no gaps).
 */
export class MetricsAccumulator {
  private frames = 0;
  private sums = { mpjpe: 0, pa: 0, n: 0, abs: 0, mrpe: 0, rx: 0, ry: 0, rz: 0, dz: 0, pck: 0, auc: 0, accel: 0 };
  private counts = { mpjpe: 0, pa: 0, n: 0, abs: 0, accel: 0 };
  private last = new Map<string | number, { pred: Float64Array[]; gt: Float64Array[] }>();

  add(pred: Pose, gt: Pose, sequence?: string | number): void {
    if (sequence !== undefined) this.addMotion(pred, gt, sequence);
    this.addPose(pred, gt);
  }

  /**
   * Only the acceleration error: the next frame of track `sequence` (in order, no gaps). With `addPose` on a
   * subset, the motion is measured at the full rate and the poses on every Nth frame (`eval --score-every`).
   */
  addMotion(pred: Pose, gt: Pose, sequence: string | number): void {
    jointCount(pred, gt, 'MetricsAccumulator.addMotion');
    const h = this.last.get(sequence) ?? { pred: [], gt: [] };
    h.pred.push(Float64Array.from(pred)); h.gt.push(Float64Array.from(gt));
    if (h.pred.length > 3) { h.pred.shift(); h.gt.shift(); }
    if (h.pred.length === 3) {
      const [s, c] = accelTriple(h.pred[0], h.pred[1], h.pred[2], h.gt[0], h.gt[1], h.gt[2]);
      this.sums.accel += s; this.counts.accel += c;
    }
    this.last.set(sequence, h);
  }

  /** Every metric but the acceleration error, for one frame. */
  addPose(pred: Pose, gt: Pose): void {
    jointCount(pred, gt, 'MetricsAccumulator.add');
    const e = rootAlignedErrors(pred, gt);
    if (!e) return;
    this.frames++;
    const S = this.sums, C = this.counts;
    for (const x of e) {
      S.mpjpe += x;
      if (x <= 150) S.pck++;
      for (const th of AUC_THRESHOLDS) if (x <= th) S.auc++;
    }
    C.mpjpe += e.length;
    const pa = paErrors(pred, gt);
    if (pa) { for (const x of pa) S.pa += x; C.pa += pa.length; }
    const ne = nErrors(pred, gt);
    if (ne) { for (const x of ne) S.n += x; C.n += ne.length; }
    const ab = absErrors(pred, gt);
    for (const x of ab) S.abs += x;
    C.abs += ab.length;
    const r = rootError(pred, gt);
    S.mrpe += r.error; S.rx += r.x; S.ry += r.y; S.rz += r.z; S.dz += r.dz;
  }

  result(): MetricsSummary {
    const S = this.sums, C = this.counts, F = this.frames;
    const div = (a: number, b: number) => (b > 0 ? a / b : NaN);
    return {
      frames: F,
      mpjpe: div(S.mpjpe, C.mpjpe),
      pa_mpjpe: div(S.pa, C.pa),
      n_mpjpe: div(S.n, C.n),
      mpjpe_abs: div(S.abs, C.abs),
      mrpe: div(S.mrpe, F),
      mrpe_xyz: [div(S.rx, F), div(S.ry, F), div(S.rz, F)],
      root_depth_bias: div(S.dz, F),
      pck150: div(S.pck, C.mpjpe),
      auc: div(S.auc, C.mpjpe * AUC_THRESHOLDS.length),
      accel: div(S.accel, C.accel),
    };
  }
}
