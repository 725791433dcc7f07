/**
 * Training and validation poses from a pose-dataset/1 folder, held in memory as world-frame float32
 * (Human3.6M train: 355k frames x 17 x 3 x 4 bytes = 72 MB) and turned into camera-frame samples on demand
 * for each of a sequence's calibrated views.
 */
import type { Camera } from '../contracts/types.js';
import { openDataset, type PoseDataset } from '../data/dataset.js';
import { normalisedH36m } from '../lift/normalise.js';
import type { KeypointKind } from '../lift/posenet/features.js';
import {
  DEFAULT_AUGMENT, makeDetectedSample, makeSample, NO_AUGMENT, NO_DETECTED, NO_MIX, NO_VIEW, randomMix, randomViewpoint,
  type AugmentOptions, type DetectedOptions, type MixOptions, type ViewOptions,
} from './augment.js';
import { Rng } from '../util/rng.js';
import { H36M_JOINTS } from '../contracts/types.js';

const J = H36M_JOINTS;

export interface BankOptions {
  /** keep only these subjects (by `subject`, or by the sequence id prefix before '/') */
  subjects?: string[];
  /** drop these subjects */
  excludeSubjects?: string[];
  /** take every Nth frame */
  stride?: number;
  /** also load the views' stored 2D detections (`points2d`), where they have them */
  detections?: boolean;
}

export interface PoseBank {
  /** one world-frame array per kept sequence: frames x 17 x 3 */
  worlds: Float32Array[];
  /** the calibrated cameras of each kept sequence's views */
  cameras: Camera[][];
  /** the world's up direction in each of those cameras' coordinates (unit), for new viewpoints */
  ups: [number, number, number][][];
  /** flat (sequence, frame) pairs of the kept frames */
  entries: Int32Array;
  count: number;
  subjects: string[];
  /**
   * with `detections`: per kept sequence and view, the stored 2D detections of every frame mapped to
   * h36m17 and undistorted (frames x 17 x [u, v, score], normalised), or null for a view without them
   */
  detections?: (Float32Array | null)[][];
}

function subjectOf(seq: { id: string; subject?: string }): string {
  return seq.subject ?? seq.id.split('/')[0];
}

export function loadPoseBank(dir: string, opt: BankOptions = {}): PoseBank {
  const ds = openDataset(dir);
  try {
    const stride = Math.max(1, Math.floor(opt.stride ?? 1));
    const worlds: Float32Array[] = [];
    const cameras: Camera[][] = [];
    const ups: [number, number, number][][] = [];
    const pairs: number[] = [];
    const subjects = new Set<string>();
    const detections: (Float32Array | null)[][] = [];
    ds.index.sequences.forEach((seq, si) => {
      const subj = subjectOf(seq);
      if (opt.subjects && !opt.subjects.includes(subj)) return;
      if (opt.excludeSubjects && opt.excludeSubjects.includes(subj)) return;
      const k = worlds.length;
      worlds.push(ds.readWorld3d(si, 0, seq.frames));
      cameras.push(seq.views.map((v) => ds.cameras[v.camera]));
      ups.push(seq.views.map((v) => upInCamera(ds.cameras[v.camera], ds.index.world_up)));
      subjects.add(subj);
      if (opt.detections) detections.push(seq.views.map((v, vi) => (v.points2d ? normalisedDetections(ds, si, vi) : null)));
      for (let f = 0; f < seq.frames; f += stride) pairs.push(k, f);
    });
    if (pairs.length === 0) {
      throw new Error(`${dir}: no frames left after the subject filter (${JSON.stringify(opt)})`);
    }
    return {
      worlds, cameras, ups, entries: Int32Array.from(pairs), count: pairs.length / 2, subjects: [...subjects].sort(),
      ...(opt.detections ? { detections } : {}),
    };
  } finally {
    ds.close();
  }
}

/** A view's stored 2D of every frame through the production path (layout adapter, undistortion). */
function normalisedDetections(ds: PoseDataset, si: number, vi: number): Float32Array {
  const frames = ds.sequences[si].frames;
  const p = ds.readPoints2d(si, vi, 0, frames);
  const cam = ds.camera(si, vi);
  const K = p.data.length / frames / p.channels;
  const out = new Float32Array(frames * J * 3);
  const data = new Float64Array(K * 3);
  for (let f = 0; f < frames; f++) {
    for (let k = 0; k < K; k++) {
      const b = (f * K + k) * p.channels;
      data[k * 3] = p.data[b]; data[k * 3 + 1] = p.data[b + 1];
      data[k * 3 + 2] = p.channels === 3 ? p.data[b + 2] : 1;
    }
    out.set(normalisedH36m({ layout: p.layout, data }, cam), f * J * 3);
  }
  return out;
}

/** The kept frame `e`'s detection in view `v` (17 x 3), or null when the bank has none for that view. */
export function detectionOf(bank: PoseBank, e: number, v: number): Float32Array | null {
  const det = bank.detections?.[bank.entries[e * 2]]?.[v];
  if (!det) return null;
  const f = bank.entries[e * 2 + 1];
  return det.subarray(f * J * 3, (f + 1) * J * 3);
}

/**
 * The world's up direction in camera coordinates: R * (0, 0, 1) for a z-up world (pose-dataset/1's
 * world frame, also when `world_up` is absent), (0, -1, 0) when the world is the camera frame (y down).
 */
export function upInCamera(cam: Camera, worldUp: string | undefined): [number, number, number] {
  if (worldUp === 'camera frame') return [0, -1, 0];
  const u: [number, number, number] = [cam.R[0][2], cam.R[1][2], cam.R[2][2]];
  const n = Math.hypot(u[0], u[1], u[2]);
  return [u[0] / n, u[1] / n, u[2] / n];
}

/** Camera-frame joints (mm) of entry `e` seen by view `v` into `out` (17 x 3). */
export function cameraPose(bank: PoseBank, e: number, v: number, out: Float64Array): void {
  cameraPoseAt(bank, bank.entries[e * 2], bank.entries[e * 2 + 1], v, out);
}

/** Camera-frame joints (17 x 3 mm) of frame `f` of the bank's sequence `s` seen by view `v`. */
export function cameraPoseAt(bank: PoseBank, s: number, f: number, v: number, out: Float64Array): void {
  const w = bank.worlds[s];
  const { R, C } = bank.cameras[s][v];
  const base = f * J * 3;
  for (let j = 0; j < J; j++) {
    const x = w[base + j * 3] - C[0], y = w[base + j * 3 + 1] - C[1], z = w[base + j * 3 + 2] - C[2];
    out[j * 3] = R[0][0] * x + R[0][1] * y + R[0][2] * z;
    out[j * 3 + 1] = R[1][0] * x + R[1][1] * y + R[1][2] * z;
    out[j * 3 + 2] = R[2][0] * x + R[2][1] * y + R[2][2] * z;
  }
}

/**
 * Draws random (frame, view) samples from a bank with augmentation: each call to `next` fills the
 * camera-frame target (17 x 3 mm) and the 2D input (17 x [u, v, score], normalised) and returns what kind
 * of 2D it is: the projected truth with the detector-like augmentation (`joints`), or, for a share
 * `detected.prob`, the view's stored detection (`mpii`, or `coco` as a COCO-style detector reports it).
 */
export class SampleStream {
  private readonly cam = new Float64Array(J * 3);
  private readonly donor = new Float64Array(J * 3);
  private readonly drawDonor = (out: Float64Array): void => cameraPose(this.bank, this.rng.int(this.bank.count), 0, out);

  constructor(
    private readonly bank: PoseBank,
    private readonly rng: Rng,
    private readonly aug: AugmentOptions,
    private readonly view: ViewOptions = NO_VIEW,
    private readonly mix: MixOptions = NO_MIX,
    private readonly detected: DetectedOptions = NO_DETECTED,
  ) {}

  next(target3d: Float64Array, kp: Float64Array): KeypointKind {
    for (let tries = 0; tries < 100; tries++) {
      const e = this.rng.int(this.bank.count);
      const s = this.bank.entries[e * 2];
      const v = this.rng.int(this.bank.cameras[s].length);
      cameraPose(this.bank, e, v, this.cam);
      // no draw when off, so recipes without detections keep their random stream
      const det = this.detected.prob > 0 ? detectionOf(this.bank, e, v) : null;
      if (det && this.rng.next() < this.detected.prob) {
        const kind = makeDetectedSample(this.cam, det, this.rng, this.detected, target3d, kp);
        if (kind) return kind;
        continue;
      }
      randomMix(this.cam, this.rng, this.mix, this.donor, this.drawDonor);
      randomViewpoint(this.cam, this.bank.ups[s][v], this.rng, this.view);
      if (makeSample(this.cam, this.rng, this.aug, target3d, kp)) return 'joints';
    }
    throw new Error('training data: 100 unusable poses in a row (pelvis missing or behind the camera)');
  }
}

/** Every (entry, view) of a bank in order: the deterministic validation set. */
export function* allSamples(bank: PoseBank): Generator<{ entry: number; view: number }> {
  for (let e = 0; e < bank.count; e++) {
    const views = bank.cameras[bank.entries[e * 2]].length;
    for (let v = 0; v < views; v++) yield { entry: e, view: v };
  }
}

/**
 * Every (frame, view) of a bank as a validation pair: clean 2D, or 2D with the training noise and
 * missing joints (fixed seed, no mirroring). `visit` gets the camera-frame target and the 2D input.
 */
export function forEachValidationPair(
  bank: PoseBank, noisy: boolean, seed: number, visit: (target3d: Float64Array, kp: Float64Array) => void,
): void {
  const cam = new Float64Array(J * 3), tgt = new Float64Array(J * 3), kp = new Float64Array(J * 3);
  const rng = new Rng(seed);
  const aug = noisy ? { ...DEFAULT_AUGMENT, flip: 0 } : NO_AUGMENT;
  for (const it of allSamples(bank)) {
    cameraPose(bank, it.entry, it.view, cam);
    if (makeSample(cam, rng, aug, tgt, kp)) visit(tgt, kp);
  }
}

/**
 * Every (frame, view) of a bank that has a stored detection, as a validation pair: the camera-frame target
 * and the view's detection as given (MPII-style, no mirroring, no drop-outs).
 */
export function forEachDetectionPair(bank: PoseBank, visit: (target3d: Float64Array, kp: Float64Array) => void): void {
  const cam = new Float64Array(J * 3), kp = new Float64Array(J * 3);
  for (const it of allSamples(bank)) {
    const det = detectionOf(bank, it.entry, it.view);
    if (!det) continue;
    cameraPose(bank, it.entry, it.view, cam);
    if (!(cam[2] > 100)) continue;
    kp.set(det);
    visit(cam, kp);
  }
}

/** Number of (frame, view) pairs in a bank. */
export function pairCount(bank: PoseBank): number {
  let n = 0;
  for (let e = 0; e < bank.count; e++) n += bank.cameras[bank.entries[e * 2]].length;
  return n;
}
