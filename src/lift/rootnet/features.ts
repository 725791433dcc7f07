/**
 * RootNet gamma-model input/output encoding (pure math, shared by training and inference).
 *
 * Input (ROOTNET_INPUT_DIM = 59): the 56 PoseNet features (pose shape, centre ray, keypoint kind) and
 *   [log s, log(box width / s), log(box height / s)]
 * where s is the keypoints' RMS radius and the box is `rootnetBox` (all in normalised coordinates).
 * Output: log(gamma), Z_root = k / sqrt(gamma).
 */
import { encodeKeypoints, POSENET_BASE_DIM, POSENET_INPUT_DIM, type KeypointKind } from '../posenet/features.js';
import { boxArea, rootnetBox, kValueNormalized, type Box } from './kvalue.js';

export const ROOTNET_INPUT_DIM = POSENET_INPUT_DIM + 3;
/** Without the kind one-hot (a model trained on the projected truth only): 56 floats. */
export const ROOTNET_BASE_DIM = POSENET_BASE_DIM + 3;
export const ROOTNET_OUTPUT_DIM = 1;

export interface RootFeatures {
  /** k-value in mm for this person (normalised coordinates) */
  k: number;
  box: Box;
}

/** Encode into `out` at `offset`; null when the person is not liftable (too few joints, degenerate box). */
export function encodeRootFeatures(kp: ArrayLike<number>, out: Float32Array, offset = 0, kind: KeypointKind = 'joints'): RootFeatures | null {
  const c = encodeKeypoints(kp, out, offset, kind);
  if (!c) return null;
  const box = rootnetBox(kp);
  if (!box) return null;
  const o = offset + POSENET_INPUT_DIM;
  out[o] = Math.log(c.s);
  out[o + 1] = Math.log((box.x1 - box.x0) / c.s);
  out[o + 2] = Math.log((box.y1 - box.y0) / c.s);
  return { k: kValueNormalized(boxArea(box)), box };
}
