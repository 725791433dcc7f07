/**
 * `poselift train temporal|temporal-detected`: the temporal lifters' training command (the `train` command's
 * options, read here so src/cli/main.ts only dispatches), writing `<out>/<model>.onnx` and its model card.
 */
import path from 'node:path';
import { saveTrainedModel } from '../train/export.js';
import { DEFAULT_DETECTED, DEFAULT_MIX } from '../train/augment.js';
import { commonTrainOverrides, type CommonTrainOptions } from '../train/loop.js';
import { FRAME_DIM, TEMPORAL_FPS, temporalInputDim } from '../lift/temporal/features.js';
import { TEMPORAL_BASES, trainTemporal, type TemporalConfig, type TemporalModel } from '../train/temporal.js';

export type { TemporalModel };

/** The `train` command's parsed options that the temporal lifter reads. */
export interface TrainTemporalOptions extends CommonTrainOptions {
  out: string;
  viewProb?: number;
  mixProb?: number;
  detectedProb?: number;
  cocoShare?: number;
  definitionProb?: number;
  cocoProb?: number;
  cocoForm?: 'on' | 'off';
  window?: number;
  arch?: 'tcn' | 'mlp';
}

export function temporalConfig(o: TrainTemporalOptions, model: TemporalModel): TemporalConfig {
  if (o.window !== undefined && !(Number.isInteger(o.window) && o.window >= 1 && o.window % 2 === 1)) {
    throw new Error(`train temporal: --window must be an odd number of frames, got ${o.window}`);
  }
  if (o.viewProb) throw new Error('train temporal: new viewpoints (--view-prob) are not implemented for windows; leave it out');
  if (o.definitionProb) throw new Error('train temporal: keypoint-definition shifts (--definition-prob) are not implemented for windows; leave it out');
  const base = TEMPORAL_BASES[model];
  return {
    ...base,
    ...commonTrainOverrides(o),
    ...(o.window ? { window: o.window } : {}),
    ...(o.arch ? { arch: o.arch } : {}),
    ...(o.detectedProb !== undefined || o.cocoShare !== undefined ? {
      detected: { ...DEFAULT_DETECTED, ...(o.detectedProb !== undefined ? { prob: o.detectedProb } : {}), ...(o.cocoShare !== undefined ? { cocoShare: o.cocoShare } : {}) },
    } : {}),
    ...(o.mixProb !== undefined ? { mix: { ...DEFAULT_MIX, prob: o.mixProb } } : {}),
    ...(o.cocoProb !== undefined || o.cocoForm !== undefined ? {
      augment: {
        ...base.augment,
        ...(o.cocoProb !== undefined ? { cocoPattern: o.cocoProb } : {}),
        ...(o.cocoForm !== undefined ? { cocoForm: o.cocoForm === 'on' } : {}),
      },
    } : {}),
  };
}

export async function trainTemporalCommand(o: TrainTemporalOptions, model: TemporalModel, command: string, log: (s: string) => void): Promise<void> {
  const cfg = temporalConfig(o, model);
  const trained = await trainTemporal(cfg, log);
  const W = cfg.window, fps = 50 / cfg.step;
  const files = saveTrainedModel(path.resolve(o.out), trained, {
    // src/train/export.ts names only the single-frame models in its type; the name is used as the file name
    name: model,
    description:
      `Lifts a window of ${W} frames of one person's 2D keypoints (h36m17, normalised camera coordinates) at ${TEMPORAL_FPS} fps ` +
      `(${(W - 1) / TEMPORAL_FPS} s) to the root-relative camera-frame 3D joints of its centre frame, in millimetres (the ` +
      `temporal lifter of poselift, \`src/lift/temporal/\`; ${cfg.arch === 'tcn' ? 'a temporal convolution as VideoPose3D\'s: kernel 3, weights shared over time' : 'a residual MLP over the whole window'}). Used for the tracks of videos and keypoint files with a frame rate. Trained on windows of the 50 fps Human3.6M ` +
      `sequences taking every ${cfg.step} frames (${fps} fps). Frames outside the track or missing repeat the nearest present frame of the ` +
      `window (edge padding); the mirroring, the noise level, the missing-joint pattern and the COCO share are drawn once per ` +
      `window; ${Math.round(cfg.frameDrop.prob * 100)} % of windows lose each non-centre frame with probability ${cfg.frameDrop.frameProb}. ` +
      `Measure the network alone with \`poselift eval-temporal ../shared/data/h36m-train --input ${model === 'temporal-detected' ? 'points2d' : 'gt2d'} --subjects S1 --score-every 5 --model FILE\`, ` +
      `and through the lift path with \`poselift eval\` (docs/decisions/temporal-lifter.md).`,
    command,
    config: { ...cfg, data: path.basename(cfg.data) },
    inputDoc:
      `${temporalInputDim(W)} floats: ${W} frames x ${FRAME_DIM} (17 x (u, v centred at that frame's pelvis, divided by the centre ` +
      `frame's RMS radius, visible) + that pelvis minus the centre frame's, over the same radius) + the centre frame's ray (u, v) + ` +
      `one-hot keypoint kind (joints, mpii, coco); ${TEMPORAL_FPS} fps; u = X/Z, v = Y/Z undistorted`,
    outputDoc: '51 floats: 17 x (x, y, z) root-relative camera-frame joints of the centre frame in metres (h36m17)',
  });
  log(`wrote ${files.onnx} and ${files.card}`);
}
