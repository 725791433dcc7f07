/**
 * The queue soak (issue 7), short form: 60 small keypoints jobs (every 10th bad) through two worker processes
 * on a private redis-server with AOF, worker A SIGKILLed and restarted twice, Redis restarted once
 * (`bench/soak.ts`; the long form is `npm run soak`, 500 jobs). Needs `npm run build` (the workers run dist/).
 * A wrong outcome is reported with the job's state, attempts, stall count, failure reason and worker log lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak, soakProblems, soakText } from '../../bench/soak.js';

test('soak: 60 jobs, 2 worker SIGKILLs, 1 Redis restart: every job ends exactly once, results intact', { timeout: 180_000 }, async () => {
  const r = await runSoak({ jobs: 60, badEvery: 10, timeoutMs: 150_000 });
  const text = soakText(r);
  assert.deepEqual(soakProblems(r), [], text);
  assert.equal(r.lost, 0, text);
  assert.equal(r.duplicates, 0, text);
  // a good job hit by two of the faults fails with BullMQ's stall limit (README, Faults); soakProblems allows one here
  assert.equal(r.completed + r.stalled_out, 54, text);
  assert.equal(r.failed_with_reason, 6 + r.stalled_out, text);
  assert.equal(r.worker_kills, 2, text);
  assert.equal(r.redis_restarts, 1, text);
});
