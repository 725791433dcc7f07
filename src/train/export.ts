/**
 * Writes a trained model: `<name>.onnx` (inference graph, metadata inside) and `<name>.md`, its model
 * card, with the data, licence, command, wall time and the validation metrics of this very run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TrainConfig, TrainedModel } from './loop.js';
import { DEFAULT_AUGMENT } from './augment.js';
import { writeFileAtomic } from '../util/atomic.js';

export interface ExportInfo {
  name: 'posenet' | 'posenet-coco' | 'rootnet' | 'posenet-detected' | 'rootnet-detected' | 'temporal' | 'temporal-detected' | 'temporal-truth';
  description: string;
  command: string;
  config: Record<string, unknown>;
  inputDoc: string;
  outputDoc: string;
}

export function saveTrainedModel(outDir: string, m: TrainedModel, info: ExportInfo): { onnx: string; card: string } {
  fs.mkdirSync(outDir, { recursive: true });
  const onnx = path.join(outDir, `${info.name}.onnx`);
  const card = path.join(outDir, `${info.name}.md`);
  const trainedAt = new Date().toISOString();
  m.trainer.exportOnnx(onnx, {
    name: info.name,
    // the date and the UTC time to the minute (e.g. temporal-2026-12-05T0432): two runs of one day differ
    version: `${info.name}-${trainedAt.slice(0, 16).replace(':', '')}`,
    trained_at: trainedAt,
    input: info.inputDoc,
    output: info.outputDoc,
    architecture: JSON.stringify(m.spec),
    train_subjects: m.trainSubjects.join(','),
    val_subjects: m.valSubjects.join(','),
    metrics: JSON.stringify(m.metrics),
    licence: 'Weights derived from Human3.6M: research use only (Human3.6M licence).',
  });
  const cpus = os.cpus();
  // the folder the run was given (its name: where it lies is the machine's business, the command row has the path)
  const dataFolder = typeof info.config.data === 'string' ? info.config.data : undefined;
  const lines = [
    `# Model card: ${info.name}`,
    '',
    info.description,
    '',
    '| | |',
    '|---|---|',
    `| file | \`${info.name}.onnx\` (${(fs.statSync(onnx).size / 1e6).toFixed(1)} MB, float32, onnxruntime-node) |`,
    m.spec.frames !== undefined
      ? `| architecture | temporal convolution (VideoPose3D's, kernel 3, weights shared over time): ${m.spec.frames} frames x ${(m.spec.inputDim - (m.spec.tailDim ?? 0)) / m.spec.frames} + ${m.spec.tailDim ?? 0} shared floats -> ${m.spec.hidden} channels x (1 + ${m.spec.blocks} residual blocks x 2 layers), each level reading 3 rows of the one below -> ${m.spec.outputDim}, BatchNorm (folded), dropout ${m.spec.dropout} |`
      : `| architecture | residual MLP: ${m.spec.inputDim} -> ${m.spec.hidden} x (1 + ${m.spec.blocks} blocks x 2) -> ${m.spec.outputDim}, BatchNorm (folded), dropout ${m.spec.dropout} |`,
    `| input | ${info.inputDoc} |`,
    `| output | ${info.outputDoc} |`,
    `| training data | Human3.6M (Ionescu et al., TPAMI 2014) subjects ${m.trainSubjects.join(', ')}, all four cameras${dataFolder ? `, from the pose-dataset/1 folder \`${dataFolder}\` (\`--data\`)` : ''} |`,
    `| validation data | held-out subject(s) ${m.valSubjects.join(', ')}, every 25th frame, four cameras |`,
    `| licence | **research use only**: the weights derive from Human3.6M, whose licence allows research use only. The code is MIT. |`,
    `| command | \`${info.command}\` |`,
    `| augmentation | ${describeAugmentation(info.config as Partial<TrainConfig>)} |`,
    `| training samples | ${m.trainSamples.toLocaleString('en-US')} (${m.samplesPerSecond.toFixed(0)} samples/s) |`,
    `| wall time | ${(m.seconds / 60).toFixed(1)} min on ${cpus.length} cores (${cpus[0]?.model ?? 'unknown CPU'}) |`,
    `| trained | ${trainedAt} |`,
    '',
    '## Validation metrics (this run)',
    '',
    'The network alone, on the held-out subject: `val_*mpjpe_mm` = mean error over the 16 non-root joints,',
    'root-relative, no test-time mirroring and no fitter; `val_*depth_err_mm` = mean absolute root depth error;',
    '`noisy` = with the training noise and missing joints; `detected` = from the held-out subject\'s real Stacked',
    'Hourglass detections (`points2d`, given as MPII-style keypoints). The full lift path is measured by',
    '`poselift eval` (README, "Validation"; the accuracy gates the tests hold beside this card: `accuracy-gates.json`).',
    '',
    '| metric | value |',
    '|---|---|',
    ...Object.entries(m.metrics).map(([k, v]) => `| ${k} | ${v.toFixed(k === 'final_loss' ? 5 : 1)} |`),
    '',
    '## Configuration',
    '',
    '```json',
    JSON.stringify(info.config, null, 2),
    '```',
    '',
  ];
  writeFileAtomic(card, lines.join('\n'));
  return { onnx, card };
}

/** The card's augmentation row, from the run's configuration (src/train/augment.ts). */
export function describeAugmentation(cfg: Partial<TrainConfig>): string {
  const pc = (p: number) => `${Math.round(p * 100)} %`;
  const a = { ...DEFAULT_AUGMENT, ...cfg.augment };
  const d = cfg.detected;
  const parts = [
    d && d.prob > 0
      ? `real detections: ${pc(d.prob)} of samples take the view's stored 2D detections (Stacked Hourglass, mpii16) instead of the projected truth, ${pc(d.cocoShare)} of those as COCO-style keypoints (hips' and shoulders' midpoints as pelvis and thorax, the projected neck/nose with ${d.noseSigma} x radius noise as the nose, no head top), ${pc(d.dropJoint)} joint drop-outs; the network is told which kind (joints / mpii / coco); the rest: `
      : '',
    `mirroring (${pc(a.flip)} of samples)`,
    `detector-like keypoint noise (${pc(a.noisy)}), gross outliers, and missing joints in the COCO pattern (${pc(a.cocoPattern)}${a.cocoForm ? ', in the form COCO-17 keypoints arrive in: thorax = the shoulders\' midpoint, pelvis = the hips\'' : ''}) and the MPII pattern (${pc(a.mpiiPattern)})`,
  ];
  if (a.definition) parts.push(`keypoint-definition shifts of the hips, pelvis and thorax (${pc(a.definition)} of samples)`);
  const v = cfg.view;
  parts.push(v && v.prob > 0
    ? `new viewpoints for ${pc(v.prob)} of samples (elevation sigma ${v.elevationSigmaDeg} deg, roll sigma ${v.rollSigmaDeg} deg)`
    : 'no new viewpoints');
  const m = cfg.mix;
  parts.push(m && m.prob > 0
    ? ('window' in cfg
      ? `part mixing per window: ${pc(m.prob)} of the projected-truth windows take each leg, arm and the neck-head chain's motion from another random window with probability ${m.partProb}`
      : `part mixing: ${pc(m.prob)} of samples take each leg, arm and the neck-head chain from another random frame with probability ${m.partProb}`)
    : 'no part mixing');
  return `${parts[0]}${parts.slice(1).join('; ')} (\`src/train/augment.ts\`)`;
}
