/**
 * Training-time augmentation that makes the lifters robust to real 2D detectors (pure math).
 *
 * From a camera-frame 3D pose (h36m17, mm) it makes the 2D input a detector would give:
 * - mirror (x -> -x with left/right swapped) half of the time, in 3D, so 2D and target stay consistent;
 * - exact pinhole projection (the pipeline undistorts detections before lifting, so this is what it sees);
 * - for a share of samples, Gaussian keypoint noise proportional to the person's 2D size, larger at the
 *   extremities (wrists, ankles, head), and rare gross outliers (a detector grabbing the wrong limb);
 * - missing joints: the patterns of the layouts the adapters feed (COCO/BlazePose: no spine, no head top;
 *   MPII: no spine, no neck/nose) and random single-joint drop-outs;
 * - optionally, for a share of samples, a random keypoint-definition shift: the residual a detector's hips,
 *   pelvis and thorax keep after its calibrated adapter (`DEFINITION_SPREAD`).
 */
import { H36M17_FLIP } from '../contracts/layouts.js';
import type { Rng } from '../util/rng.js';
import { torso } from '../lift/adapter.js';
import { H36M_JOINTS } from '../contracts/types.js';

const J = H36M_JOINTS;

export interface AugmentOptions {
  /** probability of mirroring */
  flip: number;
  /** probability that a sample gets keypoint noise */
  noisy: number;
  /** max noise sigma as a fraction of the RMS 2D radius (sampled uniformly in 0..max per sample) */
  noiseMax: number;
  /** per-joint probability of a gross outlier in a noisy sample */
  outlier: number;
  /** probability of the COCO-style missing pattern (spine, head top) */
  cocoPattern: number;
  /** probability of the MPII-style missing pattern (spine, neck/nose) */
  mpiiPattern: number;
  /** per-joint probability of a random drop-out (pelvis included: the encoder falls back to the mean) */
  dropJoint: number;
  /**
   * probability of a random keypoint-definition shift (`shiftDefinition`); 0 or absent = none, and no
   * random draw, so recipes trained without it stay reproducible
   */
  definition?: number;
  /**
   * samples in the COCO pattern take the form COCO-17 keypoints have once the coco17 layout maps them to h36m17
   * (`cocoFromMpii`): thorax = the shoulders' midpoint (68 mm below Human3.6M's thorax, 14 % of the torso, on S5),
   * pelvis = the hips' midpoint, neck/nose kept, spine and head top missing. Absent or false: the pattern only
   * drops the spine and head top (the single-frame networks' recipe), and no random draw changes.
   */
  cocoForm?: boolean;
}

/**
 * Spread of the keypoint-definition shift, in the adapter's own terms (src/lift/adapter.ts): the hips
 * and pelvis move along the 2D torso by N(0, shift) torso lengths, the hip width is scaled by
 * exp(N(0, logWidth)), the thorax moves by N(0, thorax) torso lengths. Set from the per-photo adapters in
 * models/keypoint-adapter.json: around each detector's mean, BlazePose's hip shift varies by 0.037 torso
 * lengths (s.d. over the four photos), its hip width by 0.22 in log, its thorax shift by 0.025; the MoveNet
 * models' by 0.02-0.04, 0.05-0.14 and 0.03-0.05.
 */
export const DEFINITION_SPREAD = { shift: 0.04, logWidth: 0.2, thorax: 0.04 } as const;

/**
 * Move the hips, pelvis and thorax of normalised keypoints (17 x [u, v, score], in place) by a random
 * definition shift relative to where they are (the adapter's transform with random parameters, applied as a
 * change: hips and pelvis + shift x torso, hips spread about their midpoint by a factor, thorax + shift x
 * torso; torso = shoulders' midpoint - hips' midpoint, the adapter's `torso`). Nothing moves when a hip or a
 * shoulder is missing or the torso has no length.
 */
export function shiftDefinition(kp: Float64Array, rng: Rng): void {
  const shift = DEFINITION_SPREAD.shift * rng.normal();
  const width = Math.exp(DEFINITION_SPREAD.logWidth * rng.normal());
  const thorax = DEFINITION_SPREAD.thorax * rng.normal();
  const t = torso(kp, 3);
  if (!t) return;
  const { hx, hy, tx, ty } = t;
  const [P, RH, LH, T] = [0, 1, 4, 8];
  for (const j of [RH, LH]) {
    kp[j * 3] = hx + shift * tx + width * (kp[j * 3] - hx);
    kp[j * 3 + 1] = hy + shift * ty + width * (kp[j * 3 + 1] - hy);
  }
  if (kp[P * 3 + 2] > 0) { kp[P * 3] += shift * tx; kp[P * 3 + 1] += shift * ty; }
  if (kp[T * 3 + 2] > 0) { kp[T * 3] += thorax * tx; kp[T * 3 + 1] += thorax * ty; }
}

export const DEFAULT_AUGMENT: AugmentOptions = {
  flip: 0.5,
  noisy: 0.6,
  noiseMax: 0.08,
  outlier: 0.01,
  cocoPattern: 0.3,
  mpiiPattern: 0.15,
  dropJoint: 0.03,
};

export const NO_AUGMENT: AugmentOptions = {
  flip: 0, noisy: 0, noiseMax: 0, outlier: 0, cocoPattern: 0, mpiiPattern: 0, dropJoint: 0,
};

/** Relative noise per joint: extremities are where detectors err most. */
const JOINT_NOISE = [1.0, 1.0, 1.2, 1.5, 1.0, 1.2, 1.5, 1.0, 0.8, 0.9, 1.3, 0.9, 1.2, 1.6, 0.9, 1.2, 1.6];

/**
 * Make one training pair. `cam3d` is 17x3 camera-frame mm (may contain NaN joints). Writes the mirrored or
 * original 3D into `target3d` and the 2D input (17 x [u, v, score], normalised) into `kp`.
 * Returns false when the pose is unusable (pelvis missing or behind the camera).
 */
export function makeSample(
  cam3d: ArrayLike<number>,
  rng: Rng,
  opt: AugmentOptions,
  target3d: Float64Array,
  kp: Float64Array,
): boolean {
  const flip = rng.next() < opt.flip;
  for (let j = 0; j < J; j++) {
    const s = flip ? H36M17_FLIP[j] : j;
    target3d[j * 3] = flip ? -cam3d[s * 3] : cam3d[s * 3];
    target3d[j * 3 + 1] = cam3d[s * 3 + 1];
    target3d[j * 3 + 2] = cam3d[s * 3 + 2];
  }
  if (!(target3d[2] > 100) || !Number.isFinite(target3d[0])) return false;
  let n = 0, mu = 0, mv = 0;
  for (let j = 0; j < J; j++) {
    const z = target3d[j * 3 + 2];
    if (Number.isFinite(z) && z > 1) {
      const u = target3d[j * 3] / z, v = target3d[j * 3 + 1] / z;
      kp[j * 3] = u; kp[j * 3 + 1] = v; kp[j * 3 + 2] = 1;
      n++; mu += u; mv += v;
    } else {
      kp[j * 3] = NaN; kp[j * 3 + 1] = NaN; kp[j * 3 + 2] = 0;
    }
  }
  if (n < 4) return false;
  if (opt.definition && rng.next() < opt.definition) shiftDefinition(kp, rng);
  if (rng.next() < opt.noisy) {
    mu /= n; mv /= n;
    let ss = 0;
    for (let j = 0; j < J; j++) {
      if (kp[j * 3 + 2] > 0) ss += (kp[j * 3] - mu) ** 2 + (kp[j * 3 + 1] - mv) ** 2;
    }
    const radius = Math.sqrt(ss / n);
    const sigma = rng.uniform(0, opt.noiseMax) * radius;
    for (let j = 0; j < J; j++) {
      if (!(kp[j * 3 + 2] > 0)) continue;
      const sj = sigma * JOINT_NOISE[j];
      kp[j * 3] += sj * rng.normal();
      kp[j * 3 + 1] += sj * rng.normal();
      if (rng.next() < opt.outlier) {
        kp[j * 3] += 0.5 * radius * rng.normal();
        kp[j * 3 + 1] += 0.5 * radius * rng.normal();
      }
    }
  }
  const r = rng.next();
  if (r < opt.cocoPattern) {
    if (opt.cocoForm) cocoFromMpii(kp, [kp[9 * 3], kp[9 * 3 + 1]]);
    else { drop(kp, 7); drop(kp, 10); }
  }
  else if (r < opt.cocoPattern + opt.mpiiPattern) { drop(kp, 7); drop(kp, 9); }
  if (opt.dropJoint > 0) {
    for (let j = 0; j < J; j++) if (rng.next() < opt.dropJoint) drop(kp, j);
  }
  return true;
}

function drop(kp: Float64Array, j: number): void {
  kp[j * 3] = NaN; kp[j * 3 + 1] = NaN; kp[j * 3 + 2] = 0;
}

/**
 * New viewpoints of a real pose. Human3.6M has four fixed cameras at chest height, so a lifter trained
 * on them alone has only ever seen people from eight azimuths (mirroring included) and one elevation;
 * photos taken from anywhere else, or a person lying or leaning, lie outside what it learned. A share of
 * the samples is therefore seen from a new, physically possible viewpoint before `makeSample`:
 * - the person turns about the vertical through the pelvis by a uniform angle (any azimuth);
 * - the camera moves up or down on the sphere around the person (the pose turns about the horizontal
 *   axis through the pelvis perpendicular to the viewing ray), Gaussian in degrees;
 * - the camera rolls about its optical axis, Gaussian in degrees.
 * The distance to the person is kept, so RootNet's depth targets stay true too.
 */
export interface ViewOptions {
  /** probability that a sample gets a new viewpoint */
  prob: number;
  /** std-dev of the elevation change, degrees */
  elevationSigmaDeg: number;
  /** std-dev of the camera roll, degrees */
  rollSigmaDeg: number;
}

export const DEFAULT_VIEW: ViewOptions = { prob: 0.5, elevationSigmaDeg: 10, rollSigmaDeg: 8 };
export const NO_VIEW: ViewOptions = { prob: 0, elevationSigmaDeg: 0, rollSigmaDeg: 0 };

/** Rotate points p_j -> c + Rot(axis, angle)(p_j - c) in place (Rodrigues; `axis` unit). */
export function rotateAbout(pts: Float64Array, axis: ArrayLike<number>, angle: number, c: ArrayLike<number>): void {
  const [kx, ky, kz] = [axis[0], axis[1], axis[2]];
  const cs = Math.cos(angle), sn = Math.sin(angle), t = 1 - cs;
  const m = [
    cs + kx * kx * t, kx * ky * t - kz * sn, kx * kz * t + ky * sn,
    ky * kx * t + kz * sn, cs + ky * ky * t, ky * kz * t - kx * sn,
    kz * kx * t - ky * sn, kz * ky * t + kx * sn, cs + kz * kz * t,
  ];
  const [cx, cy, cz] = [c[0], c[1], c[2]];
  for (let j = 0; j * 3 < pts.length; j++) {
    const x = pts[j * 3] - cx, y = pts[j * 3 + 1] - cy, z = pts[j * 3 + 2] - cz;
    pts[j * 3] = cx + m[0] * x + m[1] * y + m[2] * z;
    pts[j * 3 + 1] = cy + m[3] * x + m[4] * y + m[5] * z;
    pts[j * 3 + 2] = cz + m[6] * x + m[7] * y + m[8] * z;
  }
}

/**
 * Apply a new viewpoint to a camera-frame pose in place: turn by `yaw` about `up` (the world's up
 * direction in camera coordinates, unit) through the pelvis, tilt by `elevation` about up x ray through
 * the pelvis, roll by `roll` about the optical axis (radians). Bone lengths and the pelvis distance are
 * kept. Returns false (pose untouched) when the pelvis is undefined or on the optical centre.
 */
export function changeViewpoint(cam3d: Float64Array, up: ArrayLike<number>, yaw: number, elevation: number, roll: number): boolean {
  const pelvis = [cam3d[0], cam3d[1], cam3d[2]];
  const d = Math.hypot(pelvis[0], pelvis[1], pelvis[2]);
  if (!(d > 0)) return false;
  rotateAbout(cam3d, up, yaw, pelvis);
  const ray = [pelvis[0] / d, pelvis[1] / d, pelvis[2] / d];
  const h = [up[1] * ray[2] - up[2] * ray[1], up[2] * ray[0] - up[0] * ray[2], up[0] * ray[1] - up[1] * ray[0]];
  const hn = Math.hypot(h[0], h[1], h[2]);
  if (hn > 1e-9) rotateAbout(cam3d, [h[0] / hn, h[1] / hn, h[2] / hn], elevation, pelvis);
  rotateAbout(cam3d, [0, 0, 1], roll, [0, 0, 0]);
  return true;
}

/** Draw a viewpoint change with `opt` and apply it (or not, with probability 1 - prob). */
export function randomViewpoint(cam3d: Float64Array, up: ArrayLike<number>, rng: Rng, opt: ViewOptions): void {
  if (!(opt.prob > 0) || rng.next() >= opt.prob) return;
  const deg = Math.PI / 180;
  changeViewpoint(cam3d, up, rng.uniform(0, 2 * Math.PI), opt.elevationSigmaDeg * deg * rng.normal(), opt.rollSigmaDeg * deg * rng.normal());
}

/**
 * New poses from real ones (part mixing, after PoseAug's idea of recombining body parts). Human3.6M has
 * few people and fifteen scripted actions, so a leaned-back torso has only been seen with the limbs of the
 * few actions that lean back; a photo that combines them differently is a pose the lifter never met
 * (experiments/photo-novelty.ts: the S5 photo's nearest whole training pose is 97 mm away, but each of its limbs,
 * taken relative to its torso, has a training match within 47 mm). A share of the samples therefore gets
 * some of its limbs (each leg, each arm, the neck-head chain) from other random frames: each bone keeps its
 * own length and takes the donor's direction, expressed in the donor's torso axes and carried into the
 * sample's torso axes (legs: the hip axes; arms and head: the shoulder axes), so the result keeps the
 * sample's skeleton, torso and viewpoint.
 */
export interface MixOptions {
  /** probability that a sample gets any limbs from other frames */
  prob: number;
  /** in such a sample, the probability of each part coming from another random frame */
  partProb: number;
}

export const DEFAULT_MIX: MixOptions = { prob: 0.8, partProb: 0.5 };
export const NO_MIX: MixOptions = { prob: 0, partProb: 0 };

/** The mixable parts: a chain of joints from its (kept) root, and the torso axes its directions live in. */
export const MIX_PARTS: ReadonlyArray<{ name: string; axes: 'hips' | 'shoulders'; chain: readonly number[] }> = [
  { name: 'right leg', axes: 'hips', chain: [1, 2, 3] },
  { name: 'left leg', axes: 'hips', chain: [4, 5, 6] },
  { name: 'left arm', axes: 'shoulders', chain: [11, 12, 13] },
  { name: 'right arm', axes: 'shoulders', chain: [14, 15, 16] },
  { name: 'head', axes: 'shoulders', chain: [8, 9, 10] },
];

/**
 * Orthonormal torso axes of a pose (rows: across to the left, up-ish, forward-ish), from the left-minus-right
 * hip or shoulder vector and the pelvis-to-thorax vector; null when a joint is undefined or degenerate.
 */
export function torsoAxes(p: ArrayLike<number>, axes: 'hips' | 'shoulders'): number[][] | null {
  const [l, r] = axes === 'hips' ? [4, 1] : [11, 14];
  const x = [p[l * 3] - p[r * 3], p[l * 3 + 1] - p[r * 3 + 1], p[l * 3 + 2] - p[r * 3 + 2]];
  const up = [p[24] - p[0], p[25] - p[1], p[26] - p[2]];
  const xl = Math.hypot(x[0], x[1], x[2]);
  if (!(xl > 1e-6)) return null;
  const xn = [x[0] / xl, x[1] / xl, x[2] / xl];
  const z = [xn[1] * up[2] - xn[2] * up[1], xn[2] * up[0] - xn[0] * up[2], xn[0] * up[1] - xn[1] * up[0]];
  const zl = Math.hypot(z[0], z[1], z[2]);
  if (!(zl > 1e-6)) return null;
  const zn = [z[0] / zl, z[1] / zl, z[2] / zl];
  const y = [zn[1] * xn[2] - zn[2] * xn[1], zn[2] * xn[0] - zn[0] * xn[2], zn[0] * xn[1] - zn[1] * xn[0]];
  return [xn, y, zn];
}

/**
 * The unit direction of each bone of `part` (root outwards) in the pose's own torso axes, the coordinates
 * part mixing carries between poses; null when a joint the part or its axes need is undefined or degenerate.
 */
export function partDirections(p: ArrayLike<number>, part: (typeof MIX_PARTS)[number]): number[][] | null {
  const B = torsoAxes(p, part.axes);
  if (!B) return null;
  const c = part.chain;
  for (const j of c) if (!Number.isFinite(p[j * 3])) return null;
  const out: number[][] = [];
  for (let i = 1; i < c.length; i++) {
    const a = c[i - 1], b = c[i];
    const d = [p[b * 3] - p[a * 3], p[b * 3 + 1] - p[a * 3 + 1], p[b * 3 + 2] - p[a * 3 + 2]];
    const dl = Math.hypot(d[0], d[1], d[2]);
    if (!(dl > 1e-6)) return null;
    out.push(B.map((e) => (e[0] * d[0] + e[1] * d[1] + e[2] * d[2]) / dl));
  }
  return out;
}

/**
 * Give `pose`'s part the bone directions of `donor`'s same part (relative to each one's torso axes), keeping
 * `pose`'s bone lengths and the part's root joint. Both are 17 x 3 mm in any frames. Returns false (pose
 * untouched) when either pose lacks a joint the part needs.
 */
export function mixPart(pose: Float64Array, donor: ArrayLike<number>, part: (typeof MIX_PARTS)[number]): boolean {
  const A = torsoAxes(pose, part.axes), loc = partDirections(donor, part);
  if (!A || !loc) return false;
  const c = part.chain;
  for (const j of c) if (!Number.isFinite(pose[j * 3])) return false;
  // the pose's bone lengths before any joint moves
  const lens = c.slice(1).map((b, i) => {
    const a = c[i];
    return Math.hypot(pose[b * 3] - pose[a * 3], pose[b * 3 + 1] - pose[a * 3 + 1], pose[b * 3 + 2] - pose[a * 3 + 2]);
  });
  // each bone from its (possibly moved) start joint along A^T loc
  for (let i = 1; i < c.length; i++) {
    const a = c[i - 1], b = c[i], l = loc[i - 1];
    for (let k = 0; k < 3; k++) {
      pose[b * 3 + k] = pose[a * 3 + k] + lens[i - 1] * (A[0][k] * l[0] + A[1][k] * l[1] + A[2][k] * l[2]);
    }
  }
  return true;
}

/**
 * With probability `opt.prob`, replace each part of `pose` (17 x 3 mm, in place) with probability
 * `opt.partProb` by the same part of a pose drawn by `drawDonor` (which fills its argument). Draws nothing
 * from `rng` when `opt.prob` is 0, so a run without mixing keeps its random stream.
 */
export function randomMix(pose: Float64Array, rng: Rng, opt: MixOptions, donor: Float64Array, drawDonor: (out: Float64Array) => void): void {
  if (!(opt.prob > 0) || rng.next() >= opt.prob) return;
  for (const part of MIX_PARTS) {
    if (rng.next() >= opt.partProb) continue;
    drawDonor(donor);
    mixPart(pose, donor, part);
  }
}

/**
 * Samples from real detections (the Martinez et al. 2017 / VideoPose3D recipe): a share of the training
 * samples takes its view's stored 2D detections (pose-dataset/1 `points2d`, Human3.6M's Stacked Hourglass
 * `mpii16`) instead of the projected truth, with the true 3D as target, so the lifters learn the detector's
 * errors and its keypoint definitions (its thorax, head top and hips are not Human3.6M's joints).
 * There are no COCO-style detections of the training frames; the COCO share is made from the same real
 * detections as a COCO-style detector reports them (`cocoFromMpii`): the detector's own hips and shoulders,
 * pelvis and thorax as their midpoints, no spine and no head top.
 */
export interface DetectedOptions {
  /** probability that a sample uses its view's detections (views without detections never do) */
  prob: number;
  /** of those, the share given as COCO-style keypoints (`cocoFromMpii`), the rest as MPII-style */
  cocoShare: number;
  /** per-joint probability of a random drop-out (a detector's missed joint) */
  dropJoint: number;
  /** COCO share: the nose's noise, a fraction of the RMS 2D radius (it comes from the projected truth) */
  noseSigma: number;
}

export const NO_DETECTED: DetectedOptions = { prob: 0, cocoShare: 0, dropJoint: 0, noseSigma: 0 };

/**
 * The shipped models' recipe: half the samples from real detections (VideoPose3D trains on detections
 * only; the other half keeps the projected truth, for keypoint files and for the MPJPE from ground truth),
 * 40 % of those as COCO-style keypoints (the run path's detectors are COCO-style), 3 % joint drop-outs as in
 * DEFAULT_AUGMENT, the nose 4 % of the radius off (half the spread of the detector-like noise).
 */
export const DEFAULT_DETECTED: DetectedOptions = { prob: 0.5, cocoShare: 0.4, dropJoint: 0.03, noseSigma: 0.04 };

/**
 * An MPII-style detection mapped to h36m17 (normalised, 17 x [u, v, score]: pelvis, hips, thorax and head
 * top are the detector's; spine and neck/nose missing) turned, in place, into what a COCO-style detector
 * gives through the coco17 adapter: pelvis = the detected hips' midpoint, thorax = the detected shoulders'
 * midpoint, neck/nose = `nose` (a nose position from elsewhere, or NaN), no head top. The hips, knees,
 * ankles, shoulders, elbows and wrists stay the detector's.
 */
export function cocoFromMpii(kp: Float64Array, nose: readonly [number, number]): void {
  const mid = (t: number, a: number, b: number) => {
    const ok = kp[a * 3 + 2] > 0 && kp[b * 3 + 2] > 0;
    kp[t * 3] = ok ? 0.5 * (kp[a * 3] + kp[b * 3]) : NaN;
    kp[t * 3 + 1] = ok ? 0.5 * (kp[a * 3 + 1] + kp[b * 3 + 1]) : NaN;
    kp[t * 3 + 2] = ok ? Math.min(kp[a * 3 + 2], kp[b * 3 + 2]) : 0;
  };
  mid(0, 1, 4);
  mid(8, 11, 14);
  const okNose = Number.isFinite(nose[0]) && Number.isFinite(nose[1]);
  kp[27] = okNose ? nose[0] : NaN; kp[28] = okNose ? nose[1] : NaN; kp[29] = okNose ? 1 : 0;
  drop(kp, 7);
  drop(kp, 10);
}

/**
 * One training pair from a stored detection: `cam3d` (17 x 3 mm, camera frame) is the truth and `det` the
 * view's detection of the same frame (17 x [u, v, score], normalised, h36m17 via the mpii16 adapter).
 * Mirrors both half of the time, makes the COCO share, drops joints; writes `target3d` and `kp` and returns
 * the keypoint kind, or null when the pose is unusable (pelvis missing or behind the camera).
 */
export function makeDetectedSample(
  cam3d: ArrayLike<number>,
  det: ArrayLike<number>,
  rng: Rng,
  opt: DetectedOptions,
  target3d: Float64Array,
  kp: Float64Array,
): 'mpii' | 'coco' | null {
  const flip = rng.next() < 0.5;
  mirroredDetection(cam3d, det, flip, target3d, kp);
  if (!(target3d[2] > 100) || !Number.isFinite(target3d[0])) return null;
  const coco = rng.next() < opt.cocoShare;
  detectorForm(kp, target3d, coco, rng, opt);
  return coco ? 'coco' : 'mpii';
}

/**
 * The truth `cam3d` and the detection `det` (17 x [u, v, score], normalised h36m17) into `target3d` and `kp`,
 * mirrored together (x -> -x, left and right swapped) when `flip`; a missing detected joint is NaN, score 0.
 */
export function mirroredDetection(cam3d: ArrayLike<number>, det: ArrayLike<number>, flip: boolean, target3d: Float64Array, kp: Float64Array): void {
  for (let j = 0; j < J; j++) {
    const s = flip ? H36M17_FLIP[j] : j;
    target3d[j * 3] = flip ? -cam3d[s * 3] : cam3d[s * 3];
    target3d[j * 3 + 1] = cam3d[s * 3 + 1];
    target3d[j * 3 + 2] = cam3d[s * 3 + 2];
    const ok = Number.isFinite(det[s * 3]) && Number.isFinite(det[s * 3 + 1]) && det[s * 3 + 2] > 0;
    kp[j * 3] = ok ? (flip ? -det[s * 3] : det[s * 3]) : NaN;
    kp[j * 3 + 1] = ok ? det[s * 3 + 1] : NaN;
    kp[j * 3 + 2] = ok ? det[s * 3 + 2] : 0;
  }
}

/**
 * A detection (`kp`, in place) in the form a sample gets once mirroring and the kind are drawn: with `coco`,
 * the COCO form (`cocoFromMpii`, the nose = `target3d`'s neck/nose projected, with `noseSigma` x the RMS radius
 * of noise); then `dropJoint` drop-outs.
 */
export function detectorForm(kp: Float64Array, target3d: ArrayLike<number>, coco: boolean, rng: Rng, opt: DetectedOptions): void {
  if (coco) {
    // the nose: Human3.6M's neck/nose joint projected, with detector-sized noise
    const z = target3d[29];
    let n = 0, mu = 0, mv = 0;
    for (let j = 0; j < J; j++) if (kp[j * 3 + 2] > 0) { n++; mu += kp[j * 3]; mv += kp[j * 3 + 1]; }
    let ss = 0;
    for (let j = 0; j < J; j++) if (kp[j * 3 + 2] > 0) ss += (kp[j * 3] - mu / n) ** 2 + (kp[j * 3 + 1] - mv / n) ** 2;
    const sigma = opt.noseSigma * Math.sqrt(ss / Math.max(1, n));
    const nose: [number, number] = z > 1 && n > 0
      ? [target3d[27] / z + sigma * rng.normal(), target3d[28] / z + sigma * rng.normal()]
      : [NaN, NaN];
    cocoFromMpii(kp, nose);
  }
  if (opt.dropJoint > 0) {
    for (let j = 0; j < J; j++) if (rng.next() < opt.dropJoint) drop(kp, j);
  }
}
