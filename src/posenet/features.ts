/**
 * PoseNet input/output encoding (pure math, shared by training and inference).
 *
 * Input: h36m17 keypoints in undistorted normalised camera coordinates (u = X/Z, v = Y/Z) with a
 * per-joint score; a joint is missing when u or v is NaN or its score <= MIN_SCORE.
 *
 * Feature vector (POSENET_INPUT_DIM = 53):
 *   17 x [ (u - cu) / s, (v - cv) / s, visible ]   centred at the pelvis (or the visible joints' mean when
 *                                                  the pelvis is missing), scaled by the RMS radius s;
 *                                                  missing joints are (0, 0, 0)
 *   [cu, cv]                                       the centre's ray, so perspective off-axis is known
 * Scale-free by construction: the same pose at any distance or focal length gives the same features.
 *
 * Output (POSENET_OUTPUT_DIM = 51): root-relative camera-frame joints in metres (pelvis row is 0 and
 * is predicted as such), converted to millimetres by `decodeOutput`.
 */
import { H36M17_FLIP } from '../core/layouts.js';

export const J = 17;
export const POSENET_INPUT_DIM = J * 3 + 2;
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
 * Encode one person's h36m17 normalised keypoints (17 x [u, v, score]) into `out` at `offset`.
 * Returns the centre and scale, or null when fewer than 4 joints are visible (not liftable).
 */
export function encodeKeypoints(kp: ArrayLike<number>, out: Float32Array, offset = 0): Centred | null {
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
