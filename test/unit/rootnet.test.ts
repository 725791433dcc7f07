import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  boxArea, depthFromGamma, gammaFromDepth, rootnetBox, kValue, kValueNormalized, BOX_MARGIN,
} from '../../src/lift/rootnet/kvalue.js';
import { encodeRootFeatures, ROOTNET_INPUT_DIM } from '../../src/lift/rootnet/features.js';

test('k-value on a synthetic camera: a 2 m x 2 m box at depth Z gives k = Z', () => {
  for (const [f, Z] of [[1000, 5000], [1145, 3200], [600, 9000]]) {
    const side = (f * 2000) / Z; // the box's size in pixels
    assert.ok(Math.abs(kValue(f, f, side * side) - Z) < 1e-9, `f=${f} Z=${Z}`);
    // normalised coordinates: the focal lengths cancel
    assert.ok(Math.abs(kValueNormalized((2000 / Z) ** 2) - Z) < 1e-9);
  }
  // anisotropic pixels: k = sqrt(fx fy A_real / A_img)
  assert.ok(Math.abs(kValue(1000, 1100, ((1000 * 2000) / 4000) * ((1100 * 2000) / 4000)) - 4000) < 1e-9);
});

test('gamma round trip and the training target', () => {
  const k = 7000, z = 4500;
  const g = gammaFromDepth(k, z);
  assert.ok(Math.abs(g - (7000 / 4500) ** 2) < 1e-12);
  assert.ok(Math.abs(depthFromGamma(k, g) - z) < 1e-9);
});

test('bad focal lengths and empty boxes are errors, not NaN depths', () => {
  assert.throws(() => kValue(0, 1000, 100), /focal lengths must be > 0/);
  assert.throws(() => kValue(1000, -5, 100), /focal lengths must be > 0/);
  assert.throws(() => kValue(1000, 1000, 0), /box area must be > 0/);
});

test('the person box spans the visible keypoints enlarged by the margin; missing joints are ignored', () => {
  const kp = new Float64Array(17 * 3).fill(NaN);
  const set = (j: number, u: number, v: number, c = 1) => { kp[j * 3] = u; kp[j * 3 + 1] = v; kp[j * 3 + 2] = c; };
  set(0, 0, 0); set(3, 0.1, 0.4); set(10, -0.05, -0.4); set(13, 0.2, 0.0);
  set(16, 5, 5, 0); // score 0: not visible
  const b = rootnetBox(kp)!;
  assert.ok(Math.abs(b.x1 - b.x0 - 0.25 * BOX_MARGIN) < 1e-12);
  assert.ok(Math.abs(b.y1 - b.y0 - 0.8 * BOX_MARGIN) < 1e-12);
  assert.ok(Math.abs(boxArea(b) - 0.25 * 0.8 * BOX_MARGIN ** 2) < 1e-12);
  const x = new Float32Array(ROOTNET_INPUT_DIM);
  const f = encodeRootFeatures(kp, x)!;
  assert.ok(Math.abs(f.k - kValueNormalized(boxArea(b))) < 1e-9);
  assert.ok(x.every(Number.isFinite));
  const few = new Float64Array(17 * 3).fill(NaN);
  assert.equal(encodeRootFeatures(few, x), null);
});
