/**
 * The four real photos of ../shared/data/h36m-images for the run-path tests (test/integration/run.test.ts,
 * test/models/photos.test.ts): each photo's file, true intrinsics and camera-frame ground truth, a models folder
 * with a leave-one-out keypoint adapter, and the poselift/1 schema check.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import type { PoseliftDoc } from '../src/contracts/document.js';
import { ADAPTER_FILE, type AdapterFile } from '../src/lift/adapter-file.js';
import { meanAdapter } from '../src/lift/adapter.js';
import { DATA, MODELS, REPO } from './helpers.js';

export const IMAGES = path.join(DATA, 'h36m-images');

export interface Photo {
  id: string;
  file: string;
  /** the pose-dataset/1 camera: f, c, k, p */
  cam: { f: [number, number]; c: [number, number]; k?: [number, number, number]; p?: [number, number] };
  /** ground truth, camera frame (R = I, C = 0), 17 x 3 mm */
  gt: Float32Array;
}

export function loadPhotos(): Photo[] {
  const index = JSON.parse(readFileSync(path.join(IMAGES, 'index.json'), 'utf8'));
  const blob = readFileSync(path.join(IMAGES, 'world3d.f32'));
  const w3 = new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
  return index.sequences.map((s: { id: string; views: { images: string[]; camera: string }[]; world3d: { offset: number } }) => ({
    id: s.id,
    file: path.join(IMAGES, s.views[0].images[0]),
    cam: index.cameras[s.views[0].camera],
    gt: w3.subarray(s.world3d.offset, s.world3d.offset + 51),
  }));
}

/** `photo`'s camera written as a camera file into `dir` (the pose-dataset/1 form `--camera` reads). */
export function writeCamFile(dir: string, photo: Photo, i: number): string {
  const f = path.join(dir, `cam${i}.json`);
  writeFileSync(f, JSON.stringify(photo.cam));
  return f;
}

/**
 * A models folder in `dir` whose `detector` adapter is the mean of the shipped per-photo measurements without
 * the photos `ids` (so no photo is tested with an adapter measured on itself).
 */
export function leaveOutModels(dir: string, detector: string, ids: string[]): string {
  const file = JSON.parse(readFileSync(path.join(MODELS, ADAPTER_FILE), 'utf8')) as AdapterFile;
  const e = file.detectors[detector];
  const others = e.photos.filter((p) => !ids.includes(p.id));
  assert.equal(others.length, e.photos.length - ids.length, `${ids.join(', ')} are calibration photos`);
  const out = path.join(dir, `models-${detector}-without-${ids.map((id) => id.slice(0, 2)).join('-')}`);
  mkdirSync(out, { recursive: true });
  for (const f of ['posenet.onnx', 'posenet-coco.onnx', 'rootnet.onnx']) if (existsSync(path.join(MODELS, f))) symlinkSync(path.join(MODELS, f), path.join(out, f));
  writeFileSync(path.join(out, ADAPTER_FILE), JSON.stringify({
    ...file, detectors: { [detector]: { ...e, adapter: meanAdapter(others.map((p) => p.adapter)) } },
  }));
  return out;
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(path.join(REPO, 'schema', 'poselift-1.schema.json'), 'utf8')));

/** Fails unless `doc` is a valid poselift/1 document (the schema's first errors in the message). */
export function assertValid(doc: PoseliftDoc): void {
  assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
}
