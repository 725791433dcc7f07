/**
 * The fitter's SPD solvers against known answers: A x = b with x chosen first, dense and banded (with and
 * without the block envelope the sequence fitter passes), and a matrix that is not positive definite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BandMatrix, bandCholeskySolve, choleskySolve } from '../../src/lift/solve/linalg.js';
import { Rng } from '../../src/util/rng.js';

/** Reproducible values in [-0.5, 0.5) (the project's seeded generator). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next() - 0.5;
}

/**
 * A block-banded SPD matrix: `frames` blocks of `size` parameters, each block coupled to the two blocks before
 * it (the acceleration terms' structure), as a sum of rank-one terms over three consecutive blocks + a ridge.
 */
function blockBand(frames: number, size: number, seed: number): Float64Array {
  const n = frames * size, r = rng(seed), A = new Float64Array(n * n);
  for (let t = 0; t + 2 < frames; t++) {
    for (let term = 0; term < 2 * size; term++) {
      const v = new Float64Array(n);
      for (let i = t * size; i < (t + 3) * size; i++) v[i] = r();
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += v[i] * v[j];
    }
  }
  for (let i = 0; i < n; i++) A[i * n + i] += 0.1;
  return A;
}

function mul(A: Float64Array, x: Float64Array): Float64Array {
  const n = x.length, b = new Float64Array(n);
  for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < n; j++) s += A[i * n + j] * x[j]; b[i] = s; }
  return b;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('choleskySolve recovers x from A x on dense SPD matrices of every small size, odd and even', () => {
  for (const n of [1, 2, 3, 7, 8, 35, 45]) {
    const r = rng(n);
    const R = Float64Array.from({ length: n * n }, r);
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < n; k++) s += R[i * n + k] * R[j * n + k];
      A[i * n + j] = s;
    }
    const x = Float64Array.from({ length: n }, r);
    const b = mul(A, x);
    assert.ok(choleskySolve(Float64Array.from(A), b, n), `n = ${n}: positive definite`);
    assert.ok(maxDiff(b, x) < 1e-9, `n = ${n}: max |x - x*| = ${maxDiff(b, x)}`);
  }
});

test('choleskySolve and bandCholeskySolve refuse a matrix that is not positive definite', () => {
  // [[1, 2], [2, 1]]: eigenvalues 3 and -1
  assert.equal(choleskySolve(Float64Array.of(1, 2, 2, 1), Float64Array.of(1, 1), 2), false);
  const m = new BandMatrix(2, 1);
  m.data[m.at(0, 0)] = 1; m.data[m.at(1, 0)] = 2; m.data[m.at(1, 1)] = 1;
  assert.equal(bandCholeskySolve(m, Float64Array.of(1, 1)), false);
});

test('bandCholeskySolve with and without the block envelope gives the dense answer on a block-banded matrix', () => {
  for (const [frames, size] of [[6, 5], [9, 4], [4, 35]] as const) {
    const n = frames * size, bw = 3 * size - 1;
    const A = blockBand(frames, size, frames * 100 + size);
    const r = rng(7);
    const x = Float64Array.from({ length: n }, r);
    const b = mul(A, x);
    const band = (): BandMatrix => {
      const m = new BandMatrix(n, bw);
      for (let i = 0; i < n; i++) for (let j = Math.max(0, i - bw); j <= i; j++) m.data[m.at(i, j)] = A[i * n + j];
      return m;
    };
    // the envelope: a block's rows reach back to the start of the block two before theirs
    const first = Int32Array.from({ length: n }, (_, i) => Math.max(0, (Math.floor(i / size) - 2) * size));
    for (let i = 0; i < n; i++) for (let j = 0; j < first[i]; j++) assert.equal(A[i * n + j], 0, 'the test matrix keeps its envelope');
    const xPlain = Float64Array.from(b), xEnv = Float64Array.from(b), xDense = Float64Array.from(b);
    assert.ok(bandCholeskySolve(band(), xPlain));
    assert.ok(bandCholeskySolve(band(), xEnv, first));
    assert.ok(choleskySolve(Float64Array.from(A), xDense, n));
    const scale = Math.max(...Array.from(x, Math.abs));
    assert.ok(maxDiff(xPlain, x) < 1e-8 * scale, `${frames} x ${size}: band ${maxDiff(xPlain, x)}`);
    assert.ok(maxDiff(xEnv, x) < 1e-8 * scale, `${frames} x ${size}: envelope ${maxDiff(xEnv, x)}`);
    assert.ok(maxDiff(xEnv, xDense) < 1e-9 * scale, `${frames} x ${size}: envelope vs dense ${maxDiff(xEnv, xDense)}`);
  }
});
