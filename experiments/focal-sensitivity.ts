/**
 * How a wrong focal length changes the result: detect the four Human3.6M photos once (MoveNet Thunder),
 * then lift with fx, fy scaled by 0.7 .. 1.3 (principal point and distortion kept) and print root depth,
 * root error and root-relative MPJPE against the camera-frame ground truth.
 *   node --import tsx experiments/focal-sensitivity.ts [../shared/data/h36m-images] [models/]
 */
import path from 'node:path';
import { openDataset } from '../src/data/dataset.js';
import { Lifter } from '../src/lift/lifter.js';
import { normalisedH36m } from '../src/lift/normalise.js';
import { kindOfLayout } from '../src/lift/posenet/features.js';
import { defaultDataDir, defaultModelsDir } from '../src/util/paths.js';
import { mpjpe, rootError } from '../src/eval/metrics.js';

const dir = process.argv[2] ?? defaultDataDir('h36m-images');
const models = process.argv[3] ?? defaultModelsDir();
const { createDetector, readImage } = await import('../src/detect/index.js');
const ds = openDataset(dir);
const lifter = await Lifter.load(models);
const det = await createDetector('movenet-thunder');
const scales = [0.7, 0.85, 1, 1.15, 1.3];
const rows: Record<number, { z: number[]; rootErr: number[]; mpjpe: number[] }> = {};
for (const s of scales) rows[s] = { z: [], rootErr: [], mpjpe: [] };
for (let si = 0; si < ds.sequences.length; si++) {
  const cam = ds.camera(si, 0);
  const img = await readImage(ds.imagePath(si, 0, 0)!);
  const people = await det.detect(img);
  const gt = ds.cameraFrame3d(si, 0, 0, 1);
  if (!people.length) { console.log(`${ds.sequences[si].id}: no person`); continue; }
  for (const s of scales) {
    const c = { ...cam, fx: cam.fx * s, fy: cam.fy * s };
    const [r] = await lifter.liftBatch([normalisedH36m(people[0].keypoints, c)], c, { kind: kindOfLayout(people[0].keypoints.layout) });
    if (!r) continue;
    const m = mpjpe(r.joints3d, gt);
    rows[s].z.push(r.root[2]);
    rows[s].rootErr.push(rootError(r.joints3d, gt).error);
    rows[s].mpjpe.push(m);
    if (s === 1) console.log(`${ds.sequences[si].id}: MPJPE ${m.toFixed(1)} mm, root error ${rows[s].rootErr.at(-1)!.toFixed(1)} mm, root z ${r.root[2].toFixed(0)} (gt ${gt[2].toFixed(0)})`);
  }
}
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const base = rows[1].z;
console.log(`\n${path.basename(dir)}: focal scale | mean root z (mm) | z / z(true f) | root error (mm) | MPJPE root-aligned (mm)`);
for (const s of scales) {
  const ratio = mean(rows[s].z.map((z, i) => z / base[i]));
  console.log(`x${s.toFixed(2)} | ${mean(rows[s].z).toFixed(0)} | ${ratio.toFixed(3)} | ${mean(rows[s].rootErr).toFixed(0)} | ${mean(rows[s].mpjpe).toFixed(1)}`);
}
det.dispose();
ds.close();
