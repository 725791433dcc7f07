/**
 * Metrics: known answers on constructed errors and on a real Human3.6M pose (read directly from the
 * shared data folder, outside the repository).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DATA } from '../helpers.js';
import {
  AUC_THRESHOLDS, MetricsAccumulator, accelError, auc, mpjpe, mpjpeAbs, nMpjpe, paMpjpe, pck, procrustes, rootError,
} from '../../src/eval/metrics.js';

const dataDir = path.join(DATA, 'h36m-train');

/** A real pose (world frame, mm) of the first sequence at frame t; the data set must be there (a failure, not a stand-in). */
function realPose(t = 500): Float64Array {
  const idxFile = path.join(dataDir, 'index.json');
  if (!fs.existsSync(idxFile)) {
    throw new Error(`${idxFile} is missing: these tests measure real Human3.6M poses; put ../shared/data beside the repository or set POSELIFT_DATA`);
  }
  const index = JSON.parse(fs.readFileSync(idxFile, 'utf8')) as { sequences: { world3d: { offset: number } }[] };
  const fd = fs.openSync(path.join(dataDir, 'world3d.f32'), 'r');
  const buf = Buffer.alloc(51 * 4);
  fs.readSync(fd, buf, 0, buf.length, (index.sequences[0].world3d.offset + t * 51) * 4);
  fs.closeSync(fd);
  return Float64Array.from({ length: 51 }, (_, i) => buf.readFloatLE(i * 4));
}

function rotation(ax: number, ay: number, az: number): number[][] {
  const [ca, sa, cb, sb, cc, sc] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  const Rx = [[1, 0, 0], [0, ca, -sa], [0, sa, ca]], Ry = [[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]], Rz = [[cc, -sc, 0], [sc, cc, 0], [0, 0, 1]];
  const mul = (A: number[][], B: number[][]) => A.map((r) => [0, 1, 2].map((c) => r[0] * B[0][c] + r[1] * B[1][c] + r[2] * B[2][c]));
  return mul(Rz, mul(Ry, Rx));
}

function transform(P: Float64Array, R: number[][], s: number, t: number[]): Float64Array {
  const out = new Float64Array(P.length);
  for (let j = 0; j < P.length / 3; j++) {
    for (let a = 0; a < 3; a++) out[j * 3 + a] = s * (R[a][0] * P[j * 3] + R[a][1] * P[j * 3 + 1] + R[a][2] * P[j * 3 + 2]) + t[a];
  }
  return out;
}

const det3 = (m: number[][]) => m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
  + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);

test('Procrustes recovers a rotated, scaled and translated copy of a real pose', () => {
  const gt = realPose();
  const R = rotation(0.7, -1.2, 2.5);
  const pred = transform(gt, R, 1.37, [250, -4000, 3100]);
  assert.ok(paMpjpe(pred, gt) < 1e-6);
  assert.ok(mpjpe(pred, gt) > 100);
  const p = procrustes(pred, gt)!;
  assert.ok(Math.abs(p.s - 1 / 1.37) < 1e-9);
  assert.ok(Math.abs(det3(p.R) - 1) < 1e-9);
  // R undoes the rotation: R_pa R = I
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
    const v = p.R[a][0] * R[0][b] + p.R[a][1] * R[1][b] + p.R[a][2] * R[2][b];
    assert.ok(Math.abs(v - (a === b ? 1 : 0)) < 1e-9);
  }
  // a NaN gt joint is skipped, the rest still aligns exactly
  const gtNan = Float64Array.from(gt); gtNan[30] = NaN;
  assert.ok(paMpjpe(pred, gtNan) < 1e-6);
});

test('Procrustes never reflects: a mirrored copy keeps an error, optimal among proper rotations', () => {
  const gt = realPose();
  const mirrored = Float64Array.from(gt);
  for (let j = 0; j < 17; j++) mirrored[j * 3] = -gt[j * 3] + 500; // x -> -x (det -1)
  const p = procrustes(mirrored, gt)!;
  assert.ok(Math.abs(det3(p.R) - 1) < 1e-9, 'proper rotation');
  const pa = paMpjpe(mirrored, gt);
  assert.ok(Number.isFinite(pa) && pa > 10, `pa ${pa}`);
  // optimality: no random similarity transform does better in the sum of squares
  const sse = (A: Float64Array) => A.reduce((s, v, i) => s + (v - gt[i]) ** 2, 0);
  const best = sse(p.aligned);
  let seed = 3;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  for (let k = 0; k < 200; k++) {
    const R = rotation(rnd() * 0.2, rnd() * 0.2, rnd() * 0.2);
    const Rp = R.map((r) => [0, 1, 2].map((c) => r[0] * p.R[0][c] + r[1] * p.R[1][c] + r[2] * p.R[2][c]));
    const cand = transform(mirrored, Rp, p.s * (1 + rnd() * 0.05), [0, 0, 0]);
    // best translation for the candidate: match centroids
    const t = [0, 1, 2].map((a) => { let s = 0; for (let j = 0; j < 17; j++) s += gt[j * 3 + a] - cand[j * 3 + a]; return s / 17; });
    assert.ok(sse(cand.map((v, i) => v + t[i % 3])) >= best - 1e-6);
  }
});

test('root alignment, scale alignment, absolute error and root error', () => {
  const gt = realPose();
  const shifted = gt.map((v, i) => v + [30, -40, 120][i % 3]);
  assert.ok(mpjpe(shifted, gt) < 1e-9);
  assert.ok(Math.abs(mpjpeAbs(shifted, gt) - 130) < 1e-9);
  const r = rootError(shifted, gt);
  assert.ok(Math.abs(r.error - 130) < 1e-9 && Math.abs(r.x - 30) < 1e-9 && Math.abs(r.y - 40) < 1e-9 && Math.abs(r.z - 120) < 1e-9);
  // scaled about the root: N-MPJPE removes it, MPJPE does not
  const scaled = gt.map((v, i) => gt[i % 3] + 1.2 * (v - gt[i % 3]) + 77);
  assert.ok(nMpjpe(scaled, gt) < 1e-9);
  assert.ok(mpjpe(scaled, gt) > 20);
  // one joint off by a known amount: MPJPE = 17 * ... / 17
  const one = Float64Array.from(gt); one[5 * 3 + 1] += 170;
  assert.ok(Math.abs(mpjpe(one, gt) - 10) < 1e-9);
  // NaN gt joints are skipped (16 joints left, the error is on one of them)
  const gtNan = Float64Array.from(gt); gtNan[9 * 3] = NaN;
  assert.ok(Math.abs(mpjpe(one, gtNan) - 170 / 16) < 1e-9);
  // a missing gt root makes root-aligned metrics undefined
  const noRoot = Float64Array.from(gt); noRoot[0] = NaN;
  assert.ok(Number.isNaN(mpjpe(gt, noRoot)));
  assert.throws(() => mpjpe(new Float64Array(50), gt));
});

test('PCK and AUC on constructed errors', () => {
  const gt = realPose();
  // joint j (1..16) off by 10 j + 2 mm along a fixed direction (no error on a threshold); the root is exact
  const dir = [2 / 3, -1 / 3, 2 / 3];
  const pred = gt.map((v, i) => v + (i < 3 ? 0 : 10 * Math.floor(i / 3) + 2) * dir[i % 3]);
  // errors 0, 12, 22, ..., 162: <= 150 are the root and joints 1..14
  assert.ok(Math.abs(pck(pred, gt) - 15 / 17) < 1e-12);
  assert.ok(Math.abs(pck(pred, gt, 50) - 5 / 17) < 1e-12);
  // AUC: thresholds 0..150 step 5 -> joints within th: 1 + #{j in 1..16 : 10 j + 2 <= th}
  let expected = 0;
  for (const th of AUC_THRESHOLDS) expected += (1 + Math.max(0, Math.min(16, Math.floor((th - 2) / 10)))) / 17;
  expected /= AUC_THRESHOLDS.length;
  assert.ok(Math.abs(auc(pred, gt) - expected) < 1e-12, `${auc(pred, gt)} vs ${expected}`);
  assert.equal(auc(gt, gt), 1);
  assert.equal(AUC_THRESHOLDS.length, 31);
});

test('acceleration error', () => {
  const gt = Array.from({ length: 10 }, (_, t) => realPose(500 + t));
  // constant velocity offset: no acceleration error
  const drift = gt.map((P, t) => P.map((v, i) => v + [3, -2, 5][i % 3] * t));
  assert.ok(accelError(drift, gt) < 1e-9);
  // alternating +-d in x: second difference 4 d
  const jitter = gt.map((P, t) => P.map((v, i) => v + (i % 3 === 0 ? (t % 2 ? 2.5 : -2.5) : 0)));
  assert.ok(Math.abs(accelError(jitter, gt) - 10) < 1e-9);
  assert.ok(Number.isNaN(accelError(gt.slice(0, 2), gt.slice(0, 2))));
});

test('accumulator aggregates per-frame metrics', () => {
  const gt = Array.from({ length: 12 }, (_, t) => realPose(700 + 3 * t));
  const pred = gt.map((P, t) => P.map((v, i) => v + 20 * Math.sin(t * 1.3 + i * 0.7) + (i % 3 === 2 ? 50 : 0)));
  const acc = new MetricsAccumulator();
  pred.forEach((p, t) => acc.add(p, gt[t], 'seqA'));
  const r = acc.result();
  const avg = (f: (p: Float64Array, g: Float64Array) => number) => pred.reduce((s, p, t) => s + f(p, gt[t]), 0) / pred.length;
  assert.equal(r.frames, 12);
  for (const [k, f] of [['mpjpe', mpjpe], ['pa_mpjpe', paMpjpe], ['n_mpjpe', nMpjpe], ['mpjpe_abs', mpjpeAbs], ['pck150', pck], ['auc', auc]] as const) {
    assert.ok(Math.abs(r[k] - avg(f)) < 1e-9, k);
  }
  assert.ok(Math.abs(r.mrpe - avg((p, g) => rootError(p, g).error)) < 1e-9);
  assert.ok(Math.abs(r.mrpe_xyz[2] - avg((p, g) => rootError(p, g).z)) < 1e-9);
  assert.ok(Math.abs(r.root_depth_bias - avg((p, g) => p[2] - g[2])) < 1e-9);
  // signed: every root's z is 50 mm (+ up to 20) too far here, so the bias is positive and near the absolute error
  assert.ok(r.root_depth_bias > 30 && Math.abs(r.root_depth_bias - r.mrpe_xyz[2]) < 1e-9, String(r.root_depth_bias));
  assert.ok(Math.abs(r.accel - accelError(pred, gt)) < 1e-9);
  // interleaved sequences keep their own history; frames without a sequence key give no accel
  const acc2 = new MetricsAccumulator();
  pred.forEach((p, t) => { acc2.add(p, gt[t], 'A'); acc2.add(gt[t], gt[t], 'B'); });
  assert.ok(Math.abs(acc2.result().accel - accelError(pred, gt) / 2) < 1e-9);
  const acc3 = new MetricsAccumulator();
  acc3.add(pred[0], gt[0]);
  assert.ok(Number.isNaN(acc3.result().accel));
  assert.ok(Number.isNaN(new MetricsAccumulator().result().mpjpe));
});
