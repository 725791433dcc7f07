/**
 * The metrics accumulator's split (src/eval/metrics.ts): `addMotion` on every frame and `addPose` on every Nth
 * (how `poselift eval --score-every N` scores a video-rate lift) against `add` and `accelError` on known poses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accelError, MetricsAccumulator, mpjpe } from '../../src/eval/metrics.js';

/** A 17-joint pose: a fixed shape moved along x by `t` mm with a per-frame wobble on joint 5. */
function pose(t: number, wobble: number): Float64Array {
  const p = new Float64Array(51);
  for (let j = 0; j < 17; j++) { p[j * 3] = 100 * (j % 4) + t; p[j * 3 + 1] = 80 * Math.floor(j / 4); p[j * 3 + 2] = 4000 + 10 * j; }
  p[5 * 3 + 1] += wobble;
  return p;
}

test('addMotion on every frame and addPose on every 3rd: the pose metrics of the scored frames, the acceleration of all', () => {
  const gt = Array.from({ length: 12 }, (_, t) => pose(10 * t, 0));
  const pred = Array.from({ length: 12 }, (_, t) => pose(10 * t, t % 2 ? 6 : -6)); // 12 mm jitter on one joint
  const split = new MetricsAccumulator(), scored = new MetricsAccumulator();
  for (let t = 0; t < 12; t++) {
    split.addMotion(pred[t], gt[t], 'a');
    if (t % 3 === 0) { split.addPose(pred[t], gt[t]); scored.add(pred[t], gt[t]); }
  }
  const r = split.result();
  assert.equal(r.frames, 4);
  assert.equal(r.mpjpe, scored.result().mpjpe);
  assert.ok(Math.abs(r.mpjpe - mpjpe(pred[0], gt[0])) < 1e-12, 'every frame has the same error');
  // the second difference of a +-6 mm alternation is 24 mm on one joint of 17
  assert.ok(Math.abs(r.accel - accelError(pred, gt)) < 1e-12);
  assert.ok(Math.abs(r.accel - 24 / 17) < 1e-9, String(r.accel));
  assert.ok(Number.isNaN(scored.result().accel), 'frames added without a sequence key give no acceleration error');
});
