/**
 * Keypoint-definition adapter known answers without data or models (src/lift/adapter.ts, src/lift/adapter-file.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyAdapter, IDENTITY_ADAPTER, meanAdapter, measureAdapter, relativeAdapter, torso, ADAPTER_KEYS, type DefinitionAdapter } from '../../src/lift/adapter.js';
import { ADAPTER_FILE, loadAdapters, readAdapterFile } from '../../src/lift/adapter-file.js';

globalThis.fetch = (async (input: unknown) => { throw new Error(`unexpected network fetch of ${String(input)}`); }) as typeof fetch;

/** An upright h36m17 pose in pixels (stride 3): hips at y 200, shoulders at y 100. */
function pose(): Float64Array {
  const k = new Float64Array(51).fill(NaN);
  const set = (j: number, x: number, y: number) => { k[j * 3] = x; k[j * 3 + 1] = y; k[j * 3 + 2] = 0.9; };
  set(0, 100, 200); set(1, 90, 200); set(4, 110, 200); set(2, 90, 250); set(3, 90, 300); set(5, 110, 250); set(6, 110, 300);
  set(7, 100, 150); set(8, 100, 100); set(9, 100, 80); set(10, 100, 60);
  set(11, 120, 100); set(12, 125, 140); set(13, 125, 180); set(14, 80, 100); set(15, 75, 140); set(16, 75, 180);
  return k;
}

test('applyAdapter: identity leaves the pose; known shifts and hip spread land where the formula puts them', () => {
  const k = pose();
  assert.deepEqual(Array.from(applyAdapter(k, IDENTITY_ADAPTER)).map((v) => (Number.isNaN(v) ? 'nan' : v)),
    Array.from(k).map((v) => (Number.isNaN(v) ? 'nan' : v)));
  // torso t = (0, -100): shifts of 0.1 move 10 px up; hips spread 1.5x about their moved midpoint
  const a = applyAdapter(k, { pelvisShift: 0.1, hipShift: 0.05, hipWidth: 1.5, thoraxShift: -0.2 });
  assert.deepEqual([a[0], a[1]], [100, 190]);
  assert.deepEqual([a[3], a[4], a[12], a[13]], [85, 195, 115, 195]);
  assert.deepEqual([a[24], a[25]], [100, 120]);
  for (const j of [2, 3, 5, 6, 9, 11, 12, 13, 14, 15, 16]) assert.deepEqual([a[j * 3], a[j * 3 + 1]], [k[j * 3], k[j * 3 + 1]], `joint ${j} untouched`);
  // rotation invariance: the same pose rotated 90 degrees gets the same adapter result rotated
  const rot = (p: Float64Array) => { const o = Float64Array.from(p); for (let j = 0; j < 17; j++) { o[j * 3] = -p[j * 3 + 1]; o[j * 3 + 1] = p[j * 3]; } return o; };
  const b = applyAdapter(rot(k), { pelvisShift: 0.1, hipShift: 0.05, hipWidth: 1.5, thoraxShift: -0.2 });
  const ra = rot(a);
  for (let i = 0; i < 51; i++) assert.ok(Math.abs(b[i] - ra[i]) < 1e-9, `rotated index ${i}`);
});

test('applyAdapter: a missing shoulder or hip leaves the keypoints as they are', () => {
  const k = pose();
  k[11 * 3] = NaN;
  const a = applyAdapter(k, { pelvisShift: 0.1, hipShift: 0.1, hipWidth: 1.3, thoraxShift: 0.1 });
  assert.equal(a[1], k[1]);
  assert.equal(a[3], k[3]);
});

test('measureAdapter inverts applyAdapter; meanAdapter averages', () => {
  const truth: DefinitionAdapter = { pelvisShift: 0.09, hipShift: 0.085, hipWidth: 1.29, thoraxShift: 0.12 };
  const det = pose();
  const gt = applyAdapter(det, truth);
  const m = measureAdapter(det, gt)!;
  for (const key of ADAPTER_KEYS) assert.ok(Math.abs(m[key] - truth[key]) < 1e-12, key);
  const mean = meanAdapter([truth, IDENTITY_ADAPTER]);
  assert.ok(Math.abs(mean.hipWidth - 1.145) < 1e-12 && Math.abs(mean.thoraxShift - 0.06) < 1e-12);
  assert.equal(measureAdapter(det, new Float64Array(51).fill(NaN)), null);
});

test('adapter file: bad files get one clear error naming the file; no file means no adapters', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'poselift-adapter-'));
  try {
    const f = path.join(dir, ADAPTER_FILE);
    assert.equal(loadAdapters(f).size, 0);
    writeFileSync(f, '{"format":"poselift-keypoint-adapter/1"');
    assert.throws(() => readAdapterFile(f), (e: Error) => e.message.startsWith(f) && /cannot read/.test(e.message) && !e.message.includes('\n'));
    writeFileSync(f, JSON.stringify({ format: 'poselift-keypoint-adapter/1', description: '', detectors: { x: { adapter: { pelvisShift: 0, hipShift: 0, hipWidth: 9, thoraxShift: 0 } } } }));
    assert.throws(() => readAdapterFile(f), (e: Error) => e.message.startsWith(f) && /detectors\.x/.test(e.message) && /poselift calibrate/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('relativeAdapter: a detector moved to a reference\'s definitions; the reference itself is the identity', () => {
  const det: DefinitionAdapter = { pelvisShift: 0.17, hipShift: 0.16, hipWidth: 1.5, thoraxShift: 0.13 };
  const ref: DefinitionAdapter = { pelvisShift: 0.06, hipShift: 0.05, hipWidth: 1.25, thoraxShift: 0.14 };
  const r = relativeAdapter(det, ref);
  assert.ok(Math.abs(r.hipShift - 0.11 / 0.95) < 1e-12 && r.pelvisShift === r.hipShift);
  assert.ok(Math.abs(r.hipWidth - 1.2) < 1e-12 && Math.abs(r.thoraxShift - (0.13 - 0.14 * (1 - 0.11 / 0.95))) < 1e-12);
  const id = relativeAdapter(ref, ref);
  assert.deepEqual(id, { pelvisShift: 0, hipShift: 0, hipWidth: 1, thoraxShift: 0 });
  // a detector's keypoints moved to the reference's definitions, then adapted as the reference, have their hips
  // exactly where the detector's own adapter puts them; the moved thorax is the point from which the
  // reference's thorax shift (along the moved torso) reaches the detector's adapted thorax
  const k = pose();
  k[2 * 3] += 7; k[14 * 3 + 1] += 5; // not symmetric
  const moved = applyAdapter(k, r);
  const viaRef = applyAdapter(moved, ref);
  const direct = applyAdapter(k, det);
  for (const j of [1, 4]) for (let a = 0; a < 2; a++) assert.ok(Math.abs(viaRef[j * 3 + a] - direct[j * 3 + a]) < 1e-9, `joint ${j}`);
  const t = torso(moved, 3)!;
  assert.ok(Math.abs(moved[24] + ref.thoraxShift * t.tx - direct[24]) < 1e-9 && Math.abs(moved[25] + ref.thoraxShift * t.ty - direct[25]) < 1e-9, 'thorax');
});
