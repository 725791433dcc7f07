/**
 * Worker presence and cancellation (issue 21), beside BullMQ's own keys on the same Redis:
 *
 * - heartbeat: each worker keeps `poselift:<queue>:worker:<id>` (JSON `WorkerInfo`) alive with a TTL of three
 *   beats; a worker that dies stops beating and drops out of `listWorkers` (`GET /v1/workers`,
 *   `poselift status --workers`) within `HEARTBEAT_TTL_MS`. A clean stop deletes its key at once.
 * - cancel: `publishCancel` sends job ids on the channel `poselift:<queue>:cancel`; every worker subscribes, and
 *   the one running such a job aborts it (BullMQ's processor signal: video and photo loops stop at the next frame).
 *
 * Both use their own connections with no offline queue: while Redis is away, a beat fails at once (it is not
 * queued up), and `ping` answers within its timeout, which `poselift worker` uses to decide at SIGTERM whether
 * finishing the current job can be recorded at all.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const HEARTBEAT_MS = 5000;
export const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_MS;

export const workerKeyPrefix = (queue: string): string => `poselift:${queue}:worker:`;
export const cancelChannel = (queue: string): string => `poselift:${queue}:cancel`;

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  queue: string;
  concurrency: number;
  /** ISO times: when the worker started, its last beat */
  started: string;
  beat: string;
  /** ids of the jobs it is running */
  active: string[];
}

const quietClient = (url: string) => {
  const c = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 2000, lazyConnect: true });
  c.on('error', () => { /* the worker's own connection reports Redis trouble; beats are best effort */ });
  return c;
};

export interface PresenceOptions {
  url: string;
  queue: string;
  concurrency: number;
  /** the ids of the jobs running now */
  active: () => string[];
  /** a cancel request for one of this queue's jobs (the worker aborts it if it runs it) */
  onCancel: (jobId: string) => void;
  /** beat interval (ms), default HEARTBEAT_MS; the key lives three beats */
  intervalMs?: number;
}

export class Presence {
  readonly id = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly client: Redis;
  private readonly sub: Redis;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = new Date().toISOString();
  private readonly interval: number;
  private stopped = false;

  constructor(private readonly o: PresenceOptions) {
    this.client = quietClient(o.url);
    this.sub = quietClient(o.url);
    this.interval = o.intervalMs ?? HEARTBEAT_MS;
  }

  get key(): string { return workerKeyPrefix(this.o.queue) + this.id; }

  info(): WorkerInfo {
    return {
      id: this.id, host: os.hostname(), pid: process.pid, queue: this.o.queue, concurrency: this.o.concurrency,
      started: this.started, beat: new Date().toISOString(), active: this.o.active(),
    };
  }

  /** Start beating and listening for cancels; connection failures are retried by ioredis, never thrown. */
  start(): void {
    const channel = cancelChannel(this.o.queue);
    this.sub.on('message', (ch: string, msg: string) => { if (ch === channel) this.o.onCancel(msg); });
    // (re)subscribe and beat whenever a connection is (re)established: the first connect may fail (Redis
    // down at start) and ioredis keeps retrying; subscribing twice to a channel is harmless
    this.sub.on('ready', () => { this.sub.subscribe(channel).catch(() => {}); });
    this.client.on('ready', () => this.beat());
    this.sub.connect().catch(() => {});
    this.client.connect().catch(() => {});
    this.timer = setInterval(() => this.beat(), this.interval);
    this.timer.unref();
  }

  /** One beat now (best effort). */
  beat(): void {
    if (this.stopped || this.client.status !== 'ready') return;
    this.client.set(this.key, JSON.stringify(this.info()), 'PX', 3 * this.interval).catch(() => {});
  }

  /** Whether Redis answers a PING within `ms` on the presence connection. */
  async ping(ms = 1000): Promise<boolean> {
    if (this.client.status !== 'ready') return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.client.ping().then((r) => r === 'PONG'),
        new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); }),
      ]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stop beating; delete the key when Redis answers within `ms` (else it expires by itself); never hangs. */
  async stop(ms = 1000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    if (this.client.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.client.del(this.key).catch(() => 0),
        new Promise((resolve) => { timer = setTimeout(resolve, ms); }),
      ]);
      clearTimeout(timer);
    }
    this.client.disconnect();
    this.sub.disconnect();
  }
}

/** The live workers of `queue` (those whose last beat is younger than three beats), oldest first. */
export async function listWorkers(redis: Redis, queue: string): Promise<WorkerInfo[]> {
  const prefix = workerKeyPrefix(queue);
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  if (!keys.length) return [];
  const out: WorkerInfo[] = [];
  for (const v of await redis.mget(...keys)) {
    if (!v) continue; // expired between SCAN and MGET
    try { out.push(JSON.parse(v) as WorkerInfo); } catch { /* not ours */ }
  }
  return out.sort((a, b) => a.started.localeCompare(b.started) || a.id.localeCompare(b.id));
}

/** Ask every worker of `queue` to abort these jobs if it runs them; resolves to the number of subscribed workers. */
export async function publishCancel(redis: Redis, queue: string, jobIds: string[]): Promise<number> {
  let n = 0;
  for (const id of jobIds) n = Math.max(n, await redis.publish(cancelChannel(queue), id));
  return n;
}
