/** A BullMQ worker for the poselift queue, processing jobs in this process (`processJob`). */
import { Worker } from 'bullmq';
import { processJob } from './process.js';
import { queueName, resultsDir, workerConnection, type PoseliftJobData, type PoseliftJobResult } from './queue.js';

export interface WorkerOptions {
  concurrency?: number;
  queue?: string;
  url?: string;
  results?: string;
  /** BullMQ key prefix (default "bull") */
  prefix?: string;
  log?: (s: string) => void;
}

export function startWorker(o: WorkerOptions = {}): Worker<PoseliftJobData, PoseliftJobResult> {
  const results = o.results ?? resultsDir();
  const w = new Worker<PoseliftJobData, PoseliftJobResult>(o.queue ?? queueName(), (job) => processJob(job, results), {
    connection: workerConnection(o.url),
    concurrency: o.concurrency ?? 1,
    ...(o.prefix ? { prefix: o.prefix } : {}),
  });
  const log = o.log;
  if (log) {
    w.on('active', (job) => log(`job ${job.id} (${job.data.kind}) started`));
    w.on('completed', (job, r) => log(`job ${job.id} completed -> ${r.result}`));
    w.on('failed', (job, err) => log(`job ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`));
  }
  w.on('error', (err) => (log ?? ((s: string) => process.stderr.write(`${s}\n`)))(`poselift worker: ${err.message}`));
  return w;
}
