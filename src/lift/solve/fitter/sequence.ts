/** A track's frames fitted together: shared bone lengths and the acceleration term (banded normal equations). */
import { BandMatrix, bandCholeskySolve } from '../linalg.js';
import { CANONICAL_LENGTHS, NJ, NLEN } from '../skeleton.js';
import { median } from '../../../util/numeric.js';
import { type FitFrame, type FitResult, NP_FRAME, type Problem, type SequenceOptions, type State, applyStep, boneLengthTargets, checkFrame, cloneState, copyState, forward, initState, makeProblem, mirrorHinges, resolve, tangentBases } from './problem.js';
import { BandAcc, Work, frameTerms, pushJoint } from './terms.js';
import { resultOf, solveFrame } from './frame.js';

// ---------------------------------------------------------------------------------------------------
// Sequences

/**
 * Fit a track (consecutive frames of one person at `fps`). Bone lengths are fixed for the whole track
 * (per-bone median of the per-frame targets); every frame is first fitted alone, then windows of
 * `window` frames are solved jointly with the acceleration term (block-banded normal equations, banded
 * Cholesky, cost linear in the number of frames). A window commits all but its last `overlap` frames;
 * the next window starts at the first uncommitted frame and its acceleration terms reach back to the two
 * committed frames before it (held fixed), so the result is continuous across windows.
 */
export function fitSequence(frames: readonly FitFrame[], fps: number, opts: SequenceOptions = {}): FitResult[] {
  const N = frames.length;
  if (N === 0) return [];
  if (!(fps > 0)) throw new Error(`fitSequence: fps must be positive, got ${fps}`);
  frames.forEach(checkFrame);
  const r = resolve(opts);
  const Wn = Math.max(3, Math.floor(opts.window ?? 64));
  const overlap = Math.min(Wn - 1, Math.max(0, Math.floor(opts.overlap ?? 16)));
  const seqIter = opts.sequenceIterations ?? 4;
  const initIter = Math.max(0, Math.floor(opts.initIterations ?? r.maxIter));
  const accSigma = (opts.accelSigmaMmS2 ?? 5000) / (fps * fps);
  const wAcc = 1 / (accSigma * accSigma);

  // track bone lengths: median over frames of the per-frame targets
  let lengths: Float64Array;
  if (opts.boneLengths) {
    lengths = Float64Array.from(opts.boneLengths);
  } else {
    const per: number[][] = Array.from({ length: NLEN }, () => []);
    for (const f of frames) {
      const t = boneLengthTargets(f.rel, r.blend);
      for (let u = 0; u < NLEN; u++) if (Number.isFinite(t[u])) per[u].push(t[u]);
    }
    lengths = new Float64Array(NLEN);
    for (let u = 0; u < NLEN; u++) lengths[u] = median(per[u]) || CANONICAL_LENGTHS[u];
  }

  // per-frame fits with the track's lengths (fixed)
  const probs: Problem[] = [];
  const states: State[] = [];
  const iters = new Int32Array(N);
  const w = new Work();
  for (let t = 0; t < N; t++) {
    const p = makeProblem(frames[t], r, lengths);
    if (r.fixHinges) mirrorHinges(p);
    const s = initState(p);
    iters[t] = solveFrame(p, s, false, initIter, w);
    probs.push(p); states.push(s);
  }
  if (N < 3 || !(wAcc > 0) || !Number.isFinite(wAcc)) {
    return states.map((s, t) => { const X = new Float64Array(NJ * 3); forward(s, X); return resultOf(probs[t], X, iters[t]); });
  }

  // joint windows
  const Xs: Float64Array[] = states.map((s) => { const X = new Float64Array(NJ * 3); forward(s, X); return X; });
  const E1: Float64Array[] = [], E2: Float64Array[] = [];
  for (let t = 0; t < Math.min(N, Wn); t++) { E1.push(new Float64Array(NJ * 3)); E2.push(new Float64Array(NJ * 3)); }
  const trials: State[] = [];
  const Xtr: Float64Array[] = [];
  for (let t = 0; t < Math.min(N, Wn); t++) { trials.push(cloneState(states[0])); Xtr.push(new Float64Array(NJ * 3)); }
  const row = w.row;

  for (let a = 0; a < N;) {
    const b = Math.min(N, a + Wn);
    const commit = b === N ? N : Math.max(a + 1, b - overlap);
    const m = b - a;
    const n = m * NP_FRAME;
    const bw = Math.min(n - 1, 3 * NP_FRAME - 1);
    const acc = new BandAcc(n, bw);
    const Hd = new BandMatrix(n, bw);
    const delta = new Float64Array(n);
    // the envelope: a frame's parameters meet those of the two frames before it (acceleration terms), no earlier
    const first = new Int32Array(n);
    for (let i = 0; i < n; i++) first[i] = Math.max(0, (Math.floor(i / NP_FRAME) - 2) * NP_FRAME);
    let lambda = 1e-6;
    const xsFree = (t: number, trial: boolean) => (trial && t >= a ? Xtr[t - a] : Xs[t]);

    const windowCost = (trial: boolean, withAcc: boolean): number => {
      let cost = 0;
      for (let t = a; t < b; t++) {
        const s = trial ? trials[t - a] : states[t];
        const X = xsFree(t, trial);
        const o = (t - a) * NP_FRAME;
        cost += frameTerms(probs[t], s, X, withAcc ? acc : null, o, false, E1[t - a], E2[t - a], row);
        if (cost === Infinity) return cost;
      }
      // acceleration terms with centre c, frames c-1, c, c+1 inside [max(0, a-2), b), at least one free
      const c0 = Math.max(1, a - 1), c1 = b - 2;
      const sw = Math.sqrt(wAcc);
      for (let c = c0; c <= c1; c++) {
        const Xa = xsFree(c - 1, trial), Xb = xsFree(c, trial), Xc = xsFree(c + 1, trial);
        for (let j = 0; j < NJ; j++) {
          for (let d = 0; d < 3; d++) {
            const q = j * 3 + d;
            const res = sw * (Xa[q] - 2 * Xb[q] + Xc[q]);
            cost += res * res;
            if (!withAcc) continue;
            row.n = 0;
            for (let k = 0; k < 3; k++) {
              const t = c - 1 + k;
              if (t < a) continue;
              const coef = k === 1 ? -2 * sw : sw;
              const s = states[t];
              pushJoint(row, j, d === 0 ? coef : 0, d === 1 ? coef : 0, d === 2 ? coef : 0, true, s,
                E1[t - a], E2[t - a], (t - a) * NP_FRAME, false);
            }
            acc.addRow(row, res);
          }
        }
      }
      return cost;
    };

    let it = 0;
    for (; it < seqIter; it++) {
      for (let t = a; t < b; t++) tangentBases(states[t], E1[t - a], E2[t - a]);
      acc.clear();
      const cBefore = windowCost(false, true);
      let accepted = false, cAfter = cBefore;
      while (lambda < 1e10) {
        Hd.data.set(acc.H.data);
        for (let i = 0; i < n; i++) {
          const ii = Hd.at(i, i);
          Hd.data[ii] += lambda * Hd.data[ii] + 1e-9;
          delta[i] = -acc.g[i];
        }
        if (bandCholeskySolve(Hd, delta, first)) {
          for (let t = a; t < b; t++) {
            copyState(trials[t - a], states[t]);
            applyStep(trials[t - a], delta, (t - a) * NP_FRAME, false, E1[t - a], E2[t - a]);
            forward(trials[t - a], Xtr[t - a]);
          }
          cAfter = windowCost(true, false);
          if (cAfter < cBefore) { accepted = true; break; }
        }
        lambda *= 8;
      }
      if (!accepted) break;
      for (let t = a; t < b; t++) { copyState(states[t], trials[t - a]); Xs[t].set(Xtr[t - a]); }
      lambda = Math.max(lambda / 4, 1e-9);
      if (cBefore - cAfter < 1e-6 * cBefore + 1e-12) { it++; break; }
    }
    for (let t = a; t < commit; t++) iters[t] += it;
    a = commit;
  }
  return Xs.map((X, t) => resultOf(probs[t], X, iters[t]));
}
