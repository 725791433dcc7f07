/**
 * Train the temporal lifter (a window of W frames of 2D at TEMPORAL_FPS -> the centre frame's root-relative
 * 3D) on a pose-dataset/1 folder and export it to ONNX: `poselift train temporal`. Same trainer, loop and
 * export as PoseNet (src/train/posenet.ts): a residual MLP over the concatenated window encoding
 * (src/lift/temporal/features.ts), Adam with an exponential decay, validation on the held-out subject each epoch.
 */
import { Rng } from '../util/rng.js';
import type { MlpSpec } from '../nn/mlp-trainer.js';
import { countParams } from '../nn/mlp-spec.js';
import { normalisedTruth } from '../lift/normalise.js';
import { J, POSENET_OUTPUT_DIM, type KeypointKind } from '../lift/posenet/features.js';
import { fillTargetRow, posenetValidationMpjpe, type ValidationSet } from './posenet.js';
import { DEFAULT_AUGMENT, DEFAULT_DETECTED, DEFAULT_MIX, NO_DETECTED, NO_MIX, NO_VIEW } from './augment.js';
import { loadBanks, trainJointModel, type TrainConfig, type TrainedModel } from './loop.js';
import { cameraPoseAt, type PoseBank } from './pose-bank.js';
import { encodeWindow, TAIL_DIM, temporalInputDim, type FrameCodes } from '../lift/temporal/features.js';
import { DEFAULT_FRAME_DROP, WindowStream, type FrameDropOptions } from './temporal-sampler.js';

export interface TemporalConfig extends TrainConfig {
  /**
   * 'tcn': a temporal convolution over the window (VideoPose3D's, kernel 3, weights shared over time; the
   * window must be a power of 3 and `blocks` follows from it); 'mlp': a residual MLP over the whole window
   */
  arch: 'tcn' | 'mlp';
  /** frames per window (odd) */
  window: number;
  /** frames of the 50 fps data between window slots (2 = 25 fps, TEMPORAL_FPS) */
  step: number;
  /** windows that lose random frames (sampler.ts) */
  frameDrop: FrameDropOptions;
  /** projected-truth windows in the COCO / MPII missing-joint pattern get that kind (WindowStream) */
  truthKinds: boolean;
}

export const TEMPORAL_DEFAULTS: Omit<TemporalConfig, 'data'> = {
  valSubjects: ['S1'],
  // A temporal convolution, 1024 channels since 2026-12-05 (docs/decisions/temporal-lifter.md: 4-epoch pilots
  // 78.0 / 90.8 mm with 512 channels against 84.9 / 96.2 with 256 and 80.7 / 93.0 for the residual MLP over the
  // window). Full runs (2026-12-04, ~50 s an epoch of 460 steps on 2 cores at 512 channels): 40 epochs without
  // truthKinds lifted S1's SH detections 67.0 / 54.5 / 139.8 mm but clean MPII-16 keypoints 77.7 / 283.4; 36 epochs
  // with truthKinds 67.8 / 54.9 / 146.9 and 44.9 / 186.0 (MPJPE / MRPE): better poses, worse depth. Retrained
  // 2026-12-05 (57.3 / 72.8 mm alone) and shipped, its root from single-frame PoseNet's pose; then 1024 channels,
  // 32 epochs (~155 s an epoch, 83 min; 53.5 / 70.6 alone; the lift path on S1's detections 65.9 against 67.4 mm)
  // replaced it; then the same with part mixing per window (88 min; 51.7 / 70.8 alone), below. These were the
  // detections' recipe (TEMPORAL_DETECTED_DEFAULTS). The projected truth only: 24 epochs 49.8 mm alone (72 min),
  // with COCO-form windows 12 epochs 54.9 (37 min), 24 epochs 50.1 (60 min); with COCO-form windows and half the
  // windows detections (`--detected-prob 0.5`) 20 epochs 54.8 / 73.1 from truth / detections (53 min); none shipped.
  // That last recipe at 32 epochs (83 min; 52.6 / 71.0 alone) is these defaults since 2026-12-05 evening, shipped
  // as `models/temporal.onnx` for COCO-style keypoints (docs/decisions/temporal-lifter.md, last sections).
  epochs: 32,
  // an epoch = every 5th frame of S5-S8 x 4 views (236k windows)
  epochFrameStride: 5,
  valFrameStride: 25,
  // 27 frames at 25 fps (1.04 s). Quick measurement of the residual MLP (4 epochs x 192 steps of 512, val S1 every 100th frame,
  // no mirroring): W = 1 81.0 mm from ground truth / 95.2 from detections, W = 9 76.8 / 90.0, W = 27 76.6 / 89.2
  arch: 'tcn',
  window: 27,
  step: 2,
  // tcn: 27 frames x (53 + 5) -> 1024 channels, 9 -> 3 -> 1 rows per window, 8.6 M parameters
  hidden: 1024,
  blocks: 2,
  dropout: 0.25,
  batchSize: 512,
  lr: 1e-3,
  finalLr: 1e-5,
  seed: 1,
  view: NO_VIEW,
  // part mixing per window (each mixed part of a projected-truth window follows one other window's motion), since
  // 2026-12-05 evening: held-out S1's sequences with limbs swapped between actions (experiments/novel-poses.ts) as
  // MPII-16 tracks 52.9 mm against 71.0 without it, S1's detections level (66.1 against 65.9)
  mix: DEFAULT_MIX,
  // half the windows the view's real Stacked Hourglass 2D, 40 % of those as COCO-style keypoints (augment.ts
  // DEFAULT_DETECTED), since 2026-12-05 evening: 32 epochs (83 min), held-out S1's detections as COCO-17 71.6 mm
  // against PoseNet's 83.2 and the novel-pose COCO-17 tracks, mixed, 50.4 against 52.4; the projected truth only
  // (NO_DETECTED, 24 epochs) was 86.5 and 47.8 (docs/decisions/temporal-lifter.md, last section)
  detected: DEFAULT_DETECTED,
  frameDrop: DEFAULT_FRAME_DROP,
  // the first TCN (2026-12-04, truth windows always 'joints', the default patterns 30 % COCO / 15 % MPII) lifted
  // S1's SH detections 1.4 mm better but clean MPII-16 keypoints 14 mm worse (MRPE 283 vs 135): 'mpii' had come
  // to mean "the Stacked Hourglass's errors". Truth windows in a layout's pattern now carry its kind.
  truthKinds: true,
  // COCO-pattern windows in the form COCO-17 keypoints arrive in (thorax = the shoulders' midpoint; AugmentOptions.cocoForm)
  augment: { ...DEFAULT_AUGMENT, cocoPattern: 0.35, mpiiPattern: 0.35, cocoForm: true },
};

/**
 * `temporal-detected`, the temporal lifter for detector keypoints (the mpii kind): the same recipe (half the
 * windows take the view's real Stacked Hourglass 2D, augment.ts DEFAULT_DETECTED, 40 % of those as COCO-style
 * keypoints; 32 epochs, 88 min on 2 cores) without the COCO form. Shipped as `models/temporal-detected.onnx` (until 2026-12-05, night,
 * as `models/temporal.onnx`).
 */
export const TEMPORAL_DETECTED_DEFAULTS: Omit<TemporalConfig, 'data'> = {
  // its COCO-pattern windows as they were trained (no COCO form), so the shipped model reproduces
  ...TEMPORAL_DEFAULTS, augment: { ...TEMPORAL_DEFAULTS.augment, cocoForm: false },
};

/**
 * `temporal-truth`, the temporal lifter for ground-truth-like keypoints (the joints kind: complete h36m17
 * keypoint files, e.g. projected motion capture): the projected truth only, part mixing per window and mirroring
 * kept, no detector-like noise, outliers or missing-joint patterns (those belong to the detector kinds, which have
 * their own lifters), 3 % random joint drop-outs. 4-epoch pilots at 512 channels (2026-12-06; the network alone on
 * S1's projected truth, every 25th frame): `temporal`'s truth-only recipe (noise, COCO / MPII patterns) 70.0 mm,
 * without noise and patterns 62.8, without part mixing too 59.8 (docs/decisions/temporal-lifter.md).
 */
export const TEMPORAL_TRUTH_DEFAULTS: Omit<TemporalConfig, 'data'> = {
  ...TEMPORAL_DEFAULTS,
  // 512 channels x 96 epochs (2.2 M parameters, 22.6 M windows, 96 min on 2 cores; 43.1 mm alone against posenet's
  // 48.9; 43.5 already at epoch 70), shipped 2026-12-06 (third session) as models/temporal-truth.onnx: S1's projected truth
  // as 10 fps tracks 37.2 / 29.8 / 102.3 mm against posenet's 42.1 / 33.2 / 105.1. Length made each step: 1024 x 16
  // epochs (3.8 M windows; 48.9 alone) was level with posenet (42.06), 512 x 48 (11.3 M; 46.3 alone) gave 39.6
  // (docs/decisions/temporal-lifter.md)
  hidden: 512,
  epochs: 96,
  detected: NO_DETECTED,
  augment: { ...DEFAULT_AUGMENT, noisy: 0, outlier: 0, cocoPattern: 0, mpiiPattern: 0 },
};

/** The temporal lifters `poselift train` knows: for tracks of COCO-style, MPII-style and ground-truth-like keypoints. */
export type TemporalModel = 'temporal' | 'temporal-detected' | 'temporal-truth';

/** The training recipe each temporal lifter starts from. */
export const TEMPORAL_BASES: Readonly<Record<TemporalModel, Omit<TemporalConfig, 'data'>>> = {
  temporal: TEMPORAL_DEFAULTS, 'temporal-detected': TEMPORAL_DETECTED_DEFAULTS, 'temporal-truth': TEMPORAL_TRUTH_DEFAULTS,
};

export function isTemporalModel(model: string): model is TemporalModel {
  return Object.hasOwn(TEMPORAL_BASES, model);
}

/**
 * Validation windows centred on every kept frame of a bank (its entries: every `valFrameStride`th frame) in
 * every view: the clean projected truth ('joints'), or (`detections`) the views' stored detections ('mpii');
 * neighbours from all frames of the sequence, missing ones by the window rule.
 */
export function buildTemporalValidation(bank: PoseBank, window: number, step: number, detections: boolean): ValidationSet {
  const D = temporalInputDim(window);
  let cap = 0;
  for (let e = 0; e < bank.count; e++) cap += bank.cameras[bank.entries[e * 2]].length;
  const x = new Float32Array(cap * D);
  const gt = new Float64Array(cap * J * 3);
  const cam = new Float64Array(J * 3), centreCam = new Float64Array(J * 3);
  const frames: (Float64Array | null)[] = new Array(window).fill(null);
  const bufs = Array.from({ length: window }, () => new Float64Array(J * 3));
  const scratch: { codes?: FrameCodes; slots?: Int32Array } = {};
  const kind: KeypointKind = detections ? 'mpii' : 'joints';
  const c = (window - 1) / 2;
  let n = 0;
  for (let e = 0; e < bank.count; e++) {
    const s = bank.entries[e * 2], centre = bank.entries[e * 2 + 1];
    const len = bank.worlds[s].length / (J * 3);
    for (let v = 0; v < bank.cameras[s].length; v++) {
      const det = detections ? bank.detections?.[s]?.[v] : null;
      if (detections && !det) continue;
      cameraPoseAt(bank, s, centre, v, centreCam);
      if (!(centreCam[2] > 100)) continue;
      for (let k = 0; k < window; k++) {
        const f = centre + (k - c) * step;
        frames[k] = null;
        if (f < 0 || f >= len) continue;
        if (det) {
          bufs[k].set(det.subarray(f * J * 3, (f + 1) * J * 3));
        } else {
          cameraPoseAt(bank, s, f, v, cam);
          bufs[k].set(normalisedTruth(cam));
        }
        frames[k] = bufs[k];
      }
      if (!encodeWindow(frames, x, n * D, kind, scratch)) continue;
      for (let j = 0; j < J; j++) for (let a = 0; a < 3; a++) gt[(n * J + j) * 3 + a] = centreCam[j * 3 + a] - centreCam[a];
      n++;
    }
  }
  return { x: x.subarray(0, n * D), gt: gt.subarray(0, n * J * 3), n };
}

export function temporalSpec(cfg: Pick<TemporalConfig, 'arch' | 'window' | 'hidden' | 'blocks' | 'dropout'>): MlpSpec {
  const base = { inputDim: temporalInputDim(cfg.window), outputDim: POSENET_OUTPUT_DIM, hidden: cfg.hidden, dropout: cfg.dropout, batchNorm: true };
  if (cfg.arch === 'mlp') return { ...base, blocks: cfg.blocks };
  const levels = Math.round(Math.log(cfg.window) / Math.log(3));
  if (!(levels >= 1 && 3 ** levels === cfg.window)) {
    throw new Error(`train temporal: a temporal convolution needs a window that is a power of 3 (3, 9, 27, 81, 243), got ${cfg.window}`);
  }
  return { ...base, blocks: levels - 1, frames: cfg.window, tailDim: TAIL_DIM };
}

export async function trainTemporal(cfg: TemporalConfig, log: (s: string) => void): Promise<TrainedModel> {
  const banks = loadBanks(cfg);
  const { train, val, stepsPerEpoch } = banks;
  const W = cfg.window, D = temporalInputDim(W);
  const clean = buildTemporalValidation(val, W, cfg.step, false);
  const detected = val.detections ? buildTemporalValidation(val, W, cfg.step, true) : null;
  const spec = temporalSpec(cfg);
  log(
    `temporal: ${W} frames, ${cfg.step} data frames apart; train ${train.subjects.join(',')} (${train.count} frames), validate ` +
      `${val.subjects.join(',')} (${clean.n} windows), ${cfg.epochs} epochs x ${stepsPerEpoch} steps of ${cfg.batchSize}; ` +
      `${countParams(spec).toLocaleString('en-US')} parameters`,
  );
  const stream = new WindowStream(train, new Rng(cfg.seed), W, cfg.step, { ...DEFAULT_AUGMENT, ...cfg.augment }, cfg.detected ?? NO_DETECTED, cfg.frameDrop, cfg.truthKinds, cfg.mix ?? NO_MIX);
  const scratch: { codes?: FrameCodes; slots?: Int32Array } = {};
  return trainJointModel(cfg, spec, banks,
    (x, y, w) => {
      for (let b = 0; b < cfg.batchSize; b++) {
        let smp = stream.next();
        while (!encodeWindow(smp.frames, x, b * D, smp.kind, scratch)) smp = stream.next();
        fillTargetRow(smp.target, y, w, b);
      }
    },
    async (t) => ({
      val_mpjpe_mm: await posenetValidationMpjpe(t, clean),
      ...(detected ? { val_detected_mpjpe_mm: await posenetValidationMpjpe(t, detected) } : {}),
    }),
    log,
  );
}
