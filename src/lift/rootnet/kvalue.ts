/**
 * RootNet's k-calibrated depth (Moon et al., ICCV 2019), pure math.
 *
 *   k = sqrt(fx * fy * A_real / A_img),  A_real = 2000 mm x 2000 mm,  A_img = person box area (px^2)
 *   Z_root = k / sqrt(gamma),  gamma learned; the training target is gamma = (k / Z_true)^2.
 *
 * In undistorted normalised coordinates (u = X/Z) the focal lengths cancel: A_img = fx * fy * A_norm, so
 * k = sqrt(A_real / A_norm). The lifter works in those coordinates, so that is the form used here.
 */
import { J, MIN_SCORE } from '../posenet/features.js';
import { keypointExtent } from '../../util/box.js';

export const A_REAL_MM2 = 2000 * 2000;
/** Person box = keypoint extent enlarged by this factor on each axis (joints are inside the body). */
export const BOX_MARGIN = 1.2;

/** k in mm from the focal lengths (px) and the box area (px^2). */
export function kValue(fx: number, fy: number, areaPx: number): number {
  if (!(fx > 0) || !(fy > 0)) throw new Error(`kValue: focal lengths must be > 0 (got fx=${fx}, fy=${fy})`);
  if (!(areaPx > 0)) throw new Error(`kValue: box area must be > 0 (got ${areaPx})`);
  return Math.sqrt((fx * fy * A_REAL_MM2) / areaPx);
}

/** k in mm from a box area in normalised coordinates (fx = fy = 1). */
export function kValueNormalized(areaNorm: number): number {
  return kValue(1, 1, areaNorm);
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Person box from the visible keypoints (17 x [u, v, score]), enlarged by BOX_MARGIN about its centre.
 * Null when fewer than two joints are visible or the box is degenerate.
 */
export function rootnetBox(kp: ArrayLike<number>, margin = BOX_MARGIN): Box | null {
  const { x0, y0, x1, y1, n } = keypointExtent(kp, MIN_SCORE, J);
  if (n < 2 || !(x1 > x0) || !(y1 > y0)) return null;
  const cx = 0.5 * (x0 + x1), cy = 0.5 * (y0 + y1);
  const hw = 0.5 * margin * (x1 - x0), hh = 0.5 * margin * (y1 - y0);
  return { x0: cx - hw, y0: cy - hh, x1: cx + hw, y1: cy + hh };
}

export function boxArea(b: Box): number {
  return (b.x1 - b.x0) * (b.y1 - b.y0);
}

/** Z_root = k / sqrt(gamma). */
export function depthFromGamma(k: number, gamma: number): number {
  return k / Math.sqrt(gamma);
}

/** Training target: gamma = (k / Z_true)^2. */
export function gammaFromDepth(k: number, zTrue: number): number {
  return (k / zTrue) ** 2;
}
