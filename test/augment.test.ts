/**
 * New-viewpoint and part-mixing augmentation (src/train/augment.ts): known answers for each rotation and
 * for a mixed limb, and on real Human3.6M poses the invariants that make the new samples physically possible.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Rng } from '../src/core/rng.js';
import {
  changeViewpoint, DEFAULT_AUGMENT, DEFINITION_SPREAD, makeSample, shiftDefinition, DEFAULT_MIX, DEFAULT_VIEW, MIX_PARTS, mixPart, NO_MIX, NO_VIEW, randomMix, randomViewpoint, rotateAbout,
} from '../src/train/augment.js';
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

/** A T-shaped h36m17 skeleton in a level camera (y down): hips along x, thorax above the pelvis, limbs hanging. */
function tPose(): Float64Array {
  const p = new Float64Array(51);
  const set = (j: number, x: number, y: number, z: number) => { p[j * 3] = x; p[j * 3 + 1] = y; p[j * 3 + 2] = z; };
  set(0, 0, 0, 4000);
  set(1, -100, 0, 4000); set(2, -100, 400, 4000); set(3, -100, 800, 4000);
  set(4, 100, 0, 4000); set(5, 100, 420, 4000); set(6, 100, 840, 4000);
  set(7, 0, -250, 4000); set(8, 0, -500, 4000); set(9, 0, -600, 4000); set(10, 0, -700, 4000);
  set(11, 150, -500, 4000); set(12, 150, -220, 4000); set(13, 150, 30, 4000);
  set(14, -150, -500, 4000); set(15, -150, -220, 4000); set(16, -150, 30, 4000);
  return p;
}

test('mixPart: a limb takes the donor\'s direction relative to the torso, whatever way the donor faces, and keeps its length', () => {
  const rightLeg = MIX_PARTS.find((m) => m.name === 'right leg')!;
  // the donor kicks its right leg straight forward (towards the camera, -z here) with a 300 + 250 mm leg
  const donor = tPose();
  donor[2 * 3 + 1] = 0; donor[2 * 3 + 2] = 4000 - 300;
  donor[3 * 3 + 1] = 0; donor[3 * 3 + 2] = 4000 - 550;
  const expected = tPose();
  expected[2 * 3 + 1] = 0; expected[2 * 3 + 2] = 4000 - 400; // the pose's own 400 mm thigh
  expected[3 * 3 + 1] = 0; expected[3 * 3 + 2] = 4000 - 800; // and 400 mm shin
  const p = tPose();
  assert.ok(mixPart(p, donor, rightLeg));
  close(p, expected, 1e-9);
  // the donor turned, tilted and moved anywhere gives the same answer (directions live in torso axes)
  rotateAbout(donor, [0.36, 0.48, 0.8], 2.1, [500, -300, 1000]);
  const q = tPose();
  assert.ok(mixPart(q, donor, rightLeg));
  close(q, expected, 1e-9);
  // a donor without the knee, or a pose without hips, leaves the pose untouched
  const noKnee = tPose(); noKnee[2 * 3] = NaN;
  const r = tPose();
  assert.equal(mixPart(r, noKnee, rightLeg), false);
  close(r, tPose(), 0);
  const noHips = tPose(); noHips[4 * 3] = noHips[1 * 3];
  assert.equal(mixPart(noHips, tPose(), rightLeg), false);
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

/** an Rng whose normal() returns the given values in turn (shiftDefinition draws only normals) */
const fixedNormals = (...v: number[]) => ({ normal: () => v.shift()! }) as unknown as Rng;

test('shiftDefinition: hips and pelvis move along the torso, the hips spread, the thorax moves: known answers', () => {
  // normalised keypoints of the T-pose at 4 m: hips' midpoint (0, 0), shoulders' midpoint (0, -0.125)
  const kp = new Float64Array(51);
  const t = tPose();
  for (let j = 0; j < 17; j++) { kp[j * 3] = t[j * 3] / t[j * 3 + 2]; kp[j * 3 + 1] = t[j * 3 + 1] / t[j * 3 + 2]; kp[j * 3 + 2] = 1; }
  const before = Float64Array.from(kp);
  // shift +1 s.d. (0.04 torso lengths toward the shoulders), width x e^(0.2 x ln 1.5 / 0.2) = 1.5, thorax -1 s.d.
  shiftDefinition(kp, fixedNormals(1, Math.log(1.5) / DEFINITION_SPREAD.logWidth, -1));
  const torso = -0.125, up = DEFINITION_SPREAD.shift * torso;
  close([kp[0], kp[1]], [0, up], 1e-12); // pelvis
  close([kp[3], kp[4], kp[12], kp[13]], [1.5 * -0.025, up, 1.5 * 0.025, up], 1e-12); // right, left hip
  close([kp[24], kp[25]], [0, -0.125 - DEFINITION_SPREAD.thorax * torso], 1e-12); // thorax
  for (const j of [2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16]) close(kp.subarray(j * 3, j * 3 + 3), before.subarray(j * 3, j * 3 + 3), 0);
  // a missing shoulder: nothing moves
  const miss = Float64Array.from(before);
  miss[11 * 3] = NaN; miss[11 * 3 + 2] = 0;
  const m0 = Float64Array.from(miss);
  shiftDefinition(miss, fixedNormals(1, 1, 1));
  assert.deepEqual([...miss], [...m0]);
});

test('makeSample: the definition shift is off by default and then draws nothing; on, it moves only hips, pelvis and thorax', () => {
  const t = tPose();
  const run = (definition: number | undefined, seed: number) => {
    const rng = new Rng(seed), target = new Float64Array(51), kp = new Float64Array(51);
    const clean = { flip: 0, noisy: 0, noiseMax: 0, outlier: 0, cocoPattern: 0, mpiiPattern: 0, dropJoint: 0, definition };
    assert.ok(makeSample(t, rng, clean, target, kp));
    return { kp, next: rng.next() };
  };
  assert.equal(DEFAULT_AUGMENT.definition ?? 0, 0);
  const off = run(undefined, 5), zero = run(0, 5), on = run(1, 5);
  assert.deepEqual([...zero.kp], [...off.kp]);
  assert.equal(zero.next, off.next);
  const moved = [...Array(17).keys()].filter((j) => on.kp[j * 3] !== off.kp[j * 3] || on.kp[j * 3 + 1] !== off.kp[j * 3 + 1]);
  assert.deepEqual(moved, [0, 1, 4, 8]);
});
