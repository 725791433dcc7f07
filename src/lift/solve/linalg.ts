/** Small allocation-free solvers for the fitter's normal equations (symmetric positive definite). */

/**
 * Solve A x = b for a dense SPD n x n matrix (row-major, lower triangle used), in place: `a` is
 * overwritten by its Cholesky factor, `b` by x. Returns false when A is not positive definite.
 */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    // two columns j, j + 1 at a time share the loads of row i (as bandCholeskySolve)
    let j = 0;
    for (; j + 1 < i; j += 2) {
      const rj = j * n, rj1 = rj + n;
      let s = a[ri + j], t = a[ri + j + 1];
      for (let k = 0; k < j; k++) { const x = a[ri + k]; s -= x * a[rj + k]; t -= x * a[rj1 + k]; }
      const lij = s / a[rj + j];
      a[ri + j] = lij;
      a[ri + j + 1] = (t - lij * a[rj1 + j]) / a[rj1 + j + 1];
    }
    for (; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      if (i === j) {
        if (!(s > 0)) return false;
        a[ri + i] = Math.sqrt(s);
      } else {
        a[ri + j] = s / a[rj + j];
      }
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const ri = i * n;
    for (let k = 0; k < i; k++) s -= a[ri + k] * b[k];
    b[i] = s / a[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= a[k * n + i] * b[k];
    b[i] = s / a[i * n + i];
  }
  return true;
}

/**
 * Symmetric banded matrix of size n with half-bandwidth bw: entry (i, j), i - bw <= j <= i, is stored at
 * i * (bw + 1) + (j - i + bw).
 */
export class BandMatrix {
  readonly data: Float64Array;
  constructor(readonly n: number, readonly bw: number) {
    this.data = new Float64Array(n * (bw + 1));
  }
  /** Index of (i, j) with j <= i, |i - j| <= bw. */
  at(i: number, j: number): number {
    return i * (this.bw + 1) + (j - i + this.bw);
  }
  clear(): void {
    this.data.fill(0);
  }
}

/**
 * Solve M x = b with M symmetric positive definite banded; `m` is factorised in place (L L^T), `b` is
 * overwritten by x. Cost n bw^2 / 2. Returns false when M is not positive definite.
 *
 * `first` (optional, nondecreasing): the first structurally non-zero column of each row of M (its envelope,
 * e.g. a block band whose row i only reaches back to the start of the frame two frames before its own). The
 * factor keeps that envelope, so the entries left of it are neither read nor written (they must be zero):
 * the same answer for less work.
 */
export function bandCholeskySolve(m: BandMatrix, b: Float64Array, first?: ArrayLike<number>): boolean {
  const { n, bw, data: a } = m;
  const w = bw + 1;
  const lo = (i: number): number => {
    const f = i - bw > 0 ? i - bw : 0;
    return first && first[i] > f ? first[i] : f;
  };
  for (let i = 0; i < n; i++) {
    const ri = i * w + bw - i; // a[ri + j] = (i, j)
    const j0 = lo(i);
    // L(i, j) = (a(i, j) - sum_k L(i, k) L(j, k)) / L(j, j), k from j0 (row i's envelope and band start at or
    // after row j's: j <= i and the envelope is nondecreasing) to j - 1. Two columns j, j + 1 at a time share
    // the loads of row i; column j + 1 then takes the term of k = j once L(i, j) is known.
    let j = j0;
    for (; j + 1 < i; j += 2) {
      const rj = j * w + bw - j, rj1 = rj + w - 1; // a[rj1 + k] = (j + 1, k)
      let s = a[ri + j], t = a[ri + j + 1], s1 = 0, t1 = 0;
      let k = j0;
      for (; k + 1 < j; k += 2) {
        const x0 = a[ri + k], x1 = a[ri + k + 1];
        s -= x0 * a[rj + k]; s1 += x1 * a[rj + k + 1];
        t -= x0 * a[rj1 + k]; t1 += x1 * a[rj1 + k + 1];
      }
      for (; k < j; k++) { const x = a[ri + k]; s -= x * a[rj + k]; t -= x * a[rj1 + k]; }
      s -= s1;
      const lij = s / a[rj + j];
      a[ri + j] = lij;
      a[ri + j + 1] = (t - t1 - lij * a[rj1 + j]) / a[rj1 + j + 1];
    }
    for (; j <= i; j++) {
      const rj = j * w + bw - j;
      let s = a[ri + j];
      for (let k = j0; k < j; k++) s -= a[ri + k] * a[rj + k];
      if (i === j) {
        if (!(s > 0)) return false;
        a[ri + i] = Math.sqrt(s);
      } else {
        a[ri + j] = s / a[rj + j];
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const ri = i * w + bw - i;
    let s = b[i];
    for (let k = lo(i); k < i; k++) s -= a[ri + k] * b[k];
    b[i] = s / a[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    const k1 = Math.min(n - 1, i + bw);
    for (let k = i + 1; k <= k1; k++) s -= a[k * w + bw - k + i] * b[k]; // zero left of row k's envelope
    b[i] = s / a[i * w + bw];
  }
  return true;
}
