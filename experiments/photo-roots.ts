/**
 * Where each h36m-images photo's root depth comes from (README, "From pixels on the four photos"): the true
 * root depth, RootNet's depth and the full lift's (and its MPJPE) from the true 2D and from a detector's keypoints (no
 * keypoint adapter), the keypoints' extent in px, and the detection's worst joint (and `--joint NAME`, an
 * h36m17 joint name) against the projected truth.
 *
 *   node --import tsx experiments/photo-roots.ts [--models models] [--detector D (default: the run path's)] [--joint left_ankle] [--data ../shared/data/h36m-images]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset.js';
import { Lifter } from '../src/lift/lifter.js';
import { normalisedH36m, normalisedTruth } from '../src/lift/normalise.js';
import { DEFAULT_DETECTOR } from '../src/detect/types.js';
import { detectorArg } from '../bench/lib/common.js';
import { defaultModelsDir } from '../src/util/paths.js';
import { H36M17_NAMES } from '../src/contracts/layouts.js';
import { mpjpe } from '../src/eval/metrics.js';
import type { Intrinsics } from '../src/contracts/types.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: defaultModelsDir() },
    detector: { type: 'string', default: DEFAULT_DETECTOR },
    joint: { type: 'string' },
    data: { type: 'string', default: path.resolve('../shared/data/h36m-images') },
  },
});
const extra = values.joint === undefined ? -1 : (H36M17_NAMES as readonly string[]).indexOf(values.joint);
if (values.joint !== undefined && extra < 0) throw new Error(`--joint: one of ${H36M17_NAMES.join(', ')}`);

/** Keypoints' extent in px (width x height) of normalised h36m17 keypoints. */
function extentPx(k: Float64Array, cam: Intrinsics): string {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let j = 0; j < 17; j++) {
    if (!(k[j * 3 + 2] > 0) || !Number.isFinite(k[j * 3])) continue;
    x0 = Math.min(x0, k[j * 3]); x1 = Math.max(x1, k[j * 3]);
    y0 = Math.min(y0, k[j * 3 + 1]); y1 = Math.max(y1, k[j * 3 + 1]);
  }
  return `${((x1 - x0) * cam.fx).toFixed(0)} x ${((y1 - y0) * cam.fy).toFixed(0)}`;
}

const ds = openDataset(values.data);
const { createDetector, readImage } = await import('../src/detect/index.js');
const det = await createDetector(detectorArg(values.detector));
const lifter = await Lifter.load(values.models);
console.log(`models ${values.models}, detector ${values.detector} (no keypoint adapter); depths in mm, camera frame`);
try {
  for (let si = 0; si < ds.sequences.length; si++) {
    const cam = ds.camera(si, 0);
    const g = ds.cameraFrame3d(si, 0, 0, 1);
    const truth = normalisedTruth(g);
    const people = await det.detect(await readImage(ds.imagePath(si, 0, 0)!));
    if (!people.length) { console.log(`${ds.sequences[si].id}: no person detected`); continue; }
    const kp = normalisedH36m(people[0].keypoints, cam);
    const [a, b] = [(await lifter.liftBatch([truth], cam))[0], (await lifter.liftBatch([kp], cam, { kind: 'coco' }))[0]];
    // detection minus truth, px
    const off = (j: number) => [(kp[j * 3] - truth[j * 3]) * cam.fx, (kp[j * 3 + 1] - truth[j * 3 + 1]) * cam.fy];
    const err = (j: number) => Math.hypot(...off(j));
    const shown = (j: number) => `${H36M17_NAMES[j]} ${err(j).toFixed(0)} px (${off(j).map((v) => v.toFixed(0)).join(', ')})`;
    let worst = 0;
    for (let j = 1; j < 17; j++) if (err(j) > err(worst)) worst = j;
    console.log(`${ds.sequences[si].id}: true z ${g[2].toFixed(0)}`
      + ` | true 2D: RootNet ${a!.rootnetZ.toFixed(0)}, lift ${a!.joints3d[2].toFixed(0)}, MPJPE ${mpjpe(a!.joints3d, g).toFixed(1)}, extent ${extentPx(truth, cam)} px`
      + ` | detected: RootNet ${b!.rootnetZ.toFixed(0)}, lift ${b!.joints3d[2].toFixed(0)}, MPJPE ${mpjpe(b!.joints3d, g).toFixed(1)}, extent ${extentPx(kp, cam)} px`
      + ` | worst joint ${shown(worst)}${extra >= 0 ? `, ${shown(extra)}` : ''}`);
  }
} finally {
  det.dispose();
  ds.close();
}
process.exit(0);
