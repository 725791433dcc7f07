/**
 * The temporal lifter (src/lift/temporal/, src/train/temporal.ts): the window encoding's known answers (edge padding, missing frames,
 * mirroring), the training windows' consistency (one mirroring, one kind per window), a tiny training run
 * on Human3.6M that must reduce the loss, and the exported model's inference agreeing with the trainer.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Rng } from '../../src/util/rng.js';
import { H36M17_FLIP } from '../../src/contracts/layouts.js';
import type { Camera } from '../../src/contracts/types.js';
import { encodeKeypoints, J, mirrorKeypoints, POSENET_INPUT_DIM } from '../../src/lift/posenet/features.js';
import { DEFAULT_AUGMENT, MIX_PARTS, mixPart, NO_AUGMENT, NO_DETECTED, type DetectedOptions } from '../../src/train/augment.js';
import type { PoseBank } from '../../src/train/pose-bank.js';
import {
  assembleWindow, encodeFrames, encodeWindow, FRAME_DIM, temporalInputDim, windowOfInputDim, windowSlots,
} from '../../src/lift/temporal/features.js';
import { mirrorPose3d, NO_FRAME_DROP, WindowStream } from '../../src/train/temporal-sampler.js';
import { TEMPORAL_DETECTED_DEFAULTS, TEMPORAL_TRUTH_DEFAULTS, trainTemporal } from '../../src/train/temporal.js';
import { TemporalLifter } from '../../src/lift/temporal/model.js';
import { evaluateTemporal } from '../../src/eval/temporal.js';
import { saveTrainedModel, type ExportInfo } from '../../src/train/export.js';
import { DATA, MODELS } from '../helpers.js';
import { Lifter, MODEL_FILES, TEMPORAL_KINDS } from '../../src/lift/lifter.js';
import { WindowedTrackLifter } from '../../src/track/track-lift.js';

const TRAIN = path.join(DATA, 'h36m-train');

/** A standing person (17 x 3 mm, camera frame) 4 m away, shifted by `dx` mm and turned by `t` (arms swing). */
function person(dx: number, t: number): Float64Array {
  const p = [
    [0, 0], [-130, 0], [-130, 450], [-130, 880], [130, 0], [130, 450], [130, 880],
    [0, -230], [0, -480], [0, -580], [0, -700], [170, -450], [200, -170], [220, 80], [-170, -450], [-200, -170], [-220, 80],
  ];
  const out = new Float64Array(J * 3);
  p.forEach(([x, y], j) => {
    const swing = j >= 11 ? 60 * Math.sin(t + j) : 0;
    out[j * 3] = 100 + dx + x + swing; out[j * 3 + 1] = 50 + y; out[j * 3 + 2] = 4000 + (j % 3) * 20 + swing;
  });
  return out;
}

function project(p: ArrayLike<number>): Float64Array {
  const kp = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) { kp[j * 3] = p[j * 3] / p[j * 3 + 2]; kp[j * 3 + 1] = p[j * 3 + 1] / p[j * 3 + 2]; kp[j * 3 + 2] = 1; }
  return kp;
}

/** A walking person's track: frame f moves 20 mm to the right. */
const track = (n: number) => Array.from({ length: n }, (_, f) => project(person(20 * f, 0.3 * f)));

test('window sizes: 27 frames x 53 + 5 floats, and back', () => {
  assert.equal(FRAME_DIM, 53);
  assert.equal(temporalInputDim(27), 1436);
  assert.equal(windowOfInputDim(1436), 27);
  assert.equal(windowOfInputDim(temporalInputDim(9)), 9);
  assert.equal(windowOfInputDim(56), null); // PoseNet's input is not a window
  assert.equal(windowOfInputDim(temporalInputDim(1) + 53), null); // an even window
});

test('window features: each frame at its own pelvis, one scale (the centre frame\'s), pelvis offsets, centre ray and kind', () => {
  const frames = track(5);
  // the 3rd frame twice as far away: half the size
  frames[2] = project(person(40, 0.6).map((v, i) => (i % 3 === 2 ? v * 2 : v)));
  const x = new Float32Array(temporalInputDim(5));
  assert.ok(encodeWindow(frames, x, 0, 'mpii'));
  const own = frames.map((kp) => {
    const e = new Float32Array(POSENET_INPUT_DIM);
    return { e, c: encodeKeypoints(kp, e, 0, 'mpii')! };
  });
  const sc = own[2].c.s;
  for (let k = 0; k < 5; k++) {
    const r = own[k].c.s / sc;
    for (let j = 0; j < J; j++) {
      assert.ok(Math.abs(x[k * FRAME_DIM + j * 3] - own[k].e[j * 3] * r) < 1e-5);
      assert.ok(Math.abs(x[k * FRAME_DIM + j * 3 + 1] - own[k].e[j * 3 + 1] * r) < 1e-5);
      assert.equal(x[k * FRAME_DIM + j * 3 + 2], 1);
    }
    // the pelvis relative to the centre frame's, in centre radii
    assert.ok(Math.abs(x[k * FRAME_DIM + 51] - (frames[k][0] - frames[2][0]) / sc) < 1e-5);
    assert.ok(Math.abs(x[k * FRAME_DIM + 52] - (frames[k][1] - frames[2][1]) / sc) < 1e-5);
  }
  assert.equal(x[2 * FRAME_DIM + 51], 0);
  // frames 1 and 3 are at 4 m, the centre at 8 m: their shapes are about twice the centre's size
  const span = (k: number) => x[k * FRAME_DIM + 3 * 3 + 1] - x[k * FRAME_DIM + 10 * 3 + 1]; // right ankle - head top, v
  assert.ok(span(1) / span(2) > 1.8 && span(1) / span(2) < 2.2, `${span(1)} vs ${span(2)}`);
  const t = 5 * FRAME_DIM;
  assert.ok(Math.abs(x[t] - frames[2][0]) < 1e-6 && Math.abs(x[t + 1] - frames[2][1]) < 1e-6);
  assert.deepEqual(Array.from(x.subarray(t + 2)), [0, 1, 0]);
});

test('edge padding: slots outside the track repeat its first / last frame', () => {
  const n = 10;
  const ok = new Uint8Array(n).fill(1);
  const slots = new Int32Array(7);
  assert.ok(windowSlots(ok, n, 0, 7, 1, slots));
  assert.deepEqual(Array.from(slots), [0, 0, 0, 0, 1, 2, 3]);
  assert.ok(windowSlots(ok, n, 8, 7, 1, slots));
  assert.deepEqual(Array.from(slots), [5, 6, 7, 8, 9, 9, 9]);
  // a step of 2 (every 2nd frame of a 50 fps track)
  assert.ok(windowSlots(ok, n, 3, 5, 2, slots.subarray(0, 5)));
  assert.deepEqual(Array.from(slots.subarray(0, 5)), [1, 1, 3, 5, 7]);
  // a track shorter than the window: every slot is one of its frames
  assert.ok(windowSlots(ok, 2, 1, 7, 1, slots));
  assert.deepEqual(Array.from(slots), [0, 0, 0, 1, 1, 1, 1]);
  // the features of a padded slot are the edge frame's
  const frames = track(n);
  const x = new Float32Array(temporalInputDim(7));
  assert.ok(encodeWindow([null, null, null, ...frames.slice(0, 4)], x));
  for (let k = 0; k < 3; k++) assert.deepEqual(Array.from(x.subarray(k * FRAME_DIM, (k + 1) * FRAME_DIM)), Array.from(x.subarray(3 * FRAME_DIM, 4 * FRAME_DIM)));
});

test('missing frames: the nearest present frame of the window (ties towards the centre); a missing centre is not lifted', () => {
  const n = 10;
  const ok = new Uint8Array(n).fill(1);
  ok[4] = 0;
  const slots = new Int32Array(5);
  assert.ok(windowSlots(ok, n, 5, 5, 1, slots));
  // slot 1 (frame 4) is missing: frames 3 and 5 are both one slot away, 5 is nearer the centre
  assert.deepEqual(Array.from(slots), [3, 5, 5, 6, 7]);
  ok[3] = 0;
  assert.ok(windowSlots(ok, n, 5, 5, 1, slots));
  assert.deepEqual(Array.from(slots), [5, 5, 5, 6, 7]);
  // frames 3 and 4 missing: slot 4 has no present frame beside it inside the window, so the centre's
  assert.ok(windowSlots(ok, n, 2, 5, 1, slots));
  assert.deepEqual(Array.from(slots), [0, 1, 2, 2, 2]);
  assert.equal(windowSlots(ok, n, 4, 5, 1, slots), false);
  // null and unliftable (3 visible joints) frames are both missing
  const frames: (Float64Array | null)[] = track(5);
  const few = frames[1]!.slice();
  for (let j = 3; j < J; j++) { few[j * 3] = NaN; few[j * 3 + 2] = 0; }
  frames[1] = few;
  frames[3] = null;
  const codes = encodeFrames(frames, 'joints');
  assert.deepEqual(Array.from(codes.ok), [1, 0, 1, 0, 1]);
  const x = new Float32Array(temporalInputDim(5));
  assert.ok(encodeWindow(frames, x));
  const slot = (k: number) => Array.from(x.subarray(k * FRAME_DIM, (k + 1) * FRAME_DIM));
  assert.deepEqual(slot(1), slot(2));
  assert.deepEqual(slot(3), slot(2));
  assert.notDeepEqual(slot(0), slot(2));
  frames[2] = null;
  assert.equal(encodeWindow(frames, x), false);
});

test('a mirrored window encodes as the mirror of the window: joints swapped, u and the offsets negated', () => {
  const frames = track(9);
  const mirrored = frames.map((kp) => mirrorKeypoints(kp, new Float64Array(J * 3)));
  const D = temporalInputDim(9);
  const a = new Float32Array(D), b = new Float32Array(D);
  assert.ok(encodeWindow(frames, a, 0, 'coco'));
  assert.ok(encodeWindow(mirrored, b, 0, 'coco'));
  for (let k = 0; k < 9; k++) {
    for (let j = 0; j < J; j++) {
      const s = H36M17_FLIP[j];
      assert.ok(Math.abs(b[k * FRAME_DIM + j * 3] + a[k * FRAME_DIM + s * 3]) < 1e-5);
      assert.ok(Math.abs(b[k * FRAME_DIM + j * 3 + 1] - a[k * FRAME_DIM + s * 3 + 1]) < 1e-5);
    }
    assert.ok(Math.abs(b[k * FRAME_DIM + 51] + a[k * FRAME_DIM + 51]) < 1e-5);
    assert.ok(Math.abs(b[k * FRAME_DIM + 52] - a[k * FRAME_DIM + 52]) < 1e-5);
  }
  assert.ok(Math.abs(b[9 * FRAME_DIM] + a[9 * FRAME_DIM]) < 1e-6);
});

/** A synthetic bank: one 40-frame walk seen by an identity camera, its "detections" the truth shifted. */
function syntheticBank(): PoseBank {
  const n = 40;
  const world = new Float32Array(n * J * 3);
  const det = new Float32Array(n * J * 3);
  for (let f = 0; f < n; f++) {
    const p = person(20 * f, 0.3 * f);
    world.set(p, f * J * 3);
    const kp = project(p);
    for (let j = 0; j < J; j++) kp[j * 3] += 0.002; // a detector's offset: not the truth
    det.set(kp, f * J * 3);
  }
  const cam: Camera = { id: 'c', fx: 1000, fy: 1000, cx: 500, cy: 500, R: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], C: [0, 0, 0] };
  const entries = new Int32Array(n * 2);
  for (let f = 0; f < n; f++) { entries[f * 2] = 0; entries[f * 2 + 1] = f; }
  return { worlds: [world], cameras: [[cam]], ups: [[[0, -1, 0]]], entries, count: n, subjects: ['X'], detections: [[det]] };
}

/** Whether each frame of a window sample is the (shifted) projection of frame f's pose, mirrored or not. */
function mirrorState(kp: Float64Array, pose: Float64Array, shift: number): 'plain' | 'mirrored' | 'neither' {
  const plain = project(pose);
  const m = pose.slice();
  mirrorPose3d(m);
  const mir = project(m);
  const close = (ref: Float64Array, sgn: number) => {
    for (let j = 0; j < J; j++) {
      if (!(kp[j * 3 + 2] > 0)) continue;
      // the bank stores float32 (about 1e-7 relative)
      if (Math.abs(kp[j * 3] - (ref[j * 3] + sgn * shift)) > 1e-6 || Math.abs(kp[j * 3 + 1] - ref[j * 3 + 1]) > 1e-6) return false;
    }
    return true;
  };
  return close(plain, 1) ? 'plain' : close(mir, -1) ? 'mirrored' : 'neither';
}

/** The frame of the synthetic walk whose truth (mirrored or not) is a window's target, and which it is. */
function centreOf(target: Float64Array): { centre: number; state: 'plain' | 'mirrored' } {
  for (let f = 0; f < 40; f++) {
    const p = person(20 * f, 0.3 * f);
    if (Math.abs(Math.abs(p[0]) - Math.abs(target[0])) < 1e-3) return { centre: f, state: Math.abs(p[0] - target[0]) < 1e-3 ? 'plain' : 'mirrored' };
  }
  throw new Error('the target is not a frame of the sequence');
}

test('training windows: one mirroring for every frame and the target, from the truth and from detections', () => {
  const bank = syntheticBank();
  const W = 9, step = 2, c = 4;
  for (const detected of [NO_DETECTED, { prob: 1, cocoShare: 0, dropJoint: 0, noseSigma: 0 } as DetectedOptions]) {
    const shift = detected.prob > 0 ? 0.002 : 0;
    const stream = new WindowStream(bank, new Rng(7), W, step, { ...NO_AUGMENT, flip: 0.5 }, detected, NO_FRAME_DROP);
    const seen = { plain: 0, mirrored: 0 };
    for (let i = 0; i < 60; i++) {
      const smp = stream.next();
      assert.equal(smp.kind, detected.prob > 0 ? 'mpii' : 'joints');
      // the centre: the frame whose truth, mirrored or not, is the target
      const { centre, state } = centreOf(smp.target);
      for (let k = 0; k < W; k++) {
        const f = centre + (k - c) * step;
        if (f < 0 || f >= 40) { assert.equal(smp.frames[k], null, 'outside the sequence: missing'); continue; }
        assert.equal(mirrorState(smp.frames[k]!, person(20 * f, 0.3 * f), shift), state, `frame ${k} of a ${state} window`);
      }
      seen[state]++;
    }
    assert.ok(seen.plain > 15 && seen.mirrored > 15, JSON.stringify(seen));
  }
});

test('training windows: the noise level and the missing-joint pattern are the window\'s, the jitter each frame\'s', () => {
  const bank = syntheticBank();
  const stream = new WindowStream(bank, new Rng(3), 9, 2, { ...DEFAULT_AUGMENT, flip: 0, noisy: 1, dropJoint: 0, outlier: 0 }, NO_DETECTED, NO_FRAME_DROP);
  let patterns = 0, independent = 0;
  for (let i = 0; i < 40; i++) {
    const smp = stream.next();
    const { centre } = centreOf(smp.target);
    const missing = (kp: Float64Array) => Array.from({ length: J }, (_, j) => (kp[j * 3 + 2] > 0 ? 0 : 1)).join('');
    const present = smp.frames.map((kp, k) => ({ kp, f: centre + (k - 4) * 2 })).filter((e): e is { kp: Float64Array; f: number } => e.kp !== null);
    assert.equal(new Set(present.map((e) => missing(e.kp))).size, 1, 'one missing-joint pattern per window');
    if (missing(present[0].kp).includes('1')) patterns++;
    // each frame's noise (its 2D minus its projected truth) is its own draw
    const noise = present.map((e) => {
      const truth = project(person(20 * e.f, 0.3 * e.f));
      return Array.from({ length: J }, (_, j) => (e.kp[j * 3 + 2] > 0 ? e.kp[j * 3] - truth[j * 3] : 0));
    });
    const size = Math.max(...noise[0].map(Math.abs));
    const diff = Math.max(...noise[0].map((v, j) => Math.abs(v - noise[1][j])));
    if (size > 1e-6 && diff > 0.1 * size) independent++;
  }
  assert.ok(patterns > 5 && patterns < 35, `windows with a missing-joint pattern: ${patterns} of 40`);
  assert.ok(independent > 30, `windows whose first two frames have different noise: ${independent} of 40`);
});

test('training windows of temporal-truth: the projected truth (or its mirror image) of every frame, the joints kind, no noise and no missing-joint pattern', () => {
  const bank = syntheticBank();
  const cfg = TEMPORAL_TRUTH_DEFAULTS;
  assert.equal(cfg.detected?.prob ?? 0, 0);
  const stream = new WindowStream(bank, new Rng(5), 9, 2, { ...DEFAULT_AUGMENT, ...cfg.augment, dropJoint: 0 }, cfg.detected ?? NO_DETECTED, NO_FRAME_DROP, cfg.truthKinds);
  const seen = { plain: 0, mirrored: 0 };
  for (let i = 0; i < 60; i++) {
    const smp = stream.next();
    assert.equal(smp.kind, 'joints');
    const { centre, state } = centreOf(smp.target);
    for (let k = 0; k < 9; k++) {
      const f = centre + (k - 4) * 2;
      if (f < 0 || f >= 40) continue;
      const kp = smp.frames[k]!;
      for (let j = 0; j < J; j++) assert.ok(kp[j * 3 + 2] > 0, `window ${i}, frame ${k}: joint ${j} present`);
      assert.equal(mirrorState(kp, person(20 * f, 0.3 * f), 0), state, `window ${i}, frame ${k}: the exact projected truth`);
    }
    seen[state]++;
  }
  assert.ok(seen.plain > 15 && seen.mirrored > 15, JSON.stringify(seen));
});

test('training windows: part mixing per window gives a limb one donor window\'s motion, keeping the torso and every bone length', () => {
  const bank = syntheticBank();
  const W = 9, step = 2, c = 4;
  const stream = new WindowStream(bank, new Rng(11), W, step, NO_AUGMENT, NO_DETECTED, NO_FRAME_DROP, false, { prob: 1, partProb: 1 });
  const len = (p: ArrayLike<number>, a: number, b: number) => Math.hypot(p[a * 3] - p[b * 3], p[a * 3 + 1] - p[b * 3 + 1], p[a * 3 + 2] - p[b * 3 + 2]);
  let mixed = 0;
  for (let i = 0; i < 40; i++) {
    const smp = stream.next();
    const { centre } = centreOf(smp.target);
    const own = person(20 * centre, 0.3 * centre);
    for (const [a, b] of [[11, 12], [12, 13], [14, 15], [15, 16], [1, 2], [2, 3], [8, 9], [9, 10]]) {
      assert.ok(Math.abs(len(smp.target, a, b) - len(own, a, b)) < 1e-3, `bone ${a}-${b} keeps its length`);
    }
    // the torso and the parts' roots are the window's own, in every frame
    const frames = smp.frames.map((kp, k) => ({ kp, f: centre + (k - c) * step })).filter((e): e is { kp: Float64Array; f: number } => e.kp !== null);
    for (const { kp, f } of frames) {
      const truth = project(person(20 * f, 0.3 * f));
      for (const j of [0, 1, 4, 7, 8, 11, 14]) assert.ok(Math.abs(kp[j * 3] - truth[j * 3]) < 1e-6 && Math.abs(kp[j * 3 + 1] - truth[j * 3 + 1]) < 1e-6, `joint ${j}`);
    }
    // the left arm of every frame k is the donor's frame d + (k - c) * step, for one donor centre d
    const donors = Array.from({ length: 40 }, (_, d) => d).filter((d) => frames.every(({ kp, f }) => {
      const p = person(20 * f, 0.3 * f);
      const df = Math.min(39, Math.max(0, d + (f - centre)));
      mixPart(p, person(20 * df, 0.3 * df), MIX_PARTS[2]);
      const want = project(p);
      return Math.abs(kp[13 * 3] - want[13 * 3]) < 1e-6 && Math.abs(kp[13 * 3 + 1] - want[13 * 3 + 1]) < 1e-6;
    }));
    assert.ok(donors.length >= 1, `window ${i}: the left arm follows one donor window`);
    if (!donors.includes(centre)) mixed++;
  }
  assert.ok(mixed > 30, `windows whose left arm is another window's: ${mixed} of 40`);
});

test('training windows: with truthKinds, projected-truth windows in the COCO / MPII pattern carry that kind', () => {
  const bank = syntheticBank();
  const kinds = (truthKinds: boolean) => {
    const stream = new WindowStream(bank, new Rng(5), 9, 2, { ...NO_AUGMENT, cocoPattern: 0.4, mpiiPattern: 0.4 }, NO_DETECTED, NO_FRAME_DROP, truthKinds);
    const seen: Record<string, number> = { joints: 0, mpii: 0, coco: 0 };
    for (let i = 0; i < 200; i++) {
      const smp = stream.next();
      seen[smp.kind]++;
      const c = smp.frames[4]!;
      // the kind matches the window's missing joints: COCO lacks the spine and head top, MPII the spine and neck/nose
      if (smp.kind === 'coco') assert.ok(!(c[10 * 3 + 2] > 0) && c[9 * 3 + 2] > 0);
      if (smp.kind === 'mpii') assert.ok(!(c[9 * 3 + 2] > 0) && c[10 * 3 + 2] > 0);
    }
    return seen;
  };
  const on = kinds(true), off = kinds(false);
  assert.ok(on.coco > 50 && on.mpii > 50 && on.joints > 20, JSON.stringify(on));
  assert.deepEqual(off, { joints: 200, mpii: 0, coco: 0 });
});

test('a short temporal run reduces the loss; the exported model lifts tracks as the trainer does', async () => {
  const lines: string[] = [];
  const cfg = {
    ...TEMPORAL_DETECTED_DEFAULTS, data: TRAIN, valSubjects: ['S7'], epochs: 3, epochFrameStride: 400, valFrameStride: 400,
    window: 9, hidden: 128, blocks: 1, batchSize: 256, lr: 2e-3, finalLr: 5e-4,
  };
  const m = await trainTemporal(cfg, (s) => lines.push(s));
  const epochs = lines.filter((l) => l.startsWith('epoch'));
  assert.equal(epochs.length, 3);
  const loss = epochs.map((l) => Number(/loss ([\d.]+)/.exec(l)![1]));
  const val = epochs.map((l) => Number(/val_mpjpe_mm ([\d.]+)/.exec(l)![1]));
  assert.ok(loss[2] < loss[0] * 0.8, `loss must fall: ${loss.join(' -> ')}`);
  assert.ok(val[2] < val[0], `held-out MPJPE must fall: ${val.join(' -> ')}`);
  assert.ok(val[2] < 150, `held-out MPJPE after a tiny run: ${val[2]} mm`);
  assert.ok(Number.isFinite(m.metrics.val_detected_mpjpe_mm));
  assert.equal(m.spec.inputDim, temporalInputDim(9));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-temporal-'));
  try {
    const files = saveTrainedModel(dir, m, {
      name: 'temporal' as ExportInfo['name'], description: 'test', command: 'test', config: cfg, inputDoc: 'in', outputDoc: 'out',
    });
    assert.match(fs.readFileSync(files.card, 'utf8'), /research use only/);
    const net = await TemporalLifter.load(files.onnx);
    assert.equal(net.window, 9);
    // a track with a missing frame: each frame's answer is the trainer's on its window as encodeWindow builds it
    const frames: (Float64Array | null)[] = track(12);
    frames[6] = null;
    const got = await net.predictTrack(frames, { flipTest: false, kind: 'mpii' });
    assert.equal(got[6], null);
    const D = temporalInputDim(9);
    const x = new Float32Array(12 * D);
    const want: number[] = [];
    for (let f = 0; f < 12; f++) {
      if (!frames[f]) continue;
      const win = Array.from({ length: 9 }, (_, k) => frames[f + k - 4] ?? null);
      assert.ok(encodeWindow(win, x, want.length * D, 'mpii'));
      want.push(f);
    }
    const ref = await m.trainer.predict(x.subarray(0, want.length * D), want.length);
    want.forEach((f, i) => {
      for (let j = 1; j < J; j++) {
        for (let a = 0; a < 3; a++) {
          const r = (ref[i * 51 + j * 3 + a] - ref[i * 51 + a]) * 1000;
          assert.ok(Math.abs(got[f]![j * 3 + a] - r) < 0.05, `frame ${f} joint ${j}: ${got[f]![j * 3 + a]} vs ${r}`);
        }
      }
    });
    // only the asked frames, the same answers
    const some = await net.predictTrack(frames, { flipTest: false, kind: 'mpii', at: [0, 11] });
    assert.deepEqual(some.map((p) => (p ? 1 : 0)), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(some[11]!), Array.from(got[11]!));
    // the measurement runs end to end on the held-out subject (every 200th lifted frame)
    const r = await evaluateTemporal(TRAIN, {
      input: 'points2d', subjects: ['S7'], scoreEvery: 200, model: files.onnx, posenet: null, scoredOnly: true,
    });
    assert.equal(r.window, 9);
    assert.equal(r.fps, 25);
    assert.equal(r.temporal.accel, null);
    assert.equal(r.single_frame, undefined);
    assert.ok(r.frames > 100 && Number.isFinite(r.temporal.mpjpe), JSON.stringify(r));
    assert.ok(r.temporal.pa_mpjpe < r.temporal.mpjpe);
    await rates(net);
    await wired(files.onnx, net);
    await net.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Any frame rate: whole multiples read every Nth frame, other rates resample; a still person is still. */
async function rates(net: TemporalLifter): Promise<void> {
  const at25 = await net.predictTrack(track(20), { flipTest: false });
  // the same motion at 50 fps (a frame between each two): the even frames get the 25 fps answers
  const at50frames = Array.from({ length: 39 }, (_, f) => project(person(10 * f, 0.15 * f)));
  const at50 = await net.predictTrack(at50frames, { flipTest: false, fps: 50 });
  for (let f = 0; f < 20; f++) {
    for (let i = 0; i < J * 3; i++) assert.ok(Math.abs(at50[2 * f]![i] - at25[f]![i]) < 1e-3, `50 fps frame ${2 * f} vs 25 fps frame ${f}`);
  }
  // 12.5 fps (every 2nd frame of the 25 fps motion): slots between frames interpolate; near the 25 fps answers
  const at12 = await net.predictTrack(track(20).filter((_, f) => f % 2 === 0), { flipTest: false, fps: 12.5 });
  assert.ok(at12.every((p) => p && p.every(Number.isFinite)));
  // a person standing still: the same answer at every rate
  const still = (n: number) => Array.from({ length: n }, () => project(person(0, 0)));
  const ref = (await net.predictTrack(still(9), { flipTest: false }))[4]!;
  for (const fps of [10, 30, 60]) {
    const got = (await net.predictTrack(still(31), { flipTest: false, fps }))[15]!;
    for (let i = 0; i < J * 3; i++) assert.ok(Math.abs(got[i] - ref[i]) < 1e-3, `still person at ${fps} fps`);
  }
  await assert.rejects(net.predictTrack(track(3), { fps: 0 }), /frame rate must be a positive number, got 0/);
}

/**
 * The lift path with a temporal lifter in the models folder: tracks take its pose, photos PoseNet's; a
 * streamed track (the video path's windows) gets for every frame the answer it gets lifted whole, because
 * each window reads its neighbours; documents name the temporal model.
 */
async function wired(onnx: string, net: TemporalLifter): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-temporal-models-'));
  try {
    for (const f of [MODEL_FILES.posenet, MODEL_FILES.rootnet, MODEL_FILES.posenetDetected, MODEL_FILES.rootnetDetected, 'keypoint-adapter.json']) {
      fs.copyFileSync(path.join(MODELS, f), path.join(dir, f));
    }
    fs.copyFileSync(onnx, path.join(dir, MODEL_FILES.temporal));
    const lifter = await Lifter.load(dir);
    const without = await Lifter.load(dir, { temporal: false });
    const cam = { fx: 1000, fy: 1000, cx: 500, cy: 500 };
    const frames: (Float64Array | null)[] = track(70);
    frames[33] = null;
    // the temporal lifter's own size, so each frame's pose is exactly its answer
    const o = { kind: 'mpii' as const, flipTest: false, temporalSize: 'own' as const };
    const want = await net.predictTrack(frames, { kind: 'mpii', flipTest: false });
    const whole = await lifter.liftTrack(frames, cam, 25, o);
    whole.forEach((r, f) => {
      if (!want[f]) { assert.equal(r, null); return; }
      for (let i = 0; i < J * 3; i++) assert.ok(Math.abs(r!.rel3d[i] - want[f]![i]) < 1e-6, `frame ${f}: the temporal lifter's pose`);
    });
    // single-frame PoseNet without the temporal lifter, and for photos (liftBatch)
    const single = await without.liftTrack(frames, cam, 25, o);
    const photos = await lifter.liftBatch(frames, cam, o);
    assert.deepEqual(Array.from(photos[10]!.rel3d), Array.from(single[10]!.rel3d));
    assert.notDeepEqual(Array.from(whole[10]!.rel3d), Array.from(single[10]!.rel3d));
    // streamed in windows of 20 with an overlap of 4: each frame's pose is its whole-track answer
    const streamed: (Float64Array | null)[] = [];
    const wl = new WindowedTrackLifter<number>(lifter, cam, 25, (f, r) => { streamed[f] = r ? r.rel3d : null; }, o, 20, 4);
    assert.equal(lifter.trackContext(25, o), 4); // the tiny model's 9 frames at 25 fps reach 4 frames each way
    for (let f = 0; f < frames.length; f++) await wl.push(f, frames[f]);
    await wl.finish();
    assert.equal(streamed.length, frames.length);
    streamed.forEach((r, f) => {
      if (!want[f]) { assert.equal(r, null); return; }
      for (let i = 0; i < J * 3; i++) assert.ok(Math.abs(r![i] - want[f]![i]) < 1e-6, `streamed frame ${f}`);
    });
    // by default its poses take single-frame PoseNet's size: the same shape, scaled by one factor per call,
    // whose median RMS radius is PoseNet's
    const sized = await lifter.liftTrack(frames, cam, 25, { kind: 'mpii', flipTest: false });
    const radius = (p: Float64Array) => Math.sqrt(Array.from({ length: 16 }, (_, j) => p[(j + 1) * 3] ** 2 + p[(j + 1) * 3 + 1] ** 2 + p[(j + 1) * 3 + 2] ** 2).reduce((a, b) => a + b) / 16);
    const k = radius(sized[10]!.rel3d) / radius(whole[10]!.rel3d);
    sized.forEach((r, f) => {
      if (!r) return;
      for (let i = 0; i < J * 3; i++) assert.ok(Math.abs(r.rel3d[i] - k * whole[f]!.rel3d[i]) < 1e-6, `frame ${f}: one scale for the call`);
    });
    const ratios = sized.flatMap((r, f) => (r && single[f] ? [radius(single[f]!.rel3d) / radius(r.rel3d)] : [])).sort((a, b) => a - b);
    assert.ok(Math.abs(ratios[Math.floor(ratios.length / 2)] - 1) < 0.02, `median size ratio ${ratios[Math.floor(ratios.length / 2)]}`);
    // temporalBlend w: each frame's pose is (1 - w) x the sized temporal pose + w x single-frame PoseNet's
    const unfitted = { kind: 'mpii' as const, flipTest: false, fit: false };
    const [sizedPlaced, blended] = await Promise.all([
      lifter.liftTrack(frames, cam, 25, unfitted), lifter.liftTrack(frames, cam, 25, { ...unfitted, temporalBlend: 0.25 }),
    ]);
    blended.forEach((r, f) => {
      if (!r) return;
      for (let i = 0; i < J * 3; i++) {
        const w = 0.75 * sizedPlaced[f]!.rel3d[i] + 0.25 * single[f]!.rel3d[i];
        assert.ok(Math.abs(r.rel3d[i] - w) < 1e-6, `frame ${f}: the blended pose`);
      }
    });
    await assert.rejects(lifter.liftTrack(frames, cam, 25, { ...unfitted, temporalBlend: 1.5 }), /temporalBlend must be between 0 and 1, got 1.5/);
    // the depth search places single-frame PoseNet's pose by default (temporalDepth 'posenet'): without the
    // fitter each frame's root is the single-frame track's; with 'temporal' it places the temporal pose
    const placedSingle = await without.liftTrack(frames, cam, 25, { ...o, fit: false });
    const placed = await lifter.liftTrack(frames, cam, 25, { ...o, fit: false });
    const placedOwn = await lifter.liftTrack(frames, cam, 25, { ...o, fit: false, temporalDepth: 'temporal' });
    let moved = 0;
    placed.forEach((r, f) => {
      if (!r) { assert.equal(placedSingle[f], null); return; }
      for (let a = 0; a < 3; a++) assert.equal(r.root[a], placedSingle[f]!.root[a], `frame ${f}: the root of PoseNet's pose`);
      for (let i = 0; i < J * 3; i++) assert.ok(Math.abs(r.rel3d[i] - want[f]![i]) < 1e-6, `frame ${f}: the temporal lifter's pose at that root`);
      moved = Math.max(moved, Math.abs(placedOwn[f]!.root[2] - r.root[2]));
    });
    assert.ok(moved > 1, `temporalDepth 'temporal' searches with the temporal pose (largest root change ${moved} mm)`);
    // COCO-style keypoints' tracks (run's videos) take temporal.onnx too, and so do ground-truth-like keypoints'
    // (in TEMPORAL_KINDS since 2026-12-06) in a folder without a temporal-truth.onnx; outside the temporal kinds
    // a kind keeps PoseNet
    assert.deepEqual([...TEMPORAL_KINDS].sort(), ['coco', 'joints', 'mpii']);
    const cocoOnly = await Lifter.load(dir, { temporalKinds: ['mpii', 'coco'] });
    for (const [kind, l] of [['joints', cocoOnly], ['coco', lifter]] as const) {
      const temporal = kind === 'coco';
      assert.equal(l.temporalKinds.includes(kind), temporal, kind);
      assert.equal(l.trackContext(25, { kind }), temporal ? 4 : 0, kind);
      assert.equal(l.versionsFor(undefined, kind, { track: true }).temporal, temporal ? net.version : undefined, kind);
      const a = await l.liftTrack(frames, cam, 25, { kind, flipTest: false });
      const b = await without.liftTrack(frames, cam, 25, { kind, flipTest: false });
      if (temporal) assert.notDeepEqual(Array.from(a[10]!.rel3d), Array.from(b[10]!.rel3d), kind);
      else assert.deepEqual(Array.from(a[10]!.rel3d), Array.from(b[10]!.rel3d), kind);
    }
    // a track slower than TEMPORAL_MIN_FPS (a strided data set) is lifted frame by frame by PoseNet
    assert.equal(lifter.trackContext(5, o), 0);
    const slow = await lifter.liftTrack(frames, cam, 5, o);
    const slowSingle = await without.liftTrack(frames, cam, 5, o);
    assert.deepEqual(Array.from(slow[10]!.rel3d), Array.from(slowSingle[10]!.rel3d));
    assert.equal(lifter.versionsFor(undefined, 'mpii', { track: true, fps: 5 }).temporal, undefined);
    assert.equal(lifter.versionsFor(undefined, 'mpii', { track: true }).temporal, net.version);
    assert.equal(lifter.versionsFor(undefined, 'mpii').temporal, undefined);
    assert.equal(without.versionsFor(undefined, 'mpii', { track: true }).temporal, undefined);
    // the pairing (MODEL_FILES): temporal.onnx alone lifts every kind's tracks; temporal-detected.onnx lifts the
    // kinds the detection-trained networks lift (mpii), and with it alone the other kinds have no temporal lifter
    const all = ['joints', 'mpii', 'coco'] as const;
    const every = await Lifter.load(dir, { temporalKinds: all });
    for (const kind of all) assert.equal(every.temporalFor(kind)?.version, net.version, kind);
    // temporal-truth.onnx, when present, lifts ground-truth-like keypoints' tracks; the other kinds keep theirs
    fs.copyFileSync(onnx, path.join(dir, MODEL_FILES.temporalTruth));
    const withTruth = await Lifter.load(dir, { temporalKinds: all });
    assert.equal(withTruth.temporalFor('joints'), withTruth.temporalTruth);
    assert.notEqual(withTruth.temporalTruth, withTruth.temporal);
    for (const kind of ['mpii', 'coco'] as const) assert.equal(withTruth.temporalFor(kind), withTruth.temporal, kind);
    fs.rmSync(path.join(dir, MODEL_FILES.temporalTruth));
    fs.renameSync(path.join(dir, MODEL_FILES.temporal), path.join(dir, MODEL_FILES.temporalDetected));
    const detectedOnly = await Lifter.load(dir, { temporalKinds: all });
    assert.equal(detectedOnly.temporalFor('mpii')?.version, net.version);
    assert.equal(detectedOnly.versionsFor(undefined, 'mpii', { track: true, fps: 25 }).temporal, net.version);
    for (const kind of ['joints', 'coco'] as const) {
      assert.equal(detectedOnly.temporalFor(kind), undefined, kind);
      assert.equal(detectedOnly.trackContext(25, { kind }), 0);
      assert.equal(detectedOnly.versionsFor(undefined, kind, { track: true, fps: 25 }).temporal, undefined);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
