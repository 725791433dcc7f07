/**
 * How far each h36m-images photo's pose is from every pose the lifters were trained on (README, "From pixels
 * on the four photos"): for each photo, the nearest h36m-train pose (every `--step`-th frame, all subjects),
 * root-relative, after the best rotation about the world's vertical axis (the person may face any way),
 * as the mean joint distance in mm; overall and per subject. A photo whose nearest training pose is far
 * needs the lifter to generalise, not to recall.
 *
 * Then, on the held-out subject (`--held-out`, default S1; every `--every`-th frame, first camera), how the
 * production lift's MPJPE from true 2D grows with that distance (nearest among the other subjects' poses,
 * every 8th frame): the yardstick for the photos' distances.
 *
 *   node --import tsx experiments/photo-novelty.ts [--step 4] [--held-out S1] [--every 100] [--models models] [--shared ../shared/data]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/dataset.js';
import { H36M17_NAMES } from '../src/contracts/layouts.js';
import { defaultModelsDir } from '../src/util/paths.js';
import { mpjpe } from '../src/eval/metrics.js';
import { Lifter } from '../src/lift/lifter.js';
import { normalisedTruth } from '../src/lift/normalise.js';
import { MIX_PARTS, partDirections } from '../src/train/augment.js';

const { values } = parseArgs({
  options: {
    step: { type: 'string', default: '4' },
    'held-out': { type: 'string', default: 'S1' },
    every: { type: 'string', default: '100' },
    models: { type: 'string', default: defaultModelsDir() },
    shared: { type: 'string', default: path.resolve('../shared/data') },
  },
});
const step = Number(values.step);
const every = Number(values.every);
for (const [k, v] of [['--step', step], ['--every', every]] as const) {
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`${k}: a positive integer, got ${v}`);
}
const J = H36M17_NAMES.length;
const train = openDataset(path.join(values.shared, 'h36m-train'));
const photos = openDataset(path.join(values.shared, 'h36m-images'));
if (train.index.world_up !== 'z') throw new Error(`${train.indexPath}: expected world_up "z", got ${train.index.world_up}`);

/** The photo's camera in h36m-train: the same subject, the camera id the photo's sequence id names. */
function worldRotation(photoId: string): number[][] {
  const [subject, rest] = [photoId.slice(0, photoId.indexOf('_')), photoId.slice(photoId.indexOf('.') + 1)];
  const camId = `${subject}/${rest.slice(0, rest.indexOf('_'))}`;
  const cam = train.cameras[camId];
  if (!cam) throw new Error(`${train.indexPath}: no camera ${camId} for photo ${photoId}`);
  return cam.R as number[][];
}

/** Mean joint distance (mm) of root-relative world poses a (at offset ao) and b, after the best yaw of a. */
function yawAlignedError(a: ArrayLike<number>, ao: number, b: Float64Array): number {
  let sc = 0, ss = 0;
  for (let j = 0; j < J; j++) {
    const ax = a[ao + j * 3] - a[ao], ay = a[ao + j * 3 + 1] - a[ao + 1];
    sc += ax * b[j * 3] + ay * b[j * 3 + 1];
    ss += ax * b[j * 3 + 1] - ay * b[j * 3];
  }
  const th = Math.atan2(ss, sc), c = Math.cos(th), s = Math.sin(th);
  let e = 0;
  for (let j = 0; j < J; j++) {
    const ax = a[ao + j * 3] - a[ao], ay = a[ao + j * 3 + 1] - a[ao + 1], az = a[ao + j * 3 + 2] - a[ao + 2];
    e += Math.hypot(c * ax - s * ay - b[j * 3], s * ax + c * ay - b[j * 3 + 1], az - b[j * 3 + 2]);
  }
  return e / J;
}

/** Every training sequence's world-frame joints, read once. */
const trainPoses = train.sequences.map((seq, si) => train.readWorld3d(si, 0, seq.frames));
console.log(`nearest h36m-train pose to each photo's, root-relative, best heading, every ${step}th frame (mm)`);
for (let pi = 0; pi < photos.sequences.length; pi++) {
  const id = photos.sequences[pi].id;
  const g = photos.cameraFrame3d(pi, 0, 0, 1);
  const R = worldRotation(id);
  // root-relative world pose: x_w = R^T x_c (the translation drops out)
  const w = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) for (let a = 0; a < 3; a++) {
    let s = 0;
    for (let k = 0; k < 3; k++) s += R[k][a] * (g[j * 3 + k] - g[k]);
    w[j * 3 + a] = s;
  }
  let best = Infinity, where = '';
  const bySubject = new Map<string, number>();
  train.sequences.forEach((seq, si) => {
    const poses = trainPoses[si];
    const subject = seq.subject ?? seq.id.split('/')[0];
    for (let f = 0; f < seq.frames; f += step) {
      const e = yawAlignedError(poses, f * J * 3, w);
      if (!Number.isFinite(e)) continue;
      if (e < (bySubject.get(subject) ?? Infinity)) bySubject.set(subject, e);
      if (e < best) { best = e; where = `${seq.id} frame ${f}`; }
    }
  });
  const per = [...bySubject].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
  console.log(`${id}: ${best.toFixed(1)} (${where}); nearest per subject: ${per}`);
}

// --- part by part: each limb relative to its torso axes, and the torso's tilt from the vertical
/** Joint offsets from the part's root along its chain, in the pose's torso axes, with the given bone lengths. */
function partShape(p: ArrayLike<number>, part: (typeof MIX_PARTS)[number], lens: number[]): number[] | null {
  const dirs = partDirections(p, part);
  if (!dirs) return null;
  const out: number[] = [];
  const acc = [0, 0, 0];
  dirs.forEach((d, i) => {
    for (let k = 0; k < 3; k++) acc[k] += lens[i] * d[k];
    out.push(...acc);
  });
  return out;
}
/** Angle (degrees) between pelvis -> thorax and the unit vector `up`. */
function tilt(p: ArrayLike<number>, o: number, up: number[]): number {
  const v = [0, 1, 2].map((k) => p[o + 24 + k] - p[o + k]);
  return (Math.acos((v[0] * up[0] + v[1] * up[1] + v[2] * up[2]) / Math.hypot(v[0], v[1], v[2])) * 180) / Math.PI;
}
const trainTilts: number[] = [];
for (const P of trainPoses) for (let f = 0; f < P.length / (J * 3); f += step) {
  const t = tilt(P, f * J * 3, [0, 0, 1]);
  if (Number.isFinite(t)) trainTilts.push(t);
}
console.log(`\nper part, relative to its torso axes with the photo's bone lengths: nearest h36m-train part (mean joint distance, mm); torso angle from vertical`);
for (let pi = 0; pi < photos.sequences.length; pi++) {
  const id = photos.sequences[pi].id;
  const g = photos.cameraFrame3d(pi, 0, 0, 1);
  const R = worldRotation(id);
  const parts = MIX_PARTS.map((part) => {
    const lens = part.chain.slice(1).map((b, i) => {
      const a = part.chain[i];
      return Math.hypot(g[b * 3] - g[a * 3], g[b * 3 + 1] - g[a * 3 + 1], g[b * 3 + 2] - g[a * 3 + 2]);
    });
    const mine = partShape(g, part, lens)!;
    let best = Infinity;
    for (const P of trainPoses) for (let f = 0; f < P.length / (J * 3); f += step) {
      const q = partShape(P.subarray(f * J * 3, (f + 1) * J * 3), part, lens);
      if (!q) continue;
      let e = 0;
      for (let k = 0; k < q.length; k += 3) e += Math.hypot(q[k] - mine[k], q[k + 1] - mine[k + 1], q[k + 2] - mine[k + 2]);
      best = Math.min(best, e / (q.length / 3));
    }
    return `${part.name} ${best.toFixed(0)}`;
  });
  // the world's up (z) in this photo's camera: R * (0, 0, 1)
  const t = tilt(g, 0, [R[0][2], R[1][2], R[2][2]]);
  const near = trainTilts.filter((x) => Math.abs(x - t) <= 5).length / trainTilts.length;
  console.log(`${id}: ${parts.join(', ')}; torso ${t.toFixed(1)} deg from vertical (${(100 * near).toFixed(1)} % of training frames within 5 deg)`);
}
photos.close();

// --- the yardstick: the held-out subject's lift error against its poses' distance from the others'
const held = values['held-out'];
const seqOf = (id: string) => id.split('/')[0];
const bankParts: number[] = [];
train.sequences.forEach((seq, si) => {
  if (seqOf(seq.id) === held) return;
  const poses = trainPoses[si];
  for (let f = 0; f < seq.frames; f += 8) {
    const o = f * J * 3;
    if (!Number.isFinite(poses[o])) continue;
    for (let k = 0; k < J * 3; k++) bankParts.push(poses[o + k]);
  }
});
const bank = Float64Array.from(bankParts), nBank = bank.length / (J * 3);
if (!train.sequences.some((q) => seqOf(q.id) === held)) throw new Error(`--held-out: no sequences of ${held} in ${train.indexPath}`);
const lifter = await Lifter.load(values.models);
const edges = [0, 45, 60, 80, 100, Infinity];
const bins = edges.slice(1).map(() => ({ n: 0, sum: 0, over70: 0 }));
for (let si = 0; si < train.sequences.length; si++) {
  const seq = train.sequences[si];
  if (seqOf(seq.id) !== held) continue;
  const poses = trainPoses[si];
  const cam = train.camera(si, 0);
  for (let f = 0; f < seq.frames; f += every) {
    const o = f * J * 3;
    if (!Number.isFinite(poses[o])) continue;
    const q = new Float64Array(J * 3);
    for (let k = 0; k < J * 3; k++) q[k] = poses[o + k] - poses[o + (k % 3)];
    let d = Infinity;
    for (let b = 0; b < nBank; b++) d = Math.min(d, yawAlignedError(bank, b * J * 3, q));
    const g = train.cameraFrame3d(si, 0, f, 1);
    const [r] = await lifter.liftBatch([normalisedTruth(g)], cam);
    if (!r) continue;
    const e = mpjpe(r.joints3d, g);
    const bin = bins[edges.findIndex((x, i) => d >= x && d < edges[i + 1])];
    bin.n++; bin.sum += e; if (e > 70) bin.over70++;
  }
}
train.close();
console.log(`\n${held} (held out), every ${every}th frame, first camera, true 2D, ${values.models}: lift MPJPE by the distance to the nearest other subject's pose (every 8th frame)`);
bins.forEach((b, i) => {
  const range = edges[i + 1] === Infinity ? `>= ${edges[i]}` : `${edges[i]}-${edges[i + 1]}`;
  console.log(`  ${range} mm: ${b.n} frames, MPJPE ${b.n ? (b.sum / b.n).toFixed(1) : '-'} mm, over 70 mm ${b.n ? ((100 * b.over70) / b.n).toFixed(0) : '-'} %`);
});
process.exit(0);
