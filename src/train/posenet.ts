/**
 * Train PoseNet (2D keypoints -> root-relative 3D) on a pose-dataset/1 folder and export it to ONNX.
 * Reproduces the committed `models/posenet.onnx` with the defaults: `poselift train posenet --data ../shared/data/h36m-train`.
 */
import { Rng } from '../util/rng.js';
import type { MlpSpec, MlpTrainer } from '../nn/mlp-trainer.js';
import { DEFAULT_AUGMENT, DEFAULT_DETECTED, DEFAULT_MIX, NO_DETECTED, NO_VIEW } from './augment.js';
import { loadBanks, trainJointModel, type TrainConfig, type TrainedModel } from './loop.js';
import { forEachDetectionPair, forEachValidationPair, pairCount, SampleStream, type PoseBank } from './pose-bank.js';
import { decodeOutput, dropKind, encodeKeypoints, encodeTarget, J, POSENET_INPUT_DIM, POSENET_OUTPUT_DIM } from '../lift/posenet/features.js';

export type { TrainedModel } from './loop.js';

export const POSENET_DEFAULTS: Omit<TrainConfig, 'data'> = {
  valSubjects: ['S1'],
  epochs: 70,
  epochFrameStride: 5,
  valFrameStride: 25,
  hidden: 1024,
  blocks: 2,
  dropout: 0.2,
  batchSize: 512,
  lr: 1e-3,
  finalLr: 1e-5,
  seed: 1,
  view: NO_VIEW,
  // part mixing (augment.ts, 80 % of samples): S5's novel seated pose 139 -> 61 mm from true 2D, held-out S1
  // 52.0 -> 48.9 mm (at 50 %: 79 and 49.7 mm)
  mix: DEFAULT_MIX,
};

/**
 * `posenet-detected`, the PoseNet for detector keypoints (mpii / coco kinds): the same recipe, and half the
 * samples take the view's real Stacked Hourglass 2D (augment.ts DEFAULT_DETECTED); it has the keypoint-kind
 * input. Held-out S1 (README, Validation): from the detections 68.4 mm against 86.2 with `posenet`, from the
 * projected truth 45.2 against 42.1, so each kind of 2D gets its own model.
 */
export const POSENET_DETECTED_DEFAULTS: Omit<TrainConfig, 'data'> = { ...POSENET_DEFAULTS, detected: DEFAULT_DETECTED };

/**
 * `posenet-coco`, the PoseNet for COCO-style keypoints (MoveNet, BlazePose, COCO and OpenPose files): the same
 * recipe with its COCO-pattern samples in the form COCO-17 keypoints arrive in (thorax = the shoulders'
 * midpoint, pelvis = the hips'; augment.ts cocoForm), opted into for COCO-style keypoints (COCO_POSENET). Held-out
 * S1 (docs/decisions/real-detections.md): clean COCO-17 keypoints 36.9 / 83.0 mm (MPJPE / MRPE, single frame)
 * against `posenet`'s 44.7 / 168.3, but from the projected truth 42.8 against 42.1.
 */
export const POSENET_COCO_DEFAULTS: Omit<TrainConfig, 'data'> = { ...POSENET_DEFAULTS, augment: { cocoForm: true } };

export interface ValidationSet {
  x: Float32Array;
  /** camera-frame root-relative ground truth, mm (n x 17 x 3, NaN = undefined joint) */
  gt: Float64Array;
  n: number;
}

/**
 * Validation inputs from a bank: every (frame, view), clean or with the training noise (fixed seed), or
 * (`detections`) the views' stored detections as MPII-style keypoints. `withKind` false: for a model without
 * the keypoint-kind input.
 */
export function buildPosenetValidation(bank: PoseBank, noisy: boolean, seed = 12345, detections = false, withKind = true): ValidationSet {
  const cap = pairCount(bank);
  const x = new Float32Array(cap * POSENET_INPUT_DIM);
  const gt = new Float64Array(cap * J * 3);
  let n = 0;
  const visit = (tgt: Float64Array, kp: Float64Array) => {
    if (!encodeKeypoints(kp, x, n * POSENET_INPUT_DIM, detections ? 'mpii' : 'joints')) return;
    for (let j = 0; j < J; j++) for (let a = 0; a < 3; a++) gt[(n * J + j) * 3 + a] = tgt[j * 3 + a] - tgt[a];
    n++;
  };
  if (detections) forEachDetectionPair(bank, visit); else forEachValidationPair(bank, noisy, seed, visit);
  const rows = x.subarray(0, n * POSENET_INPUT_DIM);
  return { x: withKind ? rows : dropKind(rows, n, POSENET_INPUT_DIM), gt: gt.subarray(0, n * J * 3), n };
}

/**
 * Training target row `b`: the camera-frame joints `tgt` (mm) as root-relative metres into `y`, and a loss weight
 * per joint into `w` (1, or 0 for an undefined joint, whose target is zeroed).
 */
export function fillTargetRow(tgt: ArrayLike<number>, y: Float32Array, w: Float32Array, b: number): void {
  const o = b * POSENET_OUTPUT_DIM;
  encodeTarget(tgt, y, o);
  for (let j = 0; j < J; j++) {
    const ok = Number.isFinite(y[o + j * 3]);
    w[b * J + j] = ok ? 1 : 0;
    if (!ok) y[o + j * 3] = y[o + j * 3 + 1] = y[o + j * 3 + 2] = 0;
  }
}

/** Root-relative MPJPE (mm) of the network on a validation set. */
export async function posenetValidationMpjpe(t: MlpTrainer, v: ValidationSet): Promise<number> {
  const out = await t.predict(v.x, v.n);
  const pose = new Float64Array(J * 3);
  let sum = 0, cnt = 0;
  for (let i = 0; i < v.n; i++) {
    decodeOutput(out, i * POSENET_OUTPUT_DIM, pose);
    for (let j = 1; j < J; j++) {
      const g = (i * J + j) * 3;
      if (!Number.isFinite(v.gt[g])) continue;
      sum += Math.hypot(pose[j * 3] - v.gt[g], pose[j * 3 + 1] - v.gt[g + 1], pose[j * 3 + 2] - v.gt[g + 2]);
      cnt++;
    }
  }
  return sum / Math.max(1, cnt);
}

export async function trainPosenet(cfg: TrainConfig, log: (s: string) => void): Promise<TrainedModel> {
  const banks = loadBanks(cfg);
  const { train, val, stepsPerEpoch } = banks;
  // trained on the projected truth only: no keypoint-kind input (the 53-float features of the earlier models)
  const withKind = (cfg.detected?.prob ?? 0) > 0;
  const clean = buildPosenetValidation(val, false, undefined, false, withKind);
  const noisy = buildPosenetValidation(val, true, undefined, false, withKind);
  const detected = val.detections ? buildPosenetValidation(val, false, 0, true) : null;
  log(
    `posenet: train ${train.subjects.join(',')} (${train.count} frames), validate ${val.subjects.join(',')} ` +
      `(${clean.n} samples), ${cfg.epochs} epochs x ${stepsPerEpoch} steps of ${cfg.batchSize}`,
  );
  const spec: MlpSpec = {
    inputDim: withKind ? POSENET_INPUT_DIM : POSENET_INPUT_DIM - 3, outputDim: POSENET_OUTPUT_DIM,
    hidden: cfg.hidden, blocks: cfg.blocks, dropout: cfg.dropout, batchNorm: true,
  };
  const stream = new SampleStream(train, new Rng(cfg.seed), { ...DEFAULT_AUGMENT, ...cfg.augment }, cfg.view, cfg.mix, cfg.detected ?? NO_DETECTED);
  const tgt = new Float64Array(J * 3), kp = new Float64Array(J * 3);
  const full = withKind ? null : new Float32Array(cfg.batchSize * POSENET_INPUT_DIM);
  return trainJointModel(cfg, spec, banks,
    (x, y, w) => {
      for (let b = 0; b < cfg.batchSize; b++) {
        while (!encodeKeypoints(kp, full ?? x, b * POSENET_INPUT_DIM, stream.next(tgt, kp)));
        fillTargetRow(tgt, y, w, b);
      }
      if (full) x.set(dropKind(full, cfg.batchSize, POSENET_INPUT_DIM));
    },
    async (t) => ({
      val_mpjpe_mm: await posenetValidationMpjpe(t, clean),
      val_noisy_mpjpe_mm: await posenetValidationMpjpe(t, noisy),
      ...(detected ? { val_detected_mpjpe_mm: await posenetValidationMpjpe(t, detected) } : {}),
    }),
    log,
  );
}
