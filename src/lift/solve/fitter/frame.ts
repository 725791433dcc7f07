/** Levenberg-Marquardt on one person-frame. */
import { choleskySolve } from '../linalg.js';
import { NJ } from '../skeleton.js';
import { type FitFrame, type FitOptions, type FitResult, NP_FRAME, NP_FULL, type Problem, type State, applyStep, checkFrame, cloneState, copyState, forward, initState, makeProblem, mirrorHinges, resolve, tangentBases } from './problem.js';
import { DenseAcc, Work, frameTerms, reprojectionRms } from './terms.js';

// ---------------------------------------------------------------------------------------------------
// Single frame

export const LAMBDA0 = 1e-3;

/** Levenberg-Marquardt on one frame; s is updated in place. Returns the iteration count. */
export function solveFrame(p: Problem, s: State, lenFree: boolean, maxIter: number, w: Work): number {
  const np = lenFree ? NP_FULL : NP_FRAME;
  const acc = new DenseAcc(np);
  const A = new Float64Array(np * np), delta = new Float64Array(np);
  const trial = cloneState(s), Xt = new Float64Array(NJ * 3);
  let lambda = LAMBDA0;
  let it = 0;
  forward(s, w.X);
  for (; it < maxIter; it++) {
    tangentBases(s, w.e1, w.e2);
    acc.clear();
    const c0 = frameTerms(p, s, w.X, acc, 0, lenFree, w.e1, w.e2, w.row);
    let accepted = false, c1 = c0;
    while (lambda < 1e10) {
      A.set(acc.H);
      for (let i = 0; i < np; i++) { A[i * np + i] += lambda * A[i * np + i] + 1e-9; delta[i] = -acc.g[i]; }
      if (choleskySolve(A, delta, np)) {
        copyState(trial, s);
        applyStep(trial, delta, 0, lenFree, w.e1, w.e2);
        forward(trial, Xt);
        c1 = frameTerms(p, trial, Xt, null, 0, lenFree, w.e1, w.e2, w.row);
        if (c1 < c0) { accepted = true; break; }
      }
      lambda *= 8;
    }
    if (!accepted) break;
    copyState(s, trial);
    w.X.set(Xt);
    lambda = Math.max(lambda / 4, 1e-9);
    if (c0 - c1 < 1e-6 * c0 + 1e-12) { it++; break; }
  }
  return it;
}

export function resultOf(p: Problem, X: Float64Array, iterations: number): FitResult {
  return { joints3d: Float64Array.from(X), root: [X[0], X[1], X[2]], residualPx: reprojectionRms(p, X), iterations };
}

/** Fit the skeleton to one person-frame. */
export function fitFrame(frame: FitFrame, opts: FitOptions = {}): FitResult {
  checkFrame(frame, 0);
  const r = resolve(opts);
  const p = makeProblem(frame, r, opts.boneLengths);
  if (r.fixHinges) mirrorHinges(p);
  const s = initState(p);
  const w = new Work();
  const it = solveFrame(p, s, true, r.maxIter, w);
  forward(s, w.X);
  return resultOf(p, w.X, it);
}
