/**
 * Train RootNet's gamma model (2D pose + box -> log gamma, Z_root = k / sqrt(gamma)) on a pose-dataset/1
 * folder and export it to ONNX. Reproduces `models/rootnet.onnx` with the defaults: `poselift train rootnet --data ../shared/data/h36m-train`.
 */
import { Rng } from '../util/rng.js';
import type { MlpSpec, MlpTrainer } from '../nn/mlp-trainer.js';
import { DEFAULT_AUGMENT, DEFAULT_DETECTED, NO_DETECTED, NO_VIEW } from './augment.js';
import { loadBanks, runTraining, trainedModel, type TrainConfig, type TrainedModel } from './loop.js';
import { forEachDetectionPair, forEachValidationPair, pairCount, SampleStream, type PoseBank } from './pose-bank.js';
import { dropKind, J } from '../lift/posenet/features.js';
import { encodeRootFeatures, ROOTNET_INPUT_DIM, ROOTNET_OUTPUT_DIM } from '../lift/rootnet/features.js';
import { depthFromGamma, gammaFromDepth } from '../lift/rootnet/kvalue.js';

export const ROOTNET_DEFAULTS: Omit<TrainConfig, 'data'> = {
  valSubjects: ['S1'],
  epochs: 20,
  epochFrameStride: 5,
  valFrameStride: 25,
  hidden: 256,
  blocks: 2,
  dropout: 0.1,
  batchSize: 512,
  lr: 1e-3,
  finalLr: 1e-5,
  seed: 2,
  view: NO_VIEW,
};

/** `rootnet-detected`, the RootNet for detector keypoints: with real detections as `posenet-detected`. */
export const ROOTNET_DETECTED_DEFAULTS: Omit<TrainConfig, 'data'> = { ...ROOTNET_DEFAULTS, detected: DEFAULT_DETECTED };

interface RootValidation {
  x: Float32Array;
  k: Float64Array;
  z: Float64Array;
  n: number;
}

function buildRootValidation(bank: PoseBank, noisy: boolean, seed = 54321, detections = false, withKind = true): RootValidation {
  const cap = pairCount(bank);
  const x = new Float32Array(cap * ROOTNET_INPUT_DIM);
  const k = new Float64Array(cap), z = new Float64Array(cap);
  let n = 0;
  const visit = (tgt: Float64Array, kp: Float64Array) => {
    const f = encodeRootFeatures(kp, x, n * ROOTNET_INPUT_DIM, detections ? 'mpii' : 'joints');
    if (!f) return;
    k[n] = f.k; z[n] = tgt[2]; n++;
  };
  if (detections) forEachDetectionPair(bank, visit); else forEachValidationPair(bank, noisy, seed, visit);
  const rows = x.subarray(0, n * ROOTNET_INPUT_DIM);
  return { x: withKind ? rows : dropKind(rows, n, ROOTNET_INPUT_DIM), k: k.subarray(0, n), z: z.subarray(0, n), n };
}

/** Mean absolute root-depth error (mm) of the model on a validation set. */
async function rootDepthError(t: MlpTrainer, v: RootValidation): Promise<number> {
  const out = await t.predict(v.x, v.n);
  let s = 0;
  for (let i = 0; i < v.n; i++) s += Math.abs(depthFromGamma(v.k[i], Math.exp(out[i])) - v.z[i]);
  return s / v.n;
}

export async function trainRootnet(cfg: TrainConfig, log: (s: string) => void): Promise<TrainedModel> {
  const banks = loadBanks(cfg);
  const { train, val, stepsPerEpoch } = banks;
  // trained on the projected truth only: no keypoint-kind input (the 56-float features of the earlier models)
  const withKind = (cfg.detected?.prob ?? 0) > 0;
  const clean = buildRootValidation(val, false, undefined, false, withKind);
  const noisy = buildRootValidation(val, true, undefined, false, withKind);
  const detected = val.detections ? buildRootValidation(val, false, 0, true) : null;
  // Baseline: the k-value alone with the training set's mean log gamma (no pose information).
  const stream = new SampleStream(train, new Rng(cfg.seed), { ...DEFAULT_AUGMENT, ...cfg.augment }, cfg.view, cfg.mix, cfg.detected ?? NO_DETECTED);
  const tgt = new Float64Array(J * 3), kp = new Float64Array(J * 3);
  const row = new Float32Array(ROOTNET_INPUT_DIM);
  let meanLogGamma = 0;
  for (let i = 0; i < 20000; i++) {
    let f;
    do { f = encodeRootFeatures(kp, row, 0, stream.next(tgt, kp)); } while (!f);
    meanLogGamma += Math.log(gammaFromDepth(f.k, tgt[2])) / 20000;
  }
  let kOnly = 0;
  for (let i = 0; i < clean.n; i++) kOnly += Math.abs(depthFromGamma(clean.k[i], Math.exp(meanLogGamma)) - clean.z[i]);
  kOnly /= clean.n;
  log(
    `rootnet: train ${train.subjects.join(',')}, validate ${val.subjects.join(',')} (${clean.n} samples); ` +
      `k-value with a constant gamma: ${kOnly.toFixed(1)} mm mean depth error`,
  );
  const spec: MlpSpec = {
    inputDim: withKind ? ROOTNET_INPUT_DIM : ROOTNET_INPUT_DIM - 3, outputDim: ROOTNET_OUTPUT_DIM,
    hidden: cfg.hidden, blocks: cfg.blocks, dropout: cfg.dropout, batchNorm: true,
  };
  const full = withKind ? null : new Float32Array(cfg.batchSize * ROOTNET_INPUT_DIM);
  const res = await runTraining({
    spec,
    train: { batchSize: cfg.batchSize, lr: cfg.lr, seed: cfg.seed, loss: 'mse' },
    epochs: cfg.epochs,
    stepsPerEpoch,
    finalLr: cfg.finalLr,
    weightsPerRow: 1,
    fillBatch: (x, y, w) => {
      for (let b = 0; b < cfg.batchSize; b++) {
        let f;
        do { f = encodeRootFeatures(kp, full ?? x, b * ROOTNET_INPUT_DIM, stream.next(tgt, kp)); } while (!f);
        y[b] = Math.log(gammaFromDepth(f.k, tgt[2]));
        w[b] = 1;
      }
      if (full) x.set(dropKind(full, cfg.batchSize, ROOTNET_INPUT_DIM));
    },
    validate: async (t) => ({
      val_depth_err_mm: await rootDepthError(t, clean),
      val_noisy_depth_err_mm: await rootDepthError(t, noisy),
      ...(detected ? { val_detected_depth_err_mm: await rootDepthError(t, detected) } : {}),
    }),
    log,
  });
  const last = res.history[res.history.length - 1];
  return trainedModel(res, spec, banks, {
    val_depth_err_mm: last.val_depth_err_mm,
    val_noisy_depth_err_mm: last.val_noisy_depth_err_mm,
    ...(detected ? { val_detected_depth_err_mm: last.val_detected_depth_err_mm } : {}),
    k_only_depth_err_mm: kOnly,
    final_loss: last.loss,
  }, cfg.batchSize, stepsPerEpoch);
}
