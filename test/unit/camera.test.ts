/**
 * Camera geometry known answers without data: projection and intrinsics validation (src/camera/geometry.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Camera, Intrinsics } from '../../src/contracts/types.js';
import { checkIntrinsics, projectCameraPoints, validateIntrinsics } from '../../src/camera/geometry.js';
import { resolveCamera } from '../../src/camera/resolve.js';

test('projectCameraPoints: NaN in -> NaN out, z <= 0 -> NaN, float32 input', () => {
  const cam: Intrinsics = { fx: 1000, fy: 1000, cx: 500, cy: 500, k: [-0.2, 0.2, 0], p: [0.001, -0.001] };
  const pts = new Float32Array([0, 0, 1000, NaN, 0, 1000, 10, 10, 0, 10, 10, -1000, 100, 50, 2000]);
  const px = projectCameraPoints(cam, pts);
  assert.equal(px.length, 10);
  assert.deepEqual([px[0], px[1]], [500, 500]);
  for (let i = 2; i < 8; i++) assert.ok(Number.isNaN(px[i]), `index ${i}`);
  assert.ok(Number.isFinite(px[8]) && Number.isFinite(px[9]));
});

test('validateIntrinsics names where, the field and the fix', () => {
  const ok: Camera = { id: 'a', fx: 1000, fy: 1000, cx: 500, cy: 500, R: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], C: [0, 0, 0] };
  validateIntrinsics(ok, 'cam a');
  validateIntrinsics({ ...ok, k: [0, 0, 0], p: [0, 0], width: 10, height: 10 }, 'cam a');
  const bad: Array<[Partial<Intrinsics>, RegExp]> = [
    [{ fx: 0 }, /cam a: fx must be a finite number > 0 .*; set it/],
    [{ fy: NaN }, /cam a: fy must be a finite number > 0/],
    [{ cx: Infinity }, /cam a: cx must be a finite number/],
    [{ cy: undefined as unknown as number }, /cam a: cy must be a finite number/],
    [{ k: [0, 0] as unknown as [number, number, number] }, /cam a: k must be an array of 3 numbers.*leave k out/],
    [{ p: [0, NaN] }, /cam a: p\[1\] must be a finite number/],
    [{ width: -1 }, /cam a: width must be a finite number > 0/],
  ];
  for (const [patch, re] of bad) assert.throws(() => validateIntrinsics({ ...ok, ...patch }, 'cam a'), re);
});

test('resolveCamera validates once and freezes; checkIntrinsics re-checks only what it has not seen frozen', () => {
  const file = { fx: 1000, fy: 1000, cx: 320, cy: 240, k: [0.1, 0, 0] as [number, number, number], width: 640, height: 480 };
  const cam = resolveCamera(640, 480, file, undefined, 'cam.json', 'a.jpg');
  assert.ok(Object.isFrozen(cam) && Object.isFrozen(cam.k));
  assert.equal(cam.source, 'file');
  assert.throws(() => { (cam as { fx: number }).fx = -1; }, TypeError);
  checkIntrinsics(cam, 'x');
  // the caller's object is not frozen and not changed
  assert.ok(!Object.isFrozen(file));
  // a library caller's plain object is checked on every call, so a later bad value is caught
  const plain: Intrinsics = { fx: 1000, fy: 1000, cx: 0, cy: 0 };
  checkIntrinsics(plain, 'lib');
  plain.fx = NaN;
  assert.throws(() => checkIntrinsics(plain, 'lib'), /lib: fx must be a finite number > 0/);
  // bad EXIF-free sizes are caught where the camera is resolved, naming the input
  assert.throws(() => resolveCamera(640, 480, { ...file, cx: NaN, width: undefined, height: undefined }, undefined, 'cam.json', 'a.jpg'), /cam\.json for a\.jpg: cx must be a finite number/);
});
