/**
 * The training loop shared by PoseNet and RootNet: Adam on batches drawn from an augmented stream, an
 * exponential learning-rate decay over the whole run, validation after every epoch, and an ONNX export
 * of the final weights.
 */
import path from 'node:path';
import { MlpTrainer, type MlpSpec, type TrainOptions } from '../nn/mlp-trainer.js';
import type { AugmentOptions, DetectedOptions, MixOptions, ViewOptions } from './augment.js';
import { loadPoseBank, type PoseBank } from './pose-bank.js';
import { H36M_JOINTS } from '../contracts/types.js';

/** What `poselift train posenet|rootnet` takes (each model has its own defaults). */
export interface TrainConfig {
  data: string;
  valSubjects: string[];
  epochs: number;
  /** an epoch = every Nth frame of the training subjects x their views */
  epochFrameStride: number;
  valFrameStride: number;
  hidden: number;
  blocks: number;
  dropout: number;
  batchSize: number;
  lr: number;
  finalLr: number;
  seed: number;
  /** new-viewpoint augmentation of the training samples (augment.ts, ViewOptions) */
  view: ViewOptions;
  /** part-mixing augmentation (augment.ts, MixOptions); absent = none */
  mix?: MixOptions;
  /** overrides of the detector-like augmentation (augment.ts, DEFAULT_AUGMENT); absent = the defaults */
  augment?: Partial<AugmentOptions>;
  /** samples from the views' stored 2D detections (augment.ts, DetectedOptions); absent = none */
  detected?: DetectedOptions;
}

/** The `train` command's options every model reads (the parsed command line). */
export interface CommonTrainOptions {
  data: string;
  valSubjects: string;
  epochs?: number;
  hidden?: number;
  batch?: number;
  lr?: number;
  seed?: number;
}

/** The data folder, held-out subjects and the optional size / schedule / seed overrides of a training config. */
export function commonTrainOverrides(o: CommonTrainOptions): Pick<TrainConfig, 'data' | 'valSubjects'> & Partial<TrainConfig> {
  return {
    data: path.resolve(o.data),
    valSubjects: String(o.valSubjects).split(',').map((s) => s.trim()).filter(Boolean),
    ...(o.epochs ? { epochs: o.epochs } : {}),
    ...(o.hidden ? { hidden: o.hidden } : {}),
    ...(o.batch ? { batchSize: o.batch } : {}),
    ...(o.lr ? { lr: o.lr } : {}),
    ...(o.seed ? { seed: o.seed } : {}),
  };
}

/** A finished run: the trainer with its weights and what the model card reports. */
export interface TrainedModel {
  trainer: MlpTrainer;
  spec: MlpSpec;
  metrics: Record<string, number>;
  seconds: number;
  samplesPerSecond: number;
  trainSubjects: string[];
  valSubjects: string[];
  trainSamples: number;
}

/** The training subjects (all but the held-out ones), the validation subjects, and the epoch length. */
export function loadBanks(cfg: TrainConfig): { train: PoseBank; val: PoseBank; stepsPerEpoch: number } {
  const detections = (cfg.detected?.prob ?? 0) > 0;
  const train = loadPoseBank(cfg.data, { excludeSubjects: cfg.valSubjects, detections });
  if (detections && !train.detections?.some((views) => views.some((d) => d))) {
    throw new Error(`${cfg.data}: no view of the training subjects has points2d (stored 2D detections); train with --detected-prob 0`);
  }
  const val = loadPoseBank(cfg.data, { subjects: cfg.valSubjects, stride: cfg.valFrameStride, detections });
  const views = train.cameras.reduce((a, c) => a + c.length, 0) / train.cameras.length;
  const batches = (train.count * views) / cfg.epochFrameStride / cfg.batchSize;
  return { train, val, stepsPerEpoch: STEPS_PER_RUN * Math.max(1, Math.round(batches / STEPS_PER_RUN)) };
}

/** The model card's numbers from a finished loop. */
export function trainedModel(
  res: LoopResult, spec: MlpSpec, banks: { train: PoseBank; val: PoseBank }, metrics: Record<string, number>,
  batchSize: number, stepsPerEpoch: number,
): TrainedModel {
  return {
    trainer: res.trainer,
    spec,
    metrics,
    seconds: res.seconds,
    samplesPerSecond: res.samplesPerSecond,
    trainSubjects: banks.train.subjects,
    valSubjects: banks.val.subjects,
    trainSamples: res.history.length * stepsPerEpoch * batchSize,
  };
}

/** Training steps per onnxruntime call. */
export const STEPS_PER_RUN = 4;

export interface LoopOptions {
  spec: MlpSpec;
  train: TrainOptions;
  epochs: number;
  stepsPerEpoch: number;
  /** learning rate at the last step (decays exponentially from train.lr) */
  finalLr: number;
  /** fill x (B*in), y (B*out), w (loss weights) with one fresh batch */
  fillBatch: (x: Float32Array, y: Float32Array, w: Float32Array) => void;
  /** loss-weight columns per row: out for 'mse', out/3 for 'joint-l2' */
  weightsPerRow: number;
  /** validation after every epoch; returns named metrics (lower is better for the first one) */
  validate: (t: MlpTrainer) => Promise<Record<string, number>>;
  log: (line: string) => void;
}

export interface LoopResult {
  trainer: MlpTrainer;
  history: Array<{ epoch: number; loss: number; seconds: number } & Record<string, number>>;
  seconds: number;
  samplesPerSecond: number;
}

export async function runTraining(o: LoopOptions): Promise<LoopResult> {
  const B = o.train.batchSize;
  const trainer = await MlpTrainer.create(o.spec, o.train);
  // K steps per graph run (MlpTrainer.stepMany): one weight copy-out per K steps instead of per step.
  const K = STEPS_PER_RUN;
  const x = new Float32Array(K * B * o.spec.inputDim);
  const y = new Float32Array(K * B * o.spec.outputDim);
  const w = new Float32Array(K * B * o.weightsPerRow);
  const totalSteps = o.epochs * o.stepsPerEpoch;
  if (o.stepsPerEpoch % K !== 0) throw new Error(`stepsPerEpoch must be a multiple of ${K}`);
  const decay = Math.log(o.finalLr / o.train.lr);
  const history: LoopResult['history'] = [];
  const t0 = Date.now();
  let step = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    let lossSum = 0;
    for (let s = 0; s < o.stepsPerEpoch; s += K, step += K) {
      trainer.setLearningRate(o.train.lr * Math.exp((decay * step) / Math.max(1, totalSteps - 1)));
      for (let k = 0; k < K; k++) {
        o.fillBatch(
          x.subarray(k * B * o.spec.inputDim, (k + 1) * B * o.spec.inputDim),
          y.subarray(k * B * o.spec.outputDim, (k + 1) * B * o.spec.outputDim),
          w.subarray(k * B * o.weightsPerRow, (k + 1) * B * o.weightsPerRow),
        );
      }
      for (const l of await trainer.stepMany(x, y, w)) lossSum += l;
    }
    const metrics = await o.validate(trainer);
    const seconds = (Date.now() - t0) / 1000;
    const loss = lossSum / o.stepsPerEpoch;
    history.push({ epoch, loss, seconds, ...metrics });
    o.log(
      `epoch ${epoch}/${o.epochs}  loss ${loss.toFixed(5)}  ` +
        Object.entries(metrics).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('  ') +
        `  ${seconds.toFixed(0)} s`,
    );
  }
  const seconds = (Date.now() - t0) / 1000;
  return { trainer, history, seconds, samplesPerSecond: (totalSteps * B) / seconds };
}

/**
 * The training of a network whose output is the 17 joints (x, y, z) with the joint-L2 loss, one weight per
 * joint (PoseNet, the temporal lifter): `runTraining` on the config's schedule; the trained model reports the
 * last epoch's validation metrics (in `validate`'s order) and the final loss.
 */
export async function trainJointModel(
  cfg: TrainConfig, spec: MlpSpec, banks: { train: PoseBank; val: PoseBank; stepsPerEpoch: number },
  fillBatch: LoopOptions['fillBatch'], validate: LoopOptions['validate'], log: LoopOptions['log'],
): Promise<TrainedModel> {
  const res = await runTraining({
    spec,
    train: { batchSize: cfg.batchSize, lr: cfg.lr, seed: cfg.seed, loss: 'joint-l2' },
    epochs: cfg.epochs,
    stepsPerEpoch: banks.stepsPerEpoch,
    finalLr: cfg.finalLr,
    weightsPerRow: H36M_JOINTS,
    fillBatch,
    validate,
    log,
  });
  const { epoch: _epoch, loss, seconds: _seconds, ...metrics } = res.history[res.history.length - 1];
  return trainedModel(res, spec, banks, { ...metrics, final_loss: loss }, cfg.batchSize, banks.stepsPerEpoch);
}
