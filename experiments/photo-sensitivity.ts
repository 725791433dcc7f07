/**
 * Why a photo misses (README, "Why S7 misses"): for each h36m-images photo, root-relative MPJPE (mm) of the
 * production lift (PoseNet + depth search + fitter) from
 *   - its ground-truth 2D, and from the detector's 2D with the leave-one-out keypoint adapter (the run path);
 *   - the ground-truth 2D with one joint group taken from the detection, and the detection with one group
 *     taken from the ground truth (which joints carry the difference);
 *   - the detection lifted with the photo's true bone lengths as the fitter's length targets (an oracle: is
 *     it the skeleton's size or its depth directions?);
 *   - the detection with PoseNet averaged over 32 jittered copies of its 2D (test-time smoothing, 3 / 6 px).
 * Also the detection's distance from the ground-truth 2D per joint (px).
 *
 *   node --import tsx experiments/photo-sensitivity.ts [--detector D] [--models models] [--shared ../shared/data]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DETECTOR } from '../src/detect/types.js';
import { detectorArg } from '../bench/lib/common.js';
import { defaultModelsDir } from '../src/util/paths.js';
import { mpjpe } from '../src/eval/metrics.js';
import { Lifter, LIFT_DEFAULTS, liftInput } from '../src/lift/lifter.js';
import { detectCalibrationPhotos, type CalibrationPhoto } from '../src/eval/calibrate.js';
import { normalisedTruth } from '../src/lift/normalise.js';
import { applyAdapter, meanAdapter } from '../src/lift/adapter.js';
import { uniqueBoneLengths } from '../src/lift/solve/skeleton.js';
import { liftPerson } from '../src/lift/solve/lift.js';
import { H36M17_NAMES } from '../src/contracts/layouts.js';
import type { KeypointKind } from '../src/lift/posenet/features.js';

const { values } = parseArgs({
  options: {
    detector: { type: 'string', default: DEFAULT_DETECTOR },
    models: { type: 'string', default: defaultModelsDir() },
    shared: { type: 'string', default: path.resolve('../shared/data') },
  },
});

const GROUPS: Record<string, number[]> = {
  hips: [0, 1, 4], legs: [2, 3, 5, 6], torso: [7, 8], head: [9, 10], 'left arm': [11, 12, 13], 'right arm': [14, 15, 16],
};

type Photo = CalibrationPhoto & { truth: Float64Array };

const found = await detectCalibrationPhotos(path.join(values.shared, 'h36m-images'), { detector: detectorArg(values.detector) }, (s) => console.log(s));
const photos: Photo[] = found.photos.map((p) => ({ ...p, id: p.id.slice(0, 2), truth: normalisedTruth(p.gt3d) }));
const lifter = await Lifter.load(values.models);

/** MPJPE of the production lift of normalised h36m17 keypoints (17 x [x, y, score]), optionally with PoseNet's answer given. */
async function score(p: Photo, kp: Float64Array, o: { boneLengths?: Float64Array; rel?: Float64Array; kind?: KeypointKind } = {}): Promise<number> {
  const lift = { ...LIFT_DEFAULTS, ...(o.boneLengths ? { boneLengths: o.boneLengths } : {}) };
  // any detected joint makes the input the detector's kind (COCO-style); the true 2D alone is `joints`
  const kind = o.kind ?? 'coco';
  if (o.rel) {
    const [root] = await lifter.netsFor(kind).rootnet.predict([kp], { kind });
    return mpjpe(liftPerson(liftInput(kp, o.rel, root!.z, p.cam, kind), lift).joints3d, p.gt3d);
  }
  const [r] = await lifter.liftBatch([kp], p.cam, { lift, kind });
  return r ? mpjpe(r.joints3d, p.gt3d) : NaN;
}

/** a copy of `into` with the joints of `group` taken from `from` */
const swap = (into: Float64Array, from: Float64Array, group: number[]) => {
  const k = Float64Array.from(into);
  for (const j of group) for (let a = 0; a < 3; a++) k[j * 3 + a] = from[j * 3 + a];
  return k;
};

// deterministic jitter (a fixed linear congruential sequence), so the printed numbers repeat
let seed = 12345;
const uniform = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed + 0.5) / 2147483648; };
const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
async function jittered(p: Photo, kp: Float64Array, px: number, copies = 32): Promise<number> {
  const batch: Float64Array[] = [];
  for (let c = 0; c < copies; c++) {
    const k = Float64Array.from(kp);
    for (let j = 0; j < 17; j++) { k[j * 3] += (gauss() * px) / p.cam.fx; k[j * 3 + 1] += (gauss() * px) / p.cam.fy; }
    batch.push(k);
  }
  const rels = await lifter.netsFor('coco').posenet.predict(batch, { kind: 'coco' });
  const rel = new Float64Array(51);
  for (const r of rels) for (let i = 0; i < 51; i++) rel[i] += r![i] / copies;
  return score(p, kp, { rel });
}

const f1 = (v: number) => v.toFixed(1);
console.log(`${values.detector}, models ${values.models}; root-relative MPJPE (mm), keypoint adapter leave-one-out`);
for (let i = 0; i < photos.length; i++) {
  const p = photos[i];
  const detA = applyAdapter(p.det, meanAdapter(photos.filter((_, k) => k !== i).map((q) => q.adapter)));
  const line: string[] = [`${p.id}: true 2D ${f1(await score(p, p.truth, { kind: 'joints' }))}, detected ${f1(await score(p, detA))}`];
  const a: string[] = [], b: string[] = [];
  for (const [name, g] of Object.entries(GROUPS)) {
    a.push(`${name} ${f1(await score(p, swap(p.truth, detA, g)))}`);
    b.push(`${name} ${f1(await score(p, swap(detA, p.truth, g)))}`);
  }
  line.push(`  true 2D with the detected: ${a.join(', ')}`);
  line.push(`  detected with the true: ${b.join(', ')}`);
  line.push(`  detected, true bone lengths as targets ${f1(await score(p, detA, { boneLengths: uniqueBoneLengths(p.gt3d) }))}; ` +
    `PoseNet over 32 jittered copies: 3 px ${f1(await jittered(p, detA, 3))}, 6 px ${f1(await jittered(p, detA, 6))}`);
  const dist = H36M17_NAMES.map((n, j) => `${n} ${Number.isFinite(detA[j * 3]) ? Math.hypot((detA[j * 3] - p.truth[j * 3]) * p.cam.fx, (detA[j * 3 + 1] - p.truth[j * 3 + 1]) * p.cam.fy).toFixed(0) : '-'}`);
  line.push(`  2D distance from the truth (px): ${dist.join(' ')}`);
  console.log(line.join('\n'));
}
process.exit(0);
