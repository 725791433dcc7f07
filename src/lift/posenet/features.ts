/**
 * PoseNet input/output encoding (pure math, shared by training and inference).
 *
 * Input: h36m17 keypoints in undistorted normalised camera coordinates (u = X/Z, v = Y/Z) with a
 * per-joint score; a joint is missing when u or v is NaN or its score <= MIN_SCORE.
 *
 * Feature vector (POSENET_INPUT_DIM = 56):
 *   17 x [ (u - cu) / s, (v - cv) / s, visible ]   centred at the pelvis (or the visible joints' mean when
 *                                                  the pelvis is missing), scaled by the RMS radius s;
 *                                                  missing joints are (0, 0, 0)
 *   [cu, cv]                                       the centre's ray, so perspective off-axis is known
 *   one-hot [joints, mpii, coco]                    what the 2D points are (`KeypointKind`): a detector's
 *                                                  hips, thorax and head are other anatomical points than
 *                                                  Human3.6M's motion-capture joints, so the network is told
 * Scale-free by construction: the same pose at any distance or focal length gives the same features.
 *
 * Output (POSENET_OUTPUT_DIM = 51): root-relative camera-frame joints in metres (pelvis row is 0 and
 * is predicted as such), converted to millimetres by `decodeOutput`.
 */
import { H36M17_FLIP } from '../../contracts/layouts.js';
import { H36M_JOINTS } from '../../contracts/types.js';

export const J = H36M_JOINTS;

/**
 * What kind of 2D points a person's h36m17 keypoints are (the network's definition input):
 * - `joints`: the skeleton's own joints, as projected ground truth or keypoint files in h36m17 give them;
 * - `mpii`: an MPII-style detector's keypoints (Stacked Hourglass, `mpii16`): its pelvis, thorax and head
 *   top are its own annotations, and it has no spine and no neck/nose;
 * - `coco`: a COCO-style detector's keypoints (MoveNet, BlazePose, OpenPose; `coco17`, `blazepose33`,
 *   `body25`, `coco18`): anatomical hips, shoulders and nose; pelvis and thorax are the hips' and
 *   shoulders' midpoints, no spine and no head top.
 */
export type KeypointKind = 'joints' | 'mpii' | 'coco';
export const KEYPOINT_KINDS: readonly KeypointKind[] = ['joints', 'mpii', 'coco'];

/** The kind of 2D a keypoint layout gives (layouts in src/contracts/layouts.ts); unknown layouts are `coco`. */
export function kindOfLayout(layout: string): KeypointKind {
  if (layout === 'h36m17') return 'joints';
  if (layout === 'mpii16') return 'mpii';
  return 'coco';
}

export const POSENET_INPUT_DIM = J * 3 + 2 + KEYPOINT_KINDS.length;
/**
 * The features without the kind one-hot: a model trained on one kind of 2D only (the projected truth,
 * `poselift train posenet --detected-prob 0`) has no kind input and takes these 53 floats.
 */
export const POSENET_BASE_DIM = J * 3 + 2;

/**
 * Rows encoded with the kind (`fullDim` floats each: the first POSENET_BASE_DIM, the kind's 3, the rest) for
 * a model without the kind input: the same rows with the kind's 3 floats dropped (a new array).
 */
export function dropKind(x: Float32Array, rows: number, fullDim: number): Float32Array {
  const K = KEYPOINT_KINDS.length, dim = fullDim - K;
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    out.set(x.subarray(r * fullDim, r * fullDim + POSENET_BASE_DIM), r * dim);
    out.set(x.subarray(r * fullDim + POSENET_BASE_DIM + K, (r + 1) * fullDim), r * dim + POSENET_BASE_DIM);
  }
  return out;
}
export const POSENET_OUTPUT_DIM = J * 3;
export const MIN_SCORE = 0.05;
/** Output unit: metres in the network, millimetres outside. */
export const OUTPUT_SCALE_MM = 1000;

export interface Centred {
  cu: number;
  cv: number;
  s: number;
  visible: number;
}

/**
 * Encode one person's h36m17 normalised keypoints (17 x [u, v, score]) of the given kind into `out` at `offset`.
 * Returns the centre and scale, or null when fewer than 4 joints are visible (not liftable).
 */
export function encodeKeypoints(kp: ArrayLike<number>, out: Float32Array, offset = 0, kind: KeypointKind = 'joints'): Centred | null {
  let n = 0, mu = 0, mv = 0;
  for (let j = 0; j < J; j++) {
    if (isVisible(kp, j)) { n++; mu += kp[j * 3]; mv += kp[j * 3 + 1]; }
  }
  if (n < 4) return null;
  let cu: number, cv: number;
  if (isVisible(kp, 0)) { cu = kp[0]; cv = kp[1]; } else { cu = mu / n; cv = mv / n; }
  let ss = 0;
  for (let j = 0; j < J; j++) {
    if (!isVisible(kp, j)) continue;
    const du = kp[j * 3] - cu, dv = kp[j * 3 + 1] - cv;
    ss += du * du + dv * dv;
  }
  const s = Math.sqrt(ss / n);
  if (!(s > 1e-9)) return null;
  for (let j = 0; j < J; j++) {
    const o = offset + j * 3;
    if (isVisible(kp, j)) {
      out[o] = (kp[j * 3] - cu) / s;
      out[o + 1] = (kp[j * 3 + 1] - cv) / s;
      out[o + 2] = 1;
    } else {
      out[o] = 0; out[o + 1] = 0; out[o + 2] = 0;
    }
  }
  out[offset + J * 3] = cu;
  out[offset + J * 3 + 1] = cv;
  for (let i = 0; i < KEYPOINT_KINDS.length; i++) out[offset + J * 3 + 2 + i] = KEYPOINT_KINDS[i] === kind ? 1 : 0;
  return { cu, cv, s, visible: n };
}

export function isVisible(kp: ArrayLike<number>, j: number): boolean {
  const u = kp[j * 3], v = kp[j * 3 + 1], c = kp[j * 3 + 2];
  return Number.isFinite(u) && Number.isFinite(v) && c > MIN_SCORE;
}

/** Mirror normalised keypoints about the optical axis (u -> -u) with left and right swapped. */
export function mirrorKeypoints(kp: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let j = 0; j < J; j++) {
    const f = H36M17_FLIP[j];
    out[j * 3] = -kp[f * 3];
    out[j * 3 + 1] = kp[f * 3 + 1];
    out[j * 3 + 2] = kp[f * 3 + 2];
  }
  return out;
}

/** Network output row (metres, root-relative) -> 17 x 3 millimetres with the pelvis exactly 0. */
export function decodeOutput(row: ArrayLike<number>, offset = 0, out = new Float64Array(J * 3)): Float64Array {
  for (let k = 0; k < J * 3; k++) out[k] = row[offset + k] * OUTPUT_SCALE_MM;
  const px = out[0], py = out[1], pz = out[2];
  for (let j = 0; j < J; j++) { out[j * 3] -= px; out[j * 3 + 1] -= py; out[j * 3 + 2] -= pz; }
  return out;
}

/** Camera-frame joints (mm) -> training target row (metres, root-relative). */
export function encodeTarget(cam3d: ArrayLike<number>, out: Float32Array, offset = 0): void {
  const px = cam3d[0], py = cam3d[1], pz = cam3d[2];
  for (let j = 0; j < J; j++) {
    out[offset + j * 3] = (cam3d[j * 3] - px) / OUTPUT_SCALE_MM;
    out[offset + j * 3 + 1] = (cam3d[j * 3 + 1] - py) / OUTPUT_SCALE_MM;
    out[offset + j * 3 + 2] = (cam3d[j * 3 + 2] - pz) / OUTPUT_SCALE_MM;
  }
}
