/**
 * The queue's faults (issue 4) against a private redis-server (its own port, AOF persistence so a restart
 * keeps the queue) and worker child processes running the compiled CLI (`npm run build` first):
 * a SIGKILLed worker's job is picked up again and completes once with one result file; a Redis restart
 * mid-job is survived by the worker and by `enqueue --wait`; SIGTERM finishes the current job and exits 0
 * without taking another; a transient failure is retried after its backoff and then completes.
 */
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { DATA, MODELS, REPO, CLI } from '../helpers.js';
import { RedisProc, WorkerProc, startQueueHarness, stopQueueHarness, workerEnv, personCsv, photoVideo, H36M_PHOTOS } from '../../bench/soak.js';
import { JOB_OPTIONS, type PoseliftJobData, type PoseliftJobResult } from '../../workers/queue.js';
import { startWorker } from '../../workers/worker.js';
import { runInputs } from '../../src/app/run.js';
import { liftKeypointFile } from '../../src/app/lift-keypoints.js';

const IMAGES = path.join(DATA, 'h36m-images', 'images');
const QUEUE = `faults-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tmp: string, results: string, video: string, csv: string, redis: RedisProc;
let queue: Queue<PoseliftJobData, PoseliftJobResult>, events: QueueEvents;
let ref: unknown;
const workers: WorkerProc[] = [];

const videoJob = (): PoseliftJobData => ({ kind: 'video', input: video, detector: 'movenet-lightning' });
const json = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));
/** the job's files in the results folder (the result and anything left beside it) */
const filesOf = (id: string) => fs.readdirSync(results).filter((n) => n === `${id}.poselift.json` || n.startsWith(`.${id}.`));

/** resolves when the job reports at least `frames` frames done */
function progressAt(id: string, frames: number): Promise<void> {
  return new Promise((resolve) => {
    const on = ({ jobId, data }: { jobId: string; data: unknown }) => {
      if (jobId === id && ((data as { frames?: number }).frames ?? 0) >= frames) { events.off('progress', on); resolve(); }
    };
    events.on('progress', on);
  });
}

async function finished(id: string, ms = 120_000): Promise<Job<PoseliftJobData, PoseliftJobResult>> {
  const job = (await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, id))!;
  try { await job.waitUntilFinished(events, ms); } catch { /* the caller checks the state */ }
  return (await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, id))!;
}

/** terminal events (completed / failed) of a job in the queue's event stream */
async function endEvents(id: string): Promise<string[]> {
  const r = new Redis(redis.url);
  const s = (await r.xrange(`bull:${QUEUE}:events`, '-', '+')) as [string, string[]][];
  await r.quit();
  const out: string[] = [];
  for (const [, kv] of s) {
    const ev: Record<string, string> = {};
    for (let k = 0; k < kv.length; k += 2) ev[kv[k]] = kv[k + 1];
    if (ev.jobId === id && (ev.event === 'completed' || ev.event === 'failed')) out.push(ev.event);
  }
  return out;
}

/** a worker's log line (its stderr may arrive after the queue's event) */
async function logLine(w: WorkerProc, re: RegExp, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!re.test(w.log) && Date.now() < until) await sleep(20);
  assert.match(w.log, re);
}

function worker(extra: NodeJS.ProcessEnv = {}, name = 'worker'): WorkerProc {
  const w = new WorkerProc(workerEnv(redis.url, QUEUE, results, extra), name);
  workers.push(w);
  return w;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-faults-'));
  results = path.join(tmp, 'results');
  video = path.join(tmp, 'clip.mp4');
  // 40 frames at 10 fps, 384 x 384: the four photos, 10 frames each
  photoVideo(video, H36M_PHOTOS.map((p) => path.join(IMAGES, p)), { secondsEach: 1, fps: 10, w: 384, h: 384 });
  csv = path.join(tmp, 'person.csv');
  fs.writeFileSync(csv, personCsv(2, 0));
  ({ redis, queue, events } = await startQueueHarness(tmp, QUEUE));
  const [r] = await runInputs([video], { detector: 'movenet-lightning', models: MODELS, out: path.join(tmp, 'ref.poselift.json') });
  ref = JSON.parse(JSON.stringify(r.doc));
});

// a failed test leaves no worker behind to take the next test's jobs
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGKILL')));
});

after(() => stopQueueHarness({ redis, queue, events }, workers, tmp));

test('SIGKILL mid-job: the job is picked up again by another worker and completes once, one result file', { timeout: 180_000 }, async () => {
  const pair = [worker({}, 'worker A'), worker({}, 'worker B')];
  await Promise.all(pair.map((w) => w.ready()));
  const job = await queue.add('video', videoJob(), JOB_OPTIONS);
  await progressAt(job.id!, 4);
  const started = new RegExp(`job ${job.id} \\(video\\) started`);
  const a = pair.find((w) => started.test(w.log))!, b = pair.find((w) => w !== a)!;
  assert.ok(a, 'a worker took the job');
  assert.equal(await queue.getJobState(job.id!), 'active');
  await a.kill('SIGKILL');
  const done = await finished(job.id!);
  assert.equal(await done.getState(), 'completed', done.failedReason);
  await logLine(b, new RegExp(`job ${job.id} completed`));
  assert.doesNotMatch(a.log, new RegExp(`job ${job.id} completed`));
  assert.deepEqual(await endEvents(job.id!), ['completed']);
  assert.deepEqual(filesOf(job.id!), [`${job.id}.poselift.json`]);
  assert.equal(done.returnvalue.result, path.join(results, `${job.id}.poselift.json`));
  const doc = json(done.returnvalue.result);
  assert.equal(doc.frames.length, 40);
  assert.deepEqual(doc, ref);
  assert.equal(await b.kill('SIGTERM'), 0);
});

test('a dead attempt\'s temp file is removed by the next attempt', { timeout: 60_000 }, async () => {
  fs.mkdirSync(results, { recursive: true });
  const job = await queue.add('keypoints', { kind: 'keypoints', input: csv, format: 'csv', layout: 'h36m17', width: 1000, height: 1000 }, JOB_OPTIONS);
  // what writeFileAtomic leaves when its process dies between write and rename
  const stale = path.join(results, `.${job.id}.poselift.json.99999.1.tmp`);
  fs.writeFileSync(stale, '{"half');
  const w = worker();
  await w.ready();
  const done = await finished(job.id!);
  assert.equal(await done.getState(), 'completed', done.failedReason);
  assert.deepEqual(filesOf(job.id!), [`${job.id}.poselift.json`]);
  assert.equal(json(done.returnvalue.result).frames.length, 2);
  assert.equal(await w.kill('SIGTERM'), 0);
});

test('Redis restart mid-job: the worker and `enqueue --wait` reconnect and carry on', { timeout: 180_000 }, async () => {
  // BullMQ's default 30 s lock: a short restart must not make the job look stalled
  const w = worker({ POSELIFT_LOCK_MS: '', POSELIFT_STALLED_MS: '' });
  await w.ready();
  const env = { ...process.env, REDIS_URL: redis.url, POSELIFT_QUEUE: QUEUE, POSELIFT_RESULTS: results };
  const enq = spawn(process.execPath, [CLI, 'enqueue', video, '--detector', 'movenet-lightning', '--wait'], { cwd: REPO, env });
  let out = '', err = '';
  enq.stdout.on('data', (d) => { out += d; });
  enq.stderr.on('data', (d) => { err += d; });
  const exit = new Promise<number | null>((r) => enq.on('close', r));
  while (!out.includes('\n')) { await sleep(20); assert.equal(enq.exitCode, null, err); }
  const id = out.trim();
  await progressAt(id, 4);
  assert.equal(await queue.getJobState(id), 'active');
  await redis.restart(1500);
  assert.equal(await exit, 0, err);
  assert.match(err, new RegExp(`job ${id} completed -> .*${id}\\.poselift\\.json`));
  assert.match(err, /lost Redis at .*waiting for it to come back/);
  const job = (await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, id))!;
  assert.equal(await job.getState(), 'completed');
  assert.deepEqual(json(job.returnvalue.result), ref);
  assert.deepEqual(filesOf(id), [`${id}.poselift.json`]);
  // the same worker takes the next job
  const next = await queue.add('keypoints', { kind: 'keypoints', input: csv, format: 'csv', layout: 'h36m17', width: 1000, height: 1000 }, JOB_OPTIONS);
  const n = await finished(next.id!);
  assert.equal(await n.getState(), 'completed', n.failedReason);
  await logLine(w, new RegExp(`job ${next.id} completed`));
  assert.equal(await w.kill('SIGTERM'), 0);
});

test('`enqueue --wait` with Redis down at the start: one line, exit 1', async () => {
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const p = spawn(process.execPath, [CLI, 'enqueue', video, '--wait'], { cwd: REPO, env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1' } });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, err }));
  });
  assert.equal(r.code, 1);
  assert.match(r.err, /^poselift: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 /);
  assert.equal(r.err.trim().split('\n').length, 1);
});

test('SIGTERM: the worker finishes its current job, takes no other, exits 0', { timeout: 180_000 }, async () => {
  const w = worker();
  await w.ready();
  const job = await queue.add('video', videoJob(), JOB_OPTIONS);
  await progressAt(job.id!, 4);
  const second = await queue.add('keypoints', { kind: 'keypoints', input: csv, format: 'csv', layout: 'h36m17', width: 1000, height: 1000 }, JOB_OPTIONS);
  assert.equal(await queue.getJobState(job.id!), 'active');
  w.proc.kill('SIGTERM');
  assert.equal(await w.exited, 0, w.log);
  assert.match(w.log, /SIGTERM: finishing the current job, then exiting/);
  const done = (await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, job.id!))!;
  assert.equal(await done.getState(), 'completed', done.failedReason);
  assert.deepEqual(json(done.returnvalue.result), ref);
  assert.equal(await queue.getJobState(second.id!), 'waiting');
  await queue.remove(second.id!);
});

test('a transient failure is retried after its backoff, then completes', { timeout: 60_000 }, async () => {
  // the models folder appears only after the first attempt failed (as a mount that comes back)
  const later = path.join(tmp, 'models-later');
  const w = startWorker({ queue: QUEUE, url: redis.url, results, concurrency: 1 });
  try {
    const data: PoseliftJobData = { kind: 'keypoints', input: csv, format: 'csv', layout: 'h36m17', width: 1000, height: 1000, models: later };
    const delayed = new Promise<number>((resolve) => {
      events.on('delayed', function on({ jobId, delay }: { jobId: string; delay: number }) {
        if (jobId === job.id) { events.off('delayed', on); resolve(Number(delay)); }
      });
    });
    const job = await queue.add('keypoints', data, { ...JOB_OPTIONS, backoff: { type: 'exponential', delay: 1500 } });
    const due = await delayed;
    const first = (await Job.fromId(queue, job.id!))!;
    assert.equal(await first.getState(), 'delayed');
    assert.equal(first.attemptsMade, 1);
    assert.match(first.failedReason, /models-later/);
    assert.equal(first.delay, 1500); // exponential backoff, first retry: the base delay
    assert.ok(due >= first.processedOn! + 1500, `retry due at ${due}, first attempt started at ${first.processedOn}`);
    fs.symlinkSync(MODELS, later);
    const done = await finished(job.id!, 30_000);
    assert.equal(await done.getState(), 'completed', done.failedReason);
    assert.equal(done.attemptsMade, 2);
    assert.deepEqual(json(done.returnvalue.result), JSON.parse(JSON.stringify(await liftKeypointFile(csv, { format: 'csv', layout: 'h36m17', width: 1000, height: 1000, models: MODELS }))));
  } finally {
    await w.close();
  }
});
