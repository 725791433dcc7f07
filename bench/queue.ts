/**
 * Queue benchmark (issue 4's targets): the same long video through
 *   1. `runInputs` in this process (what `poselift run` does), one detection thread;
 *   2. one worker process through a private Redis, one job;
 *   3. the same worker, the video split into segments (`--segment-seconds`);
 *   4. two worker processes sharing the segments;
 * every worker single-threaded (POSELIFT_THREADS=1), all warmed up first (models loaded). Prints wall times,
 * the queue's overhead (2 vs 1, target <= 5 %) and the scaling (4 vs 2 and 4 vs 3, target >= 1.8x on 2 cores),
 * and checks that the four documents are identical.
 *
 *   npm run build && npm run bench:queue -- [--quick] [--runs N] [--seconds 60] [--detector movenet-lightning] [--segment-seconds 15]
 *
 * Default: 60 s of 1280x720 at 25 fps made with ffmpeg from the four h36m-images photos (../shared/data,
 * read in place); --quick: 8 s. Needs redis-server and ffmpeg.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { H36M_PHOTOS, REPO, RedisProc, WorkerProc, photoVideo, workerEnv } from './soak.js';
import type { DetectorName } from '../src/detect/types.js';
import type { PoseliftJobData, PoseliftJobResult } from '../workers/queue.js';
import { median } from '../src/util/numeric.js';

const argv = process.argv.slice(2);
const opt = (name: string, d: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : d; };
const quick = argv.includes('--quick');
const seconds = Number(opt('--seconds', quick ? '8' : '60'));
const detector = opt('--detector', 'movenet-lightning') as DetectorName;
const segmentSeconds = Number(opt('--segment-seconds', String(Math.max(1, Math.round(seconds / 4)))));
const [W, H] = opt('--size', '1280x720').split('x').map(Number);
const FPS = Number(opt('--fps', '25'));
const RUNS = Math.max(1, Number(opt('--runs', '1')));
const DATA = process.env.POSELIFT_DATA ?? path.resolve(REPO, '../shared/data');
const MODELS = path.join(REPO, 'models');
const log = (s: string) => process.stderr.write(`${s}\n`);

if (!fs.existsSync(path.join(REPO, 'dist', 'src', 'cli', 'main.js'))) {
  log('bench:queue: the workers run the compiled CLI; run `npm run build` first');
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-bench-queue-'));
const photos = H36M_PHOTOS.map((p) => path.join(DATA, 'h36m-images', 'images', p));
const video = path.join(tmp, 'long.mp4');
const warm = path.join(tmp, 'warm.mp4');
// each photo held 1..3 s, cycled to fill the length
const each = seconds >= 12 ? 3 : Math.max(0.5, seconds / 4);
photoVideo(video, photos, { secondsEach: each, fps: FPS, w: W, h: H, cycles: Math.max(1, Math.round(seconds / (4 * each))) });
photoVideo(warm, photos.slice(0, 1), { secondsEach: 1, fps: FPS, w: W, h: H });

const redis = await RedisProc.create(path.join(tmp, 'redis'));
const QUEUE = `bench-${process.pid}`;
const results = path.join(tmp, 'results');
process.env.REDIS_URL = redis.url;
process.env.POSELIFT_QUEUE = QUEUE;
const { addJob } = await import('../workers/cli.js');
const { runInputs } = await import('../src/app/run.js');
const connection = { url: redis.url, maxRetriesPerRequest: null };
const queue = new Queue<PoseliftJobData, PoseliftJobResult>(QUEUE, { connection });
const events = new QueueEvents(QUEUE, { connection });
await events.waitUntilReady();
const workers: WorkerProc[] = [];
const env = workerEnv(redis.url, QUEUE, results, { POSELIFT_THREADS: '1', POSELIFT_LOCK_MS: '', POSELIFT_STALLED_MS: '' });

const job = (input: string): PoseliftJobData => ({ kind: 'video', input, detector });
/** CPU seconds (user + system, its reaped children such as ffmpeg included) of processes, from /proc: less load-sensitive than wall time */
function cpuS(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const v = f.slice(f.lastIndexOf(')') + 2).split(' ').map(Number);
      ticks += v[11] + v[12] + v[13] + v[14]; // utime stime cutime cstime (fields 14..17)
    } catch { /* gone */ }
  }
  return ticks / 100; // USER_HZ
}
/** the median wall time of RUNS runs (the last run's document) */
async function timed<T extends { s: number }>(f: () => Promise<T>, pids: () => number[]): Promise<T & { all: number[]; cpu: number }> {
  const all: number[] = [], cpu: number[] = [];
  let r!: T;
  for (let k = 0; k < RUNS; k++) {
    const c0 = cpuS(pids());
    r = await f();
    all.push(r.s);
    cpu.push(cpuS(pids()) - c0);
  }
  return { ...r, s: median(all), all, cpu: median(cpu) };
}
const range = (r: { all: number[] }) => (r.all.length > 1 ? ` (${Math.min(...r.all).toFixed(1)}..${Math.max(...r.all).toFixed(1)})` : '');

async function through(input: string, seg: number): Promise<{ s: number; doc: unknown; segments: number }> {
  const t = performance.now();
  const { job: j, segments } = await addJob(queue, job(input), seg);
  const r = (await j.waitUntilFinished(events)) as PoseliftJobResult;
  const s = (performance.now() - t) / 1000;
  return { s, doc: JSON.parse(fs.readFileSync(r.result, 'utf8')), segments: segments?.length ?? 1 };
}

try {
  const info = `${seconds} s of ${W}x${H} at ${FPS} fps (${Math.round(seconds * FPS)} frames), ${detector}, segments of ${segmentSeconds} s`;
  log(`bench:queue: ${info}; ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  // 1. in-process, after a warm-up (models loaded, as in a running worker)
  await runInputs([warm], { detector, models: MODELS, threads: 1, out: path.join(tmp, 'warm.poselift.json') });
  const inproc = await timed(async () => {
    const t = performance.now();
    const [ref] = await runInputs([video], { detector, models: MODELS, threads: 1, out: path.join(tmp, 'inproc.poselift.json') });
    return { s: (performance.now() - t) / 1000, doc: JSON.parse(JSON.stringify(ref.doc)) as unknown };
  }, () => [process.pid]);
  const tIn = inproc.s;
  const refDoc = inproc.doc;
  log(`  in-process: ${tIn.toFixed(1)} s`);
  // 2, 3. one worker
  workers.push(new WorkerProc(env, 'worker A'));
  await workers[0].ready();
  await through(warm, 0);
  const wpids = () => workers.map((w) => w.pid);
  const one = await timed(() => through(video, 0), wpids);
  log(`  1 worker: ${one.s.toFixed(1)} s`);
  const oneSeg = await timed(() => through(video, segmentSeconds), wpids);
  log(`  1 worker, ${oneSeg.segments} segments: ${oneSeg.s.toFixed(1)} s`);
  // 4. two workers (B warmed by a job of its own: two warm-up jobs at once, A takes one, B the other)
  workers.push(new WorkerProc(env, 'worker B'));
  await workers[1].ready();
  for (let k = 0; k < 3 && !/completed/.test(workers[1].log); k++) await Promise.all([through(warm, 0), through(warm, 0)]);
  const two = await timed(() => through(video, segmentSeconds), wpids);
  log(`  2 workers, ${two.segments} segments: ${two.s.toFixed(1)} s`);
  const same = [one, oneSeg, two].every((r) => JSON.stringify(r.doc) === JSON.stringify(refDoc));
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`;
  const lines = [
    `video: ${info}`,
    `| run | wall s${RUNS > 1 ? ` (median of ${RUNS}, min..max)` : ''} | CPU s (workers or this process, ffmpeg included) |`,
    `|---|---|---|`,
    `| in-process runInputs, 1 detection thread | ${tIn.toFixed(1)}${range(inproc)} | ${inproc.cpu.toFixed(1)} |`,
    `| 1 worker through Redis, one job | ${one.s.toFixed(1)}${range(one)} | ${one.cpu.toFixed(1)} |`,
    `| 1 worker, ${oneSeg.segments} segments | ${oneSeg.s.toFixed(1)}${range(oneSeg)} | ${oneSeg.cpu.toFixed(1)} |`,
    `| 2 workers, ${two.segments} segments | ${two.s.toFixed(1)}${range(two)} | ${two.cpu.toFixed(1)} |`,
    `queue overhead (1 worker vs in-process): ${pct(one.s / tIn - 1)} wall, ${pct(one.cpu / inproc.cpu - 1)} CPU (target <= +5 %)`,
    `segmenting overhead (1 worker, segments vs one job): ${pct(oneSeg.s / one.s - 1)} wall, ${pct(oneSeg.cpu / one.cpu - 1)} CPU`,
    `load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (wall times on a shared machine move with it)`,
    `scaling: 2 workers vs 1 worker one job ${(one.s / two.s).toFixed(2)}x, vs 1 worker same segments ${(oneSeg.s / two.s).toFixed(2)}x (target >= 1.8x)`,
    // one worker overlaps decoding (ffmpeg), detection (its thread) and lifting (its main thread), so it already
    // keeps more than one core busy: two workers can at best share the machine's cores between them
    `one worker keeps ${(oneSeg.cpu / oneSeg.s).toFixed(2)} cores busy (CPU s / wall s, segments); on ${os.cpus().length} cores two workers can be at most ${Math.min(2, os.cpus().length / (oneSeg.cpu / oneSeg.s)).toFixed(2)}x faster than one`,
    `documents identical to in-process: ${same ? 'yes' : 'NO'}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (!same) process.exitCode = 1;
} finally {
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  await events.close();
  await queue.close();
  await redis.stop('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
}
