/**
 * `poselift eval DATASET --input gt2d|points2d`: the production lift path (PoseNet -> RootNet -> depth
 * search -> fitter) on every view of every sequence of a pose-dataset/1 folder, scored against its
 * camera-frame ground truth.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDataset, type PoseDataset } from '../data/dataset.js';
import { MetricsAccumulator, type MetricsSummary } from './metrics.js';
import type { Intrinsics, Keypoints2D } from '../contracts/types.js';
import { Lifter, type CocoPosenet, type LiftCallOptions, type LiftedPerson } from '../lift/lifter.js';
import { WindowedTrackLifter } from '../track/track-lift.js';
import type { LiftSequenceOptions } from '../lift/solve/lift.js';
import { normalisedH36m } from '../lift/normalise.js';
import { ADAPTER_FILE, loadReference } from '../lift/adapter-file.js';
import { kindOfLayout, type KeypointKind } from '../lift/posenet/features.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_DETECTOR, type DetectorName } from '../detect/types.js';

export type EvalInput = 'gt2d' | 'points2d' | 'images';

export interface EvalOptions {
  input: string;
  stride: number;
  json?: boolean;
  models: string;
  fit?: boolean;
  /** PoseNet test-time mirroring (default true) */
  flipTest?: boolean;
  /** the temporal lifter's test-time mirroring (default TEMPORAL_FLIP_TEST; tuning) */
  temporalFlipTest?: boolean;
  /** only sequences of these subjects (e.g. the held-out S1 of h36m-train) */
  subjects?: string[];
  /** depth-search / fitter overrides (tuning); production defaults otherwise */
  lift?: LiftSequenceOptions;
  /** --input images: the 2D detector (default DEFAULT_DETECTOR) */
  detector?: DetectorName;
  /** --input images: apply the detector's calibrated keypoint-definition adapter (default true) */
  adapter?: boolean;
  /** override of DEFINITION_WEIGHT for detector keypoints (tuning) */
  definitionWeight?: number;
  /** --input points2d: give the stored MPII-16 detections as a COCO-17 detector would (`cocoStyle`) */
  cocoStyle?: boolean;
  /**
   * with `cocoStyle`: apply the keypoint adapter of those detections, the `reference` of the models folder's
   * keypoint-adapter.json (measured on the training subjects, `poselift calibrate DATASET --reference`), as
   * `run` applies a calibrated detector's adapter; nothing to apply when the detection-trained pair lifts
   * COCO keypoints (their reference is these definitions)
   */
  cocoAdapter?: boolean;
  /** which networks lift COCO-style keypoints (default COCO_MODELS) */
  cocoModels?: 'joints' | 'detected';
  /** the PoseNet of COCO-style keypoints lifted by the truth-trained networks (default COCO_POSENET) */
  cocoPosenet?: CocoPosenet;
  /** the RootNet of COCO-style keypoints lifted by the truth-trained networks (default COCO_ROOTS; tuning) */
  cocoRoots?: 'joints' | 'detected';
  /**
   * lift every `stride`-th frame as a video is lifted (one track per view, the video path's overlapping
   * windows at the sequence's rate / stride) and score every Nth of them; the acceleration error is measured
   * on every lifted frame
   */
  scoreEvery?: number;
  /**
   * lift every frame alone, as photos are (the fitter without its temporal term), instead of each view as a
   * track at the sequence's rate / stride; with `scoreEvery`, every frame lifted alone and every Nth scored
   */
  singleFrame?: boolean;
  /** lift tracks with the temporal lifter when the models folder has one (default true); false = single-frame PoseNet */
  temporal?: boolean;
  /** the temporal lifter's poses at single-frame PoseNet's size ('posenet', default) or their own */
  temporalSize?: 'posenet' | 'own';
  /** the kinds of 2D whose tracks the temporal lifter lifts (default TEMPORAL_KINDS; tuning) */
  temporalKinds?: readonly KeypointKind[];
  /** the pose the depth search places with the temporal lifter: single-frame PoseNet's ('posenet', default) or its own */
  temporalDepth?: 'posenet' | 'temporal';
  /** the share of single-frame PoseNet's pose where the temporal lifter lifts (LiftCallOptions.temporalBlend; tuning) */
  temporalBlend?: number;
}

export interface EvalReport extends Omit<MetricsSummary, 'accel'> {
  dataset: string;
  input: EvalInput;
  stride: number;
  joints: 'h36m17';
  units: 'mm';
  /** mm / frame^2; null when no sequence has fps > 0 */
  accel: number | null;
  ms_per_frame: number;
  /** frames whose 2D had too few joints to lift (counted as not evaluated) */
  unliftable: number;
  subjects?: string[];
  /** the versions of the networks that lifted the 2D */
  models: ReturnType<Lifter['versionsFor']>;
  /** per action (sequences with an `action`; numbered takes joined): frames, MPJPE, PA-MPJPE, MRPE (mm) */
  per_action?: Record<string, { frames: number; mpjpe: number; pa_mpjpe: number; mrpe: number }>;
  /** --coco-style: the MPII-16 detections were given as COCO-17 keypoints */
  coco_style?: boolean;
  /** --score-every: every lifted frame went through the video path's windows, every Nth was scored */
  score_every?: number;
  /** every frame lifted alone (`singleFrame`), when true */
  single_frame?: true;
  /** --input images: the detector, and its keypoint adapter (null when none was applied); --coco-adapter: the reference adapter's name, or null */
  detector?: DetectorName;
  keypoint_adapter?: string | null;
}

/** 2D keypoints of frame i of a view, as a detector would hand them to the pipeline. */
export function keypointsOf(ds: PoseDataset, si: number, vi: number, input: EvalInput, frames: number[]): Keypoints2D[] {
  const first = frames[0], last = frames[frames.length - 1];
  const count = last - first + 1;
  if (input === 'gt2d') {
    const gt = ds.groundTruth2d(si, vi, first, count);
    return frames.map((f) => ({ layout: 'h36m17', data: gt.slice((f - first) * 51, (f - first + 1) * 51) }));
  }
  const p = ds.readPoints2d(si, vi, first, count);
  const K = p.data.length / count / p.channels;
  return frames.map((f) => {
    const data = new Float64Array(K * 3);
    const base = (f - first) * K * p.channels;
    for (let k = 0; k < K; k++) {
      data[k * 3] = p.data[base + k * p.channels];
      data[k * 3 + 1] = p.data[base + k * p.channels + 1];
      data[k * 3 + 2] = p.channels === 3 ? p.data[base + k * p.channels + 2] : 1;
    }
    return { layout: p.layout, data };
  });
}

/** An action's name without its take number ("Walking 1" -> "Walking"). */
export function actionName(action: string): string {
  return action.replace(/\s+\d+$/, '');
}

/** coco17 index <- mpii16 index for the points both layouts have (shoulders, elbows, wrists, hips, knees, ankles). */
const COCO17_FROM_MPII16: readonly [number, number][] = [
  [5, 13], [6, 12], [7, 14], [8, 11], [9, 15], [10, 10], [11, 3], [12, 2], [13, 4], [14, 1], [15, 5], [16, 0],
];

/**
 * `--coco-style`: stored MPII-16 detections given as a COCO-17 detector would give them (the training's COCO
 * share, src/train/augment.ts cocoFromMpii): the detector's shoulders, elbows, wrists, hips, knees and
 * ankles; the nose from the projected ground truth's neck/nose with noise of 4 % of the keypoints' RMS
 * radius (seeded), eyes and ears missing. The coco17 adapter then makes pelvis and thorax the midpoints.
 */
function cocoStyle(kps: Keypoints2D[], gt2d: Keypoints2D[], rng: Rng): Keypoints2D[] {
  return kps.map((k, i) => {
    if (k.layout !== 'mpii16') throw new Error(`eval --coco-style: the stored detections are ${k.layout}, not mpii16`);
    const data = new Float64Array(17 * 3).fill(NaN);
    for (let j = 0; j < 17; j++) data[j * 3 + 2] = 0;
    for (const [c, m] of COCO17_FROM_MPII16) {
      data[c * 3] = k.data[m * 3]; data[c * 3 + 1] = k.data[m * 3 + 1]; data[c * 3 + 2] = k.data[m * 3 + 2];
    }
    let n = 0, mx = 0, my = 0, ss = 0;
    for (let m = 0; m < 16; m++) if (Number.isFinite(k.data[m * 3])) { n++; mx += k.data[m * 3]; my += k.data[m * 3 + 1]; }
    for (let m = 0; m < 16; m++) if (Number.isFinite(k.data[m * 3])) ss += (k.data[m * 3] - mx / n) ** 2 + (k.data[m * 3 + 1] - my / n) ** 2;
    const sigma = 0.04 * Math.sqrt(ss / Math.max(1, n));
    const nx = gt2d[i].data[9 * 3], ny = gt2d[i].data[9 * 3 + 1];
    if (Number.isFinite(nx) && Number.isFinite(ny)) {
      data[0] = nx + sigma * rng.normal(); data[1] = ny + sigma * rng.normal(); data[2] = 1;
    }
    return { layout: 'coco17', data };
  });
}

export async function evaluateDataset(dir: string, o: EvalOptions, progress?: (s: string) => void): Promise<EvalReport> {
  if (o.input !== 'gt2d' && o.input !== 'points2d' && o.input !== 'images') {
    throw new Error(`eval: --input "${o.input}" is not supported; use gt2d, points2d or images`);
  }
  const input: EvalInput = o.input;
  const ds = openDataset(dir);
  try {
    if (input === 'points2d') {
      ds.sequences.forEach((s, si) => s.views.forEach((v, vi) => {
        if (!v.points2d) {
          throw new Error(
            `${ds.indexPath}: sequences[${si}].views[${vi}] has no points2d; use --input gt2d for a data set with ground truth only`,
          );
        }
      }));
    }
    if (input === 'images') {
      ds.sequences.forEach((s, si) => s.views.forEach((v, vi) => {
        if (ds.imagePath(si, vi, 0) === undefined) {
          throw new Error(`${ds.indexPath}: sequences[${si}].views[${vi}] lists no images; use --input gt2d or points2d`);
        }
      }));
    }
    const scoreEvery = o.scoreEvery ?? 1;
    if (!(Number.isInteger(scoreEvery) && scoreEvery >= 1)) throw new Error(`eval: --score-every must be a whole number >= 1, got ${o.scoreEvery}`);
    // option checks before any model or detector is loaded
    if (o.cocoStyle && input !== 'points2d') throw new Error('eval: --coco-style applies to --input points2d (stored MPII-16 detections)');
    if (o.cocoAdapter && !o.cocoStyle) throw new Error('eval: --coco-adapter applies to --coco-style keypoints; add --coco-style (with --input points2d)');
    const lifter = await Lifter.load(o.models, { cocoModels: o.cocoModels, cocoPosenet: o.cocoPosenet, cocoRoots: o.cocoRoots, temporal: o.temporal, temporalKinds: o.temporalKinds });
    // --input images: the whole `poselift run` path from pixels (MoveNet Thunder by default, best-scoring
    // person, the detector's keypoint adapter as `run` applies it)
    const detectorName = o.detector ?? DEFAULT_DETECTOR;
    const detector = input === 'images' ? await (await import('../detect/index.js')).createDetector(detectorName) : undefined;
    let adapter = detector && o.adapter !== false ? lifter.adapterFor(detectorName) : undefined;
    if (o.cocoAdapter) {
      const file = path.join(o.models, ADAPTER_FILE);
      const ref = loadReference(file);
      if (!ref) throw new Error(`${file}: no reference adapter for --coco-adapter; measure it with \`poselift calibrate ../shared/data/h36m-train --reference\``);
      if (!lifter.liftsWithDetected('coco')) adapter = ref;
    }
    const cocoRng = new Rng(2024);
    let lastLayout = 'h36m17';
    let lastFps = 0;
    const acc = new MetricsAccumulator();
    // per action (Human3.6M's takes "Walking 1", "Walking 2" ... are one action)
    const byAction = new Map<string, MetricsAccumulator>();
    let liftMs = 0, unliftable = 0;
    const wanted = o.subjects && o.subjects.length ? new Set(o.subjects) : null;
    if (wanted && !ds.sequences.some((s) => s.subject !== undefined && wanted.has(s.subject))) {
      throw new Error(`${ds.indexPath}: no sequence of subject(s) ${[...wanted].join(', ')}; check --subjects`);
    }
    for (let si = 0; si < ds.sequences.length; si++) {
      const seq = ds.sequences[si];
      if (wanted && !(seq.subject !== undefined && wanted.has(seq.subject))) continue;
      const frames: number[] = [];
      for (let f = 0; f < seq.frames; f += o.stride) frames.push(f);
      for (let vi = 0; vi < seq.views.length; vi++) {
        const cam = ds.camera(si, vi);
        let kps: (Keypoints2D | null)[] = detector ? await detectFrames(ds, si, vi, frames, detector) : keypointsOf(ds, si, vi, input, frames);
        const gtAll = ds.cameraFrame3d(si, vi, frames[0], frames[frames.length - 1] - frames[0] + 1);
        if (o.cocoStyle) {
          kps = cocoStyle(kps as Keypoints2D[], keypointsOf(ds, si, vi, 'gt2d', frames), cocoRng);
        }
        const t0 = performance.now();
        const norm = kps.map((k) => (k ? normalisedH36m(k, cam, 0, adapter) : null));
        const fps = seq.fps > 0 ? seq.fps / o.stride : 0;
        lastFps = fps;
        // what the 2D points are: the layout's kind (gt2d = joints, points2d mpii16 = MPII-style, detectors COCO-style)
        const layout = kps.find((k) => k)?.layout ?? 'h36m17';
        lastLayout = layout;
        const call = { fit: o.fit !== false, lift: o.lift, flipTest: o.flipTest, temporalFlipTest: o.temporalFlipTest, kind: kindOfLayout(layout), adapted: adapter !== undefined, definitionWeight: o.definitionWeight, temporalSize: o.temporalSize, temporalDepth: o.temporalDepth, temporalBlend: o.temporalBlend };
        const out = o.singleFrame ? await lifter.liftBatch(norm, cam, call)
          : scoreEvery > 1 && fps > 0 ? await liftAsVideo(lifter, norm, cam, fps, call)
            : fps > 0 && frames.length > 2 ? await lifter.liftTrack(norm, cam, fps, call) : await lifter.liftBatch(norm, cam, call);
        liftMs += performance.now() - t0;
        frames.forEach((f, i) => {
          const r = out[i];
          const scored = i % scoreEvery === 0;
          if (!r) { if (scored) unliftable++; return; }
          const gt = gtAll.subarray((f - frames[0]) * 51, (f - frames[0] + 1) * 51);
          if (fps > 0) acc.addMotion(r.joints3d, gt, `${si}/${vi}`);
          if (!scored) return;
          acc.addPose(r.joints3d, gt);
          if (seq.action !== undefined) {
            const name = actionName(seq.action);
            let a = byAction.get(name);
            if (!a) { a = new MetricsAccumulator(); byAction.set(name, a); }
            a.add(r.joints3d, gt);
          }
        });
      }
      progress?.(`${seq.id}: ${frames.length} frames x ${seq.views.length} views`);
    }
    detector?.dispose();
    const m = acc.result();
    return {
      dataset: ds.index.name ?? path.basename(ds.dir),
      input,
      stride: o.stride,
      joints: 'h36m17',
      units: 'mm',
      ...m,
      accel: Number.isFinite(m.accel) ? m.accel : null,
      ms_per_frame: liftMs / Math.max(1, m.frames + unliftable),
      unliftable,
      ...(wanted ? { subjects: [...wanted] } : {}),
      ...(o.cocoStyle ? { coco_style: true } : {}),
      ...(scoreEvery > 1 ? { score_every: scoreEvery } : {}),
      ...(o.singleFrame ? { single_frame: true as const } : {}),
      ...(byAction.size ? {
        per_action: Object.fromEntries([...byAction.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, a]) => {
          const s = a.result();
          return [name, { frames: s.frames, mpjpe: s.mpjpe, pa_mpjpe: s.pa_mpjpe, mrpe: s.mrpe }];
        })),
      } : {}),
      models: lifter.versionsFor(undefined, kindOfLayout(lastLayout), { track: !o.singleFrame && lastFps > 0, fps: lastFps, adapted: adapter !== undefined }),
      ...(o.cocoAdapter ? { keypoint_adapter: adapter ? 'reference (keypoint-adapter.json)' : null } : {}),
      ...(detector ? { detector: detectorName, keypoint_adapter: adapter ? lifter.versionsFor(detectorName).keypoint_adapter ?? null : null } : {}),
    };
  } finally {
    ds.close();
  }
}

/**
 * One view's frames lifted as `poselift run` lifts a video's track: pushed in order through the video path's
 * overlapping windows (`WindowedTrackLifter`, TRACK_WINDOW / TRACK_OVERLAP), null frames as gaps.
 */
async function liftAsVideo(
  lifter: Lifter, norm: (Float64Array | null)[], cam: Intrinsics, fps: number, call: LiftCallOptions,
): Promise<(LiftedPerson | null)[]> {
  const out: (LiftedPerson | null)[] = norm.map(() => null);
  const track = new WindowedTrackLifter<number>(lifter, cam, fps, (i, r) => { out[i] = r; }, call);
  for (let i = 0; i < norm.length; i++) await track.push(i, norm[i]);
  await track.finish();
  return out;
}

/** --input images: detect the people of each frame's image; the best-scoring person, or null. */
async function detectFrames(ds: PoseDataset, si: number, vi: number, frames: number[], det: import('../detect/index.js').Detector): Promise<(Keypoints2D | null)[]> {
  const { readImage } = await import('../detect/index.js');
  const out: (Keypoints2D | null)[] = [];
  for (const f of frames) {
    const people = await det.detect(await readImage(ds.imagePath(si, vi, f)!));
    out.push(people[0]?.keypoints ?? null);
  }
  return out;
}


