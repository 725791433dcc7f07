import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildTrainGraph, adamVScale, type LossKind } from '../../src/nn/mlp-graphs.js';
import { BN_EPS, BN_MOMENTUM, initParams, layerDefs, paramDefs, numel, type MlpSpec } from '../../src/nn/mlp-spec.js';
import { MlpTrainer, type TrainOptions } from '../../src/nn/mlp-trainer.js';
import { loadOnnxModel } from '../../src/nn/onnx-run.js';
import { Rng } from '../../src/util/rng.js';

type F64Map = Record<string, Float64Array>;

function randArray(rng: Rng, n: number, scale = 1, offset = 0): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * rng.normal();
  return a;
}

/** Float64 reference of the training-mode forward pass + loss (batch-stat BN, no dropout). */
function refLoss(spec: MlpSpec, P: F64Map, x: Float64Array, y: Float64Array, w: Float64Array, B: number, loss: LossKind): { loss: number; bnMean: F64Map } {
  const bnMean: F64Map = {};
  const linear = (h: Float64Array, name: string, inD: number, outD: number, bn: boolean, act: boolean): Float64Array => {
    const W = P[`${name}.W`];
    // rows: B for an MLP, B x frames / 3^k in a temporal convolution (row-major regrouping is a no-op on flat arrays)
    const R = h.length / inD;
    const z = new Float64Array(R * outD);
    for (let r = 0; r < R; r++)
      for (let j = 0; j < outD; j++) {
        let s = bn ? 0 : P[`${name}.b`][j];
        for (let k = 0; k < inD; k++) s += h[r * inD + k] * W[k * outD + j];
        z[r * outD + j] = s;
      }
    if (bn) {
      const mu = new Float64Array(outD);
      for (let j = 0; j < outD; j++) {
        let m = 0;
        for (let r = 0; r < R; r++) m += z[r * outD + j];
        m /= R;
        let v = 0;
        for (let r = 0; r < R; r++) v += (z[r * outD + j] - m) ** 2;
        v /= R;
        mu[j] = m;
        for (let r = 0; r < R; r++) z[r * outD + j] = ((z[r * outD + j] - m) / Math.sqrt(v + BN_EPS)) * P[`${name}.gamma`][j] + P[`${name}.beta`][j];
      }
      bnMean[name] = mu;
    }
    if (act) for (let i = 0; i < z.length; i++) z[i] = Math.max(0, z[i]);
    return z;
  };
  const defs = layerDefs(spec);
  let k = 0;
  const L = (h: Float64Array): Float64Array => {
    const d = defs[k++];
    return linear(h, d.name, d.inDim, d.outDim, d.bn, d.hiddenAct);
  };
  let input = x;
  if (spec.frames !== undefined) {
    // the window's tail appended to every frame
    const T = spec.tailDim ?? 0, nf = spec.frames, F = (spec.inputDim - T) / nf;
    input = new Float64Array(B * nf * (F + T));
    for (let b = 0; b < B; b++)
      for (let f = 0; f < nf; f++) {
        const dst = (b * nf + f) * (F + T);
        for (let k = 0; k < F; k++) input[dst + k] = x[b * spec.inputDim + f * F + k];
        for (let k = 0; k < T; k++) input[dst + F + k] = x[b * spec.inputDim + nf * F + k];
      }
  }
  let h = L(input);
  const H = spec.hidden;
  for (let i = 0; i < spec.blocks; i++) {
    const a1 = L(L(h));
    if (spec.frames === undefined) {
      h = h.map((v, j) => v + a1[j]);
    } else {
      // skip = the centre of each group of three rows
      h = a1.map((v, j) => v + h[Math.floor(j / H) * 3 * H + H + (j % H)]);
    }
  }
  const pred = L(h);
  let total = 0;
  if (loss === 'mse') {
    for (let i = 0; i < pred.length; i++) total += w[i] * (pred[i] - y[i]) ** 2;
    return { loss: total / pred.length, bnMean };
  }
  const G = spec.outputDim / 3;
  for (let r = 0; r < B; r++)
    for (let gi = 0; gi < G; gi++) {
      let s = 0;
      for (let c = 0; c < 3; c++) s += (pred[r * spec.outputDim + gi * 3 + c] - y[r * spec.outputDim + gi * 3 + c]) ** 2;
      total += w[r * G + gi] * Math.sqrt(s + 1e-12);
    }
  return { loss: total / (B * G), bnMean };
}

interface GradCheckResult {
  maxRel: number;
  lossDiff: number;
}

async function gradCheck(batchNorm: boolean, loss: LossKind, dropout = 0, tcn = false): Promise<GradCheckResult> {
  // temporal convolution: 9 frames of 2 floats + a tail of 2 (frames 3^(blocks+1) = 9)
  const spec: MlpSpec = tcn
    ? { inputDim: 9 * 2 + 2, outputDim: 6, hidden: 4, blocks: 1, dropout, batchNorm, frames: 9, tailDim: 2 }
    : { inputDim: 5, outputDim: 6, hidden: 8, blocks: 1, dropout, batchNorm };
  const B = 7;
  const rng = new Rng(batchNorm ? 11 : 12);
  const graph = buildTrainGraph(spec, { batchSize: B, loss, beta1: 0.9, beta2: 0.999, weightDecay: 0, dtype: 'double', emitGrads: true, dropoutPoolRows: 5 });
  const session = await ort.InferenceSession.create(graph.bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  const init = initParams(spec, 3);
  const P: F64Map = {};
  for (const p of paramDefs(spec)) {
    const a = Float64Array.from(init[p.name]);
    // make biases / BN affine params non-trivial
    if (p.trainable && !p.isWeight) for (let i = 0; i < a.length; i++) a[i] += 0.3 * rng.normal();
    P[p.name] = a;
  }
  const wDim = loss === 'mse' ? spec.outputDim : spec.outputDim / 3;
  const x = randArray(rng, B * spec.inputDim);
  const y = randArray(rng, B * spec.outputDim);
  const w = new Float64Array(B * wDim).map(() => (rng.next() < 0.15 ? 0 : 0.5 + rng.next()));
  const feeds: Record<string, ort.Tensor> = {
    x: new ort.Tensor('float64', x, [B, spec.inputDim]),
    y: new ort.Tensor('float64', y, [B, spec.outputDim]),
    w: new ort.Tensor('float64', w, [B, wDim]),
    lr_t: new ort.Tensor('float64', new Float64Array([1e-3]), []),
    eps_t: new ort.Tensor('float64', new Float64Array([1e-8]), []),
  };
  for (const s of graph.state) feeds[s.input] = new ort.Tensor('float64', s.kind === 'p' ? P[s.param] : new Float64Array(numel(s.dims)), s.dims);
  if (dropout > 0) {
    // fixed masks: pool rows of {0, 1/(1-p)} and fixed per-row indices, so the loss stays a smooth function
    feeds.dpool = new ort.Tensor('float64', new Float64Array(5 * spec.hidden).map(() => (rng.next() < dropout ? 0 : 1 / (1 - dropout))), [5, spec.hidden]);
    graph.steps[0].dropoutIndex.forEach((name, i) => {
      const rows = graph.steps[0].dropoutRows[i];
      feeds[name] = new ort.Tensor('int32', new Int32Array(rows).map(() => rng.int(5)), [rows]);
    });
  }
  const trainable = paramDefs(spec).filter((p) => p.trainable);
  const res = await session.run(feeds, ['loss', ...trainable.map((p) => `grad.${p.name}`), ...(batchNorm ? ['new.p.in.mean'] : [])]);
  const ref = refLoss(spec, P, x, y, w, B, loss);
  const graphLoss = (res.loss.data as Float64Array)[0];
  const lossDiff = dropout > 0 ? 0 : Math.abs(graphLoss - ref.loss) / Math.abs(ref.loss);
  if (batchNorm && dropout === 0) {
    // running mean update: (1 - momentum) * 0 + momentum * batch mean
    const rm = res['new.p.in.mean'].data as Float64Array;
    for (let j = 0; j < rm.length; j++) assert.ok(Math.abs(rm[j] - BN_MOMENTUM * ref.bnMean.in[j]) < 1e-12, `running mean ${rm[j]} vs ${BN_MOMENTUM * ref.bnMean.in[j]}`);
  }
  const lossAt = async (): Promise<number> => ((await session.run(feeds, ['loss'])).loss.data as Float64Array)[0];
  let maxRel = 0;
  const h = 1e-6;
  for (const p of trainable) {
    const an = res[`grad.${p.name}`].data as Float64Array;
    const arr = P[p.name];
    let scaleRef = 1e-3;
    for (const v of an) scaleRef = Math.max(scaleRef, Math.abs(v));
    for (let i = 0; i < arr.length; i++) {
      const orig = arr[i];
      arr[i] = orig + h;
      const lp = await lossAt();
      arr[i] = orig - h;
      const lm = await lossAt();
      arr[i] = orig;
      const fd = (lp - lm) / (2 * h);
      // relative to the element and to the tensor's gradient scale
      const rel = Math.abs(fd - an[i]) / Math.max(Math.abs(fd), Math.abs(an[i]), 1e-2 * scaleRef);
      maxRel = Math.max(maxRel, rel);
    }
  }
  await session.release();
  return { maxRel, lossDiff };
}

for (const [batchNorm, dropout, tcn] of [[true, 0, false], [false, 0, false], [true, 0.3, false], [false, 0.3, false], [true, 0, true], [true, 0.3, true]] as const) {
  for (const loss of ['mse', 'joint-l2'] as const) {
    test(`gradient check (float64 graph vs central differences): ${tcn ? 'temporal convolution ' : ''}bn=${batchNorm} dropout=${dropout} loss=${loss}`, async () => {
      const r = await gradCheck(batchNorm, loss, dropout, tcn);
      console.log(`  gradcheck bn=${batchNorm} dropout=${dropout} ${loss}: max rel err ${r.maxRel.toExponential(2)}, loss vs JS ref ${r.lossDiff.toExponential(2)}`);
      assert.ok(r.lossDiff < 1e-10, `forward loss differs from reference: ${r.lossDiff}`);
      assert.ok(r.maxRel < 1e-5, `gradient mismatch: ${r.maxRel}`);
    });
  }
}

/** Adam / AdamW reference in float64 on gradients from the float64 graph. */
test('Adam/AdamW update matches a float64 reference (incl. bias correction and state export)', async () => {
  const spec: MlpSpec = { inputDim: 4, outputDim: 6, hidden: 8, blocks: 1, dropout: 0, batchNorm: true };
  const B = 5;
  const opts: TrainOptions = { batchSize: B, lr: 0.01, loss: 'joint-l2', weightDecay: 0.1, beta1: 0.8, beta2: 0.99, eps: 1e-6, seed: 4 };
  const tr = await MlpTrainer.create(spec, opts);
  const graph = buildTrainGraph(spec, { batchSize: B, loss: 'joint-l2', beta1: 0.8, beta2: 0.99, weightDecay: 0, dtype: 'double', emitGrads: true, dropoutPoolRows: 1 });
  const session = await ort.InferenceSession.create(graph.bytes);
  const rng = new Rng(9);
  const P: F64Map = {};
  const M: F64Map = {};
  const V: F64Map = {};
  for (const [k, v] of Object.entries(tr.getParams())) P[k] = Float64Array.from(v);
  for (let t = 1; t <= 3; t++) {
    const x = new Float32Array(B * 4).map(() => rng.normal());
    const y = new Float32Array(B * 6).map(() => rng.normal());
    const feeds: Record<string, ort.Tensor> = {
      x: new ort.Tensor('float64', Float64Array.from(x), [B, 4]),
      y: new ort.Tensor('float64', Float64Array.from(y), [B, 6]),
      w: new ort.Tensor('float64', new Float64Array(B * 2).fill(1), [B, 2]),
      lr_t: new ort.Tensor('float64', new Float64Array([0]), []),
      eps_t: new ort.Tensor('float64', new Float64Array([1]), []),
    };
    for (const s of graph.state) feeds[s.input] = new ort.Tensor('float64', s.kind === 'p' ? P[s.param] : new Float64Array(numel(s.dims)), s.dims);
    const res = await session.run(feeds);
    await tr.step(x, y);
    for (const p of paramDefs(spec)) {
      if (!p.trainable) {
        P[p.name] = Float64Array.from(res[`new.p.${p.name}`].data as Float64Array);
        continue;
      }
      const gr = res[`grad.${p.name}`].data as Float64Array;
      const m = (M[p.name] ??= new Float64Array(gr.length));
      const v = (V[p.name] ??= new Float64Array(gr.length));
      const a = P[p.name];
      for (let i = 0; i < gr.length; i++) {
        m[i] = 0.8 * m[i] + 0.2 * gr[i];
        v[i] = 0.99 * v[i] + 0.01 * gr[i] * gr[i];
        if (p.isWeight) a[i] *= 1 - 0.01 * 0.1;
        a[i] -= (0.01 * (m[i] / (1 - 0.8 ** t))) / (Math.sqrt(v[i] / (1 - 0.99 ** t)) + 1e-6);
      }
    }
  }
  const st = tr.getState();
  assert.equal(st.tensors['adam.t'][0], 3);
  for (const p of paramDefs(spec)) {
    const got = st.tensors[p.name];
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - P[p.name][i]) < 2e-5 * (1 + Math.abs(P[p.name][i])), `${p.name}[${i}] ${got[i]} vs ${P[p.name][i]}`);
    if (p.trainable) {
      const v = st.tensors[`adam.v.${p.name}`];
      for (let i = 0; i < v.length; i++) assert.ok(Math.abs(v[i] - V[p.name][i]) <= 1e-4 * Math.abs(V[p.name][i]) + 1e-12, `adam.v.${p.name}`);
    }
  }
  assert.ok(adamVScale(0.8, 0.99) > 0);
  await session.release();
  await tr.dispose();
});

function synthTask(seed: number, n: number, inD: number, outD: number): { x: Float32Array; y: Float32Array } {
  const rng = new Rng(seed);
  const K = 16;
  const A = new Float64Array(inD * K).map(() => rng.normal() / Math.sqrt(inD));
  const C = new Float64Array(K * outD).map(() => rng.normal() / Math.sqrt(K));
  const dataRng = new Rng(seed + 1);
  const x = new Float32Array(n * inD).map(() => dataRng.normal());
  const y = new Float32Array(n * outD);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let i = 0; i < inD; i++) s += x[r * inD + i] * A[i * K + k];
      const hk = Math.sin(s);
      for (let j = 0; j < outD; j++) y[r * outD + j] += hk * C[k * outD + j];
    }
  }
  return { x, y };
}

async function trainSynthetic(loss: LossKind, dropout: number, steps: number, seed = 1): Promise<{ first: number; last: number; zeroLoss: number; tr: MlpTrainer; losses: number[] }> {
  const spec: MlpSpec = { inputDim: 10, outputDim: 9, hidden: 128, blocks: 1, dropout, batchNorm: true };
  const B = 64;
  const { x, y } = synthTask(5, 4096, spec.inputDim, spec.outputDim);
  const tr = await MlpTrainer.create(spec, { batchSize: B, lr: 3e-3, loss, seed });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const off = (s * B) % 4096;
    losses.push(await tr.step(x.subarray(off * 10, (off + B) * 10), y.subarray(off * 9, (off + B) * 9)));
    if (s === Math.floor(steps * 0.7)) tr.setLearningRate(1e-3);
  }
  const avg = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
  // reference: the loss of always predicting zero
  let zeroLoss = 0;
  if (loss === 'mse') {
    for (const v of y) zeroLoss += v * v;
    zeroLoss /= y.length;
  } else {
    for (let i = 0; i < y.length; i += 3) zeroLoss += Math.hypot(y[i], y[i + 1], y[i + 2]);
    zeroLoss /= y.length / 3;
  }
  return { first: avg(losses.slice(0, 5)), last: avg(losses.slice(-20)), zeroLoss, tr, losses };
}

test('training reduces the loss on a synthetic regression task (mse and joint-l2)', async () => {
  for (const loss of ['mse', 'joint-l2'] as const) {
    const { first, last, zeroLoss, tr } = await trainSynthetic(loss, 0, 600);
    console.log(`  ${loss}: zero-predictor ${zeroLoss.toFixed(4)} first ${first.toFixed(4)} last ${last.toFixed(4)} ratio ${(zeroLoss / last).toFixed(1)}`);
    assert.ok(zeroLoss / last > (loss === 'mse' ? 12 : 3.5), `${loss}: loss ${last} vs zero-predictor ${zeroLoss}`);
    assert.ok(first / last > (loss === 'mse' ? 5 : 2), `${loss}: loss only went from ${first} to ${last}`);
    // held-out predictions in inference mode are good too
    const { x, y } = synthTask(5, 4096 + 256, 10, 9);
    const xt = x.subarray(4096 * 10);
    const yt = y.subarray(4096 * 9);
    const pred = await tr.predict(xt, 256);
    let se = 0;
    let sv = 0;
    for (let i = 0; i < pred.length; i++) {
      se += (pred[i] - yt[i]) ** 2;
      sv += yt[i] ** 2;
    }
    assert.ok(se / sv < 0.25, `${loss}: held-out relative error ${se / sv}`);
    await tr.dispose();
  }
});

test('exportOnnx + loadOnnxModel match predict; metadata round-trips; errors name the file', async () => {
  const { tr } = await trainSynthetic('mse', 0.2, 30);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-nn-'));
  try {
    const file = path.join(dir, 'model.onnx');
    tr.exportOnnx(file, { purpose: 'test', units: 'mm' });
    assert.deepEqual(fs.readdirSync(dir), ['model.onnx']);
    const model = await loadOnnxModel(file);
    assert.equal(model.inputDim, 10);
    assert.equal(model.outputDim, 9);
    assert.equal(model.metadata.purpose, 'test');
    assert.equal(model.metadata.units, 'mm');
    assert.deepEqual(JSON.parse(model.metadata.mlp_spec), tr.spec);
    const n = 300;
    const x = new Float32Array(n * 10).map((_, i) => Math.sin(i * 0.37) * 2);
    const a = await tr.predict(x, n);
    const b = await model.run(x, n);
    let maxErr = 0;
    for (let i = 0; i < a.length; i++) maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]) / (1 + Math.abs(a[i])));
    assert.ok(maxErr < 1e-4, `export differs from predict by ${maxErr}`);
    assert.equal((await model.run(new Float32Array(0), 0)).length, 0);
    await model.dispose();

    await assert.rejects(loadOnnxModel(path.join(dir, 'missing.onnx')), /missing\.onnx/);
    const bad = path.join(dir, 'bad.onnx');
    fs.writeFileSync(bad, 'this is not a protobuf model');
    await assert.rejects(loadOnnxModel(bad), (e: Error) => /bad\.onnx/.test(e.message) && /ONNX/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await tr.dispose();
  }
});

test('deterministic with the same seed (dropout on); different seed differs; state round trip', async () => {
  const a = await trainSynthetic('joint-l2', 0.3, 15, 7);
  const b = await trainSynthetic('joint-l2', 0.3, 15, 7);
  const c = await trainSynthetic('joint-l2', 0.3, 15, 8);
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.tr.getParams(), b.tr.getParams());
  assert.notDeepEqual(a.losses, c.losses);

  // checkpoint round trip (no dropout: same continuation up to float rounding of the stored Adam v)
  const spec: MlpSpec = { inputDim: 10, outputDim: 9, hidden: 32, blocks: 2, dropout: 0, batchNorm: true };
  const opts: TrainOptions = { batchSize: 16, lr: 1e-3, loss: 'mse', seed: 3, weightDecay: 1e-3 };
  const { x, y } = synthTask(3, 16, 10, 9);
  const t1 = await MlpTrainer.create(spec, opts);
  for (let i = 0; i < 3; i++) await t1.step(x, y);
  const t2 = await MlpTrainer.fromState(t1.getState(), opts);
  assert.equal(t2.steps, 3);
  for (let i = 0; i < 3; i++) {
    const l1 = await t1.step(x, y);
    const l2 = await t2.step(x, y);
    assert.ok(Math.abs(l1 - l2) <= 1e-5 * l1, `resumed loss ${l2} vs ${l1}`);
  }
  const s1 = t1.getState().tensors;
  const s2 = t2.getState().tensors;
  for (const k of Object.keys(s1)) {
    let scale = 0;
    for (const v of s1[k]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < s1[k].length; i++) assert.ok(Math.abs(s1[k][i] - s2[k][i]) <= 1e-4 * scale, `${k}[${i}]: ${s1[k][i]} vs ${s2[k][i]}`);
  }
  for (const t of [a.tr, b.tr, c.tr, t1, t2]) await t.dispose();
});

test('stepMany (unrolled K-step graph) matches repeated step()', async () => {
  const spec: MlpSpec = { inputDim: 10, outputDim: 9, hidden: 32, blocks: 1, dropout: 0, batchNorm: true };
  const opts: TrainOptions = { batchSize: 16, lr: 3e-3, loss: 'joint-l2', seed: 5, weightDecay: 1e-2, stepsPerRun: 2 };
  const { x, y } = synthTask(8, 16 * 5, 10, 9);
  const w = new Float32Array(16 * 5 * 3).map((_, i) => (i % 7 === 0 ? 0 : 1));
  const a = await MlpTrainer.create(spec, opts);
  const b = await MlpTrainer.create(spec, opts);
  const la: number[] = [];
  for (let i = 0; i < 5; i++) la.push(await a.step(x.subarray(i * 160, (i + 1) * 160), y.subarray(i * 144, (i + 1) * 144), w.subarray(i * 48, (i + 1) * 48)));
  const lb = await b.stepMany(x, y, w);
  assert.equal(lb.length, 5);
  assert.equal(b.steps, 5);
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(la[i] - lb[i]) <= 1e-5 * la[i], `loss ${i}: ${la[i]} vs ${lb[i]}`);
  const pa = a.getParams();
  const pb = b.getParams();
  for (const k of Object.keys(pa)) for (let i = 0; i < pa[k].length; i++) assert.ok(Math.abs(pa[k][i] - pb[k][i]) <= 1e-5 * (1 + Math.abs(pa[k][i])), `${k}[${i}]`);
  await a.dispose();
  await b.dispose();
});

test('temporal convolution: learns a task that needs the whole window; exportOnnx matches predict', async () => {
  // 9 frames of 2 floats + a tail of 1: the targets are the motion over the window (last - first frame), the
  // mean of the window and the tail, which no single frame carries
  const spec: MlpSpec = { inputDim: 9 * 2 + 1, outputDim: 3, hidden: 32, blocks: 1, dropout: 0.1, batchNorm: true, frames: 9, tailDim: 1 };
  const rng = new Rng(21);
  const make = (n: number) => {
    const x = new Float32Array(n * spec.inputDim), y = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const v = rng.normal(), a = rng.normal(), t = rng.normal();
      let mean = 0;
      for (let f = 0; f < 9; f++) {
        const p = a + v * (f - 4) / 4 + 0.05 * rng.normal();
        x[i * spec.inputDim + f * 2] = p;
        x[i * spec.inputDim + f * 2 + 1] = rng.normal();
        mean += p / 9;
      }
      x[i * spec.inputDim + 18] = t;
      y[i * 3] = x[i * spec.inputDim + 16] - x[i * spec.inputDim]; y[i * 3 + 1] = mean; y[i * 3 + 2] = t;
    }
    return { x, y };
  };
  const B = 64;
  const { x, y } = make(4096);
  const tr = await MlpTrainer.create(spec, { batchSize: B, lr: 3e-3, loss: 'mse', seed: 2 });
  const losses: number[] = [];
  for (let s = 0; s < 500; s++) {
    const off = (s * B) % 4096;
    losses.push(await tr.step(x.subarray(off * spec.inputDim, (off + B) * spec.inputDim), y.subarray(off * 3, (off + B) * 3)));
  }
  let var0 = 0;
  for (const v of y) var0 += v * v;
  var0 /= y.length;
  const last = losses.slice(-20).reduce((s, v) => s + v, 0) / 20;
  assert.ok(var0 / last > 10, `temporal convolution: loss ${last} vs zero-predictor ${var0}`);
  const test = make(200);
  const a = await tr.predict(test.x, 200);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-tcn-'));
  try {
    const file = path.join(dir, 'tcn.onnx');
    tr.exportOnnx(file);
    const model = await loadOnnxModel(file);
    assert.equal(model.inputDim, spec.inputDim);
    const b = await model.run(test.x, 200);
    let maxErr = 0, se = 0, sv = 0;
    for (let i = 0; i < a.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]) / (1 + Math.abs(a[i])));
      se += (a[i] - test.y[i]) ** 2;
      sv += test.y[i] ** 2;
    }
    assert.ok(maxErr < 1e-4, `export differs from predict by ${maxErr}`);
    assert.ok(se / sv < 0.1, `held-out relative error ${se / sv}`);
    await model.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await tr.dispose();
  }
});
