/**
 * Residual MLP (Martinez et al. 2017 style) specification, parameter layout and seeded init.
 *
 * Layout (weights stored [in, out] so the forward pass is `h @ W`):
 *   in        : Linear(inputDim, H) -> [BN] -> ReLU -> Dropout
 *   b{i}.0/1  : Linear(H, H) -> [BN] -> ReLU -> Dropout   (x2, plus skip: h = h + block(h))
 *   out       : Linear(H, outputDim)
 * With batchNorm the hidden Linear layers have no bias (it would be cancelled by BN); the BN
 * shift `beta` plays that role and BN is folded back into a Gemm bias on export.
 *
 * Temporal convolution (`frames` set: VideoPose3D's dilated TCN in its strided, single-output form, Pavllo et
 * al. CVPR 2019): the input row is `frames` = 3^(blocks+1) frame vectors of F floats followed by `tailDim`
 * floats shared by the window; the tail is appended to every frame (F' = F + tailDim), then
 *   in        : rows of 3 consecutive frames [3F'] -> Linear(3F', H) -> BN -> ReLU -> Dropout   (frames/3 rows)
 *   b{i}.0    : 3 consecutive rows [3H] -> Linear(3H, H) -> BN -> ReLU -> Dropout              (frames/3^(i+2))
 *   b{i}.1    : Linear(H, H) -> BN -> ReLU -> Dropout, plus skip: the centre row of the three
 *   out       : Linear(H, outputDim) on the one row left per window
 * Every row of a layer shares its weights (a convolution with kernel 3 and stride 3; BN statistics over all
 * rows), so the parameters grow with log3(frames), not with the window.
 */
import { Rng } from '../util/rng.js';

export interface MlpSpec {
  inputDim: number;
  outputDim: number;
  hidden: number;
  blocks: number;
  dropout: number;
  batchNorm: boolean;
  /** temporal convolution over this many frames (3^(blocks+1)); absent = a plain residual MLP */
  frames?: number;
  /** with `frames`: floats at the end of the input row shared by the whole window (default 0) */
  tailDim?: number;
}

export interface LayerDef {
  name: string;
  inDim: number;
  outDim: number;
  /** BatchNorm + ReLU + Dropout after the linear map (false only for the output layer). */
  hiddenAct: boolean;
  bn: boolean;
  /** rows per input sample this layer works on (1 for an MLP; frames / 3^k in a temporal convolution) */
  rows: number;
}

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export function validateSpec(spec: MlpSpec): void {
  const ints: (keyof MlpSpec)[] = ['inputDim', 'outputDim', 'hidden', 'blocks'];
  for (const k of ints) {
    const v = spec[k] as number;
    if (!Number.isInteger(v) || v < (k === 'blocks' ? 0 : 1)) throw new Error(`MlpSpec.${k} must be a ${k === 'blocks' ? 'non-negative' : 'positive'} integer, got ${v}`);
  }
  if (!(spec.dropout >= 0 && spec.dropout < 1)) throw new Error(`MlpSpec.dropout must be in [0, 1), got ${spec.dropout}`);
  if (spec.frames !== undefined) {
    const tail = spec.tailDim ?? 0;
    if (spec.frames !== 3 ** (spec.blocks + 1)) throw new Error(`MlpSpec.frames must be 3^(blocks+1) = ${3 ** (spec.blocks + 1)}, got ${spec.frames}`);
    if (!(Number.isInteger(tail) && tail >= 0)) throw new Error(`MlpSpec.tailDim must be a non-negative integer, got ${tail}`);
    const f = (spec.inputDim - tail) / spec.frames;
    if (!(Number.isInteger(f) && f >= 1)) throw new Error(`MlpSpec.inputDim - tailDim (${spec.inputDim - tail}) must be a positive multiple of frames (${spec.frames})`);
  } else if (spec.tailDim !== undefined) {
    throw new Error('MlpSpec.tailDim needs frames');
  }
}

/** Floats per frame after the tail is appended to it (temporal convolution), or null for an MLP. */
export function frameWidth(spec: MlpSpec): number | null {
  if (spec.frames === undefined) return null;
  const tail = spec.tailDim ?? 0;
  return (spec.inputDim - tail) / spec.frames + tail;
}

export function layerDefs(spec: MlpSpec): LayerDef[] {
  const H = spec.hidden;
  const fw = frameWidth(spec);
  if (fw !== null) {
    const F = spec.frames!;
    const defs: LayerDef[] = [{ name: 'in', inDim: 3 * fw, outDim: H, hiddenAct: true, bn: spec.batchNorm, rows: F / 3 }];
    for (let i = 0; i < spec.blocks; i++) {
      const rows = F / 3 ** (i + 2);
      defs.push({ name: `b${i}.0`, inDim: 3 * H, outDim: H, hiddenAct: true, bn: spec.batchNorm, rows });
      defs.push({ name: `b${i}.1`, inDim: H, outDim: H, hiddenAct: true, bn: spec.batchNorm, rows });
    }
    defs.push({ name: 'out', inDim: H, outDim: spec.outputDim, hiddenAct: false, bn: false, rows: 1 });
    return defs;
  }
  const defs: LayerDef[] = [{ name: 'in', inDim: spec.inputDim, outDim: H, hiddenAct: true, bn: spec.batchNorm, rows: 1 }];
  for (let i = 0; i < spec.blocks; i++) {
    for (let j = 0; j < 2; j++) defs.push({ name: `b${i}.${j}`, inDim: H, outDim: H, hiddenAct: true, bn: spec.batchNorm, rows: 1 });
  }
  defs.push({ name: 'out', inDim: H, outDim: spec.outputDim, hiddenAct: false, bn: false, rows: 1 });
  return defs;
}

export interface ParamDef {
  name: string;
  dims: number[];
  /** Trainable (gets Adam moments) vs. buffer (BN running stats). */
  trainable: boolean;
  /** Weight matrix (receives decoupled weight decay). */
  isWeight: boolean;
}

export function paramDefs(spec: MlpSpec): ParamDef[] {
  const out: ParamDef[] = [];
  for (const l of layerDefs(spec)) {
    out.push({ name: `${l.name}.W`, dims: [l.inDim, l.outDim], trainable: true, isWeight: true });
    if (l.bn) {
      out.push({ name: `${l.name}.gamma`, dims: [l.outDim], trainable: true, isWeight: false });
      out.push({ name: `${l.name}.beta`, dims: [l.outDim], trainable: true, isWeight: false });
      out.push({ name: `${l.name}.mean`, dims: [l.outDim], trainable: false, isWeight: false });
      out.push({ name: `${l.name}.var`, dims: [l.outDim], trainable: false, isWeight: false });
    } else {
      out.push({ name: `${l.name}.b`, dims: [l.outDim], trainable: true, isWeight: false });
    }
  }
  return out;
}

export function numel(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** He/Kaiming-normal weights (std = sqrt(2 / fan_in); output layer x0.05), zero biases, BN gamma=1 beta=0 mean=0 var=1. */
export function initParams(spec: MlpSpec, seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const res: Record<string, Float32Array> = {};
  for (const p of paramDefs(spec)) {
    const a = new Float32Array(numel(p.dims));
    if (p.isWeight) {
      // The output layer starts near zero: He-scaled outputs of a residual stack are ~10x the targets and
      // cost hundreds of Adam steps to undo (measured on PoseNet: joint loss 0.09 vs 0.33 m after 400 steps).
      const std = Math.sqrt(2 / p.dims[0]) * (p.name === 'out.W' ? 0.05 : 1);
      for (let i = 0; i < a.length; i++) a[i] = rng.normal() * std;
    } else if (p.name.endsWith('.gamma') || p.name.endsWith('.var')) {
      a.fill(1);
    }
    res[p.name] = a;
  }
  return res;
}

/** Number of trainable scalars. */
export function countParams(spec: MlpSpec): number {
  return paramDefs(spec).filter((p) => p.trainable).reduce((s, p) => s + numel(p.dims), 0);
}
