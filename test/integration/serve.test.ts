/**
 * `poselift serve` (issue 21) against a private redis-server, the compiled CLI's `serve` and one `worker`
 * child process (`npm run build` first): an upload with the token completes and equals `poselift run`
 * in-process within 1 mm; no token -> 401; paths outside the input root are refused; server-sent events
 * carry a video job's progress to the end; DELETE stops a running job at its next frame; the live workers
 * are listed by the API and by `poselift status --workers`; a worker sent SIGTERM with Redis down exits
 * within 10 s and its job is done by another worker; the dashboard in Chromium (playwright-core) uploads a
 * photo, shows it done and opens its 3D viewer with no console error. In-process servers check the OpenAPI
 * document against the registered routes, the loopback rule, sniffing, size limits and the rate limit.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumSkip, CHROMIUM, CLI, MODELS, REPO, requireChromium } from '../helpers.js';
import { RedisProc, WorkerProc, workerEnv, photoVideo } from '../../bench/soak.js';
import { runInputs, type PoseliftDoc } from '../../src/app/run.js';
import { buildServer, checkBind } from '../../src/serve/server.js';
import { sniff } from '../../src/serve/sniff.js';
import { confinePath } from '../../src/serve/inputs.js';
import { openapiDocument } from '../../src/serve/openapi.js';

const PHOTO = path.join(REPO, 'samples', 'person.jpg');
const CAMERA = path.join(REPO, 'samples', 'camera.json');
const TOKEN = 'test-token-0123456789abcdef';
const QUEUE = `serve-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tmp: string, results: string, root: string, video: string, redis: RedisProc, base: string;
let serveProc: ChildProcess, serveLog = '';
let ref: PoseliftDoc;
const workers: WorkerProc[] = [];
const extraRedis: RedisProc[] = [];
const auth = { authorization: `Bearer ${TOKEN}` };

function worker(url: string, extra: NodeJS.ProcessEnv = {}, name = 'worker'): WorkerProc {
  const w = new WorkerProc(workerEnv(url, QUEUE, results, extra), name);
  workers.push(w);
  return w;
}

async function startServe(env: NodeJS.ProcessEnv): Promise<string> {
  serveProc = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  serveProc.stderr!.on('data', (d) => { serveLog += d; });
  return await new Promise<string>((resolve, reject) => {
    let out = '';
    serveProc.stdout!.on('data', (d) => { out += d; const m = /poselift serve: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out); if (m) resolve(m[1]); });
    serveProc.on('exit', (code) => reject(new Error(`poselift serve exited ${code}: ${serveLog}`)));
  });
}

const form = (files: Record<string, string | { name: string; data: Buffer | string }>, options?: unknown): FormData => {
  const fd = new FormData();
  if (options !== undefined) fd.append('options', JSON.stringify(options));
  for (const [k, v] of Object.entries(files)) {
    const f = typeof v === 'string' ? { name: path.basename(v), data: fs.readFileSync(v) } : v;
    fd.append(k, new Blob([typeof f.data === 'string' ? f.data : new Uint8Array(f.data)]), f.name);
  }
  return fd;
};

async function api(method: string, p: string, body?: FormData | object, headers: Record<string, string> = auth): Promise<{ status: number; body: any; text: string }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body instanceof FormData) init.body = body;
  else if (body) { init.body = JSON.stringify(body); (init.headers as Record<string, string>)['content-type'] = 'application/json'; }
  const r = await fetch(base + p, init);
  const text = await r.text();
  let parsed: unknown = null;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: parsed, text };
}

interface Sse { event: string; data: any }
/** Read a job's event stream until it ends (the server closes it after completed / failed / removed). */
async function events(id: string, onEvent?: (e: Sse) => void, ms = 120_000): Promise<Sse[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const r = await fetch(`${base}/v1/jobs/${id}/events`, { headers: auth, signal: ac.signal });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
  const out: Sse[] = [];
  let buf = '';
  const dec = new TextDecoder();
  try {
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      buf += dec.decode(chunk, { stream: true });
      let k: number;
      while ((k = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, k);
        buf = buf.slice(k + 2);
        const ev = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (ev && data) { const e = { event: ev, data: JSON.parse(data) }; out.push(e); onEvent?.(e); }
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

async function waitState(id: string, states: string[], ms = 120_000): Promise<any> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await api('GET', `/v1/jobs/${id}`);
    if (states.includes(r.body?.state)) return r.body;
    if (Date.now() > until) throw new Error(`job ${id}: still ${r.body?.state} after ${ms} ms`);
    await sleep(200);
  }
}

function maxJointDiffMm(a: PoseliftDoc, b: PoseliftDoc): number {
  assert.equal(a.frames.length, b.frames.length);
  let max = 0;
  a.frames.forEach((f, i) => {
    assert.equal(f.people.length, b.frames[i].people.length);
    f.people.forEach((p, k) => {
      const q = b.frames[i].people[k];
      assert.equal(!!p.joints3d, !!q.joints3d);
      p.joints3d?.forEach((j, n) => j.forEach((v, c) => { max = Math.max(max, Math.abs(v - q.joints3d![n][c])); }));
    });
  });
  return max;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-serve-'));
  results = path.join(tmp, 'results');
  root = path.join(tmp, 'inputs');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.copyFileSync(PHOTO, path.join(root, 'sub', 'person.jpg'));
  fs.copyFileSync(CAMERA, path.join(root, 'camera.json'));
  fs.writeFileSync(path.join(tmp, 'secret.jpg'), fs.readFileSync(PHOTO));
  fs.symlinkSync(path.join(tmp, 'secret.jpg'), path.join(root, 'escape.jpg'));
  // 60 frames at 10 fps: the sample photo, held still
  video = path.join(tmp, 'clip.mp4');
  photoVideo(video, [PHOTO], { secondsEach: 6, fps: 10, w: 400, h: 500 });
  redis = await RedisProc.create(path.join(tmp, 'redis'));
  const [r] = await runInputs([PHOTO], { camera: CAMERA, models: MODELS, out: path.join(tmp, 'ref.poselift.json') });
  ref = JSON.parse(JSON.stringify(r.doc));
  base = await startServe({ REDIS_URL: redis.url, POSELIFT_QUEUE: QUEUE, POSELIFT_RESULTS: results, POSELIFT_TOKEN: TOKEN, POSELIFT_INPUT_ROOT: root });
  await worker(redis.url, {}, 'worker A').ready();
});

after(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  if (serveProc && serveProc.exitCode === null) {
    const exited = new Promise((r) => serveProc.once('exit', r));
    serveProc.kill('SIGTERM');
    const t = setTimeout(() => serveProc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
  await redis?.stop('SIGKILL');
  for (const r of extraRedis) await r.stop('SIGKILL');
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('an upload with the token completes and equals `poselift run` in-process within 1 mm; BVH and CSV through the exporters', { timeout: 180_000 }, async () => {
  const r = await api('POST', '/v1/jobs', form({ file: PHOTO, camera: CAMERA }));
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.kind, 'images');
  assert.equal(r.body.input, 'person.jpg');
  const done = await waitState(r.body.id, ['completed', 'failed']);
  assert.equal(done.state, 'completed', done.failed_reason);
  assert.equal(done.progress.percent, 100);
  const doc = await api('GET', done.result);
  assert.equal(doc.status, 200);
  assert.equal(doc.body.schema, 'poselift/1');
  assert.deepEqual(doc.body.camera, ref.camera);
  const diff = maxJointDiffMm(doc.body, ref);
  console.log(`upload vs in-process run: max joint difference ${diff.toFixed(4)} mm`);
  assert.ok(diff <= 1, `${diff} mm`);
  const csv = await api('GET', `${done.result}?format=csv`);
  assert.equal(csv.status, 200);
  assert.match(csv.text, /^frame,time_s,person,joint_index,joint,x_mm/);
  const bvh = await api('GET', `${done.result}?format=bvh`);
  assert.equal(bvh.status, 200);
  assert.match(bvh.text, /^HIERARCHY\nROOT Hips/);
  const bad = await api('GET', `${done.result}?format=bvh&person=7`);
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /no person with id 7 .*ids in the result: 1/);
  assert.doesNotMatch(bad.text, /\/tmp\/|at .*\.js:\d+/, 'no server paths or stack in the message');
  const list = await api('GET', '/v1/jobs');
  assert.ok(list.body.some((j: { id: string; state: string }) => j.id === r.body.id && j.state === 'completed'));
});

test('no token or a wrong one: 401 on every route, with a JSON reason and no stack', async () => {
  const paths: [string, string][] = [['GET', '/v1/jobs'], ['POST', '/v1/jobs'], ['GET', '/v1/jobs/1'], ['GET', '/v1/jobs/1/result'], ['GET', '/v1/jobs/1/events'],
    ['DELETE', '/v1/jobs/1'], ['GET', '/v1/health'], ['GET', '/v1/workers'], ['GET', '/v1/openapi.json'], ['GET', '/dashboard/dashboard.js'], ['GET', '/v1/jobs/1/view/']];
  for (const [m, p] of paths) {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${TOKEN}x` }, { cookie: 'poselift_token=nope' }] as Record<string, string>[]) {
      const r = await api(m, p, undefined, headers);
      assert.equal(r.status, 401, `${m} ${p} ${JSON.stringify(headers)}: ${r.text}`);
      assert.equal(r.body.error, 'unauthorized');
      assert.match(r.body.message, /token/);
    }
  }
  // the dashboard's address shows a sign-in page (401) to a browser, and nothing else
  const page = await fetch(base + '/', { headers: { accept: 'text/html' } });
  assert.equal(page.status, 401);
  assert.match(await page.text(), /<form id="login">/);
  const session = await api('POST', '/v1/session', { token: 'wrong' }, {});
  assert.equal(session.status, 401);
  const ok = await fetch(base + '/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
  assert.equal(ok.status, 204);
  const cookie = ok.headers.get('set-cookie')!;
  assert.match(cookie, /HttpOnly; SameSite=Strict/);
  assert.equal((await api('GET', '/v1/jobs', undefined, { cookie: cookie.split(';')[0] })).status, 200);
});

test('path inputs: under the input root they run; "..", absolute paths outside and symbolic links out are refused', { timeout: 120_000 }, async () => {
  const ok = await api('POST', '/v1/jobs', { path: 'sub/person.jpg', camera: 'camera.json' });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.input, 'sub/person.jpg');
  const refused: [unknown, number, RegExp][] = [
    [{ path: '../secret.jpg' }, 403, /contains "\.\."/],
    [{ path: 'sub/../../secret.jpg' }, 403, /contains "\.\."/],
    [{ path: path.join(tmp, 'secret.jpg') }, 403, /outside the input root/],
    [{ path: '/etc/passwd' }, 403, /outside the input root/],
    [{ path: 'escape.jpg' }, 403, /leads outside the input root \(a symbolic link\)/],
    [{ path: 'sub/person.jpg', camera: '../secret.jpg' }, 403, /camera: .*contains "\.\."/],
    [{ path: 'missing.jpg' }, 400, /"missing\.jpg" does not exist under the input root/],
    [{ path: 'sub/person.jpg', options: { detector: 'nope' } }, 400, /^options\.detector: /],
    [{ path: 'sub/person.jpg', options: { models: '/elsewhere' } }, 400, /^options: .*models/],
    [{ path: 'sub/person.jpg', options: { temporal: 'no' } }, 400, /^options\.temporal: /],
    [{ nope: 1 }, 400, /path: /],
  ];
  for (const [body, status, re] of refused) {
    const r = await api('POST', '/v1/jobs', body as object);
    assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
    assert.match(r.body.message, re, JSON.stringify(body));
  }
  const done = await waitState(ok.body.id, ['completed', 'failed']);
  assert.equal(done.state, 'completed', done.failed_reason);
  assert.ok(maxJointDiffMm((await api('GET', done.result)).body, ref) <= 1);
});

test('uploads: the type comes from the bytes, not the name; wrong kinds and bad camera files are refused with the reason', async () => {
  const text = { name: 'photo.jpg', data: 'just some text that is not a photo\n' };
  const r1 = await api('POST', '/v1/jobs', form({ file: text }));
  assert.equal(r1.status, 415, r1.text);
  assert.match(r1.body.message, /photo\.jpg: the content is not a supported file/);
  const r2 = await api('POST', '/v1/jobs', form({ file: { name: 'person.txt', data: fs.readFileSync(PHOTO) }, camera: CAMERA }));
  assert.equal(r2.status, 201, r2.text);
  assert.equal(r2.body.input, 'person.jpg', 'stored under the sniffed extension');
  await api('DELETE', `/v1/jobs/${r2.body.id}`);
  const r3 = await api('POST', '/v1/jobs', form({ file: PHOTO, camera: { name: 'camera.json', data: '{"fx": -1}' } }));
  assert.equal(r3.status, 400, r3.text);
  assert.match(r3.body.message, /^camera: /);
  const r4 = await api('POST', '/v1/jobs', form({ file: { name: 'kp.json', data: '{"annotations": []}' } }));
  assert.equal(r4.status, 415);
  assert.match(r4.body.message, /JSON text, not a photo or video; for 2D keypoints set options\.keypoints\.format/);
  const r5 = await api('POST', '/v1/jobs', form({ camera: CAMERA }));
  assert.equal(r5.status, 400);
  assert.match(r5.body.message, /no file part "file"/);
  const r6 = await api('POST', '/v1/jobs', form({ file: PHOTO }, { fps: -2 }));
  assert.equal(r6.status, 400);
  assert.match(r6.body.message, /^options\.fps: /);
  const three = form({ file: PHOTO, camera: CAMERA, extra: CAMERA });
  const r7 = await api('POST', '/v1/jobs', three);
  assert.equal(r7.status, 413, r7.text);
  assert.equal(r7.body.error, 'too_many_parts');
  const r8 = await api('POST', '/v1/jobs', form({ file: PHOTO, other: CAMERA }));
  assert.equal(r8.status, 400, r8.text);
  assert.match(r8.body.message, /^file part "other": unexpected; send one "file" and at most one "camera"$/);
});

test('server-sent events carry a video job\'s progress to completed; DELETE stops a running job at its next frame', { timeout: 240_000 }, async () => {
  const r = await api('POST', '/v1/jobs', form({ file: video }, { detector: 'movenet-lightning', segmentSeconds: 0 }));
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.kind, 'video');
  const evs = await events(r.body.id);
  const progress = evs.filter((e) => e.event === 'progress').map((e) => e.data.progress);
  console.log(`SSE: ${evs.length} events, ${progress.length} progress (${progress.map((p) => p.percent).join(' ')})`);
  assert.equal(evs[0].event, 'state');
  assert.equal(evs.at(-1)!.event, 'completed');
  assert.equal(evs.at(-1)!.data.state, 'completed');
  assert.ok(progress.length >= 3, `${progress.length} progress events`);
  for (let k = 1; k < progress.length; k++) assert.ok(progress[k].frames >= progress[k - 1].frames, 'frames never go back');
  assert.equal(progress.at(-1).percent, 100);
  assert.equal(progress.at(-1).total, 60);
  // a finished job's stream: its state and the final event, then it ends
  const again = await events(r.body.id);
  assert.deepEqual(again.map((e) => e.event), ['state', 'completed']);

  // cancel: a second run of the video, stopped after a few frames
  const c = await api('POST', '/v1/jobs', form({ file: video }, { detector: 'movenet-lightning', segmentSeconds: 0 }));
  let asked = false, at = 0;
  const cevs = await events(c.body.id, (e) => {
    if (e.event === 'progress' && e.data.progress.frames >= 3 && !asked) {
      asked = true;
      at = e.data.progress.frames;
      void api('DELETE', `/v1/jobs/${c.body.id}`).then((d) => { assert.equal(d.status, 202, d.text); assert.equal(d.body.workers_notified >= 1, true); });
    }
  });
  assert.ok(asked, 'the job reported progress');
  const last = cevs.at(-1)!;
  assert.equal(last.event, 'failed', JSON.stringify(last));
  assert.match(last.data.failed_reason, /^clip\.mp4: cancelled on request$/, 'the reason names the upload, not the server\'s folders');
  assert.equal(last.data.attempts, 1, 'a cancelled job is not retried');
  const frames = Math.max(...cevs.filter((e) => e.event === 'progress').map((e) => e.data.progress.frames));
  console.log(`cancel asked at frame ${at}, last progress at frame ${frames} of 60`);
  assert.ok(frames < 60, 'stopped before the end');
  const gone = await api('DELETE', `/v1/jobs/${c.body.id}`);
  assert.equal(gone.status, 409);
  assert.match(gone.body.message, /is failed; nothing to cancel/);
  // a split video (3 segments of 2 s): its running segment is stopped and the parent fails with its reason
  const f = await api('POST', '/v1/jobs', form({ file: video }, { detector: 'movenet-lightning', segmentSeconds: 2 }));
  assert.equal(f.status, 201, f.text);
  assert.equal(f.body.state, 'waiting-children');
  const until = Date.now() + 60_000;
  while (!(await api('GET', '/v1/workers')).body[0]?.active.length) { assert.ok(Date.now() < until, 'no segment started'); await sleep(50); }
  const d = await api('DELETE', `/v1/jobs/${f.body.id}`);
  assert.equal(d.status, 202, d.text);
  const parent = await waitState(f.body.id, ['failed', 'completed']);
  assert.equal(parent.state, 'failed');
  assert.match(parent.failed_reason, /^clip\.mp4: cancelled on request \(segment job seg-[0-9a-f]+-\d\)$/);
  // an unknown job
  const missing = await api('GET', '/v1/jobs/999999');
  assert.equal(missing.status, 404);
  assert.match(missing.body.message, /job 999999: not found/);
});

test('the live workers: GET /v1/workers and `poselift status --workers` list the worker by its heartbeat', async () => {
  const r = await api('GET', '/v1/workers');
  assert.equal(r.status, 200);
  assert.equal(r.body.length, 1);
  const [w] = r.body;
  assert.equal(w.pid, workers[0].pid);
  assert.equal(w.queue, QUEUE);
  const s = spawnSync(process.execPath, [CLI, 'status', '--workers'], { env: { ...process.env, REDIS_URL: redis.url, POSELIFT_QUEUE: QUEUE }, encoding: 'utf8' });
  assert.equal(s.status, 0, s.stderr);
  assert.deepEqual(JSON.parse(s.stdout).map((x: { id: string }) => x.id), [w.id]);
  const h = await api('GET', '/v1/health');
  assert.equal(h.status, 200);
  assert.equal(h.body.redis, 'up');
  assert.equal(h.body.workers, 1);
  // the log prefix is not doubled
  assert.doesNotMatch(workers[0].log, /poselift worker: poselift worker:/);
});

test('SIGTERM with Redis down: the worker exits within 10 s and leaves its job to another worker', { timeout: 120_000 }, async () => {
  const r2 = await RedisProc.create(path.join(tmp, 'redis2'));
  extraRedis.push(r2);
  const busy = worker(r2.url, {}, 'worker B');
  await busy.ready();
  const { Queue } = await import('bullmq');
  const q = new Queue(QUEUE, { connection: { url: r2.url, maxRetriesPerRequest: null } });
  q.on('error', () => {});
  const job = await q.add('video', { kind: 'video', input: video, detector: 'movenet-lightning' });
  const until = Date.now() + 60_000;
  while (!new RegExp(`job ${job.id} \\(video\\) started`).test(busy.log)) { assert.ok(Date.now() < until, busy.log); await sleep(50); }
  await q.close();
  await r2.stop('SIGKILL');
  // the worker reports the lost connection once per line, with one prefix (it read "poselift worker: poselift worker: ...")
  const seen = Date.now() + 10_000;
  while (!/ECONNREFUSED/.test(busy.log) && Date.now() < seen) await sleep(50);
  assert.match(busy.log, /^poselift worker: connect ECONNREFUSED 127\.0\.0\.1:\d+$/m);
  assert.doesNotMatch(busy.log, /poselift worker: poselift worker:/);
  const t0 = Date.now();
  busy.proc.kill('SIGTERM');
  const code = await busy.exited;
  const s = (Date.now() - t0) / 1000;
  console.log(`worker exited ${code} ${s.toFixed(2)} s after SIGTERM with Redis down`);
  assert.ok(s < 10, `${s} s`);
  assert.match(busy.log, /SIGTERM: Redis at .* does not answer; exiting, job\(s\) 1 left to another worker/);
  assert.equal(code, 1);
  // Redis back (its AOF kept the queue): the job's lock expires and another worker completes it
  await r2.start();
  const other = worker(r2.url, {}, 'worker C');
  await other.ready();
  const q2 = new Queue(QUEUE, { connection: { url: r2.url, maxRetriesPerRequest: null } });
  try {
    const until2 = Date.now() + 90_000;
    while ((await q2.getJobState(job.id!)) !== 'completed') { assert.ok(Date.now() < until2, other.log); await sleep(200); }
  } finally {
    await q2.close();
  }
  assert.match(other.log, new RegExp(`job ${job.id} completed`));
  assert.equal(await other.kill('SIGTERM'), 0);
});

test('SIGTERM with Redis up and a job longer than the grace period: exit 1 when it ends, the job completed by another worker', { timeout: 120_000 }, async () => {
  const r3 = await RedisProc.create(path.join(tmp, 'redis3'));
  extraRedis.push(r3);
  const w = worker(r3.url, { POSELIFT_GRACE_S: '0.5' }, 'worker D');
  await w.ready();
  assert.match(w.log, /finishes the current job \(at most 0\.5 s\)/);
  const { Queue } = await import('bullmq');
  const q = new Queue(QUEUE, { connection: { url: r3.url, maxRetriesPerRequest: null } });
  q.on('error', () => {});
  try {
    const job = await q.add('video', { kind: 'video', input: video, detector: 'movenet-lightning' });
    const until = Date.now() + 60_000;
    while (!new RegExp(`job ${job.id} \\(video\\) started`).test(w.log)) { assert.ok(Date.now() < until, w.log); await sleep(50); }
    const t0 = Date.now();
    w.proc.kill('SIGTERM');
    const code = await w.exited;
    const s = (Date.now() - t0) / 1000;
    console.log(`worker exited ${code} ${s.toFixed(2)} s after SIGTERM (grace 0.5 s, job running)`);
    assert.ok(s < 5, `${s} s`);
    assert.equal(code, 1);
    assert.match(w.log, /SIGTERM: finishing the current job, then exiting \(grace period 0\.5 s\)/);
    assert.match(w.log, new RegExp(`the grace period of 0\\.5 s is over; exiting, job\\(s\\) ${job.id} left to another worker`));
    const other = worker(r3.url, {}, 'worker E');
    await other.ready();
    const until2 = Date.now() + 90_000;
    while ((await q.getJobState(job.id!)) !== 'completed') { assert.ok(Date.now() < until2, other.log); await sleep(200); }
    assert.equal(await other.kill('SIGTERM'), 0);
  } finally {
    await q.close();
  }
});

test('the dashboard in Chromium: sign in, upload a photo, watch it reach done, open its 3D viewer; no console error', { timeout: 180_000, skip: chromiumSkip() }, async () => {
  requireChromium();
  const ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(tmp, 'profile-')), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 760 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await ctx.newPage();
    const errors: string[] = [], external: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (rq) => { if (!rq.url().startsWith(base) && !rq.url().startsWith('data:')) external.push(rq.url()); });
    await page.goto(base + '/');
    await page.fill('#token', TOKEN);
    await page.click('#login button');
    await page.waitForFunction(() => (window as any).poseliftDashboard?.ready === true, null, { timeout: 30_000 });
    await page.setInputFiles('#file', PHOTO);
    await page.setInputFiles('#camera', CAMERA);
    await page.click('#submit');
    await page.waitForFunction(() => /queued as job (\d+)/.test(document.getElementById('upload-status')!.textContent ?? ''), null, { timeout: 30_000 });
    const id = /queued as job (\d+)/.exec((await page.textContent('#upload-status'))!)![1];
    const row = page.locator(`tr[data-id="${id}"]`);
    await row.locator('.state.completed').waitFor({ timeout: 120_000 });
    assert.equal(await row.getAttribute('data-percent'), '100');
    assert.equal(await row.locator('.input').textContent(), 'person.jpg');
    await page.waitForTimeout(500); // the progress bar's CSS transition
    const shot = path.join(tmp, 'dashboard.png');
    await page.screenshot({ path: shot });
    if (process.env.POSELIFT_SAVE_SCREENSHOTS) fs.copyFileSync(shot, path.join(REPO, 'docs', 'dashboard.png'));
    await row.locator('a.viewer-link').click();
    await page.waitForFunction(() => (window as any).poselift?.ready === true, null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => (window as any).poselift.frames), 1);
    assert.match(page.url(), new RegExp(`/v1/jobs/${id}/view/$`));
    const img = await page.evaluate(() => { const i = document.querySelector('#stage img') as HTMLImageElement | null; return i && i.complete ? i.naturalWidth : 0; });
    assert.equal(img, 800, 'the uploaded photo is shown');
    assert.deepEqual(errors, []);
    assert.deepEqual(external, []);
  } finally {
    await ctx.close();
  }
});

// ---- in-process servers (no worker needed) --------------------------------------------------------------

test('/v1/openapi.json lists exactly the registered routes', async () => {
  const s = await buildServer({ tokens: [TOKEN], redisUrl: redis.url, queue: QUEUE, results });
  try {
    const r = await s.app.inject({ method: 'GET', url: '/v1/openapi.json', headers: auth });
    assert.equal(r.statusCode, 200);
    const doc = r.json() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const registered = [...new Set(s.routes.filter((x) => x.method !== 'HEAD')
      .map((x) => `${x.method} ${x.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{path}')}`))].sort();
    assert.deepEqual(documented, registered);
    assert.deepEqual(openapiDocument('x').paths, doc.paths);
  } finally {
    await s.close();
  }
});

test('without a token: only a loopback address, and only loopback Host names', async () => {
  assert.throws(() => checkBind('0.0.0.0', []), /without POSELIFT_TOKEN the server listens on 127\.0\.0\.1 only, not 0\.0\.0\.0/);
  assert.doesNotThrow(() => checkBind('0.0.0.0', [TOKEN]));
  await assert.rejects(buildServer({ tokens: [], host: '192.168.1.5', redisUrl: redis.url, queue: QUEUE }), /listens on 127\.0\.0\.1 only/);
  const s = await buildServer({ tokens: [], redisUrl: redis.url, queue: QUEUE, results });
  try {
    const ok = await s.app.inject({ method: 'GET', url: '/v1/openapi.json', headers: { host: '127.0.0.1:8080' } });
    assert.equal(ok.statusCode, 200);
    const evil = await s.app.inject({ method: 'GET', url: '/v1/jobs', headers: { host: 'attacker.example:8080' } });
    assert.equal(evil.statusCode, 403);
    assert.match(evil.json().message, /answers loopback requests only/);
    const spawned = spawnSync(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0'], { env: { ...process.env, POSELIFT_TOKEN: '', REDIS_URL: redis.url }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(spawned.status, 1);
    assert.match(spawned.stderr, /^poselift: serve: without POSELIFT_TOKEN the server listens on 127\.0\.0\.1 only/);
  } finally {
    await s.close();
  }
});

test('size limits, the rate limit and unknown routes answer 413, 429 and 404 with a reason', async () => {
  const old = process.env.POSELIFT_MAX_INPUT_MB;
  process.env.POSELIFT_MAX_INPUT_MB = '0.01'; // 10485 bytes
  const s = await buildServer({ tokens: [TOKEN], redisUrl: redis.url, queue: QUEUE, results, rateLimit: 5 });
  try {
    const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
    const fd = form({ file: PHOTO });
    const big = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: auth, body: fd });
    assert.equal(big.status, 413);
    const b = await big.json() as { message: string };
    assert.match(b.message, /person\.jpg: the upload is .* over the limit of 10485 bytes; upload a smaller file \(the server's POSELIFT_MAX_INPUT_MB\)/);
    const up = path.join(results, 'uploads');
    const partial = fs.existsSync(up) ? fs.readdirSync(up).filter((d) => fs.readdirSync(path.join(up, d)).some((f) => f.startsWith('.file'))) : [];
    assert.deepEqual(partial, [], 'no partial upload left');
    const nf = await fetch(`${url}/v1/nope`, { headers: auth });
    assert.equal(nf.status, 404);
    assert.match((await nf.json() as { message: string }).message, /no route GET \/v1\/nope/);
    let last = 0;
    for (let k = 0; k < 5; k++) last = (await fetch(`${url}/v1/openapi.json`, { headers: auth })).status;
    assert.equal(last, 429);
    const r = await fetch(`${url}/v1/openapi.json`, { headers: auth });
    assert.equal(r.status, 429);
    assert.match((await r.json() as { message: string }).message, /rate limit: more than 5 requests a minute for this token/);
  } finally {
    if (old === undefined) delete process.env.POSELIFT_MAX_INPUT_MB; else process.env.POSELIFT_MAX_INPUT_MB = old;
    await s.close();
  }
});

test('behind a proxy (POSELIFT_TRUST_PROXY=1) the cookie is Secure for https; a bad POSELIFT_RATE_LIMIT is one clear error', async () => {
  const saved = { ...process.env };
  try {
    process.env.POSELIFT_RATE_LIMIT = 'lots';
    await assert.rejects(buildServer({ tokens: [TOKEN], redisUrl: redis.url, queue: QUEUE, results }), /POSELIFT_RATE_LIMIT=lots: expected a whole number of requests a minute > 0/);
    delete process.env.POSELIFT_RATE_LIMIT;
    process.env.POSELIFT_TRUST_PROXY = '1';
    const s = await buildServer({ tokens: [TOKEN], redisUrl: redis.url, queue: QUEUE, results });
    try {
      const r = await s.app.inject({ method: 'POST', url: '/v1/session', payload: { token: TOKEN }, headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(r.statusCode, 204);
      assert.match(String(r.headers['set-cookie']), /HttpOnly; SameSite=Strict; Path=\/; Secure$/);
    } finally {
      await s.close();
    }
  } finally {
    process.env.POSELIFT_RATE_LIMIT = saved.POSELIFT_RATE_LIMIT;
    if (saved.POSELIFT_RATE_LIMIT === undefined) delete process.env.POSELIFT_RATE_LIMIT;
    if (saved.POSELIFT_TRUST_PROXY === undefined) delete process.env.POSELIFT_TRUST_PROXY; else process.env.POSELIFT_TRUST_PROXY = saved.POSELIFT_TRUST_PROXY;
  }
});

test('sniffing and path confinement (unit)', () => {
  assert.equal(sniff(fs.readFileSync(PHOTO))?.ext, '.jpg');
  assert.equal(sniff(Buffer.from('\x00\x00\x00\x20ftypisom\x00\x00\x02\x00'))?.kind, 'video');
  assert.equal(sniff(Buffer.from('\x00\x00\x00\x1cftypavif'))?.ext, '.avif');
  assert.equal(sniff(Buffer.from('frame,person,joint,x,y\n0,1,pelvis,1,2\n'))?.kind, 'csv');
  assert.equal(sniff(Buffer.from('  {"a": 1}'))?.kind, 'json');
  assert.equal(sniff(Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03])), null);
  assert.equal(sniff(Buffer.from('hello world')), null);
  assert.throws(() => confinePath(undefined, 'x'), /path inputs are off on this server/);
  assert.equal(confinePath(root, 'sub/person.jpg'), fs.realpathSync(path.join(root, 'sub', 'person.jpg')));
  assert.equal(confinePath(root, path.join(root, 'camera.json')), fs.realpathSync(path.join(root, 'camera.json')));
  assert.throws(() => confinePath(root, 'escape.jpg'), /symbolic link/);
});
