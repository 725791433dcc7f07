/**
 * The keypoint kind and the detection samples, known answers without data (src/lift/posenet/features.ts, src/train/augment.ts, src/lift/lifter.ts liftInput).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/util/rng.js';
import { H36M17_FLIP } from '../../src/contracts/layouts.js';
import { encodeKeypoints, KEYPOINT_KINDS, kindOfLayout, POSENET_INPUT_DIM, J } from '../../src/lift/posenet/features.js';
import { encodeRootFeatures, ROOTNET_INPUT_DIM } from '../../src/lift/rootnet/features.js';
import { cocoFromMpii, DEFAULT_DETECTED, makeDetectedSample } from '../../src/train/augment.js';
import { DEFINITION_JOINTS, liftInput } from '../../src/lift/lifter.js';

/** A standing person 4 m away (17 x 3 mm, camera frame), roughly Human3.6M's proportions. */
function standing(): Float64Array {
  const p = [
    [0, 0], [-130, 0], [-130, 450], [-130, 880], [130, 0], [130, 450], [130, 880],
    [0, -230], [0, -480], [0, -580], [0, -700], [170, -450], [200, -170], [220, 80], [-170, -450], [-200, -170], [-220, 80],
  ];
  const out = new Float64Array(J * 3);
  p.forEach(([x, y], j) => { out[j * 3] = 100 + x; out[j * 3 + 1] = 50 + y; out[j * 3 + 2] = 4000 + (j % 3) * 20; });
  return out;
}

const project = (p: ArrayLike<number>, j: number) => [p[j * 3] / p[j * 3 + 2], p[j * 3 + 1] / p[j * 3 + 2]];

test('kindOfLayout: h36m17 is the joints, mpii16 MPII-style, the COCO-trained layouts COCO-style', () => {
  assert.equal(kindOfLayout('h36m17'), 'joints');
  assert.equal(kindOfLayout('mpii16'), 'mpii');
  for (const l of ['coco17', 'blazepose33', 'body25', 'coco18']) assert.equal(kindOfLayout(l), 'coco');
});

test('encodeKeypoints / encodeRootFeatures: the kind is a one-hot after the pose, nothing else changes', () => {
  const kp = new Float64Array(J * 3);
  const p = standing();
  for (let j = 0; j < J; j++) { const [u, v] = project(p, j); kp[j * 3] = u; kp[j * 3 + 1] = v; kp[j * 3 + 2] = 1; }
  const rows = KEYPOINT_KINDS.map((k) => {
    const x = new Float32Array(POSENET_INPUT_DIM);
    assert.ok(encodeKeypoints(kp, x, 0, k));
    return x;
  });
  for (let i = 0; i < KEYPOINT_KINDS.length; i++) {
    assert.deepEqual(Array.from(rows[i].subarray(0, J * 3 + 2)), Array.from(rows[0].subarray(0, J * 3 + 2)));
    assert.deepEqual(Array.from(rows[i].subarray(J * 3 + 2)), KEYPOINT_KINDS.map((_, k) => (k === i ? 1 : 0)));
  }
  const r = new Float32Array(ROOTNET_INPUT_DIM);
  assert.ok(encodeRootFeatures(kp, r, 0, 'coco'));
  assert.deepEqual(Array.from(r.subarray(J * 3 + 2, J * 3 + 5)), [0, 0, 1]);
});

test('cocoFromMpii: pelvis and thorax become the hips\' and shoulders\' midpoints, the nose is given, no head top', () => {
  const kp = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) { kp[j * 3] = j; kp[j * 3 + 1] = 2 * j; kp[j * 3 + 2] = 1; }
  for (const j of [7, 9]) { kp[j * 3] = NaN; kp[j * 3 + 1] = NaN; kp[j * 3 + 2] = 0; } // the mpii16 adapter's gaps
  cocoFromMpii(kp, [0.5, -0.5]);
  assert.deepEqual([kp[0], kp[1], kp[2]], [2.5, 5, 1]); // hips 1 and 4
  assert.deepEqual([kp[24], kp[25], kp[26]], [12.5, 25, 1]); // shoulders 11 and 14
  assert.deepEqual([kp[27], kp[28], kp[29]], [0.5, -0.5, 1]);
  for (const j of [7, 10]) assert.ok(Number.isNaN(kp[j * 3]) && kp[j * 3 + 2] === 0, `joint ${j} missing`);
  for (const j of [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]) assert.deepEqual([kp[j * 3], kp[j * 3 + 1]], [j, 2 * j]);
  // a missing hip: no pelvis; no nose given: none
  kp[3] = NaN; kp[5] = 0;
  cocoFromMpii(kp, [NaN, NaN]);
  assert.ok(Number.isNaN(kp[0]) && kp[2] === 0);
  assert.ok(Number.isNaN(kp[27]) && kp[29] === 0);
});

test('makeDetectedSample: mirrored or not, the 2D stays the projection of the target; COCO share and drop-outs as set', () => {
  const cam = standing();
  // a perfect "detection": the projected truth, as the mpii16 adapter gives it (no spine, no neck/nose)
  const det = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) { const [u, v] = project(cam, j); det[j * 3] = u; det[j * 3 + 1] = v; det[j * 3 + 2] = 1; }
  for (const j of [7, 9]) { det[j * 3] = NaN; det[j * 3 + 1] = NaN; det[j * 3 + 2] = 0; }
  const rng = new Rng(7);
  const tgt = new Float64Array(J * 3), kp = new Float64Array(J * 3);
  const kinds = { mpii: 0, coco: 0 };
  let flipped = 0, dropped = 0;
  const N = 4000;
  for (let i = 0; i < N; i++) {
    const kind = makeDetectedSample(cam, det, rng, { ...DEFAULT_DETECTED, noseSigma: 0 }, tgt, kp);
    assert.ok(kind);
    kinds[kind]++;
    if (tgt[0] < 0) flipped++; // the pelvis sits at x = +100 in the original
    for (let j = 0; j < J; j++) {
      if (!(kp[j * 3 + 2] > 0)) { if (j !== 7 && !(kind === 'coco' && j === 10) && !(kind === 'mpii' && j === 9)) dropped++; continue; }
      const [u, v] = project(tgt, j);
      if (kind === 'coco' && (j === 0 || j === 8)) continue; // midpoints, checked below
      assert.ok(Math.abs(kp[j * 3] - u) < 1e-12 && Math.abs(kp[j * 3 + 1] - v) < 1e-12, `joint ${j} (${kind})`);
    }
    if (kind === 'coco' && kp[2] > 0 && kp[5] > 0 && kp[14] > 0) assert.ok(Math.abs(kp[0] - 0.5 * (kp[3] + kp[12])) < 1e-12, 'pelvis = mid-hips');
  }
  assert.ok(Math.abs(kinds.coco / N - DEFAULT_DETECTED.cocoShare) < 0.03, `coco share ${kinds.coco / N}`);
  assert.ok(Math.abs(flipped / N - 0.5) < 0.03, `mirrored ${flipped / N}`);
  const expectDrops = N * 15 * DEFAULT_DETECTED.dropJoint;
  assert.ok(Math.abs(dropped - expectDrops) < 0.15 * expectDrops, `drop-outs ${dropped} vs ~${expectDrops}`);
  // the mirror really is the mirror: u -> -u with left and right swapped
  const r2 = new Rng(1);
  for (let i = 0; i < 50; i++) {
    makeDetectedSample(cam, det, r2, { ...DEFAULT_DETECTED, cocoShare: 0, dropJoint: 0 }, tgt, kp);
    if (tgt[0] < 0) { // mirrored (the pelvis sits at x = +100 in the original)
      for (let j = 0; j < J; j++) if (kp[j * 3 + 2] > 0) assert.ok(Math.abs(kp[j * 3] + det[H36M17_FLIP[j] * 3]) < 1e-12);
      return;
    }
  }
  assert.fail('no mirrored sample in 50 draws');
});

test('liftInput: detector kinds scale the confidences of the joints they define differently', () => {
  const kp = new Float64Array(J * 3).fill(0.1);
  for (let j = 0; j < J; j++) kp[j * 3 + 2] = 0.8;
  const rel = new Float64Array(J * 3);
  const cam = { fx: 1000, fy: 1000 };
  assert.deepEqual(Array.from(liftInput(kp, rel, 4000, cam).conf), new Array(J).fill(0.8));
  for (const kind of ['mpii', 'coco'] as const) {
    const c = liftInput(kp, rel, 4000, cam, kind, 0.25).conf;
    for (let j = 0; j < J; j++) assert.equal(c[j], DEFINITION_JOINTS[kind].includes(j) ? 0.2 : 0.8, `${kind} joint ${j}`);
  }
});
