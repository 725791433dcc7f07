/**
 * `poselift calibrate DATASET --detector NAME`: measure a 2D detector's keypoint-definition adapter
 * (src/lift/adapter.ts) on a pose-dataset/1 folder whose views carry images and camera-frame ground
 * truth, report leave-one-out accuracy with and without it, and write it into
 * `<models>/keypoint-adapter.json`.
 */
import path from 'node:path';
import { openDataset } from '../data/dataset.js';
import type { Intrinsics } from '../contracts/types.js';
import { mpjpe, rootError } from './metrics.js';
import type { DetectorName } from '../detect/types.js';
import type { LiftSequenceOptions } from '../lift/solve/lift.js';
import { Lifter } from '../lift/lifter.js';
import { normalisedH36m, normalisedTruth } from '../lift/normalise.js';
import { applyAdapter, meanAdapter, measureAdapter, relativeAdapter, type DefinitionAdapter } from '../lift/adapter.js';
import {
  ADAPTER_FILE, loadReference, writeAdapterEntry, writeAdapterReference, type AdapterEntry, type AdapterReference,
} from '../lift/adapter-file.js';
import { cocoFromMpii } from '../train/augment.js';
import { forEachDetectionPair, loadPoseBank } from '../train/pose-bank.js';

export interface CalibrateOptions {
  detector: DetectorName;
  models: string;
  /** write the entry into this adapter file (default: <models>/keypoint-adapter.json); null = do not write */
  out?: string | null;
  /** recorded in the file */
  command?: string;
  /** depth-search / fitter overrides for the leave-one-out scores (tuning); production defaults otherwise */
  lift?: LiftSequenceOptions;
  /** detect with the flip test (src/detect/flip.ts) */
  flipTest?: boolean;
  /** which networks lift the detector's keypoints (default COCO_MODELS) */
  cocoModels?: 'joints' | 'detected';
}

/** A calibration photo: the detector's first person (normalised h36m17), the ground truth, the adapter measured on it. */
export interface CalibrationPhoto { id: string; det: Float64Array; gt3d: Float64Array; cam: Intrinsics; adapter: DefinitionAdapter }

export interface CalibrationResult { entry: AdapterEntry; ids: string[]; out: string | null }

/**
 * Detect every image of a pose-dataset/1 folder whose views carry images and camera-frame ground truth, and
 * measure the keypoint-definition adapter on each (photos without a person, hips or shoulders are skipped,
 * said through `log`). Also the data set's name.
 */
export async function detectCalibrationPhotos(
  dir: string, o: Pick<CalibrateOptions, 'detector' | 'flipTest'>, log?: (s: string) => void,
): Promise<{ photos: CalibrationPhoto[]; dataset: string }> {
  const ds = openDataset(dir);
  ds.sequences.forEach((_, si) => ds.sequences[si].views.forEach((_v, vi) => {
    if (ds.imagePath(si, vi, 0) === undefined) {
      ds.close();
      throw new Error(`${ds.indexPath}: sequences[${si}].views[${vi}] lists no images; calibrate needs photos with ground truth`);
    }
  }));
  const { createDetector, readImage } = await import('../detect/index.js');
  const det = await createDetector(o.detector, { flipTest: o.flipTest });
  const photos: CalibrationPhoto[] = [];
  try {
    for (let si = 0; si < ds.sequences.length; si++) {
      const seq = ds.sequences[si];
      for (let vi = 0; vi < seq.views.length; vi++) {
        const cam = ds.camera(si, vi);
        for (let f = 0; f < seq.frames; f++) {
          const people = await det.detect(await readImage(ds.imagePath(si, vi, f)!));
          const id = `${seq.id}${seq.views.length > 1 ? `/${seq.views[vi].camera}` : ''}${seq.frames > 1 ? `#${f}` : ''}`;
          if (!people.length) { log?.(`${id}: no person detected, skipped`); continue; }
          const kp = normalisedH36m(people[0].keypoints, cam);
          const gt3d = ds.cameraFrame3d(si, vi, f, 1);
          const a = measureAdapter(kp, normalisedTruth(gt3d));
          if (!a) { log?.(`${id}: hips or shoulders missing, skipped`); continue; }
          photos.push({ id, det: kp, gt3d, cam, adapter: a });
        }
      }
    }
  } finally {
    det.dispose();
    ds.close();
  }
  return { photos, dataset: ds.index.name ?? path.basename(path.resolve(dir)) };
}

export async function calibrateDetector(dir: string, o: CalibrateOptions, log?: (s: string) => void): Promise<CalibrationResult> {
  const { photos, dataset } = await detectCalibrationPhotos(dir, o, log);
  const lifter = await Lifter.load(o.models, { cocoModels: o.cocoModels });
  if (photos.length < 2) {
    throw new Error(`${dir}: calibrate needs at least 2 photos with a detected person and ground truth, found ${photos.length}`);
  }
  // COCO keypoints lifted by the detection-trained models: adapters relative to the file's reference, as `run` does
  const ref = lifter.liftsWithDetected('coco') ? loadReference(path.join(o.models, ADAPTER_FILE)) : undefined;
  const score = async (p: CalibrationPhoto, a?: DefinitionAdapter) => {
    const used = a && ref ? relativeAdapter(a, ref) : a;
    const [r] = await lifter.liftBatch([used ? applyAdapter(p.det, used) : p.det], p.cam, { lift: o.lift, kind: 'coco', adapted: used !== undefined });
    if (!r) throw new Error(`${p.id}: the detection cannot be lifted`);
    const g = p.gt3d;
    return { mpjpe: mpjpe(r.joints3d, g), root: rootError(r.joints3d, g).error };
  };
  const without = [], withA = [];
  for (let i = 0; i < photos.length; i++) {
    without.push(await score(photos[i]));
    withA.push(await score(photos[i], meanAdapter(photos.filter((_, k) => k !== i).map((p) => p.adapter))));
  }
  const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;
  const roundA = (a: DefinitionAdapter): DefinitionAdapter =>
    ({ pelvisShift: round(a.pelvisShift), hipShift: round(a.hipShift), hipWidth: round(a.hipWidth), thoraxShift: round(a.thoraxShift) });
  const roundS = (s: { mpjpe: number; root: number }) => ({ mpjpe: round(s.mpjpe, 1), root: round(s.root, 1) });
  const entry: AdapterEntry = {
    adapter: roundA(meanAdapter(photos.map((p) => p.adapter))),
    dataset,
    photos: photos.map((p) => ({ id: p.id, adapter: roundA(p.adapter) })),
    calibrated: new Date().toISOString().slice(0, 10),
    command: o.command ?? `poselift calibrate ${path.basename(path.resolve(dir))} --detector ${o.detector}`,
    leave_one_out: { without: without.map(roundS), with: withA.map(roundS) },
  };
  const out = o.out === null ? null : path.resolve(o.out ?? path.join(o.models, ADAPTER_FILE));
  if (out) writeAdapterEntry(out, o.detector, entry);
  return { entry, ids: photos.map((p) => p.id), out };
}

/**
 * `poselift calibrate DATASET --reference`: the keypoint definitions the lifters learn for COCO-style input,
 * measured like a detector's adapter: every stored MPII-16 detection (`points2d`) of the given subjects
 * (every `stride`-th frame, all views) given as COCO-style keypoints (`cocoFromMpii`, as in training) against
 * the projected truth, averaged. Use the training subjects: it describes the training data.
 */
export function measureReference(dir: string, subjects: string[], stride: number, command: string): AdapterReference {
  const bank = loadPoseBank(dir, { subjects, stride, detections: true });
  const list: DefinitionAdapter[] = [];
  forEachDetectionPair(bank, (tgt, kp) => {
    const k = Float64Array.from(kp);
    cocoFromMpii(k, [NaN, NaN]);
    const a = measureAdapter(k, normalisedTruth(tgt));
    if (a && Object.values(a).every(Number.isFinite)) list.push(a);
  });
  if (list.length < 100) {
    throw new Error(`${dir}: only ${list.length} detections of ${subjects.join(',')} with hips and shoulders; --reference needs a data set with points2d`);
  }
  const m = meanAdapter(list);
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  return {
    adapter: { pelvisShift: round(m.pelvisShift), hipShift: round(m.hipShift), hipWidth: round(m.hipWidth), thoraxShift: round(m.thoraxShift) },
    dataset: path.basename(path.resolve(dir)),
    subjects: bank.subjects,
    samples: list.length,
    calibrated: new Date().toISOString().slice(0, 10),
    command,
  };
}

