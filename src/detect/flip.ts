/**
 * Flip test for single-person keypoint detectors (pure functions, no I/O): the detector also sees the mirrored
 * image, its keypoints are mirrored back (x -> width - x, left and right swapped), and the two answers are
 * fused joint by joint. Where they agree (closer than FLIP_AGREE of the person's size) the positions are
 * averaged, weighted by score; where they disagree, the more confident answer wins. This is what repairs
 * MoveNet's best-known failure, both ankles (or knees, wrists) put on one spot: on Human3.6M S5 sitting
 * down, MoveNet Thunder puts the raised left ankle 124 px off at score 0.52 and, on the mirrored image,
 * 11 px off at score 0.79 (README, "From pixels on the four photos").
 */
import type { RgbFrame } from './types.js';

/** The frame mirrored left-right (a new buffer). */
export function mirrorFrame(frame: RgbFrame): RgbFrame {
  const { width: w, height: h, data } = frame;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * 3;
    for (let x = 0; x < w; x++) {
      const d = row + x * 3, s = row + (w - 1 - x) * 3;
      out[d] = data[s]; out[d + 1] = data[s + 1]; out[d + 2] = data[s + 2];
    }
  }
  return { width: w, height: h, data: out };
}

/** Two answers closer than this share of the person's size (the longer side of their keypoint box) agree. */
export const FLIP_AGREE = 0.1;

/**
 * Index permutation that mirrors a layout given its joint names: every name with `left` maps to the same
 * name with `right` and back (`left_eye_inner` <-> `right_eye_inner`, `mouth_left` <-> `mouth_right`);
 * names without a side map to themselves. Throws when a side has no partner.
 */
export function flipPermutation(names: readonly string[]): number[] {
  return names.map((n, i) => {
    if (!/left|right/.test(n)) return i;
    const m = n.replace(/left|right/g, (s) => (s === 'left' ? 'right' : 'left'));
    const k = names.indexOf(m);
    if (k < 0) throw new Error(`flipPermutation: joint "${n}" has no mirrored partner "${m}"`);
    return k;
  });
}

/** Keypoints (n x [x, y, score], px) of the mirrored image, mapped back onto the original image. */
export function unmirrorKeypoints(data: ArrayLike<number>, perm: readonly number[], width: number): Float64Array {
  const out = new Float64Array(perm.length * 3);
  for (let i = 0; i < perm.length; i++) {
    const f = perm[i];
    out[i * 3] = width - data[f * 3];
    out[i * 3 + 1] = data[f * 3 + 1];
    out[i * 3 + 2] = data[f * 3 + 2];
  }
  return out;
}

/** The longer side of the box of all keypoints, px. */
function size(a: ArrayLike<number>): number {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < a.length; i += 3) {
    x0 = Math.min(x0, a[i]); x1 = Math.max(x1, a[i]);
    y0 = Math.min(y0, a[i + 1]); y1 = Math.max(y1, a[i + 1]);
  }
  return Math.max(x1 - x0, y1 - y0);
}

/**
 * Fuse the original answer `a` with the mirrored-back answer `b` (same layout, n x [x, y, score], px).
 * Agreeing joints: score-weighted mean position, mean score. Disagreeing joints: the higher-scoring answer.
 * The person's size is the mean of the two answers' sizes.
 */
export function fuseFlipped(a: ArrayLike<number>, b: ArrayLike<number>, agree = FLIP_AGREE): Float64Array {
  if (a.length !== b.length || a.length % 3 !== 0) throw new Error(`fuseFlipped: answers of ${a.length} and ${b.length} values`);
  const tol = agree * 0.5 * (size(a) + size(b));
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i += 3) {
    const sa = a[i + 2], sb = b[i + 2];
    if (Math.hypot(a[i] - b[i], a[i + 1] - b[i + 1]) <= tol) {
      const w = sa + sb > 0 ? sa / (sa + sb) : 0.5;
      out[i] = w * a[i] + (1 - w) * b[i];
      out[i + 1] = w * a[i + 1] + (1 - w) * b[i + 1];
      out[i + 2] = 0.5 * (sa + sb);
    } else {
      const src = sb > sa ? b : a;
      out[i] = src[i]; out[i + 1] = src[i + 1]; out[i + 2] = src[i + 2];
    }
  }
  return out;
}
