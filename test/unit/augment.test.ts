/**
 * Augmentation known answers without data: viewpoint changes, part mixing, definition shifts (src/train/augment.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/util/rng.js';
import { changeViewpoint, DEFAULT_AUGMENT, DEFINITION_SPREAD, makeSample, shiftDefinition, DEFAULT_VIEW, MIX_PARTS, mixPart, NO_VIEW, randomViewpoint, rotateAbout } from '../../src/train/augment.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

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

/** an Rng whose normal() returns the given values in turn (shiftDefinition draws only normals) */
const fixedNormals = (...v: number[]) => ({ normal: () => v.shift()! }) as unknown as Rng;

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

test('makeSample: COCO-pattern samples in the COCO form (cocoForm) have the thorax at the shoulders\' midpoint; without it only the spine and head top go', () => {
  const t = tPose();
  const run = (cocoForm: boolean | undefined, pose = t) => {
    const rng = new Rng(9), target = new Float64Array(51), kp = new Float64Array(51);
    const coco = { flip: 0, noisy: 0, noiseMax: 0, outlier: 0, cocoPattern: 1, mpiiPattern: 0, dropJoint: 0, cocoForm };
    assert.ok(makeSample(pose, rng, coco, target, kp));
    return { kp, target, next: rng.next() };
  };
  const plain = run(undefined), form = run(true);
  assert.equal(plain.next, form.next); // the same draws: only the keypoints' form differs
  for (const kp of [plain.kp, form.kp]) for (const j of [7, 10]) assert.equal(kp[j * 3 + 2], 0);
  // the T-pose at 4 m: Human3.6M's thorax at y = -500 / 4000, the shoulders too (the form moves it to their midpoint)
  close([plain.kp[24], plain.kp[25]], [0, -0.125], 1e-12);
  close([form.kp[24], form.kp[25]], [0, -0.125], 1e-12);
  // a thorax above the shoulders (as Human3.6M's is, 68 mm on S5) moves down to their midpoint
  const high = Float64Array.from(t);
  high[8 * 3 + 1] = -568;
  const { kp, target } = run(true, high);
  close([kp[24], kp[25]], [0, -0.125], 1e-12);
  assert.equal(target[8 * 3 + 1], -568); // the 3D target keeps Human3.6M's thorax
  close([kp[0], kp[1]], [0, 0], 1e-12); // pelvis = the hips' midpoint
  close([kp[27], kp[28]], [0, -600 / 4000], 1e-12); // neck/nose kept
});
