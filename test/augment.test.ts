/**
 * New-viewpoint augmentation (src/train/augment.ts): known answers for each rotation, and on real
 * Human3.6M poses the invariants that make the new samples physically possible.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Rng } from '../src/core/rng.js';
import { changeViewpoint, DEFAULT_VIEW, NO_VIEW, randomViewpoint } from '../src/train/augment.js';
import { cameraPose, loadPoseBank, upInCamera } from '../src/train/pose-bank.js';
import { uniqueBoneLengths } from '../src/lift/skeleton.js';
import { DATA } from './helpers.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('changeViewpoint: turn, tilt and roll each give the known answer', () => {
  const up = [0, -1, 0]; // world up in a level camera (y down)
  const pose = () => Float64Array.from([0, 0, 5000, 100, 0, 5000, 0, -100, 5000]);
  // a quarter turn about the vertical: the point to the right of the pelvis goes behind it
  let p = pose();
  assert.ok(changeViewpoint(p, up, Math.PI / 2, 0, 0));
  close(p, [0, 0, 5000, 0, 0, 5100, 0, -100, 5000]);
  // a quarter tilt about up x ray = (-1, 0, 0): the point above the pelvis goes behind it
  p = pose();
  changeViewpoint(p, up, 0, Math.PI / 2, 0);
  close(p, [0, 0, 5000, 100, 0, 5000, 0, 0, 5100]);
  // a quarter roll about the optical axis: x -> y
  p = pose();
  changeViewpoint(p, up, 0, 0, Math.PI / 2);
  close(p, [0, 0, 5000, 0, 100, 5000, 100, 0, 5000]);
  // a full turn is the identity; no pelvis, no change
  p = pose();
  changeViewpoint(p, up, 2 * Math.PI, 0, 0);
  close(p, pose(), 1e-6);
  const bad = Float64Array.from([NaN, NaN, NaN, 1, 2, 3]);
  assert.equal(changeViewpoint(bad, up, 1, 1, 1), false);
  assert.deepEqual([...bad.slice(3)], [1, 2, 3]);
});

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

test('with no new viewpoints the sample stream is untouched: no random draw, no change (models stay reproducible)', () => {
  const pose = Float64Array.from([10, 20, 5000, 110, 20, 5000, 10, -80, 5000]);
  const a = new Rng(3), b = new Rng(3);
  const p = Float64Array.from(pose);
  randomViewpoint(p, [0, -1, 0], a, NO_VIEW);
  assert.deepEqual([...p], [...pose]);
  assert.equal(a.next(), b.next());
  // prob 1 always changes the view (and draws)
  randomViewpoint(p, [0, -1, 0], a, { ...DEFAULT_VIEW, prob: 1 });
  assert.notDeepEqual([...p], [...pose]);
  assert.notEqual(a.next(), b.next());
});
