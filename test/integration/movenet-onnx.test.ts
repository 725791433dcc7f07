/**
 * src/detect/movenet-onnx.ts + movenet-ort.ts: single-person MoveNet converted from its TF.js graph model to
 * ONNX and run by onnxruntime-node gives TF.js's answers: the network's output on the four real photos'
 * crops, and the detector's keypoints on the photos.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfconv from '@tensorflow/tfjs-converter';
import { ort } from '../../src/nn/ort-session.js';
import { createDetector, initBackend, modelHandler, modelJsonPath, readImage, readModelTopology } from '../../src/detect/index.js';
import { moveNetToOnnx } from '../../src/detect/movenet-onnx.js';
import { moveNetSession, useOnnxRuntime } from '../../src/detect/movenet-ort.js';
import { DATA } from '../helpers.js';

const IMAGES = path.join(DATA, 'h36m-images');
const photoFiles = (JSON.parse(fs.readFileSync(path.join(IMAGES, 'index.json'), 'utf8')).sequences as { views: { images: string[] }[] }[])
  .map((s) => path.join(IMAGES, s.views[0].images[0]));

/** The photo squeezed to h x w (as a still's first pass sees it), through the TF.js graph and the ONNX session. */
async function bothOn(model: tfconv.GraphModel, session: ort.InferenceSession, file: string, h: number, w: number) {
  const px = await sharp(file).resize(w, h, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const input = Int32Array.from(px);
  const y = model.execute(tf.tensor4d(input, [1, h, w, 3], 'int32')) as tf.Tensor;
  const want = (await y.data()) as Float32Array;
  y.dispose();
  const out = (await session.run({ input: new ort.Tensor('int32', input, [1, h, w, 3]) })).output;
  return { want, got: out.data as Float32Array, dims: out.dims };
}

const cases = [
  { name: 'movenet-thunder', shapes: [[256, 256]], dims: [1, 1, 17, 3] },
  { name: 'movenet-lightning', shapes: [[192, 192]], dims: [1, 1, 17, 3] },
  { name: 'movenet-multipose', shapes: [[256, 256], [160, 256]], dims: [1, 6, 56] },
] as const;

for (const c of cases) {
  test(`${c.name}: the ONNX graph gives the TF.js graph's output on the photos (within 1e-4)`, async () => {
    await initBackend();
    const model = await tfconv.loadGraphModel(modelHandler(c.name));
    const multi = c.name === 'movenet-multipose';
    const session = await moveNetSession(moveNetToOnnx(readModelTopology(modelJsonPath(c.name)), model.weights, multi ? [1, 'people', 56] : undefined));
    try {
      for (const file of photoFiles) {
        for (const [h, w] of c.shapes) {
          const { want, got, dims } = await bothOn(model, session, file, h, w);
          assert.deepEqual(dims, c.dims);
          // MultiPose: the people it reports (box score above 0.05; the empty slots' keypoints are arg-max near-ties of noise)
          const counted = (i: number) => !multi || want[Math.floor(i / 56) * 56 + 55] > 0.05;
          let worst = 0;
          for (let i = 0; i < want.length; i++) if (counted(i)) worst = Math.max(worst, Math.abs(got[i] - want[i]));
          assert.ok(worst < 1e-4, `${c.name} ${h}x${w} on ${path.basename(file)}: largest difference ${worst}`);
          // a real person: confident keypoints (single pose), a confident box (MultiPose)
          const best = multi ? want[55] : Math.max(...Array.from({ length: 17 }, (_, k) => want[k * 3 + 2]));
          assert.ok(best > 0.3, `${c.name} on ${path.basename(file)}: best score ${best}`);
        }
      }
    } finally {
      model.dispose();
      await session.release();
    }
  });
}

for (const name of ['movenet-thunder', 'movenet-multipose'] as const) test(`${name}: the detector on onnxruntime finds the TF.js detector's keypoints on the photos (within 0.5 px)`, async () => {
  const onnx = await createDetector(name);
  const tfjs = await createDetector(name, { runtime: 'tfjs' });
  try {
    for (const file of photoFiles) {
      const frame = await readImage(file);
      const [a] = await onnx.detect(frame), [b] = await tfjs.detect(frame);
      assert.ok(a && b, `a person in ${file}`);
      for (let k = 0; k < 17; k++) {
        const d = Math.hypot(a.keypoints.data[k * 3] - b.keypoints.data[k * 3], a.keypoints.data[k * 3 + 1] - b.keypoints.data[k * 3 + 1]);
        assert.ok(d < 0.5, `${path.basename(file)} keypoint ${k}: ${d.toFixed(3)} px apart`);
        assert.ok(Math.abs(a.keypoints.data[k * 3 + 2] - b.keypoints.data[k * 3 + 2]) < 0.05, `${path.basename(file)} keypoint ${k}: scores`);
      }
      // the same answer again (one intra-op thread: deterministic)
      const [again] = await onnx.detect(frame);
      assert.deepEqual(Array.from(again.keypoints.data), Array.from(a.keypoints.data));
    }
  } finally {
    onnx.dispose();
    tfjs.dispose();
  }
});

test('movenet-onnx: an op it does not map, or a detector without the replaced method, is a clear error', async () => {
  await initBackend();
  const model = await tfconv.loadGraphModel(modelHandler('movenet-lightning'));
  try {
    const topo = structuredClone(readModelTopology(modelJsonPath('movenet-lightning'))) as { node: { name: string; op: string }[] };
    topo.node.find((n) => n.op === 'Sigmoid')!.op = 'Softplus';
    assert.throws(() => moveNetToOnnx(topo, model.weights), /op Softplus .* is not mapped/);
    assert.throws(() => moveNetToOnnx(readModelTopology(modelJsonPath('movenet-lightning')), {}), /constant .* has no weights/);
    assert.throws(() => moveNetToOnnx({}, model.weights), /not a TF\.js graph model/);
  } finally {
    model.dispose();
  }
  await assert.rejects(useOnnxRuntime({} as never, modelJsonPath('movenet-lightning')), /runSinglePersonPoseModel.*runtime: "tfjs"/);
});
