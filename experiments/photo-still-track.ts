/**
 * A robustness check of the temporal lifter on poses from another detector (not a measurement to tune on:
 * three of the four h36m-images subjects are training subjects): each photo's detection, with the detector's
 * keypoint adapter as `run` applies it, lifted (a) as a photo, (b) as a still 25 fps video of 31 identical
 * frames through the track path with the temporal lifter, (c) the same track with single-frame PoseNet.
 * MPJPE (root-aligned) and root error per photo, mm.
 *
 * `--jitter PX`: each frame of the still video gets its own Gaussian keypoint noise of PX pixels (a detector's
 * jitter on a person standing still); `--truth`: the projected ground truth instead of the detection (is it
 * the stillness or the detector?).
 *
 *   node --import tsx experiments/photo-still-track.ts --models DIR [--detector blazepose] [--jitter 2] [--truth] [--data ../shared/data/h36m-images]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset.js';
import { Lifter } from '../src/lift/lifter.js';
import { normalisedH36m } from '../src/lift/normalise.js';
import { DEFAULT_DETECTOR, type DetectorName } from '../src/detect/types.js';
import { defaultModelsDir } from '../src/util/paths.js';
import { mpjpe, rootError } from '../src/eval/metrics.js';
import { Rng } from '../src/util/rng.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: defaultModelsDir() },
    detector: { type: 'string', default: DEFAULT_DETECTOR },
    data: { type: 'string', default: path.resolve('../shared/data/h36m-images') },
    jitter: { type: 'string', default: '0' },
    truth: { type: 'boolean', default: false },
  },
});
const jitter = Number(values.jitter);
const rng = new Rng(7);
const detectorName = values.detector as DetectorName;
// the still tracks are COCO-style keypoints: the temporal lifter lifts them here whatever TEMPORAL_KINDS says
const lifter = await Lifter.load(values.models!, { temporalKinds: ['mpii', 'coco'] });
const { createDetector, readImage } = await import('../src/detect/index.js');
const det = await createDetector(detectorName);
const ds = openDataset(values.data!);
const adapter = lifter.adapterFor(detectorName);
const rows: string[] = [];
const n = 31;
for (let si = 0; si < ds.sequences.length; si++) {
  const cam = ds.camera(si, 0);
  const people = await det.detect(await readImage(ds.imagePath(si, 0, 0)!));
  if (!people.length) { rows.push(`${ds.sequences[si].id}: no person`); continue; }
  const gt = ds.cameraFrame3d(si, 0, 0, 1);
  const kp = values.truth ? normalisedH36m({ layout: 'h36m17', data: ds.groundTruth2d(si, 0, 0, 1) }, cam) : normalisedH36m(people[0].keypoints, cam, 0, adapter);
  const o = { kind: 'coco' as const };
  const [photo] = await lifter.liftBatch([kp], cam, o);
  const still = Array.from({ length: n }, () => kp.map((v, i) => (i % 3 === 2 || !jitter ? v : v + (rng.normal() * jitter) / cam.fx)));
  const temporal = (await lifter.liftTrack(still, cam, 25, o))[(n - 1) / 2];
  const single = (await lifter.liftTrack(still, cam, 25, { ...o, temporal: false }))[(n - 1) / 2];
  const fmt = (r: typeof photo) => (r ? `${mpjpe(r.joints3d, gt).toFixed(1)} / ${rootError(r.joints3d, gt).error.toFixed(0)}` : 'not lifted');
  rows.push(`${ds.sequences[si].subject ?? ds.sequences[si].id}: photo ${fmt(photo)}  still track, temporal ${fmt(temporal)}  still track, PoseNet ${fmt(single)}`);
}
det.dispose();
ds.close();
console.log(`${values.truth ? 'projected truth' : detectorName}${jitter ? `, ${jitter} px jitter per frame` : ''}, models ${values.models} (temporal: ${lifter.temporalFor('coco')?.version ?? 'none'}); MPJPE / root error, mm`);
console.log(rows.join('\n'));
