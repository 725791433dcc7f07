/**
 * From detector pixels to what the lifter consumes: any layout -> h36m17 (adapters) -> undistorted
 * normalised camera coordinates (u = X/Z, v = Y/Z) with the score kept.
 */
import { toH36m17 } from '../contracts/layouts.js';
import type { Intrinsics, Keypoints2D } from '../contracts/types.js';
import { undistortPixels } from '../camera/geometry.js';
import { applyAdapter, type DefinitionAdapter } from './adapter.js';

/**
 * 17 x [u, v, score]; missing joints are NaN with score 0. With `adapter` (a detector's calibrated
 * keypoint definitions, `Lifter.adapterFor`), the hips, pelvis and thorax are moved to Human3.6M's
 * definitions after undistortion.
 */
export function normalisedH36m(kp: Keypoints2D, cam: Intrinsics, minScore = 0, adapter?: DefinitionAdapter): Float64Array {
  const h = toH36m17(kp, minScore);
  const uv = undistortPixels(cam, h, 3);
  const out = new Float64Array(17 * 3);
  for (let j = 0; j < 17; j++) {
    const ok = Number.isFinite(uv[j * 2]) && Number.isFinite(uv[j * 2 + 1]);
    out[j * 3] = ok ? uv[j * 2] : NaN;
    out[j * 3 + 1] = ok ? uv[j * 2 + 1] : NaN;
    out[j * 3 + 2] = ok ? h[j * 3 + 2] : 0;
  }
  return adapter ? applyAdapter(out, adapter) : out;
}

/**
 * Camera-frame joints (17 x 3 mm) -> their exact normalised h36m17 keypoints (17 x [X/Z, Y/Z, 1]): the
 * ground-truth 2D of a pinhole camera; a joint that is NaN or not in front of the camera is NaN with score 0.
 */
export function normalisedTruth(cam3d: ArrayLike<number>): Float64Array {
  const k = new Float64Array(51);
  for (let j = 0; j < 17; j++) {
    const z = cam3d[j * 3 + 2];
    const ok = Number.isFinite(z) && z > 0;
    k[j * 3] = ok ? cam3d[j * 3] / z : NaN;
    k[j * 3 + 1] = ok ? cam3d[j * 3 + 1] / z : NaN;
    k[j * 3 + 2] = ok ? 1 : 0;
  }
  return k;
}
