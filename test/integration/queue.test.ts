/**
 * The job queue (workers/, issue 4) against the real Redis at $REDIS_URL (default 127.0.0.1:6379): a unique
 * queue name per run (obliterated at the end), results in a temp folder, a worker in this process (and one in
 * a child process for `poselift enqueue --wait`). Results must equal the in-process path's documents.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Job, Queue, QueueEvents, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { REPO, DATA, MODELS } from '../helpers.js';
import { JOB_OPTIONS, redisUrl, workerConnection, type PoseliftJobData, type PoseliftJobResult } from '../../workers/queue.js';
import { startWorker } from '../../workers/worker.js';
import { jobDataFor } from '../../workers/cli.js';
import { isInputError, JobInputError } from '../../workers/errors.js';
import { DatasetError } from '../../src/data/dataset.js';
import { liftKeypointFile } from '../../src/app/lift-keypoints.js';
import { runInputs } from '../../src/app/run.js';
import { evaluateDataset } from '../../src/eval/evaluate.js';

const QUEUE = `poselift-test-${process.pid}-${Date.now()}`;
const IMAGES = path.join(DATA, 'h36m-images');
const PHOTO = path.join(IMAGES, 'images', 'S1_Directions_1.54138969_000001.jpg');
const JOINTS = ['pelvis', 'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee', 'left_ankle', 'spine', 'thorax',
  'neck_nose', 'head_top', 'left_shoulder', 'left_elbow', 'left_wrist', 'right_shoulder', 'right_elbow', 'right_wrist'];
const XY = [[500, 500], [470, 500], [470, 650], [470, 800], [530, 500], [530, 650], [530, 800], [500, 420], [500, 340],
  [500, 300], [500, 250], [550, 340], [570, 420], [580, 490], [450, 340], [430, 420], [420, 490]];

let tmp: string, results: string, csv: string;
let queue: Queue, events: QueueEvents, worker: Worker<PoseliftJobData, PoseliftJobResult>;

async function run(data: PoseliftJobData, opts = JOB_OPTIONS): Promise<Job<PoseliftJobData, PoseliftJobResult>> {
  const job = await queue.add(data.kind, data, opts);
  try { await job.waitUntilFinished(events, 50_000); } catch { /* inspected by the caller */ }
  return (await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, job.id!))!;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-queue-'));
  results = path.join(tmp, 'results');
  csv = path.join(tmp, 'person.csv');
  fs.writeFileSync(csv, 'frame,person,joint,x,y,score\n' + JOINTS.map((j, i) => `0,1,${j},${XY[i][0]},${XY[i][1]},1`).join('\n') + '\n');
  queue = new Queue(QUEUE, { connection: workerConnection() });
  events = new QueueEvents(QUEUE, { connection: workerConnection() });
  await events.waitUntilReady();
  worker = startWorker({ queue: QUEUE, results, concurrency: 1 });
  await worker.waitUntilReady();
});

after(async () => {
  await worker?.close();
  await events?.close();
  await queue?.obliterate({ force: true }).catch(() => {});
  await queue?.close();
  // whatever a child process wrote after obliterate (e.g. queue meta)
  const r = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  const keys = await r.keys(`bull:${QUEUE}*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('failure classification: input errors vs retryable ones', () => {
  const f = '/data/clip.mp4';
  assert.equal(isInputError(new JobInputError('x'), []), true);
  assert.equal(isInputError(new DatasetError('/d: bad', '/d'), []), true);
  assert.equal(isInputError(new Error(`probeVideo: ${f} has no video stream (format x); pass a video file`), [f]), true);
  assert.equal(isInputError(new Error(`readImage: cannot access ${f}: EMFILE: too many open files`), [f]), false);
  assert.equal(isInputError(Object.assign(new Error(`open ${f}`), { code: 'EMFILE' }), [f]), false);
  assert.equal(isInputError(new Error('/models/posenet.onnx: cannot load'), [f]), false);
  assert.equal(isInputError(new Error('spawn ffmpeg ENOENT'), [f]), false);
});

test('keypoints job: the result file equals liftKeypointFile', async () => {
  const opts = { format: 'csv' as const, layout: 'h36m17', width: 1000, height: 1000, models: MODELS };
  const job = await run({ kind: 'keypoints', input: csv, ...opts });
  assert.equal(await job.getState(), 'completed', job.failedReason);
  const out = path.join(results, `${job.id}.poselift.json`);
  assert.equal(job.returnvalue.result, out);
  assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), JSON.parse(JSON.stringify(await liftKeypointFile(csv, opts))));
  assert.deepEqual(job.progress, { percent: 100, frames: 1, total: 1 });
  assert.deepEqual(fs.readdirSync(results).filter((n) => n.endsWith('.tmp')), []);
});

test('keypoints job with a rate: the temporal lifter by default, `temporal: false` lifts with PoseNet, each equal to liftKeypointFile', { timeout: 60_000 }, async () => {
  // one person's COCO-17 track, 12 frames at 10 fps, swaying
  const P: Record<string, [number, number]> = {
    nose: [500, 300], left_eye: [510, 290], right_eye: [490, 290], left_ear: [520, 295], right_ear: [480, 295],
    left_shoulder: [550, 340], right_shoulder: [450, 340], left_elbow: [570, 420], right_elbow: [430, 420], left_wrist: [580, 490], right_wrist: [420, 490],
    left_hip: [530, 500], right_hip: [470, 500], left_knee: [530, 650], right_knee: [470, 650], left_ankle: [530, 800], right_ankle: [470, 800],
  };
  const rows: string[] = [];
  for (let f = 0; f < 12; f++) for (const [j, [x, y]] of Object.entries(P)) rows.push(`${f},1,${j},${(x + 8 * Math.sin(f / 2)).toFixed(1)},${y},0.9`);
  const track = path.join(tmp, 'track.csv');
  fs.writeFileSync(track, 'frame,person,joint,x,y,score\n' + rows.join('\n') + '\n');
  const opts = { format: 'csv' as const, layout: 'coco17', width: 1000, height: 1000, fps: 10, models: MODELS };
  for (const temporal of [undefined, false]) {
    // the job as `poselift enqueue track.csv --keypoints ... [--no-temporal]` writes it: `temporal` only when false
    const data = await jobDataFor([track], { keypoints: true, ...opts, temporal });
    assert.equal('temporal' in data, temporal === false);
    const job = await run(data);
    assert.equal(await job.getState(), 'completed', job.failedReason);
    const doc = JSON.parse(fs.readFileSync(job.returnvalue.result, 'utf8'));
    assert.deepEqual(doc, JSON.parse(JSON.stringify(await liftKeypointFile(track, { ...opts, temporal }))));
    assert.equal(doc.frames.length, 12);
    if (temporal === false) assert.equal(doc.models.temporal, undefined);
    else assert.match(doc.models.temporal ?? '', /^temporal-/);
  }
  const bad = await run({ kind: 'keypoints', input: track, ...opts, temporal: 'no' as unknown as boolean });
  assert.equal(await bad.getState(), 'failed');
  assert.match(bad.failedReason, /track\.csv: the option temporal must be true or false, got "no"/);
  assert.equal(bad.attemptsMade, 1);
});

test('images job: the result file equals runInputs', { timeout: 60_000 }, async () => {
  const job = await run({ kind: 'images', inputs: [PHOTO], models: MODELS });
  assert.equal(await job.getState(), 'completed', job.failedReason);
  const [ref] = await runInputs([PHOTO], { models: MODELS, out: path.join(tmp, 'ref.poselift.json') });
  assert.deepEqual(JSON.parse(fs.readFileSync(job.returnvalue.result, 'utf8')), JSON.parse(JSON.stringify(ref.doc)));
  assert.ok(ref.doc.frames[0].people.length >= 1);
});

test('missing input: fails at once with its reason, not retried', async () => {
  const missing = path.join(tmp, 'nothere.mp4');
  const job = await run({ kind: 'video', input: missing });
  assert.equal(await job.getState(), 'failed');
  assert.match(job.failedReason, /nothere\.mp4: does not exist/);
  assert.equal(job.attemptsMade, 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await (await Job.fromId(queue, job.id!))!.getState(), 'failed');
});

test('other errors (missing models) are retried: 3 attempts', { timeout: 30_000 }, async () => {
  const job = await run({ kind: 'keypoints', input: csv, format: 'csv', layout: 'h36m17', width: 1000, height: 1000, models: path.join(tmp, 'no-models') },
    { ...JOB_OPTIONS, backoff: { type: 'exponential', delay: 50 } });
  assert.equal(await job.getState(), 'failed');
  assert.equal(job.attemptsMade, 3);
});

test('dataset job (h36m-images, gt2d): the eval report, as evaluateDataset', { timeout: 60_000 }, async () => {
  const job = await run({ kind: 'dataset', input: IMAGES, mode: 'gt2d', models: MODELS });
  assert.equal(await job.getState(), 'completed', job.failedReason);
  assert.equal(job.returnvalue.result, path.join(results, `${job.id}.eval.json`));
  const got = JSON.parse(fs.readFileSync(job.returnvalue.result, 'utf8'));
  const ref = JSON.parse(JSON.stringify(await evaluateDataset(IMAGES, { input: 'gt2d', stride: 1, models: MODELS })));
  delete got.ms_per_frame; delete ref.ms_per_frame;
  assert.deepEqual(got, ref);
});

test('CLI: enqueue --wait with a worker in a child process; status, result; Redis down = one line', { timeout: 60_000 }, async () => {
  const cli = path.join(tmp, 'cli.mjs');
  fs.writeFileSync(cli, `import { run } from ${JSON.stringify(path.join(REPO, 'src/cli/main.ts'))};\nawait run(process.argv);\n`);
  const env = { ...process.env, POSELIFT_QUEUE: `${QUEUE}-cli`, POSELIFT_RESULTS: path.join(tmp, 'cli-results'), REDIS_URL: redisUrl() };
  const exec = (args: string[], e = env) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: REPO, env: e, timeout: 40_000 });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
  const w = spawn(process.execPath, ['--import', 'tsx', cli, 'worker'], { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 55_000 });
  let wlog = '';
  w.stderr.on('data', (d) => { wlog += d; });
  const cliQueue = new Queue(`${QUEUE}-cli`, { connection: workerConnection() });
  try {
    const ok = await exec(['enqueue', csv, '--keypoints', '--format', 'csv', '--layout', 'h36m17', '--width', '1000', '--height', '1000', '--wait']);
    assert.equal(ok.code, 0, ok.err);
    const id = ok.out.trim();
    assert.match(ok.err, /100% \(1\/1 frames\)/);
    assert.match(ok.err, new RegExp(`job ${id} completed -> .*${id}\\.poselift\\.json`));
    const st = await exec(['status', id]);
    assert.equal(st.code, 0, st.err);
    assert.equal(JSON.parse(st.out).state, 'completed');
    const res = await exec(['result', id]);
    assert.equal(JSON.parse(res.out).schema, 'poselift/1');
    const bad = await exec(['enqueue', path.join(tmp, 'gone.jpg'), '--wait']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /failed: .*gone\.jpg: does not exist/);
    const jobs = await exec(['jobs']);
    assert.match(jobs.out, /\tfailed\t/);
    const down = await exec(['status', id], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(down.code, 1);
    assert.match(down.err, /^poselift: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 .*start redis-server or set REDIS_URL/);
    assert.equal(down.err.trim().split('\n').length, 1);
  } finally {
    w.kill('SIGTERM');
    const code = await new Promise((r) => w.on('close', r));
    assert.equal(code, 0, wlog);
    await cliQueue.obliterate({ force: true }).catch(() => {});
    await cliQueue.close();
  }
});
