import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DATA } from '../helpers.js';
import type { Intrinsics } from '../../src/contracts/types.js';
import { cameraToWorld, distortNormalized, pixelsFromNormalized, projectCameraPoints, projectWorldPoints, undistortNormalized, undistortPixels, worldToCamera } from '../../src/camera/geometry.js';
import { openDataset } from '../../src/data/dataset.js';


const dataRoot = DATA;
const TRAIN = path.join(dataRoot, 'h36m-train');
const IMAGES = path.join(dataRoot, 'h36m-images');

/** deterministic PRNG (mulberry32) */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('round trips pixel <-> normalised on every h36m-train camera, over the whole image', () => {
  const ds = openDataset(TRAIN);
  const cams = Object.values(ds.cameras);
  assert.equal(cams.length, 20);
  const rand = rng(1);
  const n = 2000;
  for (const cam of cams) {
    const W = cam.width!, H = cam.height!;
    // random pixels over the image, including the corners
    const px = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) { px[i * 2] = rand() * W; px[i * 2 + 1] = rand() * H; }
    px.set([0, 0, W, 0, 0, H, W, H], 0);
    const norm = undistortPixels(cam, px);
    const back = pixelsFromNormalized(cam, norm);
    let maxPx = 0;
    for (let i = 0; i < n * 2; i++) maxPx = Math.max(maxPx, Math.abs(back[i] - px[i]));
    assert.ok(maxPx < 1e-6, `${cam.id}: pixel -> normalised -> pixel error ${maxPx} px`);
    // the corners really are distorted (the test would be vacuous otherwise)
    const lin = (px[0] - cam.cx) / cam.fx;
    assert.ok(Math.abs(norm[0] - lin) > 0.01, `${cam.id}: corner not undistorted`);

    // random 3D points in front of the camera that land on the image: camera -> pixel -> normalised
    const pts = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      const z = 1000 + rand() * 7000;
      pts[i * 3] = norm[i * 2] * z; pts[i * 3 + 1] = norm[i * 2 + 1] * z; pts[i * 3 + 2] = z;
    }
    const proj = projectCameraPoints(cam, pts);
    const norm2 = undistortPixels(cam, proj);
    let maxN = 0, maxP = 0;
    for (let i = 0; i < n; i++) {
      maxN = Math.max(maxN, Math.abs(norm2[i * 2] - pts[i * 3] / pts[i * 3 + 2]),
        Math.abs(norm2[i * 2 + 1] - pts[i * 3 + 1] / pts[i * 3 + 2]));
      maxP = Math.max(maxP, Math.abs(proj[i * 2] - px[i * 2]), Math.abs(proj[i * 2 + 1] - px[i * 2 + 1]));
    }
    assert.ok(maxN < 1e-9, `${cam.id}: normalised -> pixel -> normalised error ${maxN}`);
    assert.ok(maxP < 1e-6, `${cam.id}: 3D points built from undistorted pixels reproject ${maxP} px off`);
  }
  ds.close();
});

test('undistortPixels: stride 3, NaN passes through, no distortion = plain pinhole', () => {
  const ds = openDataset(TRAIN);
  const cam = ds.cameras['S1/54138969'];
  const px = new Float64Array([600, 400, 0.9, NaN, 300, 0.1, 100, 900, 1]);
  const n3 = undistortPixels(cam, px, 3);
  const n2 = undistortPixels(cam, new Float64Array([600, 400, NaN, 300, 100, 900]));
  assert.equal(n3.length, 6);
  assert.deepEqual(Array.from(n3), Array.from(n2));
  assert.ok(Number.isNaN(n3[2]) && Number.isNaN(n3[3]));
  const pin: Intrinsics = { fx: 1000, fy: 900, cx: 500, cy: 400 };
  assert.deepEqual(Array.from(undistortPixels(pin, new Float64Array([1500, 1300]))), [1, 1]);
  assert.throws(() => undistortPixels(cam, new Float64Array(5)), /not a multiple of the stride 2/);
  ds.close();
});

test('distortion: known answer with camera S1/54138969 (Human3.6M convention, not OpenCV)', () => {
  const ds = openDataset(TRAIN);
  const cam = ds.cameras['S1/54138969'];
  const x = 0.4, y = 0.35; // lower right of the image, where the tangential terms matter
  // The formula written out independently (H36M ProjectPointRadial / 3d-pose-baseline project_point_radial):
  //   tan = p[0] y + p[1] x;  xd = x (radial + tan) + p[1] r2;  yd = y (radial + tan) + p[0] r2
  const [k1, k2, k3] = cam.k!, [pa, pb] = cam.p!;
  const r2 = x * x + y * y;
  const radial = 1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3;
  const tan = pa * y + pb * x;
  const exp = [x * (radial + tan) + pb * r2, y * (radial + tan) + pa * r2];
  const [xd, yd] = distortNormalized(cam, x, y);
  assert.ok(Math.abs(xd - exp[0]) < 1e-15 && Math.abs(yd - exp[1]) < 1e-15);
  // and a value computed with numpy from 3d-pose-baseline's matrix form of the same formula
  assert.ok(Math.abs(xd - 0.3838485215599335) < 1e-14, `xd = ${xd}`);
  assert.ok(Math.abs(yd - 0.33570622370691344) < 1e-14, `yd = ${yd}`);
  const z = 4000;
  const px = projectCameraPoints(cam, new Float64Array([x * z, y * z, z]));
  assert.ok(Math.abs(px[0] - 952.0670260207494) < 1e-9 && Math.abs(px[1] - 899.4259193703422) < 1e-9, `${px}`);
  // OpenCV's tangential terms (2 p1 x y + p2 (r2 + 2 x²), ...) give a measurably different answer:
  const cvx = x * radial + 2 * pa * x * y + pb * (r2 + 2 * x * x);
  const cvy = y * radial + pa * (r2 + 2 * y * y) + 2 * pb * x * y;
  const cvErr = Math.hypot(cam.fx * (cvx - xd), cam.fy * (cvy - yd));
  assert.ok(cvErr > 0.5, `must not be the OpenCV formula (differs by ${cvErr} px)`);
  // undistortNormalized inverts it
  const [ux, uy] = undistortNormalized(cam, xd, yd);
  assert.ok(Math.abs(ux - x) < 1e-12 && Math.abs(uy - y) < 1e-12);
  // no k/p: identity
  assert.deepEqual(distortNormalized({ fx: 1, fy: 1, cx: 0, cy: 0 }, x, y), [x, y]);
  ds.close();
});

test('world -> camera on h36m-train: pelvis 2-8 m in front of every view, joints inside the image', () => {
  const ds = openDataset(TRAIN);
  const s = ds.sequences[0];
  const world = ds.readWorld3d(0, 0, 1);
  assert.equal(s.views.length, 4);
  for (let v = 0; v < s.views.length; v++) {
    const cam = ds.camera(0, v);
    const c = worldToCamera(cam, world);
    assert.ok(c[2] > 2000 && c[2] < 8000, `${cam.id}: pelvis depth ${c[2]} mm`);
    // rigid: bone lengths are preserved and the inverse maps back
    const w = cameraToWorld(cam, c);
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(w[i] - world[i]) < 1e-6);
    const px = projectWorldPoints(cam, world);
    for (let j = 0; j < 17; j++) {
      const u = px[j * 2], vv = px[j * 2 + 1];
      assert.ok(u > 0 && u < cam.width! && vv > 0 && vv < cam.height!, `${cam.id} joint ${j} at (${u}, ${vv})`);
    }
  }
  ds.close();
});

test('h36m-images (camera frame, R = I): projected GT lands inside the 1000 x 1002 image', () => {
  const ds = openDataset(IMAGES);
  assert.equal(ds.sequences.length, 4);
  for (let s = 0; s < ds.sequences.length; s++) {
    const cam = ds.camera(s, 0);
    const c = ds.cameraFrame3d(s, 0, 0, 1);
    const w = ds.readWorld3d(s, 0, 1);
    for (let i = 0; i < c.length; i++) assert.equal(c[i], w[i]); // R = I, C = 0
    const px = projectCameraPoints(cam, c);
    for (let j = 0; j < 17; j++) {
      const u = px[j * 2], v = px[j * 2 + 1];
      assert.ok(u > 0 && u < 1000 && v > 0 && v < 1002, `seq ${s} joint ${j} at (${u}, ${v})`);
    }
    // the person is roughly centred (H36M subjects stand mid-room)
    assert.ok(px[0] > 250 && px[0] < 750 && px[1] > 250 && px[1] < 750, `pelvis at ${px[0]}, ${px[1]}`);
  }
  ds.close();
});
