/**
 * Lifting entry points: depth search (root translation) followed by the skeleton fit, for one
 * person-frame or a track.
 */
import { depthSearch, type DepthSearchOptions, type DepthSearchResult, type Vec3 } from './depth-search.js';
import { fitFrame, fitSequence, type FitFrame, type FitOptions, type FitResult, type SequenceOptions } from './fitter.js';

/** One person-frame: PoseNet / RootNet outputs and 2D keypoints (h36m17). */
export interface LiftInput {
  /** root-relative joints (17 x 3 mm, pelvis = 0, camera-frame axes) */
  rel: ArrayLike<number>;
  /**
   * the root-relative pose the depth search places to find the root (default `rel`; with the temporal lifter,
   * single-frame PoseNet's pose on the same frame, while the fitter fits `rel`)
   */
  searchRel?: ArrayLike<number>;
  /** undistorted normalised keypoints (17 x 2: X/Z, Y/Z); NaN = missing */
  kp2d: ArrayLike<number>;
  /** confidences (17) in [0, 1]; 0 / NaN = missing */
  conf: ArrayLike<number>;
  /** RootNet's root (pelvis) depth, mm */
  zRoot: number;
  /** focal lengths, px */
  fx: number;
  fy: number;
}

export interface LiftOptions extends FitOptions {
  /** depth-search settings (fx, fy come from the input) */
  search?: Omit<DepthSearchOptions, 'fx' | 'fy'>;
}

export interface LiftSequenceOptions extends SequenceOptions {
  search?: Omit<DepthSearchOptions, 'fx' | 'fy'>;
}

export interface LiftResult extends FitResult {
  /** the depth search's translation (the fit's initialisation) */
  initialRoot: Vec3;
}

function search(input: LiftInput, opts: Omit<DepthSearchOptions, 'fx' | 'fy'> | undefined): DepthSearchResult {
  return depthSearch(input.searchRel ?? input.rel, input.kp2d, input.conf, input.zRoot, { ...opts, fx: input.fx, fy: input.fy });
}

function toFrame(input: LiftInput, T: Vec3): FitFrame {
  return { rel: input.rel, kp2d: input.kp2d, conf: input.conf, T0: T, fx: input.fx, fy: input.fy };
}

/** Depth search + skeleton fit for one person-frame. */
export function liftPerson(input: LiftInput, opts: LiftOptions = {}): LiftResult {
  const ds = search(input, opts.search);
  return { ...fitFrame(toFrame(input, ds.T), opts), initialRoot: ds.T };
}

/** Depth search per frame + windowed sequence fit for a track of consecutive frames at `fps`. */
export function liftSequence(inputs: readonly LiftInput[], fps: number, opts: LiftSequenceOptions = {}): LiftResult[] {
  const roots = inputs.map((x) => search(x, opts.search).T);
  const fits = fitSequence(inputs.map((x, i) => toFrame(x, roots[i])), fps, opts);
  return fits.map((f, i) => ({ ...f, initialRoot: roots[i] }));
}

/** Depth search only: PoseNet's pose placed at the searched translation, no fit (the fitter's baseline). */
export function placePerson(input: LiftInput, opts: LiftOptions = {}): LiftResult {
  const ds = search(input, opts.search);
  const joints3d = new Float64Array(51);
  for (let j = 0; j < 17; j++) for (let a = 0; a < 3; a++) joints3d[j * 3 + a] = input.rel[j * 3 + a] + ds.T[a];
  return { joints3d, root: [joints3d[0], joints3d[1], joints3d[2]], residualPx: ds.residualPx, iterations: 0, initialRoot: ds.T };
}
