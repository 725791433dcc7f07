/**
 * Part "lifter": PoseNet against its limit. Poses/s of `PoseNet.predict` (the production call, with
 * test-time mirroring = 2 network rows per pose) at batch 1 and 1024, and the network alone (one row per
 * pose) next to a plain chain of ONNX Gemm nodes with exactly PoseNet's weight shapes (same FLOPs, no
 * ReLU / residual adds), run by the same onnxruntime session options and the same runner, in the same
 * run: achieved GFLOP/s and its fraction of the Gemm chain's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeModel, GraphBuilder } from '../../src/nn/onnx-graph.js';
import { loadOnnxModel } from '../../src/nn/onnx-run.js';
import { Lifter } from '../../src/lift/lifter.js';
import { openDataset } from '../../src/data/dataset.js';
import { defaultDataDir } from '../../src/util/paths.js';
import { normalisedH36m } from '../../src/lift/normalise.js';
import { fmt, perSecond, ratio, scale, stats, timeRuns, type BenchContext, type PartResult, type Stats } from '../lib/common.js';

/** Weight shapes [K, N] of the Gemm nodes of an ONNX model, in order. */
export function gemmShapes(bytes: Uint8Array): [number, number][] {
  const m = decodeModel(bytes);
  const init = new Map((m.graph?.initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map(Number)]));
  const out: [number, number][] = [];
  for (const n of m.graph?.node ?? []) {
    if (n.opType !== 'Gemm' && n.opType !== 'MatMul') continue;
    const w = init.get(n.input?.[1] ?? '');
    const transB = (n.attribute ?? []).find((a) => a.name === 'transB')?.i;
    if (w && w.length === 2) out.push(Number(transB ?? 0) ? [w[1], w[0]] : [w[0], w[1]]);
  }
  return out;
}

/** A model of Gemm nodes only, with these weight shapes (deterministic small weights). */
export function gemmChain(shapes: [number, number][]): Uint8Array {
  const g = new GraphBuilder('float');
  let x = g.input('x', ['N', shapes[0][0]]);
  shapes.forEach(([k, n], i) => {
    const w = new Float32Array(k * n);
    for (let j = 0; j < w.length; j++) w[j] = (((j * 2654435761) >>> 0) / 2 ** 32 - 0.5) * (2 / Math.sqrt(k));
    const W = g.initializer(`w${i}`, [k, n], w), B = g.initializer(`b${i}`, [n], new Float32Array(n));
    x = g.op('Gemm', [x, W, B], {}, i === shapes.length - 1 ? 'y' : undefined);
  });
  g.output('y', ['N', shapes[shapes.length - 1][1]]);
  return g.toModel({ version: 'bench-gemm-chain' });
}

export async function lifterPart(ctx: BenchContext): Promise<PartResult> {
  const { runs, quick } = ctx;
  const res: PartResult = { name: 'lifter', title: 'Lifter against its limit: PoseNet vs a plain ONNX Gemm chain of the same size', tables: [], notes: [], targets: [] };
  const file = path.join(ctx.models, 'posenet.onnx');
  const bytes = fs.readFileSync(file);
  const shapes = gemmShapes(bytes);
  const flopsPerRow = shapes.reduce((s, [k, n]) => s + 2 * k * n, 0);
  const chainFile = path.join(ctx.tmp, 'gemm-chain.onnx');
  fs.writeFileSync(chainFile, gemmChain(shapes));
  const net = await loadOnnxModel(file);
  const chain = await loadOnnxModel(chainFile);
  const lifter = await Lifter.load(ctx.models);

  const B = 1024;
  const ds = openDataset(defaultDataDir('h36m-train'));
  const si = ds.sequences.findIndex((s) => s.subject === 'S8');
  const cam = ds.camera(si, 0);
  const gt = ds.groundTruth2d(si, 0, 0, B);
  ds.close();
  const people = Array.from({ length: B }, (_, i) => normalisedH36m({ layout: 'h36m17', data: gt.subarray(i * 51, (i + 1) * 51) }, cam));
  const x = new Float32Array(B * net.inputDim);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37);

  ctx.log('lifter: PoseNet.predict');
  const reps1 = quick ? 5 : 200, repsB = quick ? 1 : 10;
  const p1 = stats(await timeRuns(() => lifter.posenet.predict([people[0]]), runs, reps1, 3));
  const pB = scale(stats(await timeRuns(() => lifter.posenet.predict(people), runs, repsB, 1)), 1 / B);
  ctx.log('lifter: network vs Gemm chain');
  const rows: string[][] = [];
  const gflops = (msPerRow: Stats): Stats => ({ median: flopsPerRow / msPerRow.median / 1e6, min: flopsPerRow / msPerRow.max / 1e6, max: flopsPerRow / msPerRow.min / 1e6, n: msPerRow.n });
  const fractions: Record<number, number> = {};
  for (const n of [1, B]) {
    const xs = x.subarray(0, n * net.inputDim);
    const reps = n === 1 ? reps1 : repsB;
    // interleave the two so that both see the same machine load
    const a: number[] = [], b: number[] = [];
    for (let r = 0; r < runs; r++) {
      a.push(...await timeRuns(() => net.run(xs, n), 1, reps, r === 0 ? 2 : 0));
      b.push(...await timeRuns(() => chain.run(xs, n), 1, reps, r === 0 ? 2 : 0));
    }
    const sa = scale(stats(a), 1 / n), sb = scale(stats(b), 1 / n);
    const ga = gflops(sa), gb = gflops(sb);
    fractions[n] = ga.median / gb.median;
    rows.push([`PoseNet network, batch ${n}`, fmt(perSecond(sa), 0), fmt(ga, 1), `${(fractions[n] * 100).toFixed(0)} %`]);
    rows.push([`Gemm chain, same shapes, batch ${n}`, fmt(perSecond(sb), 0), fmt(gb, 1), '100 %']);
  }
  const poses1 = perSecond(p1), posesB = perSecond(pB);
  res.tables.push({
    title: `PoseNet.predict (production: test-time mirroring, 2 rows per pose; real poses)`,
    head: ['batch', 'poses/s', 'ms/pose', 'vs batch 1'],
    rows: [
      ['1', fmt(poses1, 0), fmt(p1, 3), '1.00x'],
      [String(B), fmt(posesB, 0), fmt(pB, 4), ratio(posesB.median, poses1.median, 1)],
    ],
  });
  res.tables.push({
    title: `The network alone (one row per pose) vs Gemm only: ${shapes.map(([k, n]) => `${k}x${n}`).join(', ')} = ${(flopsPerRow / 1e6).toFixed(2)} MFLOP per row`,
    head: ['model', 'rows/s', 'GFLOP/s', 'of the Gemm chain'],
    rows,
  });
  res.notes.push(
    `onnxruntime-node CPU sessions with the project's options (${net.inputDim} inputs, intra-op threads = all cores); the two models alternate run by run. The Gemm chain has PoseNet's Gemm shapes without the ReLUs and residual adds: what the matrix products alone reach at that batch.`,
  );
  res.targets.push({
    target: 'lifter (PoseNet) ≥ 10,000 poses/s batched',
    measured: `${Math.round(posesB.median).toLocaleString('en-US')} poses/s at batch ${B} with mirroring (network alone: ${rows[2][1]} rows/s); ${(fractions[B] * 100).toFixed(0)} % of the Gemm chain's GFLOP/s`,
    met: quick ? null : posesB.median >= 10000,
  });
  await net.dispose(); await chain.dispose();
  return res;
}
