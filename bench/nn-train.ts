/**
 * Training throughput of the ONNX-graph MLP trainer (src/nn/mlp-trainer.ts) on this machine.
 *   node --import tsx bench/nn-train.ts [--quick] [--threads N] [--seconds S] [--dropout P] [--steps-per-run K] [--no-spin]
 * Model: in=53, out=51, blocks=2, BN, dropout 0.5, joint-l2 loss; H in {1024, 512}; batch in {256, 512, 1024}.
 * GFLOP/s counts the GEMM work of one step (forward + dW + dX) and is compared with one plain ONNX
 * Gemm [B,H]x[H,H] timed in the same run (the practical peak of this CPU through onnxruntime).
 */
import os from 'node:os';
import { ort, cpuSessionOptions } from '../src/nn/ort-session.js';
import { GraphBuilder } from '../src/nn/onnx-graph.js';
import { MlpTrainer } from '../src/nn/mlp-trainer.js';
import { layerDefs, countParams, type MlpSpec } from '../src/nn/mlp-spec.js';

const args = process.argv.slice(2);
const argVal = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const threads = argVal('--threads') ? Number(argVal('--threads')) : undefined;
const seconds = Number(argVal('--seconds') ?? (quick ? 1 : 3));
const hiddens = quick ? [1024] : [1024, 512];
const batches = quick ? [1024] : [256, 512, 1024];
const dropout = Number(argVal('--dropout') ?? 0.5);
const K = Number(argVal('--steps-per-run') ?? 4);
const spinning = args.includes('--no-spin') ? false : undefined;

function stepFlops(spec: MlpSpec, B: number): number {
  let fwd = 0;
  let bwd = 0;
  layerDefs(spec).forEach((l, i) => {
    const macs = l.inDim * l.outDim;
    fwd += macs;
    bwd += macs * (i === 0 ? 1 : 2); // dW always, dX except for the input layer
  });
  return 2 * B * (fwd + bwd);
}

async function gemmPeak(B: number, H: number): Promise<number> {
  const g = new GraphBuilder();
  g.input('a', [B, H]);
  g.input('b', [H, H]);
  g.node('Gemm', ['a', 'b'], ['c']);
  g.output('c', [B, H]);
  const s = await ort.InferenceSession.create(g.toModel(), cpuSessionOptions({ threads }));
  const a = new ort.Tensor('float32', new Float32Array(B * H).map(() => Math.random()), [B, H]);
  const b = new ort.Tensor('float32', new Float32Array(H * H).map(() => Math.random()), [H, H]);
  const c = new ort.Tensor('float32', new Float32Array(B * H), [B, H]);
  for (let i = 0; i < 3; i++) await s.run({ a, b }, { c });
  let best = Infinity;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000 * Math.min(1, seconds)) {
    const t = performance.now();
    await s.run({ a, b }, { c });
    best = Math.min(best, performance.now() - t);
  }
  await s.release();
  return (2 * B * H * H) / (best / 1000) / 1e9;
}

interface TrainResult {
  /** median over timing windows (ms per step) */
  msStep: number;
  /** best window (ms per step): least disturbed by other processes on a shared machine */
  msBest: number;
}

async function benchTrain(H: number, B: number, mode: 'step' | 'stepMany'): Promise<TrainResult> {
  const spec: MlpSpec = { inputDim: 53, outputDim: 51, hidden: H, blocks: 2, dropout, batchNorm: true };
  const tr = await MlpTrainer.create(spec, { batchSize: B, lr: 1e-3, loss: 'joint-l2', seed: 1, threads, stepsPerRun: K, spinning });
  // distinct batches so the data copy is realistic
  const nb = K;
  const x = new Float32Array(nb * B * 53).map(() => Math.random() * 2 - 1);
  const y = new Float32Array(nb * B * 51).map(() => Math.random() * 2 - 1);
  const run = async (): Promise<number> => {
    if (mode === 'stepMany') {
      await tr.stepMany(x, y);
      return nb;
    }
    for (let i = 0; i < nb; i++) await tr.step(x.subarray(i * B * 53, (i + 1) * B * 53), y.subarray(i * B * 51, (i + 1) * B * 51));
    return nb;
  };
  await run();
  await run();
  const windows: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || windows.length < 3) {
    const tw = performance.now();
    const n = await run();
    windows.push((performance.now() - tw) / n);
  }
  await tr.dispose();
  windows.sort((a, b) => a - b);
  return { msStep: windows[Math.floor(windows.length / 2)], msBest: windows[0] };
}

console.log(
  `poselift nn-train bench: ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, onnxruntime-node threads=${threads ?? os.availableParallelism()}, dropout=${dropout}, stepMany K=${K}, spinning=${spinning ?? true}`,
);
console.log('model: in=53 out=51 blocks=2 BN joint-l2. Timing windows of K steps; median (best) window. GFLOP/s = GEMM work of fwd+bwd / median time.');
console.log('peak = one Gemm [B,H]x[H,H] timed in the same run (best of ~1 s).');
console.log('H     B     params | step(): ms/step       samples/s  GFLOP/s | stepMany(): ms/step   samples/s  GFLOP/s | peak GFLOP/s  stepMany/peak');
for (const H of hiddens) {
  for (const B of batches) {
    const spec: MlpSpec = { inputDim: 53, outputDim: 51, hidden: H, blocks: 2, dropout, batchNorm: true };
    const a = await benchTrain(H, B, 'step');
    const b = await benchTrain(H, B, 'stepMany');
    const peak = await gemmPeak(B, H);
    const gf = (r: TrainResult): number => stepFlops(spec, B) / (r.msStep / 1000) / 1e9;
    const f = (r: TrainResult): string =>
      `${r.msStep.toFixed(1).padStart(6)} (${r.msBest.toFixed(1).padStart(5)})  ${((B / r.msStep) * 1000).toFixed(0).padStart(6)} (${((B / r.msBest) * 1000).toFixed(0).padStart(6)})  ${gf(r).toFixed(0).padStart(5)}`;
    console.log(`${String(H).padEnd(5)} ${String(B).padEnd(5)} ${(countParams(spec) / 1e6).toFixed(2).padStart(5)}M | ${f(a)} | ${f(b)} | ${peak.toFixed(0).padStart(12)}  ${(gf(b) / peak).toFixed(2).padStart(13)}`);
  }
}
