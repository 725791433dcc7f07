/**
 * Queue soak (GitHub issue 7): many small `keypoints` jobs (tiny CSV files, some deliberately bad) through two
 * worker processes (`node bin/poselift.js worker`) on a private loopback redis-server, while one worker is
 * SIGKILLed and restarted twice and Redis is restarted once. Checks that every job ends exactly once
 * (completed, or failed with a reason), that every completed job has exactly one intact result file (and no
 * temp files are left), and samples the workers' resident memory.
 *
 *   npm run soak                 # 500 jobs (needs `npm run build` first: the workers run dist/)
 *   node --import tsx bench/soak.ts --jobs 100
 *
 * Also the process helpers of the queue's fault tests (`test/integration/queue-faults.test.ts`, `test/integration/soak.test.ts`):
 * a redis-server child with AOF persistence (`--appendonly yes --appendfsync always`) so that a restart
 * keeps the queue, and worker child processes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue, QueueEvents, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { PoseliftJobData, PoseliftJobResult } from '../workers/queue.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(REPO, 'bin', 'poselift.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private redis-server (child process) with append-only persistence in its own folder, so a restart keeps the queue. */
export class RedisProc {
  proc: ChildProcess | null = null;
  readonly url: string;
  constructor(readonly port: number, readonly dir: string) {
    this.url = `redis://127.0.0.1:${port}`;
    fs.mkdirSync(dir, { recursive: true });
  }
  static async create(dir: string): Promise<RedisProc> {
    const r = new RedisProc(await freePort(), dir);
    await r.start();
    return r;
  }
  async start(): Promise<void> {
    const p = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes',
      '--appendfsync', 'always', '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    this.proc = p;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (p.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited with ${p.exitCode}`);
      const c = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
      c.on('error', () => {});
      try {
        await c.connect();
        // loading the AOF: PING answers LOADING until done
        if ((await c.ping()) === 'PONG') { c.disconnect(); return; }
      } catch { /* not yet */ }
      c.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
      await sleep(50);
    }
  }
  /** SIGTERM (a clean shutdown, as a service restart does) or SIGKILL; resolves when it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await done;
  }
  async restart(downMs = 1000): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.start();
  }
}

/** A `poselift worker` child process (the compiled CLI) and its stderr log. */
/** The queue tests' harness: a private redis-server (AOF) in `dir`, a queue and its event stream on it. */
export interface QueueHarness {
  redis: RedisProc;
  queue: Queue<PoseliftJobData, PoseliftJobResult>;
  events: QueueEvents;
}

export async function startQueueHarness(dir: string, name: string): Promise<QueueHarness> {
  const redis = await RedisProc.create(path.join(dir, 'redis'));
  const connection = { url: redis.url, maxRetriesPerRequest: null };
  const queue = new Queue<PoseliftJobData, PoseliftJobResult>(name, { connection });
  queue.on('error', () => { /* while Redis restarts */ });
  const events = new QueueEvents(name, { connection });
  events.on('error', () => {});
  await events.waitUntilReady();
  return { redis, queue, events };
}

/** Kill the workers, close the queue, stop its redis-server and remove `dir`. */
export async function stopQueueHarness(h: Partial<QueueHarness>, workers: WorkerProc[], dir: string | undefined): Promise<void> {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await h.events?.close();
  await h.queue?.close();
  await h.redis?.stop('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

export class WorkerProc {
  readonly proc: ChildProcess;
  log = '';
  readonly exited: Promise<number | null>;
  constructor(env: NodeJS.ProcessEnv, readonly name = 'worker') {
    this.proc = spawn(process.execPath, [CLI, 'worker'], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (d) => { this.log += d; });
    // 'close': exited and its stderr fully read
    this.exited = new Promise((r) => this.proc.once('close', (code) => r(code)));
  }
  get pid(): number { return this.proc.pid!; }
  alive(): boolean { return this.proc.exitCode === null && this.proc.signalCode === null; }
  /** resolves once the worker says it is listening */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!/listening on queue/.test(this.log)) {
      if (!this.alive()) throw new Error(`${this.name} exited before it was ready:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.log}`);
      await sleep(50);
    }
  }
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.alive()) this.proc.kill(signal);
    return this.exited;
  }
  /** resident memory (MB) from /proc, 0 when gone */
  rssMb(): number {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : 0;
    } catch { return 0; }
  }
}

/** Worker environment for a private Redis: short lock and stalled check so a SIGKILLed worker's job comes back in ~2 s. */
export function workerEnv(url: string, queue: string, results: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { REDIS_URL: url, POSELIFT_QUEUE: queue, POSELIFT_RESULTS: results, POSELIFT_LOCK_MS: '2000', POSELIFT_STALLED_MS: '1000', ...extra };
}

/** The four Human3.6M photos of the shared data (research-only: read in place, never copied into the repo). */
export const H36M_PHOTOS = ['S1_Directions_1.54138969_000001.jpg', 'S5_SittingDown.54138969_002061.jpg', 'S7_Greeting.55011271_000396.jpg', 'S8_WalkDog_1.55011271_000026.jpg'];

/**
 * A test video from still photos (ffmpeg): each photo held `secondsEach` s at `fps`, scaled to fit `w` x `h`
 * and padded, cycled `cycles` times.
 */
export function photoVideo(file: string, photos: string[], o: { secondsEach: number; fps: number; w: number; h: number; cycles?: number }): void {
  const args = ['-y', '-loglevel', 'error'];
  const list = Array.from({ length: o.cycles ?? 1 }, () => photos).flat();
  for (const p of list) args.push('-loop', '1', '-t', String(o.secondsEach), '-framerate', String(o.fps), '-i', p);
  const f = list.map((_, i) => `[${i}]scale=${o.w}:${o.h}:force_original_aspect_ratio=decrease,pad=${o.w}:${o.h}:(ow-iw)/2:(oh-ih)/2,setsar=1[v${i}]`).join(';') +
    ';' + list.map((_, i) => `[v${i}]`).join('') + `concat=n=${list.length}:v=1:a=0,format=yuv420p`;
  execFileSync('ffmpeg', [...args, '-filter_complex', f, '-r', String(o.fps), file]);
}

// ---------------------------------------------------------------------------------------------- the soak

const JOINTS = ['pelvis', 'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee', 'left_ankle', 'spine', 'thorax',
  'neck_nose', 'head_top', 'left_shoulder', 'left_elbow', 'left_wrist', 'right_shoulder', 'right_elbow', 'right_wrist'];
const XY = [[500, 500], [470, 500], [470, 650], [470, 800], [530, 500], [530, 650], [530, 800], [500, 420], [500, 340],
  [500, 300], [500, 250], [550, 340], [570, 420], [580, 490], [450, 340], [430, 420], [420, 490]];

/** A tiny CSV: `frames` frames of one person, shifted by `dx` px per file. */
export function personCsv(frames: number, dx: number): string {
  let s = 'frame,person,joint,x,y,score\n';
  for (let f = 0; f < frames; f++) s += JOINTS.map((j, i) => `${f},1,${j},${XY[i][0] + dx + 3 * f},${XY[i][1]},1`).join('\n') + '\n';
  return s;
}

export interface SoakOptions {
  jobs: number;
  /** every n-th job is bad (fails for its input) */
  badEvery?: number;
  /** SIGKILL + restart of worker A, at these fractions of jobs finished */
  killAt?: number[];
  /** Redis restarts at these fractions */
  redisRestartAt?: number[];
  /** how long Redis stays down at each restart (ms; default 1000) */
  redisDownMs?: number;
  /** give up waiting after this long (then unfinished jobs count as lost) */
  timeoutMs?: number;
  log?: (s: string) => void;
  /** keep the temp folder (results, logs) */
  keep?: boolean;
  /** extra worker environment (e.g. a shorter POSELIFT_LOCK_MS to provoke lock expiry) */
  env?: NodeJS.ProcessEnv;
}

/** BullMQ's reason for a job that stalled more than its worker's maxStalledCount allows */
export const STALL_LIMIT = 'job stalled more than allowable limit';

export interface SoakReport {
  jobs: number;
  completed: number;
  failed_with_reason: number;
  failed_without_reason: number;
  /** failed but should have completed, or completed but should have failed */
  wrong_outcome: number;
  /**
   * good jobs hit by two faults (stalled twice: their worker killed, or their lock lost in a Redis restart)
   * that BullMQ failed with "job stalled more than allowable limit", as documented (maxStalledCount 1): the
   * right outcome, not a wrong one; a result file an earlier attempt renamed into place must be intact
   */
  stalled_out: number;
  /** one line per job with the wrong outcome or a bad result file: its id, state, attempts and failure reason */
  problems: string[];
  lost: number;
  duplicates: number;
  bad_result_files: number;
  temp_files_left: number;
  worker_kills: number;
  redis_restarts: number;
  /** jobs a killed worker had in hand, completed by another attempt */
  recovered_after_kill: number;
  peak_rss_mb: number;
  /** the never-killed worker: peak RSS over the first and the last third of the run (after the first 10 % of jobs) */
  rss_first_third_mb: number;
  rss_last_third_mb: number;
  wall_s: number;
  dir: string;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => {});
  const badEvery = o.badEvery ?? 10;
  const killAt = o.killAt ?? [0.2, 0.65];
  const redisAt = o.redisRestartAt ?? [0.45];
  const t0 = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-soak-'));
  const results = path.join(dir, 'results');
  const inputs = path.join(dir, 'inputs');
  fs.mkdirSync(inputs, { recursive: true });
  const good: string[] = [];
  for (let k = 0; k < 8; k++) {
    const f = path.join(inputs, `good${k}.csv`);
    fs.writeFileSync(f, personCsv(1 + (k % 3), 4 * k));
    good.push(f);
  }
  const badJoint = path.join(inputs, 'bad-joint.csv');
  fs.writeFileSync(badJoint, personCsv(1, 0).replace(',left_elbow,', ',elbow,'));
  const missing = path.join(inputs, 'missing.csv');

  const redis = await RedisProc.create(path.join(dir, 'redis'));
  const queueName = `soak-${process.pid}`;
  const env = workerEnv(redis.url, queueName, results, o.env);
  const conn = { url: redis.url, maxRetriesPerRequest: null };
  const queue = new Queue(queueName, { connection: conn });
  queue.on('error', () => { /* Redis restart: ioredis reconnects */ });
  const workers: WorkerProc[] = [];
  let a = new WorkerProc(env, 'worker A');
  const b = new WorkerProc(env, 'worker B');
  workers.push(a, b);
  const samplesB: { t: number; mb: number }[] = [];
  let warm = false;
  let peak = 0;
  const sampler = setInterval(() => {
    for (const w of [a, b]) peak = Math.max(peak, w.rssMb());
    // the never-killed worker, once warm (models loaded, jobs flowing)
    if (warm) samplesB.push({ t: Date.now(), mb: b.rssMb() });
  }, 200);
  let kills = 0, restarts = 0;
  const killedJobs = new Set<string>();
  try {
    await Promise.all([a.ready(), b.ready()]);
    const expectBad = new Set<string>();
    const opts: JobsOptions = { attempts: 3, backoff: { type: 'exponential', delay: 200 }, removeOnComplete: false, removeOnFail: false };
    const bulk: { name: string; data: PoseliftJobData; opts: JobsOptions }[] = [];
    for (let i = 0; i < o.jobs; i++) {
      const id = `s${i}`;
      const bad = i % badEvery === badEvery - 1;
      const input = !bad ? good[i % good.length] : (i % (2 * badEvery) === badEvery - 1 ? badJoint : missing);
      if (bad) expectBad.add(id);
      bulk.push({ name: 'keypoints', data: { kind: 'keypoints', input, format: 'csv', layout: 'h36m17', width: 1000, height: 1000 }, opts: { ...opts, jobId: id } });
    }
    // the producer keeps a few jobs waiting (jobs keep arriving through the faults, as in production)
    const window = 6;
    let added = 0;
    log(`soak: ${o.jobs} jobs for ${redis.url} (queue ${queueName}); workers A (pid ${a.pid}) and B (pid ${b.pid})`);

    const faults = [
      ...killAt.map((f) => ({ f, kind: 'kill' as const })),
      ...redisAt.map((f) => ({ f, kind: 'redis' as const })),
    ].sort((x, y) => x.f - y.f);
    const deadline = t0 + (o.timeoutMs ?? Math.max(120_000, o.jobs * 600));
    let finished = 0;
    while (Date.now() < deadline) {
      const c = await queue.getJobCounts('completed', 'failed');
      finished = c.completed + c.failed;
      warm ||= finished >= Math.max(1, Math.round(o.jobs / 10));
      if (added < o.jobs && added - finished < window) {
        const n = Math.min(o.jobs - added, window - (added - finished));
        await queue.addBulk(bulk.slice(added, added + n));
        added += n;
      }
      if (finished >= o.jobs && !faults.length) break;
      const next = faults[0];
      if (next && finished >= next.f * o.jobs) {
        faults.shift();
        if (next.kind === 'kill') {
          // kill A while it holds a job if it can be caught doing so (its log ends with a "started" line)
          const until = Date.now() + 3000;
          while (Date.now() < until && !/started\n$/.test(a.log)) await sleep(5);
          const held = /job (\S+) \(keypoints\) started\n$/.exec(a.log)?.[1];
          await a.kill('SIGKILL');
          kills++;
          if (held) killedJobs.add(held);
          log(`soak: ${finished}/${o.jobs} finished: SIGKILL worker A (pid ${a.pid})${held ? ` holding job ${held}` : ''}`);
          await sleep(500);
          a = new WorkerProc(env, 'worker A');
          workers.push(a);
          await a.ready();
          log(`soak: worker A restarted (pid ${a.pid})`);
        } else {
          log(`soak: ${finished}/${o.jobs} finished: restarting Redis`);
          await redis.restart(o.redisDownMs ?? 1000);
          restarts++;
          log('soak: Redis is back');
        }
        continue;
      }
      await sleep(20);
    }
    const wall = (Date.now() - t0) / 1000;
    clearInterval(sampler);

    // outcomes, from Redis
    let completed = 0, failedWith = 0, failedWithout = 0, wrong = 0, lost = 0, badFiles = 0, stalledTwice = 0;
    /** job i's result file parses and has its input's frames of 17 joints */
    const intact = (out: string, i: number): boolean => {
      try {
        const doc = JSON.parse(fs.readFileSync(out, 'utf8'));
        return doc.schema === 'poselift/1' && doc.frames.length === 1 + ((i % good.length) % 3) && doc.frames[0].people[0].joints3d.length === 17;
      } catch { return false; }
    };
    const problems: string[] = [];
    const note = (id: string, what: string, job: Awaited<ReturnType<typeof queue.getJob>>) =>
      problems.push(`${id} (${expectBad.has(id) ? 'bad' : 'good'} input): ${what}; attempts ${job?.attemptsMade ?? '-'}, stalled ${job?.stalledCounter ?? '-'}` +
        `${job?.failedReason ? `, reason: ${job.failedReason}` : ''}` +
        workers.flatMap((w) => w.log.split('\n').filter((l) => l.includes(`job ${id} `)).map((l) => `\n    ${w.name} (pid ${w.pid}): ${l}`)).join(''));
    for (let i = 0; i < o.jobs; i++) {
      const id = `s${i}`;
      const job = await queue.getJob(id);
      const state = job ? await job.getState() : 'missing';
      const out = path.join(results, `${id}.poselift.json`);
      if (state === 'completed') {
        completed++;
        if (expectBad.has(id)) { wrong++; note(id, 'completed', job); }
        if (!intact(out, i)) { badFiles++; note(id, 'completed, result file missing, unreadable or wrong', job); }
      } else if (state === 'failed') {
        if (job!.failedReason) failedWith++; else failedWithout++;
        const stalledOut = !expectBad.has(id) && job!.failedReason === STALL_LIMIT && job!.stalledCounter > 1;
        if (stalledOut) {
          stalledTwice++;
          note(id, 'failed: stalled twice', job);
          if (fs.existsSync(out) && !intact(out, i)) { badFiles++; note(id, 'stalled twice, and the result file an earlier attempt wrote is broken', job); }
        } else {
          if (!expectBad.has(id)) { wrong++; note(id, 'failed', job); }
          if (fs.existsSync(out)) { badFiles++; note(id, 'failed, but a result file exists', job); }
        }
      } else { lost++; note(id, `lost (state ${state})`, job); }
    }
    const files = fs.existsSync(results) ? fs.readdirSync(results) : [];
    const temps = files.filter((n) => n.endsWith('.tmp')).length;
    // exactly once: each job's terminal events in the queue's event stream, and the workers' own logs
    const r = new Redis(redis.url);
    const stream = (await r.xrange(`bull:${queueName}:events`, '-', '+')) as [string, string[]][];
    await r.quit();
    const ends = new Map<string, number>();
    for (const [, kv] of stream) {
      const ev: Record<string, string> = {};
      for (let k = 0; k < kv.length; k += 2) ev[kv[k]] = kv[k + 1];
      if (ev.event === 'completed' || ev.event === 'failed') ends.set(ev.jobId, (ends.get(ev.jobId) ?? 0) + 1);
    }
    const logged = new Map<string, number>();
    for (const w of workers) for (const m of w.log.matchAll(/job (\S+) (completed|failed \(attempt \d+\): )/g)) {
      if (m[2] === 'completed') logged.set(m[1], (logged.get(m[1]) ?? 0) + 1);
    }
    let duplicates = 0;
    for (let i = 0; i < o.jobs; i++) {
      const id = `s${i}`;
      if ((ends.get(id) ?? 0) > 1 || (logged.get(id) ?? 0) > 1) duplicates++;
    }
    let recovered = 0;
    for (const id of killedJobs) if ((await queue.getJob(id).then((j) => j?.getState())) === 'completed') recovered++;
    const third = (k: number) => {
      const s0 = samplesB[0]?.t ?? t0, s1 = samplesB[samplesB.length - 1]?.t ?? t0, span = (s1 - s0) / 3;
      return Math.max(0, ...samplesB.filter((s) => s.t >= s0 + k * span && s.t <= s0 + (k + 1) * span).map((s) => s.mb));
    };
    return {
      jobs: o.jobs, completed, failed_with_reason: failedWith, failed_without_reason: failedWithout, wrong_outcome: wrong, stalled_out: stalledTwice, problems,
      lost, duplicates, bad_result_files: badFiles, temp_files_left: temps, worker_kills: kills, redis_restarts: restarts,
      recovered_after_kill: recovered, peak_rss_mb: Math.round(peak), rss_first_third_mb: Math.round(third(0)),
      rss_last_third_mb: Math.round(third(2)), wall_s: Math.round(wall * 10) / 10, dir,
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await queue.close().catch(() => {});
    await redis.stop('SIGKILL');
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function soakText(r: SoakReport): string {
  return [
    `jobs ${r.jobs}: completed ${r.completed}, failed with reason ${r.failed_with_reason}, failed without reason ${r.failed_without_reason}, ` +
      `wrong outcome ${r.wrong_outcome}, stalled twice (failed by BullMQ's stall limit, as documented) ${r.stalled_out}`,
    `lost ${r.lost} (must be 0), duplicates ${r.duplicates} (must be 0), bad result files ${r.bad_result_files}, temp files left ${r.temp_files_left}`,
    `faults: ${r.worker_kills} worker SIGKILLs (${r.recovered_after_kill} held jobs completed by a later attempt), ${r.redis_restarts} Redis restarts`,
    `memory: peak worker RSS ${r.peak_rss_mb} MB; never-killed worker: ${r.rss_first_third_mb} MB (first third) -> ${r.rss_last_third_mb} MB (last third)`,
    `wall ${r.wall_s} s`,
    ...r.problems.map((p) => `  ${p}`),
  ].join('\n');
}

/** The pass rule shared by `npm run soak` and the test. */
export function soakProblems(r: SoakReport): string[] {
  const p: string[] = [];
  if (r.lost) p.push(`${r.lost} jobs lost`);
  if (r.duplicates) p.push(`${r.duplicates} jobs completed more than once`);
  if (r.failed_without_reason) p.push(`${r.failed_without_reason} jobs failed without a reason`);
  if (r.wrong_outcome) p.push(`${r.wrong_outcome} jobs with the wrong outcome`);
  if (r.bad_result_files) p.push(`${r.bad_result_files} missing, broken or stray result files`);
  if (r.temp_files_left) p.push(`${r.temp_files_left} temp files left`);
  if (r.completed + r.failed_with_reason + r.failed_without_reason !== r.jobs) p.push('job count mismatch');
  // each job stalled twice needs two of the faults (a kill or a Redis restart each): more means locks are lost without one
  if (r.stalled_out > Math.floor((r.worker_kills + r.redis_restarts) / 2)) p.push(`${r.stalled_out} jobs stalled twice, more than the faults explain`);
  // bounded memory: the last third's peak within 25 % + 50 MB of the first third's
  if (r.rss_last_third_mb > 1.25 * r.rss_first_third_mb + 50) p.push(`worker memory grew ${r.rss_first_third_mb} -> ${r.rss_last_third_mb} MB`);
  return p;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const arg = (name: string, d: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  if (!fs.existsSync(path.join(REPO, 'dist', 'src', 'cli', 'main.js'))) {
    process.stderr.write('soak: the workers run the compiled CLI; run `npm run build` first\n');
    process.exit(1);
  }
  const r = await runSoak({ jobs: arg('--jobs', 500), log: (s) => process.stderr.write(`${s}\n`), keep: process.argv.includes('--keep') });
  process.stdout.write(soakText(r) + '\n');
  const p = soakProblems(r);
  if (p.length) { process.stdout.write(`FAIL: ${p.join('; ')}\n`); process.exit(1); }
  process.stdout.write('PASS\n');
}
