/**
 * Accuracy gates of the shipped models from pixels: the four photos of ../shared/data/h36m-images through `poselift run` (BlazePose, leave-one-out keypoint adapter), each photo's MPJPE and root error within the limits in models/accuracy-gates.json.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runInputs, type PoseliftDoc } from '../../src/app/run.js';
import { DEFAULT_DETECTOR } from '../../src/detect/types.js';
import { MODELS } from '../helpers.js';
import { assertValid, leaveOutModels, loadPhotos, writeCamFile } from '../photos.js';
import { mpjpe as rootAlignedMpjpe, rootError } from '../../src/eval/metrics.js';

globalThis.fetch = (async (input: unknown) => { throw new Error(`unexpected network fetch of ${String(input)}`); }) as typeof fetch;
const photos = loadPhotos();

/**
 * Per photo MPJPE / root error (mm) from pixels: the default detector (BlazePose), true intrinsics, and the
 * keypoint adapter measured on the *other three* photos (leave-one-out: the shipped
 * models/keypoint-adapter.json was calibrated on all four, so using it here would test the photos on
 * themselves). Measured 2026-12-02 with the PoseNet trained with part mixing 0.8: S1 58.9 / 52, S5 60.9 / 114,
 * S7 118.9 / 159, S8 48.3 / 72 (without any adapter: S1 87.1 / 211, S5 72.4 / 81, S7 96.7 / 376, S8 40.9 /
 * 94). Issue 3's targets (MPJPE <= 70, root <= 200) are met on S1, S5 and S8 and for the root on S7; S7's
 * MPJPE misses (README). Limits: the measured values plus ~10 % (at least 15 mm for the roots), never past
 * a target a photo meets.
 */
const PHOTO_GATE = (JSON.parse(readFileSync(path.join(MODELS, 'accuracy-gates.json'), 'utf8')) as {
  gates: Record<string, { limit: Record<string, number> }>;
}).gates.photos_blazepose_loo.limit;

const LIMITS: Record<string, { mpjpe: number; root: number }> = Object.fromEntries(
  ['S1', 'S5', 'S7', 'S8'].map((s) => [s, { mpjpe: PHOTO_GATE[`${s}_mpjpe`], root: PHOTO_GATE[`${s}_root`] }]));


let tmp = '';

before(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'poselift-run-')); });

after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

const camFile = (i: number) => writeCamFile(tmp, photos[i], i);

test('photos with true intrinsics, leave-one-out keypoint adapter: schema-valid, per-photo MPJPE and root error within the measured limits', async () => {
  const failures: string[] = [];
  for (let i = 0; i < photos.length; i++) {
    const p = photos[i];
    const [r] = await runInputs([p.file], { models: leaveOutModels(tmp, DEFAULT_DETECTOR, [p.id]), camera: camFile(i), out: path.join(tmp, 'photos') + '/' });
    assert.ok(existsSync(r.out));
    const doc = JSON.parse(readFileSync(r.out, 'utf8')) as PoseliftDoc;
    assertValid(doc);
    assert.equal(doc.camera.source, 'file');
    assert.equal(doc.frames.length, 1);
    assert.match(doc.models.keypoint_adapter ?? '', new RegExp(`^${DEFAULT_DETECTOR} calibrated`));
    const person = doc.frames[0].people[0];
    assert.ok(person && person.joints3d && person.root, `${p.id}: a lifted person`);
    const j = person.joints3d!.flat(), gt = p.gt;
    const mpjpe = rootAlignedMpjpe(j, gt);
    const rootErr = rootError(j, gt).error;
    const lim = LIMITS[p.id.slice(0, 2)];
    console.log(`${p.id}: MPJPE ${mpjpe.toFixed(1)} mm, root error ${rootErr.toFixed(1)} mm, reprojection ${person.reprojection_px} px`);
    if (mpjpe > lim.mpjpe) failures.push(`${p.id}: MPJPE ${mpjpe.toFixed(1)} > ${lim.mpjpe}`);
    if (rootErr > lim.root) failures.push(`${p.id}: root error ${rootErr.toFixed(1)} > ${lim.root}`);
  }
  assert.deepEqual(failures, []);
});
