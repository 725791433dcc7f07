/**
 * Training on real detections (src/train/augment.ts `makeDetectedSample`, `cocoFromMpii`; the bank's
 * `detections`) and the keypoint-kind input of the lifters (src/lift/posenet/features.ts): known answers, and on
 * the Stacked Hourglass detections of ../shared/data/h36m-train the invariants the training relies on.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Rng } from '../../src/util/rng.js';
import { J } from '../../src/lift/posenet/features.js';
import { DEFAULT_AUGMENT, DEFAULT_DETECTED, NO_MIX, NO_VIEW } from '../../src/train/augment.js';
import { cameraPose, detectionOf, forEachDetectionPair, loadPoseBank, pairCount, SampleStream } from '../../src/train/pose-bank.js';
import { DATA } from '../helpers.js';

const TRAIN = path.join(DATA, 'h36m-train');
const project = (p: ArrayLike<number>, j: number) => [p[j * 3] / p[j * 3 + 2], p[j * 3 + 1] / p[j * 3 + 2]];

test('the bank\'s detections: real Stacked Hourglass keypoints, a few pixels from the projected truth', () => {
  const bank = loadPoseBank(TRAIN, { subjects: ['S1'], stride: 500, detections: true });
  assert.ok(bank.detections && bank.detections.every((views) => views.length === 4 && views.every((d) => d)));
  const cam = new Float64Array(J * 3);
  const d: number[] = [];
  let pairs = 0;
  forEachDetectionPair(bank, (tgt, kp) => {
    pairs++;
    for (const j of [2, 3, 5, 6, 12, 13, 15, 16]) { // knees, ankles, elbows, wrists: the same points in both
      const [u, v] = project(tgt, j);
      if (kp[j * 3 + 2] > 0) d.push(Math.hypot(kp[j * 3] - u, kp[j * 3 + 1] - v) * 1150); // ~ H36M's focal length, px
    }
    assert.ok(kp[7 * 3 + 2] === 0 && kp[9 * 3 + 2] === 0, 'mpii16 has no spine and no neck/nose');
  });
  assert.ok(pairs > 0.95 * pairCount(bank), `${pairs} of ${pairCount(bank)} pairs`);
  d.sort((a, b) => a - b);
  const med = d[d.length >> 1];
  assert.ok(med > 2 && med < 15, `median ${med.toFixed(1)} px`);
  // detectionOf is the same frame as cameraPose
  cameraPose(bank, 3, 2, cam);
  assert.ok(detectionOf(bank, 3, 2));
  // a stream that only takes detections returns the detector kinds, in the set share
  const s = new SampleStream(bank, new Rng(3), DEFAULT_AUGMENT, NO_VIEW, NO_MIX, { ...DEFAULT_DETECTED, prob: 1 });
  const tgt = new Float64Array(J * 3), kp = new Float64Array(J * 3);
  let coco = 0;
  for (let i = 0; i < 2000; i++) {
    const k = s.next(tgt, kp);
    assert.notEqual(k, 'joints');
    if (k === 'coco') coco++;
  }
  assert.ok(Math.abs(coco / 2000 - DEFAULT_DETECTED.cocoShare) < 0.05, `coco share ${coco / 2000}`);
  // without a detection share the stream never draws one
  const plain = new SampleStream(bank, new Rng(3), DEFAULT_AUGMENT, NO_VIEW, NO_MIX);
  for (let i = 0; i < 200; i++) assert.equal(plain.next(tgt, kp), 'joints');
});
