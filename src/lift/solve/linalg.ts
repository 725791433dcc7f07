/** Small allocation-free solvers for the fitter's normal equations (symmetric positive definite). */

/**
 * Solve A x = b for a dense SPD n x n matrix (row-major, lower triangle used), in place: `a` is
 * overwritten by its Cholesky factor, `b` by x. Returns false when A is not positive definite.
 */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
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
 */
export function bandCholeskySolve(m: BandMatrix, b: Float64Array): boolean {
  const { n, bw, data: a } = m;
  const w = bw + 1;
  for (let i = 0; i < n; i++) {
    const ri = i * w + bw - i; // a[ri + j] = (i, j)
    const j0 = Math.max(0, i - bw);
    for (let j = j0; j <= i; j++) {
      const rj = j * w + bw - j;
      // s = a(i, j) - sum_k L(i, k) L(j, k), k over the overlap of both rows' bands (unrolled by 4)
      let s = a[ri + j], s1 = 0, s2 = 0, s3 = 0;
      let p = ri + (j0 > j - bw ? j0 : j - bw), q = rj + (j0 > j - bw ? j0 : j - bw);
      const pe = ri + j, pe4 = pe - 3;
      for (; p < pe4; p += 4, q += 4) {
        s -= a[p] * a[q]; s1 += a[p + 1] * a[q + 1]; s2 += a[p + 2] * a[q + 2]; s3 += a[p + 3] * a[q + 3];
      }
      for (; p < pe; p++, q++) s -= a[p] * a[q];
      s -= s1 + s2 + s3;
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
    for (let k = Math.max(0, i - bw); k < i; k++) s -= a[ri + k] * b[k];
    b[i] = s / a[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    const k1 = Math.min(n - 1, i + bw);
    for (let k = i + 1; k <= k1; k++) s -= a[k * w + bw - k + i] * b[k];
    b[i] = s / a[i * w + bw];
  }
  return true;
}
