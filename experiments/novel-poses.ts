/**
 * Poses no training subject made, without the photos: held-out S1's sequences with some of their limbs'
 * motion taken from another S1 sequence (part mixing over time: each chosen part follows the donor
 * sequence's same part frame by frame, relative to the torso, at S1's own bone lengths), projected through
 * the four cameras and written as clean COCO-17 / MPII-16 keypoints, and lifted as 10 fps tracks by
 * single-frame PoseNet and by the temporal lifter. The same sequences unmixed are the reference, so the
 * rise from unmixed to mixed measures how a lifter copes with poses away from Human3.6M's scripted ones (the
 * question the four photos' still-track check asked of one photo; docs/decisions/temporal-lifter.md).
 *
 *   node --import tsx experiments/novel-poses.ts [--models DIR] [--sequences 30] [--frames 500] [--stride 5] [--layouts coco17,mpii16] [--seed 1]
 *
 * DIR holds the networks under test plus a `temporal.onnx` (default: the shipped models). Nothing here is a
 * test: S1 is the dev subject, and part mixing is also how `posenet` is trained, so the set leans its way.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset.js';
import { evaluateDataset, type EvalOptions } from '../src/eval/evaluate.js';
import { MIX_PARTS, mixPart } from '../src/train/augment.js';
import type { KeypointKind } from '../src/lift/posenet/features.js';
import { defaultDataDir, defaultModelsDir } from '../src/util/paths.js';
import { Rng } from '../src/util/rng.js';
import { writeProjectedSlice } from '../test/projected-points.js';
import type { LayoutName } from '../src/contracts/layouts.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: defaultModelsDir() },
    sequences: { type: 'string', default: '30' },
    frames: { type: 'string', default: '500' },
    stride: { type: 'string', default: '5' },
    layouts: { type: 'string', default: 'coco17,mpii16' },
    seed: { type: 'string', default: '1' },
  },
});
const [nSeq, nFrames, stride, seed] = [values.sequences, values.frames, values.stride, values.seed].map(Number);
const src = defaultDataDir('h36m-train');

/**
 * A pose-dataset/1 folder of S1's first `nSeq` sequences (first `nFrames` frames), world3d only; with `mix`,
 * each sequence takes every part with probability 0.5 (at least one) from a random other S1 sequence of
 * another action, frame t from the donor's frame t (wrapping), so the motion stays smooth.
 */
function writeWorldSet(mix: boolean): { dir: string; parts: string[] } {
  const ds = openDataset(src);
  const index = JSON.parse(fs.readFileSync(path.join(src, 'index.json'), 'utf8'));
  const s1 = index.sequences.map((s: { subject: string }, i: number) => ({ s, i })).filter(({ s }: { s: { subject: string } }) => s.subject === 'S1');
  const picked = s1.filter((_: unknown, k: number) => k % Math.max(1, Math.floor(s1.length / nSeq)) === 0).slice(0, nSeq);
  const rng = new Rng(seed);
  const world: number[] = [];
  const parts: string[] = [];
  try {
    index.sequences = picked.map(({ s, i }: { s: { frames: number; action: string; views: object[] }; i: number }) => {
      const frames = Math.min(s.frames, nFrames);
      const w3 = Float64Array.from(ds.readWorld3d(i, 0, frames));
      if (mix) {
        const others = s1.filter(({ s: o }: { s: { action: string } }) => o.action.split(' ')[0] !== s.action.split(' ')[0]);
        const donor = others[rng.int(others.length)];
        let chosen = MIX_PARTS.filter(() => rng.next() < 0.5);
        if (!chosen.length) chosen = [MIX_PARTS[rng.int(MIX_PARTS.length)]];
        parts.push(`${s.action} <- ${chosen.map((p) => p.name).join(', ')} of ${donor.s.action}`);
        const dw = ds.readWorld3d(donor.i, 0, donor.s.frames);
        const pose = new Float64Array(51);
        for (let f = 0; f < frames; f++) {
          pose.set(w3.subarray(f * 51, f * 51 + 51));
          const df = f % donor.s.frames;
          const d = dw.subarray(df * 51, df * 51 + 51);
          for (const part of chosen) mixPart(pose, d, part);
          w3.set(pose, f * 51);
        }
      }
      const seq = { ...s, frames, world3d: { file: 'world3d.f32', offset: world.length }, views: s.views.map((v) => ({ camera: (v as { camera: string }).camera })) };
      for (const x of w3) world.push(x);
      return seq;
    });
  } finally {
    ds.close();
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `poselift-novel-${mix ? 'mixed' : 'plain'}-`));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
  fs.writeFileSync(path.join(dir, 'world3d.f32'), Buffer.from(new Float32Array(world).buffer));
  return { dir, parts };
}

const KIND: Record<string, KeypointKind> = { coco17: 'coco', mpii16: 'mpii' };
const CONFIGS: Record<string, Partial<EvalOptions>> = {
  'single-frame PoseNet (tracks)': { temporal: false },
  'temporal lifter': {},
};
for (const mix of [false, true]) {
  const world = writeWorldSet(mix);
  if (mix) console.log(`mixed sequences (seed ${seed}):\n  ${world.parts.join('\n  ')}`);
  try {
    for (const layout of values.layouts.split(',') as LayoutName[]) {
      const dir = writeProjectedSlice(world.dir, { layout, subject: 'S1', sequences: nSeq, frames: nFrames });
      try {
        for (const [name, cfg] of Object.entries(CONFIGS)) {
          const r = await evaluateDataset(dir, { input: 'points2d', stride, models: values.models, temporalKinds: [KIND[layout]], ...cfg });
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
