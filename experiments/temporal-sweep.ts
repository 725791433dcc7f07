/**
 * The lift path's settings with a temporal lifter (docs/decisions/temporal-lifter.md): held-out S1's Stacked
 * Hourglass detections and clean MPII-16 keypoints (the projected truth of two S1 sequences, the
 * `test/models` slice) through `evaluateDataset`, single-frame PoseNet against the temporal lifter with the
 * depth search placing either pose (`temporalDepth`) and the fitter's prior toward the pose (`relSigmaMm`)
 * varied. MPJPE / PA-MPJPE / MRPE, the camera-frame MPJPE (no alignment) and the acceleration error, mm.
 *
 *   node --import tsx experiments/temporal-sweep.ts --models DIR [--stride 5] [--score-every 5] [--sets sh,clean,sh-coco,clean-coco] [--configs 0,2] [--kinds mpii,coco]
 *
 * Sets: `gt` S1's projected ground truth (the joints kind), `sh` S1's detections (mpii), `sh-coco` the same given as COCO-17 keypoints (`--coco-style`), `clean` /
 * `clean-coco` the projected truth of two S1 sequences as MPII-16 / COCO-17; `--kinds`: the kinds the temporal
 * lifter lifts (`temporalKinds`).
 *
 * DIR holds the shipped networks plus a `temporal.onnx` (tracks of the kinds the truth-trained networks lift) and
 * / or a `temporal-detected.onnx` (those of mpii keypoints). Nothing here is a test: S1 is the dev subject.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateDataset, type EvalOptions } from '../src/eval/evaluate.js';
import { LIFT_DEFAULTS, DETECTED_LIFT_OPTIONS } from '../src/lift/constants.js';
import type { LiftSequenceOptions } from '../src/lift/solve/lift.js';
import type { KeypointKind } from '../src/lift/posenet/features.js';
import { defaultDataDir } from '../src/util/paths.js';
import { writeProjectedSlice } from '../test/projected-points.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string' },
    stride: { type: 'string', default: '5' },
    'score-every': { type: 'string' },
    sets: { type: 'string', default: 'sh,clean' },
    configs: { type: 'string' },
    kinds: { type: 'string', default: 'mpii' },
  },
});
if (!values.models) throw new Error('temporal-sweep: --models DIR (the shipped networks plus temporal.onnx and / or temporal-detected.onnx)');

const DETECTED: LiftSequenceOptions = { ...LIFT_DEFAULTS, ...DETECTED_LIFT_OPTIONS };
const CONFIGS: Record<string, Partial<EvalOptions>> = {
  'single-frame': { temporal: false },
  'temporal, search its pose': { temporalDepth: 'temporal' },
  'temporal, search PoseNet pose': { temporalDepth: 'posenet' },
  'temporal, PoseNet search, rel 15': { temporalDepth: 'posenet', lift: { ...DETECTED, relSigmaMm: 15 } },
  'temporal, PoseNet search, rel 40': { temporalDepth: 'posenet', lift: { ...DETECTED, relSigmaMm: 40 } },
  'temporal, PoseNet search, no fit': { temporalDepth: 'posenet', fit: false },
  'single-frame, no fit': { temporal: false, fit: false },
  // the detected networks' fitter prior (25 mm) for every kind, ground-truth-like and COCO-style keypoints included
  'temporal, PoseNet search, rel 25': { temporalDepth: 'posenet', lift: DETECTED },
};
const wanted = values.configs ? values.configs.split(',').map((c) => Object.keys(CONFIGS)[Number(c)] ?? c) : Object.keys(CONFIGS);
const stride = Number(values.stride);
const scoreEvery = values['score-every'] ? Number(values['score-every']) : undefined;

const temporalKinds = values.kinds.split(',') as KeypointKind[];
const src = defaultDataDir('h36m-train');
const SETS: Record<string, string> = {
  gt: 'S1 ground truth (gt2d)', sh: 'S1 Stacked Hourglass detections', 'sh-coco': 'S1 Stacked Hourglass detections as COCO-17',
  clean: 'clean MPII-16 keypoints (2 S1 sequences x 300 frames)', 'clean-coco': 'clean COCO-17 keypoints (2 S1 sequences x 300 frames)',
};
for (const set of values.sets.split(',')) {
  if (!SETS[set]) throw new Error(`temporal-sweep: --sets ${set}: use ${Object.keys(SETS).join(', ')}`);
  const slice = set.startsWith('clean');
  const dir = slice ? writeProjectedSlice(src, { layout: set === 'clean' ? 'mpii16' : 'coco17', subject: 'S1', sequences: 2, frames: 300 }) : src;
  try {
    console.log(`${SETS[set]}, stride ${stride}, temporal kinds ${temporalKinds.join('/')}` +
      `${scoreEvery ? `, every frame lifted, every ${scoreEvery}th scored` : ''}, models ${values.models}`);
    for (const name of wanted) {
      const t0 = Date.now();
      const r = await evaluateDataset(dir, {
        input: set === 'gt' ? 'gt2d' : 'points2d', stride, models: values.models, subjects: slice ? undefined : ['S1'], cocoStyle: set === 'sh-coco', scoreEvery, temporalKinds, ...CONFIGS[name],
      });
      console.log(`  ${name.padEnd(34)} MPJPE ${r.mpjpe.toFixed(1)}  PA ${r.pa_mpjpe.toFixed(1)}  MRPE ${r.mrpe.toFixed(1)}  ` +
        `camera ${r.mpjpe_abs.toFixed(1)}  accel ${r.accel?.toFixed(2)}  (${r.frames} person-frames, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
  } finally {
    if (dir !== src) fs.rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(0);
