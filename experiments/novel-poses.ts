/**
 * Poses no training subject made, without the photos: held-out S1's sequences with some of their limbs'
 * motion taken from another S1 sequence (part mixing over time: each chosen part follows the donor
 * sequence's same part frame by frame, relative to the torso, at S1's own bone lengths), projected through
 * the four cameras and written as clean COCO-17 / MPII-16 keypoints, and lifted as 10 fps tracks by
 * single-frame PoseNet and by the temporal lifter. The same sequences unmixed are the reference, so the
 * rise from unmixed to mixed measures how a lifter copes with poses away from Human3.6M's scripted ones (the
 * question the four photos' still-track check asked of one photo; docs/decisions/temporal-lifter.md).
 *
 *   node --import tsx experiments/novel-poses.ts [--models DIR] [--sequences 30] [--frames 500] [--stride 5] [--layouts coco17,mpii16] [--seed 1] [--coco-models joints|detected] [--temporal-flip-test on|off] [--coco-roots joints|detected] [--coco-posenet posenet|coco|unadapted] [--temporal-blend W]
 *
 * DIR holds the networks under test plus a `temporal.onnx` (COCO-17) and / or `temporal-detected.onnx` (MPII-16)
 * (default: the shipped models). Nothing here is a
 * test: S1 is the dev subject, and part mixing is also how `posenet` is trained, so the set leans its way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateDataset, type EvalOptions } from '../src/eval/evaluate.js';
import { kindOfLayout } from '../src/lift/posenet/features.js';
import { defaultDataDir, defaultModelsDir } from '../src/util/paths.js';
import { writeNovelPoseWorld, writeProjectedSlice } from '../test/projected-points.js';
import type { LayoutName } from '../src/contracts/layouts.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: defaultModelsDir() },
    sequences: { type: 'string', default: '30' },
    frames: { type: 'string', default: '500' },
    stride: { type: 'string', default: '5' },
    layouts: { type: 'string', default: 'coco17,mpii16' },
    seed: { type: 'string', default: '1' },
    'coco-models': { type: 'string', default: 'joints' },
    'temporal-flip-test': { type: 'string' },
    'coco-roots': { type: 'string' },
    'coco-posenet': { type: 'string' },
    'temporal-blend': { type: 'string' },
  },
});
/** An option's value, one of `allowed` (or undefined when not given). */
function choice<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v !== undefined && !(allowed as readonly string[]).includes(v)) throw new Error(`novel-poses: --${name} ${v}: use ${allowed.join(' or ')}`);
  return v as T | undefined;
}
const cocoModels = choice('coco-models', values['coco-models'], ['joints', 'detected'] as const);
const cocoRoots = choice('coco-roots', values['coco-roots'], ['joints', 'detected'] as const);
const cocoPosenet = choice('coco-posenet', values['coco-posenet'], ['posenet', 'coco', 'unadapted'] as const);
const tf = choice('temporal-flip-test', values['temporal-flip-test'], ['on', 'off'] as const);
const [nSeq, nFrames, stride, seed] = [values.sequences, values.frames, values.stride, values.seed].map(Number);
const src = defaultDataDir('h36m-train');

const CONFIGS: Record<string, Partial<EvalOptions>> = {
  'single-frame PoseNet (tracks)': { temporal: false },
  'temporal lifter': {
    ...(tf === undefined ? {} : { temporalFlipTest: tf === 'on' }),
    ...(values['temporal-blend'] === undefined ? {} : { temporalBlend: Number(values['temporal-blend']) }),
  },
};
for (const mix of [false, true]) {
  const world = writeNovelPoseWorld(src, { subject: 'S1', sequences: nSeq, frames: nFrames, mix, seed });
  if (mix) console.log(`mixed sequences (seed ${seed}):\n  ${world.parts.join('\n  ')}`);
  try {
    for (const layout of values.layouts.split(',') as LayoutName[]) {
      const dir = writeProjectedSlice(world.dir, { layout, subject: 'S1', sequences: nSeq, frames: nFrames });
      try {
        for (const [name, cfg] of Object.entries(CONFIGS)) {
          const r = await evaluateDataset(dir, { input: 'points2d', stride, models: values.models, temporalKinds: [kindOfLayout(layout)], cocoModels, cocoRoots, cocoPosenet, ...cfg });
          console.log(`${mix ? 'mixed' : 'plain'} ${layout}  ${name.padEnd(30)} MPJPE ${r.mpjpe.toFixed(1)}  PA ${r.pa_mpjpe.toFixed(1)}  ` +
            `MRPE ${r.mrpe.toFixed(1)}  camera ${r.mpjpe_abs.toFixed(1)}  (${r.frames} person-frames)`);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(world.dir, { recursive: true, force: true });
  }
}
process.exit(0);
