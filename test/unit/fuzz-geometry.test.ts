/**
 * Property-based tests (fast-check, issue 7) of the geometry: distortion round trips, projection,
 * intrinsics validation, Procrustes and the layout adapters, with random and hostile values (NaN, ±Infinity,
 * huge, subnormal, wrong types and lengths). Each call either returns a valid value or throws one Error;
 * none hangs or crashes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  distortNormalized, undistortNormalized, undistortPixels, pixelsFromNormalized, projectCameraPoints, validateIntrinsics,
} from '../../src/camera/geometry.js';
import type { Intrinsics } from '../../src/contracts/types.js';
import { procrustes, paMpjpe } from '../../src/eval/metrics.js';
import { LAYOUTS, toH36m17 } from '../../src/contracts/layouts.js';

/** POSELIFT_FUZZ_SCALE=10 runs ten times as many cases (a deeper local search; CI uses 1) */
const SCALE = Number(process.env.POSELIFT_FUZZ_SCALE) || 1;
const RUNS = 200 * SCALE;
/** any double: NaN, ±Infinity, ±0, subnormals, ±1e308 included */
const anyDouble = fc.double();
const hostileNumber = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1e308, -1e308, 5e-324, 1e-320, Number.MAX_VALUE, 2 ** 53),
  anyDouble,
);

/** mild lenses (Human3.6M's are |k1| < 0.3, |p| < 0.01) */
const mildCam = fc.record({
  fx: fc.double({ min: 100, max: 5000, noNaN: true }),
  fy: fc.double({ min: 100, max: 5000, noNaN: true }),
  cx: fc.double({ min: 0, max: 4000, noNaN: true }),
  cy: fc.double({ min: 0, max: 4000, noNaN: true }),
  k: fc.tuple(fc.double({ min: -0.3, max: 0.3, noNaN: true }), fc.double({ min: -0.1, max: 0.1, noNaN: true }),
    fc.double({ min: -0.02, max: 0.02, noNaN: true })),
  p: fc.tuple(fc.double({ min: -0.01, max: 0.01, noNaN: true }), fc.double({ min: -0.01, max: 0.01, noNaN: true })),
}).map((c): Intrinsics => ({ ...c, k: [...c.k], p: [...c.p] }));

const inField = fc.double({ min: -0.5, max: 0.5, noNaN: true });

test('distortion round trip: undistort(distort(x)) = x within 1e-9 over the field of view of mild lenses', () => {
  fc.assert(fc.property(mildCam, inField, inField, (cam, x, y) => {
    const [xd, yd] = distortNormalized(cam, x, y);
    const [xu, yu] = undistortNormalized(cam, xd, yd);
    assert.ok(Math.abs(xu - x) < 1e-9 && Math.abs(yu - y) < 1e-9, `(${x}, ${y}) -> (${xd}, ${yd}) -> (${xu}, ${yu})`);
  }), { numRuns: RUNS });
});

test('pixel round trip: undistortPixels(pixelsFromNormalized(n)) = n (stride 2 and 3)', () => {
  fc.assert(fc.property(mildCam, fc.array(fc.tuple(inField, inField), { minLength: 1, maxLength: 20 }), fc.constantFrom(2, 3), (cam, pts, stride) => {
    const norm = new Float64Array(pts.length * stride);
    pts.forEach(([x, y], i) => { norm[i * stride] = x; norm[i * stride + 1] = y; if (stride === 3) norm[i * 3 + 2] = 0.5; });
    const px = pixelsFromNormalized(cam, norm, stride);
    const back = undistortPixels(cam, px, 2);
    assert.equal(back.length, pts.length * 2);
    pts.forEach(([x, y], i) => {
      assert.ok(Math.abs(back[i * 2] - x) < 1e-8 && Math.abs(back[i * 2 + 1] - y) < 1e-8, `point ${i}: ${x}, ${y} -> ${back[i * 2]}, ${back[i * 2 + 1]}`);
    });
  }), { numRuns: RUNS });
});

test('undistortNormalized with hostile coefficients and points: NaN or an exact inverse, never a throw', () => {
  fc.assert(fc.property(fc.array(hostileNumber, { minLength: 5, maxLength: 5 }), hostileNumber, hostileNumber, (c, xd, yd) => {
    const cam: Intrinsics = { fx: 1, fy: 1, cx: 0, cy: 0, k: [c[0], c[1], c[2]], p: [c[3], c[4]] };
    const [x, y] = undistortNormalized(cam, xd, yd);
    if (Number.isNaN(x) || Number.isNaN(y)) {
      assert.ok(Number.isNaN(x) && Number.isNaN(y), 'both NaN or neither');
      return;
    }
    // a returned point maps back onto the input (the function verifies its answer)
    const [bx, by] = distortNormalized(cam, x, y);
    assert.ok(Math.abs(bx - xd) <= 1e-9 && Math.abs(by - yd) <= 1e-9, `(${xd}, ${yd}) -> (${x}, ${y}) -> (${bx}, ${by})`);
  }), { numRuns: 300 * SCALE });
});

test('projectCameraPoints with hostile points: J x 2 out, NaN for z <= 0 or non-finite input', () => {
  fc.assert(fc.property(mildCam, fc.array(hostileNumber, { maxLength: 60 }).map((a) => a.slice(0, a.length - (a.length % 3))), (cam, pts) => {
    const out = projectCameraPoints(cam, Float64Array.from(pts));
    assert.equal(out.length, (pts.length / 3) * 2);
    for (let j = 0; j * 3 < pts.length; j++) {
      const [X, Y, Z] = [pts[j * 3], pts[j * 3 + 1], pts[j * 3 + 2]];
      if (!(Z > 0) || ![X, Y, Z].every(Number.isFinite)) assert.ok(Number.isNaN(out[j * 2]) && Number.isNaN(out[j * 2 + 1]), `point ${j}`);
    }
  }), { numRuns: RUNS });
});

test('point arrays of the wrong length or stride: one Error naming the function', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: -3, max: 7 }), (n, stride) => {
    const arr = new Float64Array(n);
    const ok = Number.isInteger(stride) && stride >= 2 && n % stride === 0;
    if (ok) assert.equal(undistortPixels({ fx: 1, fy: 1, cx: 0, cy: 0 }, arr, stride).length, (n / stride) * 2);
    else assert.throws(() => undistortPixels({ fx: 1, fy: 1, cx: 0, cy: 0 }, arr, stride), /^Error: undistortPixels: /);
  }), { numRuns: RUNS });
});

test('validateIntrinsics: anything (wrong types, BigInt, null prototypes) is accepted only when valid, else one Error naming the place', () => {
  const field = fc.oneof(hostileNumber, fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true }));
  const vec = (n: number) => fc.oneof(fc.array(hostileNumber, { minLength: n, maxLength: n }), fc.array(field, { maxLength: 4 }), field);
  const cand = fc.oneof(
    fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true, withTypedArray: true }),
    fc.record({ fx: field, fy: field, cx: field, cy: field, k: vec(3), p: vec(2), width: field, height: field }, { requiredKeys: ['fx', 'fy', 'cx', 'cy'] }),
    fc.record({ fx: hostileNumber, fy: hostileNumber, cx: hostileNumber, cy: hostileNumber, k: vec(3), p: vec(2) }, { requiredKeys: ['fx', 'fy', 'cx', 'cy'] }),
    mildCam,
  );
  let accepted = 0;
  fc.assert(fc.property(cand, (c) => {
    try {
      validateIntrinsics(c as Intrinsics, 'WHERE.json: camera');
    } catch (e) {
      assert.ok(e instanceof Error && !(e instanceof TypeError), `a plain Error, got ${String(e)}`);
      assert.match(e.message, /^WHERE\.json: camera: \S+ /);
      return;
    }
    accepted++;
    const i = c as Intrinsics;
    assert.ok(i.fx > 0 && i.fy > 0 && Number.isFinite(i.fx) && Number.isFinite(i.fy) && Number.isFinite(i.cx) && Number.isFinite(i.cy));
    for (const v of [...(i.k ?? []), ...(i.p ?? [])]) assert.ok(Number.isFinite(v));
  }), { numRuns: 300 * SCALE });
  // regression (found by this test): BigInt and null-prototype values made the message builder throw a TypeError
  assert.throws(() => validateIntrinsics({ fx: 1, fy: 1, cx: 0, cy: 0, k: [1n, 0, 0] } as unknown as Intrinsics, 'cam'), /^Error: cam: k\[0\] must be a finite number, got 1n/);
  assert.throws(() => validateIntrinsics({ fx: Object.create(null) } as unknown as Intrinsics, 'cam'), /^Error: cam: fx must be/);
  assert.ok(accepted > 0, 'valid intrinsics are accepted');
});

/** a random rotation from a unit quaternion */
const rotation = fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }),
  fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }))
  .filter((q) => Math.hypot(...q) > 0.1)
  .map(([a, b, c, d]) => {
    const n = Math.hypot(a, b, c, d); a /= n; b /= n; c /= n; d /= n;
    return [
      [1 - 2 * (c * c + d * d), 2 * (b * c - a * d), 2 * (b * d + a * c)],
      [2 * (b * c + a * d), 1 - 2 * (b * b + d * d), 2 * (c * d - a * b)],
      [2 * (b * d - a * c), 2 * (c * d + a * b), 1 - 2 * (b * b + c * c)],
    ];
  });
const pose = fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 51, maxLength: 51 });

test('Procrustes recovers a similarity transform: PA-MPJPE ~ 0 and s, R, t as applied', () => {
  fc.assert(fc.property(pose, rotation, fc.double({ min: 0.2, max: 5, noNaN: true }), fc.tuple(fc.double({ min: -5000, max: 5000, noNaN: true }),
    fc.double({ min: -5000, max: 5000, noNaN: true }), fc.double({ min: -5000, max: 5000, noNaN: true })), (g, R, s, t) => {
    // spread-out gt: a fixed non-coplanar template plus random offsets up to +-1000 / 5 (a degenerate,
    // nearly collinear or coplanar gt has no unique rotation)
    const gt = Float64Array.from(g, (v, i) => v / 5 + (i % 3 === 0 ? 800 * Math.cos(i) : i % 3 === 1 ? 800 * Math.sin(i * 1.7) : 80 * i));
    const pred = new Float64Array(51);
    // gt = s R pred + t  =>  pred = R^T (gt - t) / s
    for (let j = 0; j < 17; j++) {
      for (let a = 0; a < 3; a++) {
        let v = 0;
        for (let b = 0; b < 3; b++) v += R[b][a] * (gt[j * 3 + b] - t[b]);
        pred[j * 3 + a] = v / s;
      }
    }
    const pa = procrustes(pred, gt);
    assert.ok(pa, 'aligned');
    assert.ok(Math.abs(pa.s - s) < 1e-6 * s, `scale ${pa.s} vs ${s}`);
    assert.ok(paMpjpe(pred, gt) < 1e-6, `PA-MPJPE ${paMpjpe(pred, gt)}`);
  }), { numRuns: RUNS });
});

test('Procrustes with hostile poses: null or a finite answer, never a hang or a throw (same lengths)', () => {
  const hostilePose = fc.oneof(
    fc.array(hostileNumber, { minLength: 51, maxLength: 51 }),
    // one huge / tiny magnitude for the whole pose (subnormals used to hang ml-matrix's SVD)
    fc.tuple(pose, fc.constantFrom(1e-320, 5e-324, 1e-310, 1e300, 1e200, 0)).map(([p, k]) => p.map((v) => v * k)),
    pose,
  );
  fc.assert(fc.property(hostilePose, hostilePose, (p, g) => {
    const pa = procrustes(Float64Array.from(p), Float64Array.from(g));
    if (pa) {
      assert.equal(pa.aligned.length, 51);
      assert.equal(pa.R.length, 3);
      assert.ok(Number.isFinite(pa.s) || Number.isNaN(pa.s));
    }
  }), { numRuns: 300 * SCALE });
  // regression: a gt of subnormal values made ml-matrix's SVD loop forever
  const p = Float64Array.from({ length: 51 }, (_, i) => (i * 7919) % 13 - 6);
  const g = p.map((v) => v * 1e-320);
  assert.ok(procrustes(p, g));
  assert.throws(() => procrustes(new Float64Array(51), new Float64Array(48)), /^Error: procrustes: pred and gt must both be J x 3/);
});

test('layout adapters: any values of the right length map to 17 joints (finite with score in [0, 1], or NaN with score 0)', () => {
  const names = Object.keys(LAYOUTS);
  fc.assert(fc.property(fc.constantFrom(...names), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.array(hostileNumber, { minLength: 99, maxLength: 99 }), (layout, seed, vals) => {
    const k = LAYOUTS[layout].names.length;
    const data = Float64Array.from({ length: k * 3 }, (_, i) => vals[(i + seed) % vals.length]);
    const out = toH36m17({ layout, data });
    assert.equal(out.length, 51);
    for (let j = 0; j < 17; j++) {
      const [x, y, s] = [out[j * 3], out[j * 3 + 1], out[j * 3 + 2]];
      if (Number.isNaN(x)) assert.ok(Number.isNaN(y) && s === 0, `joint ${j}: missing means NaN, NaN, 0`);
      else assert.ok(Number.isFinite(x) && Number.isFinite(y) && s >= 0 && s <= 1, `joint ${j}: ${x}, ${y}, ${s}`);
    }
  }), { numRuns: RUNS });
  // regression (found by this test): the midpoint of two coordinates of -1e308 overflowed to -Infinity
  const huge = new Float64Array(18 * 3).fill(1);
  huge.set([-1e308, 1e308, 1], 8 * 3); huge.set([-1e308, 1e308, 1], 11 * 3); // coco18 right and left hip -> pelvis
  assert.deepEqual(Array.from(toH36m17({ layout: 'coco18', data: huge }).subarray(0, 3)), [-1e308, 1e308, 1]);
  fc.assert(fc.property(fc.constantFrom(...names), fc.integer({ min: 0, max: 120 }), (layout, n) => {
    const k = LAYOUTS[layout].names.length;
    if (n === k * 3) return;
    assert.throws(() => toH36m17({ layout, data: new Float64Array(n) }), new RegExp(`^Error: keypoints: layout ${layout} needs ${k} x 3 values`));
  }), { numRuns: 100 * SCALE });
  // regression (found by this test): inherited names ("toString", "valueOf") were taken for layouts: TypeError
  for (const name of ['toString', 'valueOf', '__proto__', 'constructor']) {
    assert.throws(() => toH36m17({ layout: name, data: new Float64Array(51) }), new RegExp(`^Error: layout: unknown joint layout "${name}"`));
  }
  fc.assert(fc.property(fc.string(), (name) => {
    fc.pre(!Object.prototype.hasOwnProperty.call(LAYOUTS, name));
    assert.throws(() => toH36m17({ layout: name, data: new Float64Array(51) }), (e: Error) => e.message.includes(`unknown joint layout "${name}"`));
  }), { numRuns: 100 * SCALE });
});
