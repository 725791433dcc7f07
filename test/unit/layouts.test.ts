import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  H36M17_FLIP, H36M17_PARENTS, LAYOUTS, layoutSize, providedJoints, toH36m17,
} from '../../src/contracts/layouts.js';

function keypoints(layout: string, fill: (i: number) => [number, number, number]) {
  const k = layoutSize(layout);
  const data = new Float64Array(k * 3);
  for (let i = 0; i < k; i++) data.set(fill(i), i * 3);
  return { layout, data };
}

test('every adapter maps to 17 joints and names real source joints', () => {
  for (const [name, def] of Object.entries(LAYOUTS)) {
    assert.equal(def.toH36m.length, 17, name);
    for (const s of def.toH36m) {
      const idx = s === null ? [] : typeof s === 'number' ? [s] : [...s];
      for (const i of idx) assert.ok(i >= 0 && i < def.names.length, `${name}: source ${i}`);
    }
  }
});

test('coco17 -> h36m17: named joints, midpoints with the lower score, no spine or head top', () => {
  const kp = keypoints('coco17', (i) => [10 * i, 100 + i, 0.5 + i / 100]);
  const h = toH36m17(kp);
  // pelvis = mid-hips (coco 11, 12)
  assert.deepEqual([h[0], h[1], h[2]], [115, 111.5, 0.61]);
  // right ankle = coco 16, left wrist = coco 9, nose -> neck/nose
  assert.deepEqual([h[9], h[10], h[11]], [160, 116, 0.66]);
  assert.deepEqual([h[13 * 3], h[13 * 3 + 1]], [90, 109]);
  assert.deepEqual([h[27], h[28]], [0, 100]);
  // thorax = mid-shoulders (coco 5, 6)
  assert.deepEqual([h[24], h[25], h[26]], [55, 105.5, 0.55]);
  for (const j of [7, 10]) {
    assert.ok(Number.isNaN(h[j * 3]) && h[j * 3 + 2] === 0, `joint ${j} must be missing`);
  }
  assert.deepEqual(providedJoints('coco17').map((b, j) => (b ? -1 : j)).filter((j) => j >= 0), [7, 10]);
});

test('mpii16 and blazepose33 map the right and left sides the right way round', () => {
  const mp = toH36m17(keypoints('mpii16', (i) => [i, i, 1]));
  // h36m right hip (1) = mpii right hip (2); left wrist (13) = mpii left wrist (15); head top = 9
  assert.equal(mp[1 * 3], 2);
  assert.equal(mp[13 * 3], 15);
  assert.equal(mp[10 * 3], 9);
  assert.ok(Number.isNaN(mp[9 * 3]), 'upper neck is not neck/nose');
  const bp = toH36m17(keypoints('blazepose33', (i) => [i, i, 1]));
  assert.equal(bp[3 * 3], 28); // right ankle
  assert.equal(bp[13 * 3], 15); // left wrist
  assert.equal(bp[0], 23.5); // pelvis = mid-hips 23, 24
});

test('missing inputs flow through as missing joints instead of crashing', () => {
  const kp = keypoints('coco17', (i) => [i === 11 ? NaN : i, i, i === 14 ? 0 : 0.9]);
  const h = toH36m17(kp, 0);
  assert.ok(Number.isNaN(h[0]), 'pelvis needs both hips');
  assert.ok(Number.isNaN(h[4 * 3]), 'left hip is NaN');
  assert.ok(Number.isNaN(h[2 * 3]) && h[2 * 3 + 2] === 0, 'score 0 = missing');
  assert.equal(h[3 * 3], 16);
});

test('a wrong keypoint count and an unknown layout are clear errors', () => {
  assert.throws(() => toH36m17({ layout: 'coco17', data: new Float64Array(10) }), /coco17 needs 17 x 3/);
  assert.throws(() => toH36m17({ layout: 'openpose99', data: new Float64Array(3) }), /unknown joint layout "openpose99"/);
});

test('the flip permutation is an involution that swaps sides and keeps the tree consistent', () => {
  for (let j = 0; j < 17; j++) {
    assert.equal(H36M17_FLIP[H36M17_FLIP[j]], j);
    const p = H36M17_PARENTS[j];
    if (p >= 0) assert.equal(H36M17_PARENTS[H36M17_FLIP[j]], H36M17_FLIP[p]);
  }
  assert.equal(H36M17_FLIP[1], 4);
  assert.equal(H36M17_FLIP[16], 13);
});
