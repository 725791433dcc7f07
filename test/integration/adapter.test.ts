/**
 * Keypoint-definition adapter (src/lift/adapter.ts, `poselift calibrate`): known answers for the pure
 * geometry, and on the four Human3.6M photos that the shipped models/keypoint-adapter.json is what the
 * calibration command measures and that, leave-one-out, it lowers the root error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { relativeAdapter, torso, ADAPTER_KEYS } from '../../src/lift/adapter.js';
import { ADAPTER_FILE, loadAdapters, readAdapterFile, writeAdapterReference } from '../../src/lift/adapter-file.js';
import { calibrateDetector, measureReference } from '../../src/eval/calibrate.js';
import { DEFAULT_DETECTOR } from '../../src/detect/types.js';
import { DATA, MODELS } from '../helpers.js';

globalThis.fetch = (async (input: unknown) => { throw new Error(`unexpected network fetch of ${String(input)}`); }) as typeof fetch;

test('calibrate: a data set without images gets one clear error naming the view', async () => {
  await assert.rejects(calibrateDetector(path.join(DATA, 'h36m-train'), { detector: 'movenet-lightning', models: MODELS, out: null }),
    (e: Error) => /index\.json: sequences\[0\]\.views\[0\] lists no images; calibrate needs photos with ground truth/.test(e.message) && !e.message.includes('\n'));
});

test('calibrate (the default detector, BlazePose, the four photos): reproduces the shipped adapter; leave-one-out it lowers the root error', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'poselift-calib-'));
  try {
    const out = path.join(dir, ADAPTER_FILE);
    const r = await calibrateDetector(path.join(DATA, 'h36m-images'), { detector: DEFAULT_DETECTOR, models: MODELS, out });
    const shipped = readAdapterFile(path.join(MODELS, ADAPTER_FILE)).detectors[DEFAULT_DETECTOR];
    for (const key of ADAPTER_KEYS) assert.ok(Math.abs(r.entry.adapter[key] - shipped.adapter[key]) < 2e-3, `${key}: ${r.entry.adapter[key]} vs shipped ${shipped.adapter[key]}`);
    assert.deepEqual(readAdapterFile(out).detectors[DEFAULT_DETECTOR].adapter, r.entry.adapter);
    // measured (BlazePose): hips ~55 % wider and ~16 % of the torso higher than the detector's; thorax ~13 %
    // above the shoulders (MoveNet Thunder: 29 %, 9 %, 12 %)
    assert.ok(r.entry.adapter.hipWidth > 1.15 && r.entry.adapter.pelvisShift > 0.03 && r.entry.adapter.thoraxShift > 0.05);
    const mean = (xs: { mpjpe: number; root: number }[], k: 'mpjpe' | 'root') => xs.reduce((s, x) => s + x[k], 0) / xs.length;
    const { without, with: withA } = r.entry.leave_one_out;
    console.log(`leave-one-out MPJPE / root: without ${mean(without, 'mpjpe').toFixed(1)} / ${mean(without, 'root').toFixed(1)}, with ${mean(withA, 'mpjpe').toFixed(1)} / ${mean(withA, 'root').toFixed(1)} mm`);
    // measured 2026-12-02: root 190 -> 99 mm, MPJPE 74.3 -> 71.7 mm (the worst photo's root 159 mm)
    assert.ok(mean(withA, 'root') < 0.65 * mean(without, 'root'), 'root error');
    assert.ok(mean(withA, 'mpjpe') < mean(without, 'mpjpe') + 3, 'MPJPE not worse by more than 3 mm');
    assert.ok(withA.every((s) => s.root < 200), 'every photo within issue 3\'s 200 mm root target');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the reference (calibrate --reference): the Stacked Hourglass hips and thorax against Human3.6M\'s, and loadAdapters applies it', () => {
  // measured on the held-out S1 here (the shipped reference is S5-S8): FORMAT.md's gap, the hips ~5 % of the
  // torso low and ~28 % too close together, the shoulders' midpoint ~13 % of the torso below the thorax
  const r = measureReference(path.join(DATA, 'h36m-train'), ['S1'], 50, 'test');
  assert.deepEqual(r.subjects, ['S1']);
  assert.ok(r.samples > 4000, `${r.samples} samples`);
  assert.ok(r.adapter.hipShift > 0.02 && r.adapter.hipShift < 0.1, `hipShift ${r.adapter.hipShift}`);
  assert.ok(r.adapter.hipWidth > 1.2 && r.adapter.hipWidth < 1.5, `hipWidth ${r.adapter.hipWidth}`);
  assert.ok(r.adapter.thoraxShift > 0.08 && r.adapter.thoraxShift < 0.2, `thoraxShift ${r.adapter.thoraxShift}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'poselift-ref-'));
  try {
    const f = path.join(dir, ADAPTER_FILE);
    const shipped = readAdapterFile(path.join(MODELS, ADAPTER_FILE));
    writeFileSync(f, JSON.stringify({ ...shipped, reference: undefined }));
    const plain = loadAdapters(f).get('blazepose')!;
    writeAdapterReference(f, r);
    const rel = loadAdapters(f, true).get('blazepose')!;
    assert.deepEqual(loadAdapters(f).get('blazepose')!.adapter, plain.adapter, 'relative only when asked');
    assert.deepEqual(rel.adapter, relativeAdapter(plain.adapter, r.adapter));
    assert.match(rel.version, /relative to h36m-train S1 detections/);
    assert.deepEqual(readAdapterFile(f).detectors, shipped.detectors, 'the detectors\' entries are kept');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
