/**
 * Segmented videos (issue 4): `poselift enqueue --segment-seconds` splits a video into frame-aligned
 * `video-segment` child jobs (2D detection) under a `video` parent (tracking + lifting of the joined
 * detections), a BullMQ flow processed by two worker child processes on a private redis-server. The
 * result must equal `poselift run` in-process on the whole video; a segment that fails for its input fails
 * the parent with that reason. Needs `npm run build` (the CLI and workers run dist/).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { CLI, DATA, MODELS, REPO } from '../helpers.js';
import { H36M_PHOTOS, RedisProc, WorkerProc, photoVideo, startQueueHarness, stopQueueHarness, workerEnv } from '../../bench/soak.js';
import type { PoseliftJobData, PoseliftJobResult } from '../../workers/queue.js';
import { runInputs } from '../../src/app/run.js';

const IMAGES = path.join(DATA, 'h36m-images', 'images');
const QUEUE = `flow-${process.pid}`;
let tmp: string, results: string, video: string, redis: RedisProc, queue: Queue<PoseliftJobData, PoseliftJobResult>, events: QueueEvents;
const workers: WorkerProc[] = [];

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const env = { ...process.env, REDIS_URL: redis.url, POSELIFT_QUEUE: QUEUE, POSELIFT_RESULTS: results };
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: REPO, env });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-flow-'));
  results = path.join(tmp, 'results');
  video = path.join(tmp, 'clip.mp4');
  // 40 frames at 10 fps: the four photos, 1 s each
  photoVideo(video, H36M_PHOTOS.map((p) => path.join(IMAGES, p)), { secondsEach: 1, fps: 10, w: 384, h: 384 });
  ({ redis, queue, events } = await startQueueHarness(tmp, QUEUE));
});

after(() => stopQueueHarness({ redis, queue, events }, workers, tmp));

test('a video in 3 segments on two workers: the joined result equals `poselift run` in-process', { timeout: 240_000 }, async () => {
  for (const n of ['A', 'B']) workers.push(new WorkerProc(workerEnv(redis.url, QUEUE, results, { POSELIFT_THREADS: '1' }), `worker ${n}`));
  await Promise.all(workers.map((w) => w.ready()));
  const r = await cli(['enqueue', video, '--detector', 'movenet-lightning', '--segment-seconds', '1', '--wait']);
  assert.equal(r.code, 0, r.err);
  const id = r.out.trim();
  assert.match(r.err, new RegExp(`job ${id}: 3 segments`));
  assert.match(r.err, /\(\d+\/40 frames\)/); // the parent's progress: frames its segments detected
  assert.match(r.err, new RegExp(`job ${id} completed -> .*${id}\\.poselift\\.json`));

  const parent = (await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, id))!;
  assert.equal(await parent.getState(), 'completed');
  const children = Object.keys(await parent.getChildrenValues());
  assert.equal(children.length, 3);
  const segs = await Promise.all(children.map((k) => Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, k.split(':').pop()!)));
  assert.deepEqual(segs.map((j) => j!.returnvalue.frames).sort(), [16, 16, 8]);
  // the segments were shared: both workers detected at least one
  for (const w of workers) assert.match(w.log, /\(video-segment\) started/, w.log);
  // only the result is left (segment detections are removed once joined)
  assert.deepEqual(fs.readdirSync(results), [`${id}.poselift.json`]);

  const [ref] = await runInputs([video], { detector: 'movenet-lightning', models: MODELS, out: path.join(tmp, 'ref.poselift.json') });
  const doc = JSON.parse(fs.readFileSync(parent.returnvalue.result, 'utf8'));
  assert.equal(doc.frames.length, 40);
  assert.ok(doc.frames.filter((f: { people: unknown[] }) => f.people.length).length >= 30);
  assert.deepEqual(doc, JSON.parse(JSON.stringify(ref.doc)));

  const st = await cli(['status', id]);
  assert.equal(JSON.parse(st.out).state, 'completed', st.err);
  const res = await cli(['result', id]);
  assert.deepEqual(JSON.parse(res.out), doc);
});

test('a segment that fails for its input fails the parent at once with that reason', { timeout: 120_000 }, async () => {
  const gone = path.join(tmp, 'gone.mp4');
  fs.copyFileSync(video, gone);
  // queued while the video is there, removed before a worker gets to it
  const stop = await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  assert.ok(stop.every((c) => c === 0), `worker exit codes ${stop}`);
  const r = await cli(['enqueue', gone, '--detector', 'movenet-lightning', '--segment-seconds', '1']);
  assert.equal(r.code, 0, r.err);
  const id = r.out.trim();
  fs.rmSync(gone);
  workers.push(new WorkerProc(workerEnv(redis.url, QUEUE, results, { POSELIFT_THREADS: '1' }), 'worker C'));
  const job = (await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, id))!;
  await job.waitUntilFinished(events, 90_000).catch(() => {});
  const done = (await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, id))!;
  assert.equal(await done.getState(), 'failed');
  assert.match(done.failedReason, /gone\.mp4: does not exist; check the path .* \(segment job seg-[0-9a-f]+-\d\)/);
  assert.equal(done.attemptsMade, 1);
  assert.ok(!fs.existsSync(path.join(results, `${id}.poselift.json`)));
  await workers[0].kill('SIGTERM');
});
