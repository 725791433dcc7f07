/**
 * Temporal lifter input encoding (pure math, shared by training, inference and the tests).
 *
 * A window of W frames (W odd, centre c = (W - 1) / 2) of one person's h36m17 normalised keypoints
 * (17 x [u, v, score], u = X/Z, v = Y/Z undistorted) at the model's fixed rate (TEMPORAL_FPS) -> the
 * root-relative 3D of the centre frame.
 *
 * Feature vector (temporalInputDim(W) = W x 53 + 5):
 *   per frame f (53):  17 x [ (u - cu_f) / s, (v - cv_f) / s, visible ]  each frame centred at ITS OWN pelvis
 *                                                                        (PoseNet's centre: the visible
 *                                                                        joints' mean when it is missing)
 *                      [ (cu_f - cu_c) / s, (cv_f - cv_c) / s ]          where that pelvis is relative to the
 *                                                                        centre frame's
 *   once (5):          [cu_c, cv_c]                                     the centre frame's ray
 *                      one-hot [joints, mpii, coco]                      the keypoint kind, as PoseNet's
 * with one scale for the whole window, s = the CENTRE frame's RMS radius. Why: per-frame centring keeps every
 * frame's shape in the same coordinates whatever the person's path (the network need not subtract the motion
 * to compare shapes), the two offsets keep the motion itself; one common scale keeps the relative sizes of
 * the frames (a person walking towards the camera grows), and is as scale-free as PoseNet's encoding.
 *
 * Missing frames: a frame is missing when it is outside the track (before the first or after the last
 * frame), absent (null) or not liftable alone (fewer than 4 visible joints, as `encodeKeypoints`). Its slot
 * repeats the NEAREST present frame of the window (ties: the one nearer the centre), so at the track's
 * edges the first / last frame is repeated (VideoPose3D's edge padding). The centre frame itself must be
 * present: a window with a missing centre is not lifted (null).
 */
import { encodeKeypoints, J, KEYPOINT_KINDS, POSENET_INPUT_DIM, type KeypointKind } from '../posenet/features.js';

/** Floats per frame in a window: 17 x (u, v, visible) + the pelvis offset from the centre frame's. */
export const FRAME_DIM = J * 3 + 2;
/** Floats after the frames: the centre ray (2) and the keypoint-kind one-hot (3). */
export const TAIL_DIM = 2 + KEYPOINT_KINDS.length;
/** The rate the temporal lifter's windows are sampled at (every 2nd frame of Human3.6M's 50 fps). */
export const TEMPORAL_FPS = 25;

export function temporalInputDim(window: number): number {
  return window * FRAME_DIM + TAIL_DIM;
}

/** The window length of a model with this input size, or null when it is not a temporal input size. */
export function windowOfInputDim(dim: number): number | null {
  const w = (dim - TAIL_DIM) / FRAME_DIM;
  return Number.isInteger(w) && w >= 1 && w % 2 === 1 ? w : null;
}

/**
 * Each frame of a track encoded alone: PoseNet's 56 floats (own pelvis, own RMS radius s_f), the centre
 * (cu_f, cv_f) and s_f; `ok[f]` = 0 for a missing frame. Windows are then assembled from these without
 * re-encoding (`assembleWindow`).
 */
export interface FrameCodes {
  n: number;
  enc: Float32Array;
  cu: Float64Array;
  cv: Float64Array;
  s: Float64Array;
  ok: Uint8Array;
}

/** Encode every frame of a track (null = no keypoints for that frame). */
export function encodeFrames(frames: readonly (ArrayLike<number> | null | undefined)[], kind: KeypointKind, into?: FrameCodes): FrameCodes {
  const n = frames.length;
  const c = into && into.n === n ? into : {
    n, enc: new Float32Array(n * POSENET_INPUT_DIM), cu: new Float64Array(n), cv: new Float64Array(n), s: new Float64Array(n), ok: new Uint8Array(n),
  };
  for (let f = 0; f < n; f++) {
    const kp = frames[f];
    const r = kp ? encodeKeypoints(kp, c.enc, f * POSENET_INPUT_DIM, kind) : null;
    if (r) { c.cu[f] = r.cu; c.cv[f] = r.cv; c.s[f] = r.s; c.ok[f] = 1; } else { c.ok[f] = 0; }
  }
  return c;
}

/**
 * The frame index each slot of the window centred on `centre` reads (`step` frames apart in the track),
 * after the missing-frame rule: the nearest present frame of the window (ties towards the centre).
 * Returns false (slots untouched) when the centre frame is missing.
 */
export function windowSlots(ok: ArrayLike<number>, n: number, centre: number, window: number, step: number, slots: Int32Array): boolean {
  if (!(centre >= 0 && centre < n) || !ok[centre]) return false;
  const c = (window - 1) / 2;
  const present = (k: number) => {
    const f = centre + (k - c) * step;
    return f >= 0 && f < n && ok[f] ? f : -1;
  };
  for (let k = 0; k < window; k++) {
    let f = present(k);
    // search outwards from slot k, at each distance the side nearer the centre first (it reaches the
    // present centre by d = |k - c| at the latest)
    for (let d = 1; f < 0; d++) {
      const near = k < c ? k + d : k - d, far = k < c ? k - d : k + d;
      f = present(near);
      if (f < 0 && far >= 0 && far < window) f = present(far);
    }
    slots[k] = f;
  }
  return true;
}

/**
 * Write the window features of the frames `slots` (indices into `codes`, `slots[(W-1)/2]` the centre) into
 * `out` at `offset`. Every slot must point at a present frame (`windowSlots` guarantees it).
 */
export function assembleWindow(codes: FrameCodes, slots: ArrayLike<number>, out: Float32Array, offset = 0): void {
  const W = slots.length;
  const fc = slots[(W - 1) / 2];
  const s = codes.s[fc], cu = codes.cu[fc], cv = codes.cv[fc];
  for (let k = 0; k < W; k++) {
    const f = slots[k];
    const src = f * POSENET_INPUT_DIM, dst = offset + k * FRAME_DIM;
    const r = codes.s[f] / s;
    for (let j = 0; j < J; j++) {
      out[dst + j * 3] = codes.enc[src + j * 3] * r;
      out[dst + j * 3 + 1] = codes.enc[src + j * 3 + 1] * r;
      out[dst + j * 3 + 2] = codes.enc[src + j * 3 + 2];
    }
    out[dst + J * 3] = (codes.cu[f] - cu) / s;
    out[dst + J * 3 + 1] = (codes.cv[f] - cv) / s;
  }
  const t = offset + W * FRAME_DIM;
  out[t] = cu;
  out[t + 1] = cv;
  // the kind one-hot as the centre frame's PoseNet encoding has it
  for (let i = 0; i < KEYPOINT_KINDS.length; i++) out[t + 2 + i] = codes.enc[fc * POSENET_INPUT_DIM + J * 3 + 2 + i];
}

/**
 * One window from its W frames directly (slot k = frames[k], null or unliftable = missing; the centre is
 * frames[(W-1)/2]): the features, or false when the centre frame is missing. For training and tests; a
 * track is encoded once with `encodeFrames` and its windows assembled with `windowSlots` + `assembleWindow`.
 */
export function encodeWindow(
  frames: readonly (ArrayLike<number> | null | undefined)[], out: Float32Array, offset = 0, kind: KeypointKind = 'joints',
  scratch?: { codes?: FrameCodes; slots?: Int32Array },
): boolean {
  const W = frames.length;
  if (W % 2 !== 1) throw new Error(`encodeWindow: the window must have an odd number of frames, got ${W}`);
  const codes = encodeFrames(frames, kind, scratch?.codes);
  if (scratch) scratch.codes = codes;
  const slots = scratch?.slots && scratch.slots.length === W ? scratch.slots : new Int32Array(W);
  if (scratch) scratch.slots = slots;
  if (!windowSlots(codes.ok, W, (W - 1) / 2, W, 1, slots)) return false;
  assembleWindow(codes, slots, out, offset);
  return true;
}
