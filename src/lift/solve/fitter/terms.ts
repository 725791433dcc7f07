/**
 * The fitter's residual terms and their analytic Jacobians (reprojection, pose prior, depth, bone lengths,
 * hinges), accumulated into dense or banded normal equations.
 */
import { BandMatrix } from '../linalg.js';
import { HINGES, NJ, NLEN, type Hinge } from '../skeleton.js';
import { BONE_LEN, CHAINS, NP_FRAME, type Problem, type State, forward } from './problem.js';

// ---------------------------------------------------------------------------------------------------
// Residual rows and normal-equation accumulators

/** A sparse Jacobian row: (column, value) pairs. */
export class Row {
  idx = new Int32Array(128);
  val = new Float64Array(128);
  n = 0;
  push(i: number, v: number): void { this.idx[this.n] = i; this.val[this.n] = v; this.n++; }
}

export interface Acc { addRow(row: Row, r: number): void; }

export class DenseAcc implements Acc {
  readonly H: Float64Array; readonly g: Float64Array;
  constructor(readonly n: number) { this.H = new Float64Array(n * n); this.g = new Float64Array(n); }
  clear(): void { this.H.fill(0); this.g.fill(0); }
  addRow(row: Row, r: number): void {
    const { idx, val, n } = row, N = this.n, H = this.H, g = this.g;
    for (let a = 0; a < n; a++) {
      const ia = idx[a], va = val[a];
      if (va === 0) continue;
      g[ia] += va * r;
      const base = ia * N;
      for (let b = 0; b < n; b++) { const ib = idx[b]; if (ib <= ia) H[base + ib] += va * val[b]; }
    }
  }
}

export class BandAcc implements Acc {
  readonly H: BandMatrix; readonly g: Float64Array;
  constructor(n: number, bw: number) { this.H = new BandMatrix(n, bw); this.g = new Float64Array(n); }
  clear(): void { this.H.clear(); this.g.fill(0); }
  addRow(row: Row, r: number): void {
    const { idx, val, n } = row, d = this.H.data, w = this.H.bw + 1, bw = this.H.bw, g = this.g;
    for (let a = 0; a < n; a++) {
      const ia = idx[a], va = val[a];
      if (va === 0) continue;
      g[ia] += va * r;
      const base = ia * w + bw - ia;
      for (let b = 0; b < n; b++) { const ib = idx[b]; if (ib <= ia) d[base + ib] += va * val[b]; }
    }
  }
}

/** Append the Jacobian of a scalar g . X_j (or g . (X_j - T) when withT is false) w.r.t. frame params. */
export function pushJoint(row: Row, j: number, g0: number, g1: number, g2: number, withT: boolean, s: State,
  e1: Float64Array, e2: Float64Array, off: number, lenFree: boolean): void {
  if (withT) { row.push(off, g0); row.push(off + 1, g1); row.push(off + 2, g2); }
  const chain = CHAINS[j];
  for (let i = 0; i < chain.length; i++) {
    const k = chain[i], k3 = k * 3, L = s.len[BONE_LEN[k]];
    row.push(off + 1 + 2 * k, L * (g0 * e1[k3] + g1 * e1[k3 + 1] + g2 * e1[k3 + 2]));
    row.push(off + 2 + 2 * k, L * (g0 * e2[k3] + g1 * e2[k3 + 1] + g2 * e2[k3 + 2]));
    if (lenFree) row.push(off + NP_FRAME + BONE_LEN[k], g0 * s.dir[k3] + g1 * s.dir[k3 + 1] + g2 * s.dir[k3 + 2]);
  }
}

/** Scratch buffers for one frame's linearisation. */
export class Work {
  X = new Float64Array(NJ * 3);
  e1 = new Float64Array(NJ * 3);
  e2 = new Float64Array(NJ * 3);
  row = new Row();
}

/**
 * Cost of one frame's terms at state s (joints X already computed by forward(s, X)); with acc given,
 * also accumulates the Gauss-Newton normal equations (e1, e2 must hold the tangent bases of s).
 */
export function frameTerms(p: Problem, s: State, X: Float64Array, acc: Acc | null, off: number, lenFree: boolean,
  e1: Float64Array, e2: Float64Array, row: Row): number {
  let cost = 0;
  // 2D reprojection, robust
  for (let j = 0; j < NJ; j++) {
    const c = p.c[j];
    if (c === 0) continue;
    const j3 = j * 3, x = X[j3], y = X[j3 + 1], z = X[j3 + 2];
    if (!(z > 1)) return Infinity;
    const iz = 1 / z;
    const ex = p.fx * (x * iz - p.u[j]), ey = p.fy * (y * iz - p.v[j]);
    const sq = ex * ex + ey * ey;
    let rho: number, wgt: number;
    if (p.k2 === Infinity) { rho = sq; wgt = 1; } else {
      const den = sq + p.k2;
      rho = (sq * p.k2) / den; wgt = (p.k2 * p.k2) / (den * den);
    }
    cost += c * p.invPx2 * rho;
    if (acc) {
      const sw = Math.sqrt(c * p.invPx2 * wgt);
      row.n = 0;
      pushJoint(row, j, sw * p.fx * iz, 0, -sw * p.fx * x * iz * iz, true, s, e1, e2, off, lenFree);
      acc.addRow(row, sw * ex);
      row.n = 0;
      pushJoint(row, j, 0, sw * p.fy * iz, -sw * p.fy * y * iz * iz, true, s, e1, e2, off, lenFree);
      acc.addRow(row, sw * ey);
    }
  }
  // root-relative prior
  const T0 = X[0], T1 = X[1], T2 = X[2];
  for (let j = 1; j < NJ; j++) {
    const w = p.relW[j];
    if (w === 0) continue;
    const j3 = j * 3;
    const r0 = X[j3] - T0 - p.relT[j3], r1 = X[j3 + 1] - T1 - p.relT[j3 + 1], r2 = X[j3 + 2] - T2 - p.relT[j3 + 2];
    cost += w * (r0 * r0 + r1 * r1 + r2 * r2);
    if (acc) {
      const sw = Math.sqrt(w);
      row.n = 0; pushJoint(row, j, sw, 0, 0, false, s, e1, e2, off, lenFree); acc.addRow(row, sw * r0);
      row.n = 0; pushJoint(row, j, 0, sw, 0, false, s, e1, e2, off, lenFree); acc.addRow(row, sw * r1);
      row.n = 0; pushJoint(row, j, 0, 0, sw, false, s, e1, e2, off, lenFree); acc.addRow(row, sw * r2);
    }
  }
  // root translation prior (depth weak, x/y negligible: only keeps the system regular)
  for (let d = 0; d < 3; d++) {
    const w = d === 2 ? p.wTz : p.wTxy, r = s.T[d] - p.T0[d];
    cost += w * r * r;
    if (acc) { const sw = Math.sqrt(w); row.n = 0; row.push(off + d, sw); acc.addRow(row, sw * r); }
  }
  // bone lengths
  if (lenFree) {
    for (let u = 0; u < NLEN; u++) {
      const r = s.len[u] - p.lenT[u];
      cost += p.wLen * r * r;
      if (acc) { const sw = Math.sqrt(p.wLen); row.n = 0; row.push(off + NP_FRAME + u, sw); acc.addRow(row, sw * r); }
    }
  }
  // hinge limits
  if (p.limits) for (const h of HINGES) cost += hingeTerm(p, h, s, X, acc, off, lenFree, e1, e2, row);
  return cost;
}

export function hingeTerm(p: Problem, h: Hinge, s: State, X: Float64Array, acc: Acc | null, off: number, lenFree: boolean,
  e1: Float64Array, e2: Float64Array, row: Row): number {
  const a3 = h.mid * 3, b3 = h.dist * 3, d = s.dir;
  let n0 = X[h.n1 * 3] - X[h.n0 * 3], n1 = X[h.n1 * 3 + 1] - X[h.n0 * 3 + 1], n2 = X[h.n1 * 3 + 2] - X[h.n0 * 3 + 2];
  const nn = Math.hypot(n0, n1, n2);
  if (!(nn > 1e-9)) return 0;
  n0 /= nn; n1 /= nn; n2 /= nn;
  const a0 = d[a3], a1 = d[a3 + 1], a2 = d[a3 + 2], b0 = d[b3], b1 = d[b3 + 1], b2 = d[b3 + 2];
  const sn = (a1 * b2 - a2 * b1) * n0 + (a2 * b0 - a0 * b2) * n1 + (a0 * b1 - a1 * b0) * n2;
  if (sn >= h.minSin) return 0;
  const sw = Math.sqrt(p.hingeW), r = sw * (h.minSin - sn);
  if (acc) {
    // ds/da = b x n, ds/db = n x a; residual r = sw (minSin - s) -> dr = -sw ds
    const ga0 = b1 * n2 - b2 * n1, ga1 = b2 * n0 - b0 * n2, ga2 = b0 * n1 - b1 * n0;
    const gb0 = n1 * a2 - n2 * a1, gb1 = n2 * a0 - n0 * a2, gb2 = n0 * a1 - n1 * a0;
    row.n = 0;
    row.push(off + 1 + 2 * h.mid, -sw * (ga0 * e1[a3] + ga1 * e1[a3 + 1] + ga2 * e1[a3 + 2]));
    row.push(off + 2 + 2 * h.mid, -sw * (ga0 * e2[a3] + ga1 * e2[a3 + 1] + ga2 * e2[a3 + 2]));
    row.push(off + 1 + 2 * h.dist, -sw * (gb0 * e1[b3] + gb1 * e1[b3 + 1] + gb2 * e1[b3 + 2]));
    row.push(off + 2 + 2 * h.dist, -sw * (gb0 * e2[b3] + gb1 * e2[b3 + 1] + gb2 * e2[b3 + 2]));
    // through the reference axis n = m / |m|, m = X[n1] - X[n0]: ds/dm = (I - n n^T)(a x b) / |m|
    const c0 = a1 * b2 - a2 * b1, c1 = a2 * b0 - a0 * b2, c2 = a0 * b1 - a1 * b0;
    const k = -sw / nn;
    const gm0 = k * (c0 - sn * n0), gm1 = k * (c1 - sn * n1), gm2 = k * (c2 - sn * n2);
    pushJoint(row, h.n1, gm0, gm1, gm2, false, s, e1, e2, off, lenFree);
    pushJoint(row, h.n0, -gm0, -gm1, -gm2, false, s, e1, e2, off, lenFree);
    acc.addRow(row, r);
  }
  return r * r;
}

export function reprojectionRms(p: Problem, X: Float64Array): number {
  let se = 0, n = 0;
  for (let j = 0; j < NJ; j++) {
    if (p.c[j] === 0) continue;
    const z = X[j * 3 + 2];
    const ex = p.fx * (X[j * 3] / z - p.u[j]), ey = p.fy * (X[j * 3 + 1] / z - p.v[j]);
    se += ex * ex + ey * ey; n++;
  }
  return n ? Math.sqrt(se / n) : NaN;
}
