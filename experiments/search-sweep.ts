/**
 * The depth search's weight on RootNet (README, Decisions): for each reprojection sigma `--px` of the search
 * (production: 1 px against RootNet's 50 mm), S1 from projected ground truth (every 25th frame), the four
 * h36m-images photos from ground-truth 2D, and from a detector's keypoints (`--detector`, default the run path's) per photo without and with the
 * leave-one-out keypoint adapter (MPJPE / root error, mm). `--models DIR` scores another PoseNet / RootNet pair;
 * `--flip-test` detects with the flip test (src/detect/flip.ts), the adapter measured on those detections.
 * `--fit '{"name": {FitOptions}, ...}'` also sweeps the fitter's settings (src/lift/solve/fitter.ts), each with every `--px`.
 *
 *   node --import tsx experiments/search-sweep.ts [--px 1,3,5,10,20] [--fit JSON] [--models models] [--detector D] [--flip-test] [--shared ../shared/data]
 *   e.g. --fit '{"defaults":{},"rel 90 mm":{"relSigmaMm":90},"bones 15 mm":{"boneSigmaMm":15},"px 10":{"pxSigma":10}}'
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateDataset } from '../src/eval/evaluate.js';
import { calibrateDetector } from '../src/eval/calibrate.js';
import { LIFT_DEFAULTS } from '../src/lift/lifter.js';
import type { FitOptions } from '../src/lift/solve/fitter.js';
import { defaultModelsDir } from '../src/util/paths.js';
import { DEFAULT_DETECTOR } from '../src/detect/types.js';
import { detectorArg } from '../bench/lib/common.js';

const { values } = parseArgs({
  options: {
    px: { type: 'string', default: '1' },
    models: { type: 'string', default: defaultModelsDir() },
    shared: { type: 'string', default: path.resolve('../shared/data') },
    detector: { type: 'string', default: DEFAULT_DETECTOR },
    'flip-test': { type: 'boolean', default: false },
    fit: { type: 'string', default: '{"defaults":{}}' },
  },
});
const detector = detectorArg(values.detector);
const pxs = values.px.split(',').map(Number);
if (!pxs.every((v) => v > 0)) throw new Error(`--px: positive numbers, comma-separated, got ${values.px}`);
const models = values.models;
const pair = (m: number, r: number) => `${m.toFixed(1)} / ${r.toFixed(0)}`;
console.log(`models ${models}, detector ${detector}${values['flip-test'] ? ', flip test' : ''}; MPJPE / root error (mm)`);
let fits: Record<string, FitOptions>;
try { fits = JSON.parse(values.fit) as Record<string, FitOptions>; } catch (e) { throw new Error(`--fit: a JSON object of named fitter settings (${(e as Error).message})`); }
for (const [fitName, fit] of Object.entries(fits)) for (const px of pxs) {
  const lift = { ...fit, search: { ...LIFT_DEFAULTS.search, pxSigma: px } }; // the lifter adds the other LIFT_DEFAULTS
  const s1 = await evaluateDataset(path.join(values.shared, 'h36m-train'), { input: 'gt2d', stride: 25, models, subjects: ['S1'], lift });
  const photos = path.join(values.shared, 'h36m-images');
  const g = await evaluateDataset(photos, { input: 'gt2d', stride: 1, models, lift });
  const c = await calibrateDetector(photos, { detector, models, out: null, lift, flipTest: values['flip-test'] });
  const lo = c.entry.leave_one_out;
  console.log(`${Object.keys(fits).length > 1 ? `fit ${fitName}, ` : ''}search pxSigma ${px}: S1 true 2D ${pair(s1.mpjpe, s1.mrpe)} | photos true 2D ${pair(g.mpjpe, g.mrpe)}`);
  c.ids.forEach((id, i) => console.log(`  ${id}: pixels ${pair(lo.without[i].mpjpe, lo.without[i].root)}, adapter leave-one-out ${pair(lo.with[i].mpjpe, lo.with[i].root)}`));
}
process.exit(0);
