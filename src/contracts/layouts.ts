/**
 * Joint layouts and adapters to the canonical `h36m17` layout.
 *
 * An adapter only maps joints that mean the same thing in both layouts (or a midpoint of two that do,
 * e.g. pelvis = mid-hips). Joints with no true equivalent (COCO has no spine or head top, MPII's "upper
 * neck" is not H36M's neck/nose) come out missing (NaN, score 0); the lifter is trained to fill them.
 */
import type { Keypoints2D } from './types.js';

export const H36M17_NAMES = [
  'pelvis', 'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee', 'left_ankle',
  'spine', 'thorax', 'neck_nose', 'head_top', 'left_shoulder', 'left_elbow', 'left_wrist',
  'right_shoulder', 'right_elbow', 'right_wrist',
] as const;

/** Kinematic tree of h36m17: parent of each joint (-1 for the pelvis root). */
export const H36M17_PARENTS = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15] as const;

/** Left/right joint pairs of h36m17 (right, left). */
export const H36M17_LR_PAIRS: ReadonlyArray<readonly [number, number]> = [
  [1, 4], [2, 5], [3, 6], [14, 11], [15, 12], [16, 13],
];

/** Index permutation that mirrors h36m17 left <-> right. */
export const H36M17_FLIP: readonly number[] = (() => {
  const p = Array.from({ length: 17 }, (_, i) => i);
  for (const [r, l] of H36M17_LR_PAIRS) { p[r] = l; p[l] = r; }
  return p;
})();

export const COCO17_NAMES = [
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
  'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
  'right_knee', 'left_ankle', 'right_ankle',
] as const;

export const MPII16_NAMES = [
  'right_ankle', 'right_knee', 'right_hip', 'left_hip', 'left_knee', 'left_ankle', 'pelvis', 'thorax',
  'upper_neck', 'head_top', 'right_wrist', 'right_elbow', 'right_shoulder', 'left_shoulder', 'left_elbow',
  'left_wrist',
] as const;

export const BLAZEPOSE33_NAMES = [
  'nose', 'left_eye_inner', 'left_eye', 'left_eye_outer', 'right_eye_inner', 'right_eye', 'right_eye_outer',
  'left_ear', 'right_ear', 'mouth_left', 'mouth_right', 'left_shoulder', 'right_shoulder', 'left_elbow',
  'right_elbow', 'left_wrist', 'right_wrist', 'left_pinky', 'right_pinky', 'left_index', 'right_index',
  'left_thumb', 'right_thumb', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
  'right_ankle', 'left_heel', 'right_heel', 'left_foot_index', 'right_foot_index',
] as const;

/** OpenPose BODY_25 (MidHip is the pelvis; Neck is OpenPose's own point between the shoulders). */
export const BODY25_NAMES = [
  'nose', 'neck', 'right_shoulder', 'right_elbow', 'right_wrist', 'left_shoulder', 'left_elbow', 'left_wrist',
  'mid_hip', 'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee', 'left_ankle', 'right_eye',
  'left_eye', 'right_ear', 'left_ear', 'left_big_toe', 'left_small_toe', 'left_heel', 'right_big_toe',
  'right_small_toe', 'right_heel',
] as const;

/** OpenPose COCO-18 (COCO-17 plus a synthetic neck, in OpenPose's order). */
export const COCO18_NAMES = [
  'nose', 'neck', 'right_shoulder', 'right_elbow', 'right_wrist', 'left_shoulder', 'left_elbow', 'left_wrist',
  'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee', 'left_ankle', 'right_eye', 'left_eye',
  'right_ear', 'left_ear',
] as const;

/** Source of one h36m17 joint: a source index, the midpoint of two, or nothing. */
type JointSource = number | readonly [number, number] | null;

interface LayoutDef {
  names: readonly string[];
  /** for each of the 17 h36m joints, where it comes from in this layout */
  toH36m: readonly JointSource[];
}

export const LAYOUTS: Readonly<Record<string, LayoutDef>> = {
  h36m17: { names: H36M17_NAMES, toH36m: H36M17_NAMES.map((_, i) => i) },
  coco17: {
    names: COCO17_NAMES,
    //        pelvis    rhip rknee rank lhip lknee lank spine thorax  nose head lsho lelb lwri rsho relb rwri
    toH36m: [[11, 12], 12, 14, 16, 11, 13, 15, null, [5, 6], 0, null, 5, 7, 9, 6, 8, 10],
  },
  mpii16: {
    names: MPII16_NAMES,
    toH36m: [6, 2, 1, 0, 3, 4, 5, null, 7, null, 9, 13, 14, 15, 12, 11, 10],
  },
  blazepose33: {
    names: BLAZEPOSE33_NAMES,
    toH36m: [[23, 24], 24, 26, 28, 23, 25, 27, null, [11, 12], 0, null, 11, 13, 15, 12, 14, 16],
  },
  // OpenPose's "neck" is not H36M's neck/nose (nor its thorax): thorax is the shoulders' midpoint as for
  // coco17; spine and head top have no equivalent. BODY_25's MidHip is the pelvis.
  body25: {
    names: BODY25_NAMES,
    //        pelvis rhip rknee rank lhip lknee lank spine thorax nose head lsho lelb lwri rsho relb rwri
    toH36m: [8, 9, 10, 11, 12, 13, 14, null, [2, 5], 0, null, 5, 6, 7, 2, 3, 4],
  },
  coco18: {
    names: COCO18_NAMES,
    toH36m: [[8, 11], 8, 9, 10, 11, 12, 13, null, [2, 5], 0, null, 5, 6, 7, 2, 3, 4],
  },
};

export type LayoutName = keyof typeof LAYOUTS;

export function isKnownLayout(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(LAYOUTS, name);
}

/** The layout's definition; own keys only ("toString", "__proto__" are not layouts). */
function layoutDef(name: string): LayoutDef | undefined {
  return isKnownLayout(name) ? LAYOUTS[name] : undefined;
}

export function layoutSize(name: string): number {
  const def = layoutDef(name);
  if (!def) throw new Error(unknownLayoutMessage(name));
  return def.names.length;
}

export function unknownLayoutMessage(name: string, where = 'layout'): string {
  return `${where}: unknown joint layout "${name}"; use one of ${Object.keys(LAYOUTS).join(', ')}`;
}

/** The h36m17 joints that a layout can provide (true) or never provides (false). */
export function providedJoints(layout: string): boolean[] {
  const def = layoutDef(layout);
  if (!def) throw new Error(unknownLayoutMessage(layout));
  return def.toH36m.map((s) => s !== null);
}

/**
 * Map keypoints of any known layout to h36m17 (17 x [x, y, score]). A joint is missing (x = y = NaN,
 * score = 0) when the layout has no equivalent, when a source is NaN, or when its score is <= minScore.
 * A midpoint takes the lower score of its two sources.
 */
export function toH36m17(kp: Keypoints2D, minScore = 0): Float64Array {
  const def = layoutDef(kp.layout);
  if (!def) throw new Error(unknownLayoutMessage(kp.layout));
  const k = def.names.length;
  const src = kp.data;
  if (src.length !== k * 3) {
    throw new Error(`keypoints: layout ${kp.layout} needs ${k} x 3 values (x, y, score), got ${src.length}`);
  }
  const valid = (i: number) =>
    Number.isFinite(src[i * 3]) && Number.isFinite(src[i * 3 + 1]) && !(src[i * 3 + 2] <= minScore);
  const out = new Float64Array(17 * 3);
  for (let j = 0; j < 17; j++) {
    const s = def.toH36m[j];
    let x = NaN, y = NaN, c = 0;
    if (typeof s === 'number') {
      if (valid(s)) { x = src[s * 3]; y = src[s * 3 + 1]; c = scoreOf(src[s * 3 + 2]); }
    } else if (s) {
      const [a, b] = s;
      if (valid(a) && valid(b)) {
        // halves first: the sum of two huge finite coordinates would overflow to Infinity
        x = 0.5 * src[a * 3] + 0.5 * src[b * 3];
        y = 0.5 * src[a * 3 + 1] + 0.5 * src[b * 3 + 1];
        c = Math.min(scoreOf(src[a * 3 + 2]), scoreOf(src[b * 3 + 2]));
      }
    }
    out[j * 3] = x; out[j * 3 + 1] = y; out[j * 3 + 2] = c;
  }
  return out;
}

/** NaN scores (a layout with positions only) count as fully confident. */
function scoreOf(s: number): number {
  return Number.isFinite(s) ? Math.max(0, Math.min(1, s)) : 1;
}

