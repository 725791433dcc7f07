/**
 * src/detect/flip.ts: the flip test's mirror maps and fusion (known answers), and on a real photo the
 * failure it exists for: MoveNet Thunder's collapsed ankles on Human3.6M S5 sitting down.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BLAZEPOSE33_NAMES, COCO17_NAMES, H36M17_NAMES, toH36m17 } from '../../src/contracts/layouts.js';
import { openDataset } from '../../src/data/dataset.js';
import { FLIP_AGREE, flipPermutation, fuseFlipped, unmirrorKeypoints } from '../../src/detect/flip.js';
import { createDetector, mirrorFrame, readImage } from '../../src/detect/index.js';
import { projectCameraPoints } from '../../src/camera/geometry.js';
import { DATA } from '../helpers.js';

test('flipPermutation: left and right swapped by name, an involution', () => {
  const c = flipPermutation(COCO17_NAMES);
  assert.deepEqual(c, [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]);
  const b = flipPermutation(BLAZEPOSE33_NAMES);
  for (let i = 0; i < b.length; i++) assert.equal(b[b[i]], i);
  const name = (n: string) => BLAZEPOSE33_NAMES.indexOf(n as (typeof BLAZEPOSE33_NAMES)[number]);
  assert.equal(b[name('left_eye_inner')], name('right_eye_inner'));
  assert.equal(b[name('mouth_left')], name('mouth_right'));
  assert.equal(b[name('nose')], name('nose'));
  assert.deepEqual(flipPermutation(H36M17_NAMES), [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13]);
  assert.throws(() => flipPermutation(['nose', 'left_eye']), /"left_eye" has no mirrored partner "right_eye"/);
});

test('unmirrorKeypoints: x -> width - x with the sides swapped', () => {
  // coco17: joint 1 left_eye at x 30 in the mirrored image is the right eye (2) at 100 - 30 = 70
  const m = new Float64Array(17 * 3);
  m[1 * 3] = 30; m[1 * 3 + 1] = 5; m[1 * 3 + 2] = 0.9;
  const u = unmirrorKeypoints(m, flipPermutation(COCO17_NAMES), 100);
  assert.deepEqual([u[2 * 3], u[2 * 3 + 1], u[2 * 3 + 2]], [70, 5, 0.9]);
  assert.equal(u[1 * 3], 100);
});

test('fuseFlipped: agreeing joints averaged by score, a disagreeing joint from the more confident answer', () => {
  // a person 200 px tall: tolerance FLIP_AGREE * 200 = 20 px
  const a = [0, 0, 0.9, 0, 200, 0.6, 50, 100, 0.3, 10, 10, 0];
  const b = [0, 0, 0.9, 0, 210, 0.2, 50, 160, 0.8, 14, 10, 0];
  const f = fuseFlipped(a, b);
  assert.equal(FLIP_AGREE, 0.1);
  assert.deepEqual(Array.from(f.slice(0, 3)), [0, 0, 0.9]);
  assert.ok(Math.abs(f[4] - (0.75 * 200 + 0.25 * 210)) < 1e-9 && Math.abs(f[5] - 0.4) < 1e-12, `score-weighted: ${f.slice(3, 6)}`);
  assert.deepEqual(Array.from(f.slice(6, 9)), [50, 160, 0.8], '60 px apart: the 0.8 answer wins');
  assert.deepEqual(Array.from(f.slice(9, 12)), [12, 10, 0], 'two zero scores: the plain mean');
  assert.throws(() => fuseFlipped([1, 2, 3], [1, 2]), /answers of 3 and 2 values/);
});

test('mirrorFrame: pixels reversed in each row', () => {
  const f = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i) };
  assert.deepEqual(Array.from(mirrorFrame(f).data), [6, 7, 8, 3, 4, 5, 0, 1, 2, 15, 16, 17, 12, 13, 14, 9, 10, 11]);
});

test('flip test on a real photo: MoveNet Thunder finds the S5 raised ankle that one pass puts on the other', async () => {
  const ds = openDataset(path.join(DATA, 'h36m-images'));
  const si = ds.sequences.findIndex((s) => s.id.startsWith('S5_SittingDown'));
  assert.ok(si >= 0);
  const cam = ds.camera(si, 0);
  const truth = projectCameraPoints(cam, ds.cameraFrame3d(si, 0, 0, 1));
  const img = await readImage(ds.imagePath(si, 0, 0)!);
  ds.close();
  const LANK = H36M17_NAMES.indexOf('left_ankle');
  const ankleErr = async (flipTest: boolean) => {
    const det = await createDetector('movenet-thunder', { flipTest });
    try {
      const [p] = await det.detect(img);
      const h = toH36m17(p.keypoints);
      return Math.hypot(h[LANK * 3] - truth[LANK * 2], h[LANK * 3 + 1] - truth[LANK * 2 + 1]);
    } finally {
      det.dispose();
    }
  };
  const one = await ankleErr(false), both = await ankleErr(true);
  console.log(`S5 left ankle, px from the truth: one pass ${one.toFixed(0)}, flip test ${both.toFixed(0)}`);
  assert.ok(one > 80, `one pass: ${one.toFixed(0)} px (the collapse this test is about)`);
  assert.ok(both < 25, `flip test: ${both.toFixed(0)} px`);
});
