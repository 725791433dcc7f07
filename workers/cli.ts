/** `poselift worker | enqueue | status | result | jobs`: the queue's command line (loaded lazily by src/cli/main.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FlowProducer, Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { KeypointFormat } from '../src/formats/keypoints.js';
import {
  checkRedis, cliConnection, workerConnection, JOB_OPTIONS, queueName, redisUrl,
  type PoseliftJobData, type PoseliftJobResult, type PoseliftProgress, type SegmentSpec, type VideoJob, type VideoSegmentJob,
} from './queue.js';

const err = (s: string) => process.stderr.write(`${s}\n`);

/** Default SIGTERM grace period (seconds): below the usual 30 s a supervisor waits before SIGKILL. */
export const DEFAULT_GRACE_S = 25;

/** The grace period: --grace, else $POSELIFT_GRACE_S, else DEFAULT_GRACE_S; a bad value is one clear error. */
export function graceSeconds(flag?: number): number {
  if (flag !== undefined) return flag;
  const v = process.env.POSELIFT_GRACE_S;
  if (v === undefined || v === '') return DEFAULT_GRACE_S;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`POSELIFT_GRACE_S=${v}: expected a number of seconds >= 0, or unset for ${DEFAULT_GRACE_S}`);
  return n;
}

/**
 * `poselift worker`. SIGTERM / SIGINT: stop taking jobs and finish the current ones, for at most the grace
 * period; then (or at once when Redis does not answer, since a finished job could not be recorded) exit
 * without them: their locks expire and the stalled check of another worker gives them to it. Exit code 0
 * when nothing was left behind, 1 otherwise.
 */
export async function workerCommand(o: { concurrency?: number; threads?: number; grace?: number }): Promise<void> {
  const grace = graceSeconds(o.grace);
  await checkRedis();
  const { startWorker } = await import('./worker.js');
  const w = startWorker({ concurrency: o.concurrency ?? 1, threads: o.threads, log: (s) => err(`poselift worker: ${s}`) });
  await w.waitUntilReady();
  err(`poselift worker: listening on queue "${queueName()}" at ${redisUrl()} (concurrency ${o.concurrency ?? 1}, id ${w.presence.id}); SIGTERM / Ctrl-C finishes the current job (at most ${grace} s) and exits`);
  const code = await new Promise<number>((resolve) => {
    let closing = false;
    const leave = (why: string) => {
      const left = w.presence.info().active;
      err(`poselift worker: ${why}; exiting${left.length ? `, job(s) ${left.join(', ')} left to another worker (taken once their lock expires)` : ''}`);
      resolve(left.length ? 1 : 0);
    };
    const stop = async (sig: string) => {
      if (closing) return;
      closing = true;
      if (!(await w.presence.ping(1000))) return leave(`${sig}: Redis at ${redisUrl()} does not answer`);
      err(`poselift worker: ${sig}: finishing the current job, then exiting (grace period ${grace} s)`);
      const timer = setTimeout(() => leave(`${sig}: the grace period of ${grace} s is over`), grace * 1000);
      w.close().then(() => { clearTimeout(timer); resolve(0); }, (e) => { clearTimeout(timer); err(`poselift worker: ${(e as Error).message}`); resolve(0); });
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
  await w.presence.stop(500);
  // a job left running still has detection threads: end them between frames (an exit inside onnxruntime aborts)
  const { endAllDetectThreads } = await import('../src/detect/stream.js');
  await endAllDetectThreads();
  process.exit(code);
}

/** `poselift status --workers`: the live workers (heartbeat younger than 15 s), as JSON. */
export async function workersCommand(): Promise<void> {
  await checkRedis();
  const { listWorkers } = await import('./heartbeat.js');
  const r = new Redis(redisUrl(), { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  r.on('error', () => {});
  try {
    const list = await listWorkers(r, queueName());
    process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    if (!list.length) err(`no live workers on queue "${queueName()}" at ${redisUrl()}`);
  } finally {
    r.disconnect();
  }
}

async function withQueue<T>(f: (q: Queue) => Promise<T>): Promise<T> {
  await checkRedis();
  const q = new Queue(queueName(), { connection: cliConnection() });
  try {
    return await f(q);
  } finally {
    await q.close();
  }
}

export interface EnqueueOptions {
  camera?: string; detector?: string; keypoints?: boolean; format?: string; layout?: string; adapter?: string;
  width?: number; height?: number; fps?: number; dataset?: boolean; input?: string; stride?: number;
  models?: string; wait?: boolean;
  /** false: videos and keypoint files with a rate lifted by single-frame PoseNet (`run --no-temporal`) */
  temporal?: boolean;
  /** videos longer than this are split into segments detected by all workers (seconds; 0 = never split) */
  segmentSeconds?: number;
}

export const DEFAULT_SEGMENT_SECONDS = 60;

/**
 * The segments of a video job (`videoSegments`, frame-aligned), or null for one plain job: when the video is
 * not longer than `segmentSeconds`, splitting is off, or the video cannot be probed here (the worker then
 * reports what is wrong with it, as for any job).
 */
export async function planSegments(d: VideoJob, segmentSeconds: number): Promise<SegmentSpec[] | null> {
  if (!(segmentSeconds > 0)) return null;
  const { probeVideo } = await import('../src/detect/video.js');
  const { videoSegments } = await import('../src/app/video-stages.js');
  let info;
  try {
    info = await probeVideo(d.input);
  } catch {
    if (!fs.existsSync(d.input)) err(`enqueue: ${d.input} is not on this machine; queued as one job (splitting into segments needs the video here)`);
    return null;
  }
  const segs = videoSegments(info, { fps: d.fps, start: d.start, duration: d.duration, segmentSeconds });
  return segs.length > 1 ? segs : null;
}

/** A segmented video: a BullMQ flow, `video-segment` children under the `video` parent; returns the parent's id. */
async function addVideoFlow(d: VideoJob, segments: SegmentSpec[]): Promise<string> {
  const flow = new FlowProducer({ connection: cliConnection() });
  flow.on('error', () => { /* the add below fails with the reason */ });
  const group = `seg-${randomBytes(6).toString('hex')}`;
  const total = segments.reduce((a, s) => a + s.frames, 0);
  try {
    const node = await flow.add({
      name: 'video', queueName: queueName(), data: { ...d, segments }, opts: JOB_OPTIONS,
      children: segments.map((s, k) => ({
        name: 'video-segment', queueName: queueName(),
        data: {
          kind: 'video-segment', input: d.input, detector: d.detector, fps: d.fps, maxPeople: d.maxPeople,
          start: s.start, duration: s.duration, origin: d.start ?? 0, segment: k, segments: segments.length, total, group,
        } satisfies VideoSegmentJob,
        // a failed segment (after its retries) starts the parent, which fails with the segment's reason
        opts: { ...JOB_OPTIONS, jobId: `${group}-${k}`, continueParentOnFailure: true },
      })),
    });
    return node.job.id!;
  } finally {
    await flow.close();
  }
}

/** The job data for `enqueue INPUT..` (paths made absolute: the worker may run elsewhere in the tree). */
export async function jobDataFor(inputs: string[], o: EnqueueOptions): Promise<PoseliftJobData> {
  const abs = inputs.map((i) => path.resolve(i));
  const camera = o.camera ? path.resolve(o.camera) : undefined;
  const models = o.models ? path.resolve(o.models) : undefined;
  // only a `false` is written into the job: the worker's default stays the temporal lifter
  const noTemporal = o.temporal === false ? { temporal: false } : {};
  if (o.keypoints && o.dataset) throw new Error('enqueue: --keypoints and --dataset exclude each other');
  const one = (what: string) => {
    if (abs.length !== 1) throw new Error(`enqueue: ${what} takes one input, got ${abs.length}`);
    return abs[0];
  };
  if (o.keypoints) {
    if (!o.format) throw new Error('enqueue --keypoints: pass --format coco|openpose|csv');
    return { kind: 'keypoints', input: one('--keypoints'), format: o.format as KeypointFormat, layout: o.layout, camera, width: o.width, height: o.height, fps: o.fps, adapter: o.adapter, models, ...noTemporal };
  }
  if (o.dataset) {
    if (o.input !== 'gt2d' && o.input !== 'points2d') throw new Error('enqueue --dataset: pass --input gt2d|points2d');
    return { kind: 'dataset', input: one('--dataset'), mode: o.input, stride: o.stride, models };
  }
  const { IMAGE_EXTS } = await import('../src/app/run.js');
  const isDir = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();
  if (abs.length > 1 || isDir(abs[0]) || IMAGE_EXTS.has(path.extname(abs[0]).toLowerCase())) {
    if (abs.length > 1 && abs.some(isDir)) throw new Error('enqueue: a list of inputs must be photos; enqueue a folder on its own');
    return { kind: 'images', inputs: abs, camera, detector: o.detector, models };
  }
  return { kind: 'video', input: abs[0], camera, detector: o.detector, fps: o.fps, models, ...noTemporal };
}

/** Queue a job: a video longer than `segmentSeconds` as a segment flow (its parent returned), anything else as one job. */
export async function addJob(q: Queue, data: PoseliftJobData, segmentSeconds = DEFAULT_SEGMENT_SECONDS): Promise<{ job: Job<PoseliftJobData, PoseliftJobResult>; segments: SegmentSpec[] | null }> {
  const segments = data.kind === 'video' ? await planSegments(data, segmentSeconds) : null;
  const job = segments
    ? (await Job.fromId<PoseliftJobData, PoseliftJobResult>(q, await addVideoFlow(data as VideoJob, segments)))!
    : await q.add(data.kind, data, JOB_OPTIONS);
  return { job, segments };
}

const progressText = (p: unknown): string => {
  if (p && typeof p === 'object' && 'percent' in p) {
    const q = p as PoseliftProgress;
    return `${q.percent}% (${q.frames}${q.total ? `/${q.total}` : ''} frames)`;
  }
  return typeof p === 'number' ? `${p}%` : '';
};

export async function enqueueCommand(inputs: string[], o: EnqueueOptions): Promise<void> {
  const data = await jobDataFor(inputs, o);
  await withQueue(async (q) => {
    let events: QueueEvents | undefined;
    try {
      if (o.wait) {
        // --wait outlives a Redis restart: the events connection retries for ever (the first check above
        // already failed fast if Redis was down at the start); connection errors are reported once, not thrown
        let warned = false;
        const lost = (e: Error) => {
          if (warned) return;
          warned = true;
          err(`poselift: lost Redis at ${redisUrl()} (${e.message}); waiting for it to come back`);
        };
        q.on('error', lost);
        events = new QueueEvents(queueName(), { connection: workerConnection() });
        events.on('error', lost);
        await events.waitUntilReady();
      }
      const { job, segments } = await addJob(q, data, o.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS);
      process.stdout.write(`${job.id}\n`);
      if (segments) err(`job ${job.id}: ${segments.length} segments of about ${o.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS} s, detected by any workers, then joined`);
      if (!events) return;
      events.on('progress', ({ jobId, data: p }) => { if (jobId === job.id) err(`job ${job.id}: ${progressText(p)}`); });
      events.on('retries-exhausted', () => { /* the final failure arrives as 'failed' */ });
      try {
        const r = (await job.waitUntilFinished(events)) as PoseliftJobResult;
        err(`job ${job.id} completed -> ${r.result}`);
      } catch (e) {
        throw new Error(`job ${job.id} failed: ${(e as Error).message}`);
      }
    } finally {
      await events?.close();
    }
  });
}

async function getJob(q: Queue, id: string): Promise<Job<PoseliftJobData, PoseliftJobResult>> {
  const job = await Job.fromId<PoseliftJobData, PoseliftJobResult>(q, id);
  if (!job) throw new Error(`job ${id}: not found in queue "${queueName()}" at ${redisUrl()} (finished jobs are kept for the last 1000); list them with \`poselift jobs\``);
  return job;
}

export async function statusCommand(id: string): Promise<void> {
  await withQueue(async (q) => {
    const job = await getJob(q, id);
    const state = await job.getState();
    const o = {
      id: job.id, kind: job.data.kind, state, progress: job.progress, attempts: job.attemptsMade,
      failed_reason: job.failedReason || null,
      result: job.returnvalue?.result ?? null,
      created: new Date(job.timestamp).toISOString(),
      finished: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    };
    process.stdout.write(JSON.stringify(o, null, 2) + '\n');
  });
}

export async function resultCommand(id: string, o: { out?: string }): Promise<void> {
  await withQueue(async (q) => {
    const job = await getJob(q, id);
    const state = await job.getState();
    if (state !== 'completed') {
      throw new Error(`job ${id}: is ${state}${job.failedReason ? ` (${job.failedReason})` : ''}, no result; see \`poselift status ${id}\``);
    }
    const files = job.returnvalue.files;
    for (const f of files) if (!fs.existsSync(f)) throw new Error(`job ${id}: result file ${f} is gone (run the worker and this command on the same file system)`);
    if (!o.out) {
      for (const f of files) process.stdout.write(fs.readFileSync(f, 'utf8'));
      return;
    }
    if (files.length === 1 && !(fs.existsSync(o.out) && fs.statSync(o.out).isDirectory()) && !/[\\/]$/.test(o.out)) {
      fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
      fs.copyFileSync(files[0], o.out);
      err(`job ${id}: -> ${o.out}`);
      return;
    }
    fs.mkdirSync(o.out, { recursive: true });
    for (const f of files) fs.copyFileSync(f, path.join(o.out, path.basename(f)));
    err(`job ${id}: ${files.length} file(s) -> ${o.out}`);
  });
}

export async function jobsCommand(o: { limit?: number }): Promise<void> {
  await withQueue(async (q) => {
    const n = o.limit ?? 20;
    const jobs = (await q.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed'], 0, n - 1, false))
      .filter((j): j is Job => !!j);
    jobs.sort((a, b) => b.timestamp - a.timestamp);
    for (const j of jobs.slice(0, n)) {
      const d = j.data as PoseliftJobData;
      const what = d.kind === 'images' ? `${d.inputs[0]}${d.inputs.length > 1 ? ` (+${d.inputs.length - 1})` : ''}` : d.input;
      const state = await j.getState();
      const extra = state === 'failed' ? ` ${j.failedReason}` : state === 'completed' ? ` -> ${(j.returnvalue as PoseliftJobResult)?.result}` : ` ${progressText(j.progress)}`;
      process.stdout.write(`${j.id}\t${state}\t${d.kind}\t${new Date(j.timestamp).toISOString()}\t${what}${extra}\n`);
    }
    if (!jobs.length) err(`no jobs in queue "${queueName()}" at ${redisUrl()}`);
  });
}
