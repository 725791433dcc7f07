/**
 * A small real training run: PoseNet and RootNet on Human3.6M subjects from ../shared/data, validated on a
 * held-out subject. The loss and the validation error must fall.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { trainPosenet, POSENET_DEFAULTS } from '../../src/train/posenet.js';
import { trainRootnet, ROOTNET_DEFAULTS } from '../../src/train/rootnet.js';
import { saveTrainedModel } from '../../src/train/export.js';
import { PoseNet } from '../../src/lift/posenet/model.js';
import { CLI, DATA } from '../helpers.js';

const TRAIN = path.join(DATA, 'h36m-train');

test('a short PoseNet run on two subjects reduces the loss and the held-out error', async () => {
  const lines: string[] = [];
  const m = await trainPosenet(
    {
      ...POSENET_DEFAULTS,
      data: TRAIN,
      valSubjects: ['S7'],
      epochs: 3,
      epochFrameStride: 400,
      valFrameStride: 200,
      hidden: 128,
      blocks: 1,
      batchSize: 256,
      lr: 2e-3,
      finalLr: 5e-4,
    },
    (s) => lines.push(s),
  );
  const epochs = lines.filter((l) => l.startsWith('epoch'));
  assert.equal(epochs.length, 3);
  const loss = epochs.map((l) => Number(/loss ([\d.]+)/.exec(l)![1]));
  const val = epochs.map((l) => Number(/val_mpjpe_mm ([\d.]+)/.exec(l)![1]));
  assert.ok(loss[2] < loss[0] * 0.8, `loss must fall: ${loss.join(' -> ')}`);
  assert.ok(val[2] < val[0], `held-out MPJPE must fall: ${val.join(' -> ')}`);
  assert.ok(val[2] < 140, `held-out MPJPE after a tiny run: ${val[2]} mm`);
  assert.deepEqual(m.valSubjects, ['S7']);
  assert.ok(!m.trainSubjects.includes('S7'));

  // The exported model card and ONNX file round-trip through the inference wrapper.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-train-'));
  const files = saveTrainedModel(dir, m, {
    name: 'posenet', description: 'test', command: 'test', config: { data: 'h36m-train', view: { prob: 0 }, mix: { prob: 0.8, partProb: 0.5 } }, inputDoc: 'in', outputDoc: 'out',
  });
  const card = fs.readFileSync(files.card, 'utf8');
  assert.match(card, /research use only/);
  // the training-data row names the folder the run was given, not a path of one machine
  assert.match(card, /\| training data \| .* from the pose-dataset\/1 folder `h36m-train` \(`--data`\) \|/);
  // the augmentation row is read from the run's configuration
  assert.match(card, /\| augmentation \| mirroring \(50 % of samples\).*no new viewpoints; part mixing: 80 % of samples .* probability 0\.5 /);
  const net = await PoseNet.load(files.onnx);
  assert.equal(net.version.startsWith('posenet-'), true);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a short RootNet run beats the k-value with a constant gamma on the held-out subject', async () => {
  const lines: string[] = [];
  const m = await trainRootnet(
    {
      ...ROOTNET_DEFAULTS,
      data: TRAIN,
      valSubjects: ['S7'],
      epochs: 3,
      epochFrameStride: 200,
      valFrameStride: 200,
      hidden: 64,
      blocks: 1,
      batchSize: 256,
      lr: 3e-3,
      finalLr: 1e-3,
    },
    (s) => lines.push(s),
  );
  assert.ok(m.metrics.val_depth_err_mm < m.metrics.k_only_depth_err_mm,
    `rootnet ${m.metrics.val_depth_err_mm} vs k only ${m.metrics.k_only_depth_err_mm}`);
  const loss = lines.filter((l) => l.startsWith('epoch')).map((l) => Number(/loss ([\d.]+)/.exec(l)![1]));
  assert.ok(loss[2] < loss[0], `loss must fall: ${loss.join(' -> ')}`);
});

test('`poselift train` without --data: one line naming the option, exit 1, nothing trained (issue 20)', () => {
  for (const model of ['posenet', 'rootnet-detected', 'temporal']) {
    const r = spawnSync(process.execPath, [CLI, 'train', model, '--epochs', '1'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, `${model}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), 'poselift: train: --data DIR is required: the pose-dataset/1 folder to train on, e.g. ../shared/data/h36m-train');
  }
});
