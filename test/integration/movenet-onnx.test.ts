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

for (const [name, size] of [['movenet-thunder', 256], ['movenet-lightning', 192]] as const) {
  test(`${name}: the ONNX graph gives the TF.js graph's output on the photos (within 1e-4)`, async () => {
    await initBackend();
    const model = await tfconv.loadGraphModel(modelHandler(name));
    const session = await moveNetSession(moveNetToOnnx(readModelTopology(modelJsonPath(name)), model.weights));
    try {
      for (const file of photoFiles) {
        // the whole photo squeezed to the network's input, as a still's first pass sees it
        const px = await sharp(file).resize(size, size, { fit: 'fill' }).removeAlpha().raw().toBuffer();
        const input = Int32Array.from(px);
        const y = model.execute(tf.tensor4d(input, [1, size, size, 3], 'int32')) as tf.Tensor;
        const want = (await y.data()) as Float32Array;
        y.dispose();
        const got = (await session.run({ input: new ort.Tensor('int32', input, [1, size, size, 3]) })).output;
        assert.deepEqual(got.dims, [1, 1, 17, 3]);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got.data as Float32Array)[i] - want[i]));
        assert.ok(worst < 1e-4, `${name} on ${path.basename(file)}: largest difference ${worst}`);
        // a real person: confident keypoints
        const best = Math.max(...Array.from({ length: 17 }, (_, k) => want[k * 3 + 2]));
        assert.ok(best > 0.3, `${name} on ${path.basename(file)}: best keypoint score ${best}`);
      }
    } finally {
      model.dispose();
      await session.release();
    }
  });
}

test('movenet-thunder: the detector on onnxruntime finds the TF.js detector\'s keypoints on the photos (within 0.5 px)', async () => {
  const onnx = await createDetector('movenet-thunder');
  const tfjs = await createDetector('movenet-thunder', { runtime: 'tfjs' });
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
