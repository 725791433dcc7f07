/**
 * Tracks shorter than the temporal lifter's window: does the window's edge padding beat single-frame PoseNet?
 * Cuts every view of the held-out subject's sequences into tracks of L frames at 50 fps (one track starting
 * every `--every` frames) and lifts each track through the track path with the temporal lifter and without
 * it (single-frame PoseNet + the same fitter). MPJPE / PA-MPJPE / MRPE over all frames of the tracks, mm.
 *
 *   node --import tsx experiments/short-tracks.ts --models DIR [--input points2d|gt2d] [--subjects S1] [--lengths 1,3,9,27,81] [--every 250]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset.js';
import { keypointsOf } from '../src/eval/evaluate.js';
import { MetricsAccumulator } from '../src/eval/metrics.js';
import { Lifter } from '../src/lift/lifter.js';
import { normalisedH36m } from '../src/lift/normalise.js';
import { kindOfLayout, type KeypointKind } from '../src/lift/posenet/features.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string' },
    data: { type: 'string', default: path.resolve('../shared/data/h36m-train') },
    input: { type: 'string', default: 'points2d' },
    subjects: { type: 'string', default: 'S1' },
    lengths: { type: 'string', default: '1,3,9,27,81' },
    every: { type: 'string', default: '250' },
  },
});
if (!values.models) throw new Error('--models DIR (a folder with temporal.onnx and / or temporal-detected.onnx) is required');
const lifter = await Lifter.load(values.models);
const ds = openDataset(values.data!);
const subjects = new Set(values.subjects!.split(','));
const lengths = values.lengths!.split(',').map(Number);
const every = Number(values.every);
const acc = new Map<string, MetricsAccumulator>();
// the kind the keypoints of --input carry (the one the lift path picks the temporal lifter by)
let seenKind: KeypointKind | undefined;
for (let si = 0; si < ds.sequences.length; si++) {
  const seq = ds.sequences[si];
  if (!(seq.subject && subjects.has(seq.subject))) continue;
  for (let vi = 0; vi < seq.views.length; vi++) {
    const cam = ds.camera(si, vi);
    for (const L of lengths) {
      for (let s = 0; s + L <= seq.frames; s += every) {
        const frames = Array.from({ length: L }, (_, i) => s + i);
        const kps = keypointsOf(ds, si, vi, values.input as 'gt2d' | 'points2d', frames);
        const kind = kindOfLayout(kps[0].layout);
        seenKind = kind;
        const norm = kps.map((k) => normalisedH36m(k, cam));
        const gt = ds.cameraFrame3d(si, vi, s, L);
        for (const temporal of [true, false]) {
          const out = await lifter.liftTrack(norm, cam, seq.fps, { kind, temporal });
          const key = `${L}:${temporal ? 'temporal' : 'posenet'}`;
          let a = acc.get(key);
          if (!a) { a = new MetricsAccumulator(); acc.set(key, a); }
          out.forEach((r, i) => { if (r) a!.add(r.joints3d, gt.subarray(i * 51, (i + 1) * 51)); });
        }
      }
    }
  }
}
ds.close();
console.log(`${values.input} (${seenKind ?? 'no'} keypoints), ${[...subjects].join(',')}, tracks of L frames at 50 fps, one every ${every} frames; temporal ${seenKind ? lifter.temporalFor(seenKind)?.version : 'none'}`);
console.log('L      frames   temporal (MPJPE / PA / MRPE)   PoseNet (MPJPE / PA / MRPE)');
for (const L of lengths) {
  const t = acc.get(`${L}:temporal`)?.result(), p = acc.get(`${L}:posenet`)?.result();
  if (!t || !p) continue;
  const f = (m: typeof t) => `${m.mpjpe.toFixed(1)} / ${m.pa_mpjpe.toFixed(1)} / ${m.mrpe.toFixed(1)}`;
  console.log(`${String(L).padEnd(6)} ${String(t.frames).padStart(6)}   ${f(t).padEnd(30)} ${f(p)}`);
}
