/**
 * ONNX graphs for the residual MLP:
 *  - `buildTrainGraph`: K (default 1) fused training steps in one graph: forward with batch-stat BN
 *    and dropout, loss, hand-derived backward pass (explicit Gemm with transA/transB, ReLU/dropout
 *    masks, BN backward), Adam/AdamW update and BN running-stat update.
 *  - `buildEvalGraph`: inference with the parameters as graph inputs (used by `predict`).
 *  - `buildExportGraph`: self-contained inference model, BN folded into Gemm, weights as initializers.
 *
 * Notes from measurements (onnxruntime-node 1.30, 2 cores):
 *  - ONNX `Dropout` (training_mode=1) is silently removed by ORT's EliminateDropout optimizer unless
 *    its mask output is consumed, and its RNG is single-threaded (~4.7 ms per [1024,1024]); same for
 *    RandomUniformLike. Dropout here gathers rows of a JS-refreshed mask pool instead (~0.3 ms).
 *  - `Where` is ~7x slower than Greater+Cast+Mul for the ReLU mask; column sums run as ones[1,B] @ X.
 */
import { GraphBuilder, type DType } from './onnx-graph.js';
import { BN_EPS, BN_MOMENTUM, frameWidth, layerDefs, paramDefs, numel, type LayerDef, type MlpSpec } from './mlp-spec.js';

export type LossKind = 'mse' | 'joint-l2';

/** Small constant inside the joint-l2 sqrt so the gradient is defined at zero error. */
export const JOINT_L2_EPS = 1e-12;

export interface TrainGraphConfig {
  batchSize: number;
  loss: LossKind;
  beta1: number;
  beta2: number;
  /** Decoupled (AdamW) weight decay on weight matrices; when > 0 the graph takes `decay` inputs. */
  weightDecay: number;
  dtype: DType;
  /** Also output raw gradients as `grad.<param>` (for gradient checks; last step only). */
  emitGrads: boolean;
  /** Rows of the dropout mask pool input `dpool` [rows, hidden] (only used when spec.dropout > 0). */
  dropoutPoolRows: number;
  /**
   * Number of consecutive Adam steps unrolled into one graph (default 1). Each session.run then
   * returns the state once per K steps, amortizing onnxruntime-node's copy of every output tensor.
   */
  stepsPerRun?: number;
  /** Column sums via MatMul with a ones row (true, default) or ReduceSum (false). */
  matmulReductions?: boolean;
}

/** Graph value names for a state tensor (param / Adam moment) on input and output side. */
export const stateIn = (kind: 'p' | 'm' | 'v', name: string): string => `${kind}.${name}`;
export const stateOut = (kind: 'p' | 'm' | 'v', name: string): string => `new.${kind}.${name}`;

/**
 * The second Adam moment is stored scaled: v_stored = v / adamVScale(b1, b2), which lets the graph
 * use (1-b1)*g (produced for free by Gemm's alpha) for both moments. lr_t / eps_t inputs must be
 * divided by sqrt(adamVScale) (MlpTrainer does this; getState/fromState convert to the plain v).
 */
export function adamVScale(beta1: number, beta2: number): number {
  return (1 - beta2) / ((1 - beta1) * (1 - beta1));
}

/** Per-step input/output names of an unrolled training graph. */
export interface StepIO {
  x: string;
  y: string;
  w: string;
  lrT: string;
  epsT: string;
  decay: string | null;
  /** Dropout row-index inputs (int32 [B x rows]) of each hidden layer; empty without dropout. */
  dropoutIndex: string[];
  /** Length of each dropout row-index input (B x the layer's rows per sample). */
  dropoutRows: number[];
  loss: string;
}

export interface TrainGraph {
  bytes: Uint8Array;
  /** All state tensors (input name, output name, param name, dims). */
  state: { input: string; output: string; param: string; kind: 'p' | 'm' | 'v'; dims: number[] }[];
  weightDims: number[];
  steps: StepIO[];
  /** Names of the per-layer dropout row-index inputs of step 0 (int32 [B]); empty without dropout. */
  dropoutIndexInputs: string[];
}

export function lossWeightDim(spec: MlpSpec, loss: LossKind): number {
  if (loss === 'joint-l2') {
    if (spec.outputDim % 3 !== 0) throw new Error(`joint-l2 loss needs outputDim divisible by 3, got ${spec.outputDim}`);
    return spec.outputDim / 3;
  }
  return spec.outputDim;
}

/**
 * K = stepsPerRun fused training steps. Per step k (names suffixed `.k` when K > 1): x [B,in],
 * y [B,out], w [B,wDim], lr_t [], eps_t [], decay [] (if weightDecay > 0), didx.<layer> int32 [B]
 * (if dropout > 0), output loss []. Shared: dpool [R,H] (if dropout > 0), every state tensor
 * `p.<name>`, `m.<name>`, `v.<name>` as input and `new.<kind>.<name>` as output.
 *
 * Dropout: the mask of hidden layer l for batch row i is row didx.l[i] of the mask pool `dpool`,
 * whose entries are 0 or 1/(1-p) (the trainer keeps refreshing the pool with fresh Bernoulli rows).
 */
export function buildTrainGraph(spec: MlpSpec, cfg: TrainGraphConfig): TrainGraph {
  const g = new GraphBuilder(cfg.dtype);
  const B = cfg.batchSize;
  const K = cfg.stepsPerRun ?? 1;
  if (!Number.isInteger(K) || K < 1) throw new Error(`stepsPerRun must be a positive integer, got ${K}`);
  const defs = layerDefs(spec);
  const params = paramDefs(spec);
  const wDim = lossWeightDim(spec, cfg.loss);
  const useDecay = cfg.weightDecay > 0;
  const floatTo = cfg.dtype === 'float' ? 1 : 11;
  const mmRed = cfg.matmulReductions ?? true;
  const drop = spec.dropout;
  const scale = drop > 0 ? 1 / (1 - drop) : 1;
  const b1c = 1 - cfg.beta1;

  if (drop > 0) g.input('dpool', [cfg.dropoutPoolRows, spec.hidden]);
  const state: TrainGraph['state'] = [];
  /** current value name of each state tensor, keyed by its input name */
  let cur = new Map<string, string>();
  for (const p of params) {
    const kinds: ('p' | 'm' | 'v')[] = p.trainable ? ['p', 'm', 'v'] : ['p'];
    for (const k of kinds) {
      g.input(stateIn(k, p.name), p.dims);
      state.push({ input: stateIn(k, p.name), output: stateOut(k, p.name), param: p.name, kind: k, dims: p.dims });
      cur.set(stateIn(k, p.name), stateIn(k, p.name));
    }
  }

  const zero = g.scalar(0);
  const onesRows = new Map<number, string>();
  /** a [1, R] row of ones (R = rows of the tensor summed) */
  const onesRow = (R: number): string => {
    let n = onesRows.get(R);
    if (n === undefined) {
      n = g.initializer(R === B ? 'ones_row' : `ones_row_${R}`, [1, R], new Array<number>(R).fill(1));
      onesRows.set(R, n);
    }
    return n;
  };
  const flatShape = g.constant([-1], [1], 'int64');
  /** Column sums of a [R, n] tensor -> [n]. */
  const colSum = (t: string, R: number): string =>
    mmRed ? g.op('Reshape', [g.op('MatMul', [onesRow(R), t]), flatShape]) : g.op('ReduceSum', [t, g.constant([0], [1], 'int64')], { keepdims: 0 });
  const colMean = (t: string, R: number): string => g.op('Mul', [colSum(t, R), g.scalar(1 / R)]);
  const tcn = spec.frames !== undefined;
  const H = spec.hidden;
  const b1 = g.scalar(cfg.beta1);
  const b2 = g.scalar(cfg.beta2);

  const steps: StepIO[] = [];
  for (let k = 0; k < K; k++) {
    const last = k === K - 1;
    const sfx = K === 1 ? '' : `.${k}`;
    const io: StepIO = {
      x: g.input(`x${sfx}`, [B, spec.inputDim]),
      y: g.input(`y${sfx}`, [B, spec.outputDim]),
      w: g.input(`w${sfx}`, [B, wDim]),
      lrT: g.input(`lr_t${sfx}`, []),
      epsT: g.input(`eps_t${sfx}`, []),
      decay: useDecay ? g.input(`decay${sfx}`, []) : null,
      dropoutIndex: [],
      dropoutRows: [],
      loss: `loss${sfx}`,
    };
    steps.push(io);
    const P = (n: string): string => cur.get(stateIn('p', n))!;
    /** name for the new value of a state tensor: graph output on the last step */
    const next = new Map<string, string>();
    const newName = (kind: 'p' | 'm' | 'v', n: string): string => {
      const name = last ? stateOut(kind, n) : g.tmp(`s${k}.${kind}.${n}`);
      next.set(stateIn(kind, n), name);
      return name;
    };

    interface Cache {
      hIn: string;
      a: string;
      /** rows of this layer's batch (B x rows per sample) */
      R: number;
      zc?: string;
      rstd?: string;
    }
    const caches = new Map<string, Cache>();

    const layerFwd = (l: LayerDef, h: string, idx: number): string => {
      const R = B * l.rows;
      const z = g.op('MatMul', [h, P(`${l.name}.W`)]);
      if (!l.hiddenAct) {
        const o = g.op('Add', [z, P(`${l.name}.b`)]);
        caches.set(l.name, { hIn: h, a: o, R });
        return o;
      }
      const c: Cache = { hIn: h, a: '', R };
      let y: string;
      if (l.bn) {
        const mu = colMean(z, R);
        const zc = g.op('Sub', [z, mu]);
        const varB = colMean(g.op('Mul', [zc, zc]), R);
        const rstd = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [varB, g.scalar(BN_EPS)])])]);
        const gr = g.op('Mul', [rstd, P(`${l.name}.gamma`)]);
        y = g.op('Add', [g.op('Mul', [zc, gr]), P(`${l.name}.beta`)]);
        // running stats (PyTorch convention: unbiased batch variance, momentum on the new value)
        const mom = g.scalar(BN_MOMENTUM);
        const rm = P(`${l.name}.mean`);
        const rv = P(`${l.name}.var`);
        g.op('Add', [rm, g.op('Mul', [g.op('Sub', [mu, rm]), mom])], {}, newName('p', `${l.name}.mean`));
        const varU = g.op('Mul', [varB, g.scalar(R > 1 ? R / (R - 1) : 1)]);
        g.op('Add', [rv, g.op('Mul', [g.op('Sub', [varU, rv]), mom])], {}, newName('p', `${l.name}.var`));
        c.zc = zc;
        c.rstd = rstd;
      } else {
        y = g.op('Add', [z, P(`${l.name}.b`)]);
      }
      let a = g.op('Relu', [y]);
      if (drop > 0) {
        const idxName = g.input(`didx${sfx}.${idx}`, [R], 'int32');
        io.dropoutIndex.push(idxName);
        io.dropoutRows.push(R);
        a = g.op('Mul', [a, g.op('Gather', ['dpool', idxName], { axis: 0 })]);
      }
      c.a = a;
      caches.set(l.name, c);
      return a;
    };

    // ---- forward
    let idx = 0;
    let h = layerFwd(defs[idx], tcn ? frameRows(g, io.x, spec) : io.x, idx);
    idx++;
    for (let i = 0; i < spec.blocks; i++) {
      // temporal convolution: three consecutive rows side by side, the centre one is the skip
      const hr = tcn ? groupRows(g, h, H) : h;
      const a0 = layerFwd(defs[idx], hr, idx);
      idx++;
      const a1 = layerFwd(defs[idx], a0, idx);
      idx++;
      h = g.op('Add', [tcn ? centreOfGroup(g, hr, H) : h, a1]);
    }
    const pred = layerFwd(defs[idx], h, idx);

    // ---- loss and dLoss/dpred
    const e = g.op('Sub', [pred, io.y]);
    let dpred: string;
    if (cfg.loss === 'mse') {
      const n = B * spec.outputDim;
      const we = g.op('Mul', [e, io.w]);
      g.op('Mul', [g.op('ReduceSum', [g.op('Mul', [we, e])], { keepdims: 0 }), g.scalar(1 / n)], {}, io.loss);
      dpred = g.op('Mul', [we, g.scalar(2 / n)]);
    } else {
      const G = wDim;
      const n = B * G;
      const e3 = g.op('Reshape', [e, g.constant([B, G, 3], [3], 'int64')]);
      const w3 = g.op('Reshape', [io.w, g.constant([B, G, 1], [3], 'int64')]);
      const n2 = g.op('ReduceSum', [g.op('Mul', [e3, e3]), g.constant([2], [1], 'int64')], { keepdims: 1 });
      const nrm = g.op('Sqrt', [g.op('Add', [n2, g.scalar(JOINT_L2_EPS)])]);
      g.op('Mul', [g.op('ReduceSum', [g.op('Mul', [w3, nrm])], { keepdims: 0 }), g.scalar(1 / n)], {}, io.loss);
      const coef = g.op('Mul', [g.op('Div', [w3, nrm]), g.scalar(1 / n)]);
      dpred = g.op('Reshape', [g.op('Mul', [e3, coef]), g.constant([B, spec.outputDim], [2], 'int64')]);
    }
    g.output(io.loss, []);

    // ---- backward. All gradients are produced pre-multiplied by (1 - beta1) ("gs" = scaled gradient).
    const gradsScaled = new Map<string, string>();
    const vecGrad = (name: string, t: string, mult: number): void => {
      gradsScaled.set(name, g.op('Mul', [t, g.scalar(mult * b1c)]));
    };
    /** Backprop through one layer given dL/d(layer output); returns dL/d(layer input) unless `needInput` is false. */
    const layerBwd = (l: LayerDef, dOut: string, needInput: boolean): string => {
      const c = caches.get(l.name)!;
      let dz: string;
      let dzScale = 1; // true dz = dzScale * dz
      if (!l.hiddenAct) {
        dz = dOut;
        vecGrad(`${l.name}.b`, colSum(dz, c.R), 1);
      } else {
        // ReLU + dropout: a = relu(y) * mask, mask in {0, scale}, so da/dy = scale * [a > 0].
        const dyw = g.op('Mul', [dOut, g.op('Cast', [g.op('Greater', [c.a, zero])], { to: floatTo })]);
        if (l.bn) {
          const zc = c.zc!;
          const rstd = c.rstd!;
          const gr = g.op('Mul', [rstd, P(`${l.name}.gamma`)]);
          let s1 = colSum(dyw, c.R); // sum dy
          let sxz = colSum(g.op('Mul', [dyw, zc]), c.R); // sum dy * zc
          if (scale !== 1) {
            s1 = g.op('Mul', [s1, g.scalar(scale)]);
            sxz = g.op('Mul', [sxz, g.scalar(scale)]);
          }
          vecGrad(`${l.name}.beta`, s1, 1);
          vecGrad(`${l.name}.gamma`, g.op('Mul', [sxz, rstd]), 1);
          // dz = gr * (dy - mean(dy) - xhat * mean(dy * xhat)),  xhat = zc * rstd
          const c0 = scale !== 1 ? g.op('Mul', [gr, g.scalar(scale)]) : gr;
          const k1 = g.op('Mul', [g.op('Mul', [gr, s1]), g.scalar(1 / c.R)]);
          const k2 = g.op('Mul', [g.op('Mul', [g.op('Mul', [gr, rstd]), g.op('Mul', [rstd, sxz])]), g.scalar(1 / c.R)]);
          dz = g.op('Sub', [g.op('Sub', [g.op('Mul', [dyw, c0]), g.op('Mul', [zc, k2])]), k1]);
        } else {
          dz = dyw;
          dzScale = scale;
          vecGrad(`${l.name}.b`, colSum(dz, c.R), scale);
        }
      }
      gradsScaled.set(`${l.name}.W`, g.op('Gemm', [c.hIn, dz], { transA: 1, alpha: { float: b1c * dzScale } }));
      if (!needInput) return '';
      return g.op('Gemm', [dz, P(`${l.name}.W`)], dzScale !== 1 ? { transB: 1, alpha: { float: dzScale } } : { transB: 1 });
    };

    let dh = layerBwd(defs[idx], dpred, true);
    for (let i = spec.blocks - 1; i >= 0; i--) {
      const l0 = defs[1 + 2 * i];
      const l1 = defs[2 + 2 * i];
      const da0 = layerBwd(l1, dh, true);
      const dhIn = layerBwd(l0, da0, true);
      if (tcn) {
        // the skip read the centre third of the grouped rows: its gradient goes back there, zero elsewhere
        const dGroup = g.op('Add', [dhIn, g.op('Pad', [dh, g.constant([0, H, 0, H], [4], 'int64')])]);
        dh = g.op('Reshape', [dGroup, g.constant([-1, H], [2], 'int64')]);
      } else {
        dh = g.op('Add', [dh, dhIn]);
      }
    }
    layerBwd(defs[0], dh, false);

    // ---- Adam / AdamW update with gs = (1-b1) g and stored vs = v / adamVScale:
    //   m' = b1 m + gs;  vs' = b2 vs + gs^2;  p' = p*decay - lr_t' * m' / (sqrt(vs') + eps_t')
    // where (from the trainer) lr_t' = lr sqrt(1-b2^t)/(1-b1^t)/sqrt(S), eps_t' = eps sqrt(1-b2^t)/sqrt(S).
    for (const p of params) {
      if (!p.trainable) continue; // BN running stats were updated in the forward pass
      const gs = gradsScaled.get(p.name);
      if (gs === undefined) throw new Error(`internal: no gradient for ${p.name}`);
      if (cfg.emitGrads && last) {
        g.op('Mul', [gs, g.scalar(1 / b1c)], {}, `grad.${p.name}`);
        g.output(`grad.${p.name}`, p.dims);
      }
      const m2 = g.op('Add', [g.op('Mul', [cur.get(stateIn('m', p.name))!, b1]), gs], {}, newName('m', p.name));
      const v2 = g.op('Add', [g.op('Mul', [cur.get(stateIn('v', p.name))!, b2]), g.op('Mul', [gs, gs])], {}, newName('v', p.name));
      const upd = g.op('Mul', [g.op('Div', [m2, g.op('Add', [g.op('Sqrt', [v2]), io.epsT])]), io.lrT]);
      const base = io.decay && p.isWeight ? g.op('Mul', [P(p.name), io.decay]) : P(p.name);
      g.op('Sub', [base, upd], {}, newName('p', p.name));
    }
    if (next.size !== cur.size) throw new Error('internal: state update incomplete');
    cur = next;
  }
  for (const s of state) g.output(s.output, s.dims);
  return { bytes: g.toModel({}, 'mlp_train_step'), state, weightDims: [B, wDim], steps, dropoutIndexInputs: steps[0].dropoutIndex };
}

/** Inference graph with parameters as inputs `p.<name>` (BN folded in-graph from running stats). Input `x` [N, in], output `output`. */
export function buildEvalGraph(spec: MlpSpec, dtype: DType = 'float'): Uint8Array {
  const g = new GraphBuilder(dtype);
  g.input('x', ['N', spec.inputDim]);
  for (const p of paramDefs(spec)) g.input(stateIn('p', p.name), p.dims);
  const P = (n: string): string => stateIn('p', n);
  const linear = (l: LayerDef, h: string, out?: string): string => {
    if (l.bn) {
      const s = g.op('Mul', [g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [P(`${l.name}.var`), g.scalar(BN_EPS)])])]), P(`${l.name}.gamma`)]);
      const wf = g.op('Mul', [P(`${l.name}.W`), s]);
      const bf = g.op('Sub', [P(`${l.name}.beta`), g.op('Mul', [P(`${l.name}.mean`), s])]);
      return g.op('Gemm', [h, wf, bf], {}, out);
    }
    return g.op('Gemm', [h, P(`${l.name}.W`), P(`${l.name}.b`)], {}, out);
  };
  buildInference(g, spec, linear);
  g.output('output', ['N', spec.outputDim]);
  return g.toModel({}, 'mlp_eval');
}

/** Standalone inference model: input `input` [N, in] float32 -> `output` [N, out]; BN folded (in float64) into Gemm. */
export function buildExportGraph(spec: MlpSpec, tensors: Record<string, Float32Array>, metadata: Record<string, string>): Uint8Array {
  const g = new GraphBuilder('float');
  g.input('input', ['N', spec.inputDim]);
  const linear = (l: LayerDef, h: string, out?: string): string => {
    const W = tensors[`${l.name}.W`];
    const wf = new Float32Array(W.length);
    const bf = new Float32Array(l.outDim);
    if (l.bn) {
      const gamma = tensors[`${l.name}.gamma`];
      const beta = tensors[`${l.name}.beta`];
      const mean = tensors[`${l.name}.mean`];
      const vr = tensors[`${l.name}.var`];
      const s = new Float64Array(l.outDim);
      for (let j = 0; j < l.outDim; j++) {
        s[j] = gamma[j] / Math.sqrt(vr[j] + BN_EPS);
        bf[j] = beta[j] - mean[j] * s[j];
      }
      for (let i = 0; i < l.inDim; i++) for (let j = 0; j < l.outDim; j++) wf[i * l.outDim + j] = W[i * l.outDim + j] * s[j];
    } else {
      wf.set(W);
      bf.set(tensors[`${l.name}.b`]);
    }
    const wn = g.initializer(`${l.name}.weight`, [l.inDim, l.outDim], wf);
    const bn = g.initializer(`${l.name}.bias`, [l.outDim], bf);
    return g.op('Gemm', [h, wn, bn], {}, out);
  };
  buildInference(g, spec, linear, 'input');
  g.output('output', ['N', spec.outputDim]);
  return g.toModel(metadata, 'poselift_mlp');
}

function buildInference(g: GraphBuilder, spec: MlpSpec, linear: (l: LayerDef, h: string, out?: string) => string, input = 'x'): void {
  const defs = layerDefs(spec);
  const tcn = spec.frames !== undefined;
  const H = spec.hidden;
  let idx = 0;
  let h = g.op('Relu', [linear(defs[idx++], tcn ? frameRows(g, input, spec) : input)]);
  for (let i = 0; i < spec.blocks; i++) {
    const hr = tcn ? groupRows(g, h, H) : h;
    const a0 = g.op('Relu', [linear(defs[idx++], hr)]);
    const a1 = g.op('Relu', [linear(defs[idx++], a0)]);
    h = g.op('Add', [tcn ? centreOfGroup(g, hr, H) : h, a1]);
  }
  linear(defs[idx], h, 'output');
}

/**
 * Temporal convolution input: [N, frames x F + tail] -> [N x frames / 3, 3 (F + tail)], the window's tail
 * appended to each of its frames and three consecutive frames per row (the first layer's kernel).
 */
function frameRows(g: GraphBuilder, x: string, spec: MlpSpec): string {
  const T = spec.tailDim ?? 0;
  const frames = spec.frames!;
  const F = (spec.inputDim - T) / frames;
  const fw = frameWidth(spec)!;
  const i64 = (v: number[]) => g.constant(v, [v.length], 'int64');
  let perFrame: string;
  if (T > 0) {
    const xf = g.op('Reshape', [g.op('Slice', [x, i64([0]), i64([frames * F]), i64([1])]), i64([-1, frames, F])]);
    const xt = g.op('Reshape', [g.op('Slice', [x, i64([frames * F]), i64([spec.inputDim]), i64([1])]), i64([-1, 1, T])]);
    perFrame = g.op('Concat', [xf, g.op('Expand', [xt, i64([1, frames, 1])])], { axis: 2 });
  } else {
    perFrame = x;
  }
  return g.op('Reshape', [perFrame, i64([-1, 3 * fw])]);
}

/** [R, H] -> [R / 3, 3H]: three consecutive rows (time steps of one window) side by side. */
function groupRows(g: GraphBuilder, h: string, H: number): string {
  return g.op('Reshape', [h, g.constant([-1, 3 * H], [2], 'int64')]);
}

/** The centre row of each group of three: columns [H, 2H) of [R / 3, 3H]. */
function centreOfGroup(g: GraphBuilder, hr: string, H: number): string {
  const i64 = (v: number[]) => g.constant(v, [v.length], 'int64');
  return g.op('Slice', [hr, i64([H]), i64([2 * H]), i64([1])]);
}

export function stateSize(spec: MlpSpec): number {
  return paramDefs(spec).reduce((s, p) => s + numel(p.dims), 0);
}
