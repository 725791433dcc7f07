/** A BullMQ worker for the poselift queue, processing jobs in this process (`processJob`). */
import { Queue, Worker } from 'bullmq';
import { processJob } from './process.js';
import { queueName, resultsDir, workerConnection, type PoseliftJobData, type PoseliftJobResult } from './queue.js';
import { closeDetectThreads } from '../src/detect/stream.js';
import { Presence } from './heartbeat.js';

export interface WorkerOptions {
  concurrency?: number;
  queue?: string;
  url?: string;
  results?: string;
  /** BullMQ key prefix (default "bull") */
  prefix?: string;
  /** how long a job's lock lasts without renewal (ms; default $POSELIFT_LOCK_MS, else BullMQ's 30000) */
  lockDuration?: number;
  /** how often the worker looks for stalled jobs of dead workers (ms; default $POSELIFT_STALLED_MS, else BullMQ's 30000) */
  stalledInterval?: number;
  /** 2D detection threads per video job (default $POSELIFT_THREADS, else one per core, at most 4) */
  threads?: number;
  log?: (s: string) => void;
  /** heartbeat interval (ms; default HEARTBEAT_MS in heartbeat.ts) */
  heartbeatMs?: number;
}

/** The message a job cancelled through `publishCancel` (DELETE /v1/jobs/:id) fails with. */
export const CANCEL_REASON = 'cancelled on request';

/** A poselift worker: BullMQ's, plus its heartbeat / cancel listener (closed with it). */
export type PoseliftWorker = Worker<PoseliftJobData, PoseliftJobResult> & { presence: Presence };

/** A positive integer from the environment, or undefined (the default); a bad value is one clear error. */
export function envPositiveInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${v}: expected a whole number > 0, or unset for the default`);
  return n;
}

export function startWorker(o: WorkerOptions = {}): PoseliftWorker {
  const results = o.results ?? resultsDir();
  const lockDuration = o.lockDuration ?? envPositiveInt('POSELIFT_LOCK_MS');
  const stalledInterval = o.stalledInterval ?? envPositiveInt('POSELIFT_STALLED_MS');
  const threads = o.threads ?? envPositiveInt('POSELIFT_THREADS');
  const name = o.queue ?? queueName();
  // segment jobs report their parent's progress through a queue handle, opened on first use
  let queue: Queue | undefined;
  const getQueue = () => {
    if (!queue) {
      queue = new Queue(name, { connection: workerConnection(o.url), ...(o.prefix ? { prefix: o.prefix } : {}) });
      queue.on('error', () => { /* the worker reports connection trouble */ });
    }
    return queue;
  };
  const running = new Set<string>();
  // three parameters: BullMQ then passes the job's abort signal (Worker.cancelJob)
  const w = new Worker<PoseliftJobData, PoseliftJobResult>(name, async (job, _token, signal) => {
    running.add(String(job.id));
    presence.beat();
    try {
      return await processJob(job, results, { threads, signal, queue: job.data.kind === 'video-segment' ? getQueue() : undefined });
    } finally {
      running.delete(String(job.id));
      presence.beat();
    }
  }, {
    connection: workerConnection(o.url),
    concurrency: o.concurrency ?? 1,
    ...(o.prefix ? { prefix: o.prefix } : {}),
    ...(lockDuration ? { lockDuration } : {}),
    ...(stalledInterval ? { stalledInterval } : {}),
  });
  const presence = new Presence({
    url: o.url ?? workerConnection().url, queue: name, concurrency: o.concurrency ?? 1, intervalMs: o.heartbeatMs,
    active: () => [...running],
    onCancel: (id) => { if (running.has(id)) w.cancelJob(id, CANCEL_REASON); },
  });
  presence.start();
  // the idle detection threads the jobs kept (src/detect/stream.ts) end with the worker
  w.on('closed', () => { void queue?.close(); void closeDetectThreads(); void presence.stop(); });
  const log = o.log;
  if (log) {
    w.on('active', (job) => log(`job ${job.id} (${job.data.kind}) started`));
    w.on('completed', (job, r) => log(`job ${job.id} completed -> ${r.result}`));
    w.on('failed', (job, err) => log(`job ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`));
    // found by this worker's stalled check: its worker died (or lost its lock); it runs again unless it stalled too often
    w.on('stalled', (id) => log(`job ${id} stalled: moved back to waiting`));
  }
  // the CLI's log adds its own "poselift worker: " prefix
  w.on('error', (err) => (log ? log(err.message) : process.stderr.write(`poselift worker: ${err.message}\n`)));
  return Object.assign(w, { presence });
}
