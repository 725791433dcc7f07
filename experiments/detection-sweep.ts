/**
 * The lift settings on real detections: held-out S1's stored Stacked Hourglass detections (or the same as
 * COCO-17 keypoints) through `evaluateDataset` with the depth search's and the fitter's settings varied,
 * including the weight of the joints a detector defines differently (`DEFINITION_WEIGHT`). Research script
 * behind docs/decisions/real-detections.md:
 *   node --import tsx experiments/detection-sweep.ts [--stride 10] [--coco-style] [--coco-models detected] [--models models] [--shared ../shared/data]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateDataset } from '../src/eval/evaluate.js';
import { LIFT_DEFAULTS } from '../src/lift/lifter.js';
import type { LiftSequenceOptions } from '../src/lift/solve/lift.js';
import { defaultModelsDir } from '../src/util/paths.js';

const { values } = parseArgs({
  options: {
    stride: { type: 'string', default: '10' },
    'coco-style': { type: 'boolean', default: false },
    'coco-models': { type: 'string', default: 'joints' },
    models: { type: 'string', default: defaultModelsDir() },
    shared: { type: 'string', default: path.resolve('../shared/data') },
  },
});
const cocoModels = values['coco-models'] === 'detected' ? 'detected' : 'joints';

// every row on LIFT_DEFAULTS with the fitter's own PoseNet prior (40 mm), as the sweep was run before
// DETECTED_LIFT_OPTIONS (rel 25 mm for the detection-trained networks) was chosen from it; `production` = today
const REL40 = { relSigmaMm: 40 };
const CONFIGS: Record<string, { lift?: Partial<LiftSequenceOptions>; w?: number; fit?: boolean }> = {
  'defaults (w 1)': { lift: REL40 },
  'w 0': { w: 0, lift: REL40 }, 'w 0.25': { w: 0.25, lift: REL40 }, 'w 0.5': { w: 0.5, lift: REL40 },
  'no fit': { fit: false },
  'rel 15': { lift: { relSigmaMm: 15 } }, 'rel 25': { lift: { relSigmaMm: 25 } }, 'rel 80': { lift: { relSigmaMm: 80 } },
  'px 10': { lift: { ...REL40, pxSigma: 10 } },
  'z 25': { lift: { ...REL40, search: { zSigmaMm: 25 }, depthSigmaMm: 25 } }, 'z 100': { lift: { ...REL40, search: { zSigmaMm: 100 }, depthSigmaMm: 100 } },
  'production': {},
};

console.log(`S1 points2d${values['coco-style'] ? ' as COCO-17' : ''}, every ${values.stride}th frame, models ${values.models} (COCO: ${cocoModels}); mm`);
for (const [name, c] of Object.entries(CONFIGS)) {
  const r = await evaluateDataset(path.join(values.shared, 'h36m-train'), {
    input: 'points2d', stride: Number(values.stride), models: values.models, subjects: ['S1'], cocoStyle: values['coco-style'], cocoModels,
    lift: c.lift ? { ...LIFT_DEFAULTS, ...c.lift } : undefined, definitionWeight: c.w, fit: c.fit,
  });
  console.log(`${name.padEnd(16)} MPJPE ${r.mpjpe.toFixed(1)}  PA ${r.pa_mpjpe.toFixed(1)}  MRPE ${r.mrpe.toFixed(1)}  accel ${r.accel?.toFixed(2)}`);
}
process.exit(0);
