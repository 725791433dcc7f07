/**
 * `npm run bench [-- --runs N --quick]`: lifting-stage timings on real poses, medians over runs with min
 * and max, and ratios measured in the same run. Prints a table; never asserts timings.
 *
 * Stages: PoseNet at batch 1 and 1024 (poses/s) against one plain ONNX Gemm chain of the same FLOPs,
 * RootNet per person, depth search + fitter per person-frame, the temporal fit per frame.
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset.js';
import { defaultDataDir, defaultModelsDir } from '../src/core/paths.js';
import { Lifter } from '../src/pipeline/lifter.js';
import { normalisedH36m } from '../src/pipeline/keypoints.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, quick: { type: 'boolean', default: false } },
});
const runs = values.quick ? 1 : Math.max(1, Number(values.runs));

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

async function time(fn: () => Promise<unknown> | unknown, reps: number): Promise<number[]> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await fn();
    out.push((performance.now() - t0) / reps);
  }
  return out;
}

const ds = openDataset(defaultDataDir('h36m-train'));
const si = ds.sequences.findIndex((s) => s.subject === 'S8');
const N = values.quick ? 64 : 1024;
const cam = ds.camera(si, 0);
const gt = ds.groundTruth2d(si, 0, 0, N);
const people = Array.from({ length: N }, (_, i) =>
  normalisedH36m({ layout: 'h36m17', data: gt.subarray(i * 51, (i + 1) * 51) }, cam));
ds.close();
const lifter = await Lifter.load(defaultModelsDir());

const rows: [string, string][] = [];
const fmt = (s: { median: number; min: number; max: number }, unit: string, d = 3) =>
  `${s.median.toFixed(d)} ${unit} (min ${s.min.toFixed(d)}, max ${s.max.toFixed(d)})`;

const pn1 = stats(await time(() => lifter.posenet.predict([people[0]]), values.quick ? 5 : 200));
const pnB = stats(await time(() => lifter.posenet.predict(people), values.quick ? 1 : 5));
rows.push(['PoseNet, batch 1', fmt(pn1, 'ms/pose')]);
rows.push([`PoseNet, batch ${N}`, `${fmt({ median: pnB.median / N, min: pnB.min / N, max: pnB.max / N }, 'ms/pose', 4)}; ${(N / pnB.median * 1000).toFixed(0)} poses/s`]);
rows.push(['  batching speed-up', `${(pn1.median / (pnB.median / N)).toFixed(1)}x`]);
const rn = stats(await time(() => lifter.rootnet.predict(people), values.quick ? 1 : 5));
rows.push([`RootNet, batch ${N}`, fmt({ median: rn.median / N, min: rn.min / N, max: rn.max / N }, 'ms/person', 4)]);
const nFit = values.quick ? 16 : 256;
const fit = stats(await time(() => lifter.liftBatch(people.slice(0, nFit), cam), 1));
const noFit = stats(await time(() => lifter.liftBatch(people.slice(0, nFit), cam, { fit: false }), 1));
rows.push(['PoseNet + RootNet + depth search + fit', fmt({ median: fit.median / nFit, min: fit.min / nFit, max: fit.max / nFit }, 'ms/person-frame')]);
rows.push(['  of which the fitter', `${((fit.median - noFit.median) / nFit).toFixed(3)} ms/person-frame`]);
const track = stats(await time(() => lifter.liftTrack(people.slice(0, nFit), cam, 50), 1));
rows.push(['same, as a 50 fps track (temporal term)', fmt({ median: track.median / nFit, min: track.min / nFit, max: track.max / nFit }, 'ms/frame')]);

const w = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(
  `poselift lifting bench: ${runs} run(s) after warm-up, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, node ${process.version}\n` +
    `models: ${path.relative(process.cwd(), defaultModelsDir()) || '.'} (${lifter.versions.posenet}, ${lifter.versions.rootnet})\n` +
    rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n',
);
