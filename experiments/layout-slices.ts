/**
 * Lifting keypoints of another layout (README, Validation): the held-out subject's ground truth projected
 * through each camera and written as COCO-17 or MPII-16 keypoints (the joints a layout lacks missing),
 * lifted through the `points2d` path, for the shipped models and any other models folders.
 *
 *   node --import tsx experiments/layout-slices.ts [--models models,DIR] [--subject S1] [--sequences 40] [--frames 300] [--stride 5] [--no-fit]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateDataset } from '../src/eval/evaluate.js';
import { defaultDataDir, defaultModelsDir } from '../src/util/paths.js';
import { writeProjectedSlice } from '../test/projected-points.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: defaultModelsDir() },
    subject: { type: 'string', default: 'S1' },
    sequences: { type: 'string', default: '40' },
    frames: { type: 'string', default: '300' },
    stride: { type: 'string', default: '5' },
    'no-fit': { type: 'boolean', default: false },
  },
});
const [sequences, frames, stride] = [values.sequences, values.frames, values.stride].map(Number);
for (const layout of ['coco17', 'mpii16'] as const) {
  const dir = writeProjectedSlice(defaultDataDir('h36m-train'), { layout, subject: values.subject, sequences, frames });
  try {
    for (const models of values.models.split(',')) {
      const r = await evaluateDataset(dir, { input: 'points2d', stride, models, fit: !values['no-fit'] });
      console.log(`${layout}, ${values.subject} (${r.frames} person-frames)${values['no-fit'] ? ', no fitter' : ''}, ${models}: MPJPE ${r.mpjpe.toFixed(1)}, N-MPJPE ${r.n_mpjpe.toFixed(1)}, PA-MPJPE ${r.pa_mpjpe.toFixed(1)} mm, ` +
        `MRPE ${r.mrpe.toFixed(1)} mm (x / y / z ${r.mrpe_xyz.map((v: number) => v.toFixed(0)).join(' / ')})`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(0);
