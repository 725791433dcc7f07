/**
 * New-viewpoint and part-mixing augmentation (src/train/augment.ts): known answers for each rotation and
 * for a mixed limb, and on real Human3.6M poses the invariants that make the new samples physically possible.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Rng } from '../../src/util/rng.js';
import { DEFAULT_MIX, DEFAULT_VIEW, MIX_PARTS, NO_MIX, randomMix, randomViewpoint } from '../../src/train/augment.js';
import { cameraPose, loadPoseBank, upInCamera } from '../../src/train/pose-bank.js';
import { uniqueBoneLengths } from '../../src/lift/solve/skeleton.js';
import { DATA } from '../helpers.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('new viewpoints of real Human3.6M poses keep bone lengths and distance and spread the azimuth', () => {
  const bank = loadPoseBank(path.join(DATA, 'h36m-train'), { subjects: ['S1'], stride: 2000 });
  // the world's up in a Human3.6M camera points up the image (negative y) and is a unit vector
  const up = upInCamera(bank.cameras[0][0], 'z');
  assert.ok(Math.abs(Math.hypot(...up) - 1) < 1e-9);
  assert.ok(up[1] < -0.9, `up in camera ${up}`);
  assert.deepEqual(upInCamera(bank.cameras[0][0], 'camera frame'), [0, -1, 0]);

  const rng = new Rng(7);
  const cam = new Float64Array(51);
  const facing: number[] = [];
  let n = 0;
  for (let e = 0; e < bank.count; e++) {
    const s = bank.entries[e * 2];
    for (let v = 0; v < bank.cameras[s].length; v++) {
      cameraPose(bank, e, v, cam);
      const before = uniqueBoneLengths(cam), dist = Math.hypot(cam[0], cam[1], cam[2]);
      randomViewpoint(cam, bank.ups[s][v], rng, { ...DEFAULT_VIEW, prob: 1 });
      close(uniqueBoneLengths(cam), before, 1e-6);
      assert.ok(Math.abs(Math.hypot(cam[0], cam[1], cam[2]) - dist) < 1e-6);
      // the hips' left-right axis seen from the camera: its angle in the x-z plane
      facing.push(Math.atan2(cam[4 * 3 + 2] - cam[1 * 3 + 2], cam[4 * 3] - cam[1 * 3]));
      n++;
    }
  }
  assert.ok(n >= 40, `${n} samples`);
  // with uniform turns every quadrant of the hip axis direction occurs
  const quadrants = new Set(facing.map((a) => Math.floor(((a + Math.PI) / (Math.PI / 2)) % 4)));
  assert.equal(quadrants.size, 4, `quadrants ${[...quadrants]}`);
});

test('part mixing on real Human3.6M poses keeps the torso and every bone length and changes the expected share of samples', () => {
  const bank = loadPoseBank(path.join(DATA, 'h36m-train'), { subjects: ['S1'], stride: 500 });
  const rng = new Rng(11);
  const pose = new Float64Array(51), donor = new Float64Array(51);
  const draw = (out: Float64Array) => cameraPose(bank, rng.int(bank.count), 0, out);
  const torso = [0, 1, 4, 7, 8, 11, 14];
  let changed = 0, n = 0;
  for (let e = 0; e < bank.count; e++) {
    cameraPose(bank, e, 1, pose);
    const before = Float64Array.from(pose), bones = uniqueBoneLengths(pose);
    randomMix(pose, rng, DEFAULT_MIX, donor, draw);
    close(uniqueBoneLengths(pose), bones, 1e-6);
    for (const j of torso) close(pose.subarray(j * 3, j * 3 + 3), before.subarray(j * 3, j * 3 + 3), 0);
    if (pose.some((v, k) => Math.abs(v - before[k]) > 1e-3)) changed++;
    n++;
  }
  assert.ok(n >= 100, `${n} samples`);
  // prob x (1 - (1 - partProb)^5 parts untouched): 0.8 x 0.97 = 78 % of samples with the default
  const expected = DEFAULT_MIX.prob * (1 - (1 - DEFAULT_MIX.partProb) ** MIX_PARTS.length);
  assert.ok(Math.abs(changed / n - expected) < 0.12, `${changed} of ${n} changed, expected ${(expected * n).toFixed(0)}`);
  // no mixing: no random draw, no change
  const a = new Rng(3), b = new Rng(3), p = Float64Array.from(pose);
  randomMix(p, a, NO_MIX, donor, draw);
  assert.deepEqual([...p], [...pose]);
  assert.equal(a.next(), b.next());
});
