/**
 * `poselift serve` (issue 21): an HTTP API (Fastify) and a web dashboard over the BullMQ queue that
 * `poselift worker` processes, with the same job functions as `poselift enqueue` (`jobDataFor`, `addJob`).
 *
 * Security: with $POSELIFT_TOKEN (one token, or several separated by commas) every route needs
 * `Authorization: Bearer <token>` or the dashboard's HttpOnly SameSite=Strict cookie, compared in constant time
 * (SHA-256 digests, `crypto.timingSafeEqual`, every token checked); without a token the server listens on a
 * loopback address only and answers only requests whose Host is a loopback name (no DNS rebinding). Uploads
 * are streamed to disk under the limits of src/contracts/limits.ts, their type sniffed from their bytes; path
 * inputs are confined to $POSELIFT_INPUT_ROOT (src/serve/inputs.ts). Errors are `{error, message}` with a
 * 4xx status naming the problem; a 500 says only that it was logged. A per-token rate limit (per address
 * before authentication) answers 429.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../util/paths.js';
import { checkSize, limits, LimitError } from '../contracts/limits.js';
import { DETECTOR_NAMES } from '../detect/types.js';
import { KEYPOINT_FORMATS } from '../formats/keypoints.js';
import { loadCameraFile } from '../camera/resolve.js';
import { readResult } from '../formats/doc.js';
import { toBvh } from '../formats/bvh.js';
import { toCsv } from '../formats/csv.js';
import { viewerAssets, type ViewerAssets } from '../view/server.js';
import { addJob, jobDataFor, DEFAULT_SEGMENT_SECONDS } from '../../workers/cli.js';
import { cliConnection, queueName, redisUrl, resultsDir, workerConnection, type PoseliftJobData, type PoseliftJobResult, type PoseliftProgress } from '../../workers/queue.js';
import { listWorkers, publishCancel } from '../../workers/heartbeat.js';
import { openapiDocument } from './openapi.js';
import { ApiError, confinePath, displayName } from './inputs.js';
import { sniff, SNIFF_BYTES, SNIFFABLE, type Sniffed } from './sniff.js';

export { ApiError } from './inputs.js';

const DASHBOARD_DIR = path.join(PACKAGE_ROOT, 'dashboard');
const VERSION = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
export const DEFAULT_RATE_LIMIT = 1200;
const COOKIE = 'poselift_token';

export interface ServeOptions {
  /** tokens (default: $POSELIFT_TOKEN split at commas); none = loopback only */
  tokens?: string[];
  /** the address the caller will listen on (checked against the token rule) */
  host?: string;
  redisUrl?: string;
  queue?: string;
  results?: string;
  /** uploads go to <uploads>/<uuid>/ (default $POSELIFT_UPLOADS, else <results>/uploads); workers must see it */
  uploads?: string;
  /** path inputs are confined here (default $POSELIFT_INPUT_ROOT; none = path inputs refused) */
  inputRoot?: string;
  /** requests per minute per token (default $POSELIFT_RATE_LIMIT, else DEFAULT_RATE_LIMIT) */
  rateLimit?: number;
  /** log level of Fastify's logger (default: off) */
  logLevel?: string;
}

export interface PoseliftServer {
  app: FastifyInstance;
  /** every route registered (method, URL), HEAD included where Fastify added it */
  routes: { method: string; url: string }[];
  close: () => Promise<void>;
}

export function envTokens(): string[] {
  return (process.env.POSELIFT_TOKEN ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** The bind rule: without a token only a loopback address. Throws the one-line reason. */
export function checkBind(host: string, tokens: string[]): void {
  if (!tokens.length && !LOOPBACK.has(host)) {
    throw new Error(`serve: without POSELIFT_TOKEN the server listens on 127.0.0.1 only, not ${host}; set POSELIFT_TOKEN=<a long random secret> to listen on other addresses`);
  }
}

/** $POSELIFT_RATE_LIMIT: requests a minute per token (a whole number > 0), else DEFAULT_RATE_LIMIT. */
export function envRateLimit(): number {
  const v = process.env.POSELIFT_RATE_LIMIT;
  if (v === undefined || v.trim() === '') return DEFAULT_RATE_LIMIT;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`POSELIFT_RATE_LIMIT=${v}: expected a whole number of requests a minute > 0, or unset for ${DEFAULT_RATE_LIMIT}`);
  return n;
}

/**
 * $POSELIFT_TRUST_PROXY: behind a reverse proxy, "1" trusts X-Forwarded-For / -Proto from any hop, or a
 * comma-separated list of the proxies' addresses; unset = the peer address is the client (rate limit by it,
 * the cookie's Secure flag from the connection).
 */
export function envTrustProxy(): boolean | string[] {
  const v = (process.env.POSELIFT_TRUST_PROXY ?? '').trim();
  if (!v || v === '0') return false;
  if (v === '1' || v === 'true') return true;
  return v.split(',').map((x) => x.trim()).filter(Boolean);
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

const progressOf = (p: unknown, state: string): PoseliftProgress => {
  if (state === 'completed') {
    const q = p && typeof p === 'object' ? (p as Partial<PoseliftProgress>) : {};
    return { percent: 100, frames: q.frames ?? 0, total: q.total ?? q.frames ?? 0 };
  }
  if (p && typeof p === 'object' && 'percent' in p) return { percent: 0, frames: 0, total: 0, ...(p as Partial<PoseliftProgress>) } as PoseliftProgress;
  return { percent: typeof p === 'number' ? p : 0, frames: 0, total: 0 };
};

const JOB_ID = /^[A-Za-z0-9:_-]{1,128}$/;
const STATES = ['active', 'waiting', 'waiting-children', 'delayed', 'prioritized', 'completed', 'failed'] as const;

const OptionsSchema = z.object({
  detector: z.enum(DETECTOR_NAMES as [string, ...string[]]).optional(),
  fps: z.number().positive().finite().optional(),
  start: z.number().min(0).finite().optional(),
  duration: z.number().positive().finite().optional(),
  maxPeople: z.number().int().positive().optional(),
  segmentSeconds: z.number().min(0).finite().optional(),
  /** false: videos and keypoint files with a rate lifted by single-frame PoseNet (`run --no-temporal`) */
  temporal: z.boolean().optional(),
  keypoints: z.object({
    format: z.enum(KEYPOINT_FORMATS as [string, ...string[]]),
    layout: z.string().max(64).optional(),
    width: z.number().int().positive().optional(),
    height: z.number().int().positive().optional(),
    adapter: z.enum(DETECTOR_NAMES as [string, ...string[]]).optional(),
  }).strict().optional(),
}).strict();
type JobOptions = z.infer<typeof OptionsSchema>;

const CameraSchema = z.object({}).passthrough();
const PathBody = z.object({ path: z.string(), camera: z.union([z.string(), CameraSchema]).optional(), options: z.unknown().optional() }).strict();

function parseOptions(raw: unknown): JobOptions {
  const r = OptionsSchema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const i = r.error.issues[0];
  const where = ['options', ...i.path.map(String)].join('.');
  throw new ApiError(400, 'bad_options', `${where}: ${i.message}`);
}

const isRedisDown = (e: unknown): boolean => {
  const m = (e as Error)?.message ?? '';
  return (e as Error)?.name === 'MaxRetriesPerRequestError' || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection is closed|Stream isn't writeable|connect ETIMEDOUT|enableOfflineQueue/.test(m);
};

/** A counting, sniffing pass-through: refuses more bytes than the limit for the sniffed kind. */
class UploadMeter extends Transform {
  bytes = 0;
  head = Buffer.alloc(0);
  sniffed: Sniffed | null | undefined;
  constructor(private readonly label: string, private readonly json: boolean) { super(); }
  private cap(): number {
    const l = limits();
    if (this.json) return l.maxJsonBytes;
    if (this.sniffed === undefined) return Math.max(l.maxInputBytes, l.maxJsonBytes);
    return this.sniffed && (this.sniffed.kind === 'json' || this.sniffed.kind === 'csv') ? l.maxJsonBytes : l.maxInputBytes;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.bytes += chunk.length;
    if (this.head.length < SNIFF_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, SNIFF_BYTES - this.head.length)]);
      if (this.head.length >= SNIFF_BYTES) this.sniffed = sniff(this.head);
    }
    try {
      checkSize(this.label, this.bytes, this.cap() === limits().maxJsonBytes ? 'json' : 'media', this.json ? 'camera file' : 'upload');
    } catch (e) {
      return cb(e as Error);
    }
    cb(null, chunk);
  }
  override _flush(cb: (e?: Error | null) => void): void {
    if (this.sniffed === undefined) this.sniffed = sniff(this.head);
    try {
      checkSize(this.label, this.bytes, this.cap() === limits().maxJsonBytes ? 'json' : 'media', this.json ? 'camera file' : 'upload');
    } catch (e) {
      return cb(e as Error);
    }
    cb();
  }
}

const safeBase = (name: string | undefined) =>
  (path.basename(name || 'upload').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 80) || 'upload');

/** Range-aware file response (videos seek with it); the reply is hijacked. */
function sendFile(req: FastifyRequest, reply: FastifyReply, file: string, type: string): void {
  let size: number;
  try { size = fs.statSync(file).size; } catch { throw new ApiError(410, 'gone', 'the file is gone from the server'); }
  const res = reply.raw;
  reply.hijack();
  const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
  if (range && (range[1] || range[2])) {
    let start = range[1] ? Number(range[1]) : size - Number(range[2]);
    let end = range[1] && range[2] ? Number(range[2]) : size - 1;
    start = Math.max(0, start); end = Math.min(size - 1, end);
    if (start > end) { res.writeHead(416, { 'content-range': `bytes */${size}` }); res.end(); return; }
    res.writeHead(206, { 'content-type': type, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}`, 'accept-ranges': 'bytes', 'cache-control': 'no-store' });
    fs.createReadStream(file, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { 'content-type': type, 'content-length': size, 'accept-ranges': 'bytes', 'cache-control': 'no-store' });
  fs.createReadStream(file).pipe(res);
}

function loginPage(): string {
  return fs.readFileSync(path.join(DASHBOARD_DIR, 'login.html'), 'utf8');
}

export async function buildServer(o: ServeOptions = {}): Promise<PoseliftServer> {
  const tokens = o.tokens ?? envTokens();
  const expected = tokens.map(digest);
  checkBind(o.host ?? '127.0.0.1', tokens);
  const url = o.redisUrl ?? redisUrl();
  const qname = o.queue ?? queueName();
  const results = path.resolve(o.results ?? resultsDir());
  const uploads = path.resolve(o.uploads ?? (process.env.POSELIFT_UPLOADS || path.join(results, 'uploads')));
  const inputRoot = o.inputRoot ?? (process.env.POSELIFT_INPUT_ROOT || undefined);
  const perMinute = o.rateLimit ?? envRateLimit();
  const trustProxy = envTrustProxy();
  const dashboardFiles = new Set(fs.readdirSync(DASHBOARD_DIR).filter((f) => /\.(js|css)$/.test(f)));

  const queue = new Queue<PoseliftJobData, PoseliftJobResult>(qname, { connection: cliConnection(url) });
  queue.on('error', () => { /* requests answer 503 while Redis is away */ });
  const events = new QueueEvents(qname, { connection: workerConnection(url) });
  events.on('error', () => {});
  events.setMaxListeners(0);
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  redis.on('error', () => {});

  /** index of the presented token (every token compared, in constant time each), or -1 */
  const tokenIndex = (given: string | undefined): number => {
    if (given === undefined) return -1;
    const d = digest(given);
    let found = -1;
    expected.forEach((e, i) => { if (timingSafeEqual(d, e) && found < 0) found = i; });
    return found;
  };
  const presented = (req: FastifyRequest): string | undefined => {
    const h = req.headers.authorization;
    if (typeof h === 'string') {
      const m = /^Bearer\s+(.+)$/i.exec(h.trim());
      return m ? m[1].trim() : undefined;
    }
    const c = req.headers.cookie;
    if (typeof c === 'string') {
      for (const part of c.split(';')) {
        const [k, ...v] = part.trim().split('=');
        if (k === COOKIE) { try { return decodeURIComponent(v.join('=')); } catch { return undefined; } }
      }
    }
    return undefined;
  };
  const authOf = new WeakMap<FastifyRequest, number>();
  const auth = (req: FastifyRequest): number => {
    let a = authOf.get(req);
    if (a === undefined) { a = tokens.length ? tokenIndex(presented(req)) : 0; authOf.set(req, a); }
    return a;
  };

  const app = Fastify({
    logger: o.logLevel ? { level: o.logLevel } : false,
    forceCloseConnections: true,
    trustProxy,
    bodyLimit: 1024 * 1024,
    // requests arriving while the server closes get 503 (a load balancer moves on)
    return503OnClosing: true,
  });
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method: String(m), url: r.url });
  });

  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => { const a = auth(req); return tokens.length && a >= 0 ? `token:${a}` : `ip:${req.ip}`; },
    errorResponseBuilder: (_req, ctx) => Object.assign(new Error(`rate limit: more than ${ctx.max} requests a minute${tokens.length ? ' for this token' : ' from this address'}; retry in ${Math.ceil(ctx.ttl / 1000)} s (the server's POSELIFT_RATE_LIMIT)`), { statusCode: 429, code: 'rate_limited' }),
  });
  const l = limits();
  const maxFile = Math.max(l.maxInputBytes, l.maxJsonBytes);
  await app.register(multipart, {
    limits: { files: 2, fields: 4, parts: 8, fieldSize: 64 * 1024, headerPairs: 200, ...(Number.isFinite(maxFile) ? { fileSize: maxFile + 1 } : {}) },
  });

  app.addHook('onRequest', async (req, reply) => {
    if (!tokens.length) {
      // loopback only: a page elsewhere cannot reach us through a DNS name that resolves to 127.0.0.1
      const host = String(req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
      if (!LOOPBACK.has(host)) throw new ApiError(403, 'forbidden_host', `Host "${host}" refused: without POSELIFT_TOKEN the server answers loopback requests only (127.0.0.1, localhost)`);
      return;
    }
    if (req.method === 'POST' && req.routeOptions.url === '/v1/session') return; // checks the token in its body
    if (auth(req) >= 0) return;
    const why = presented(req) === undefined ? 'no bearer token' : 'wrong token';
    reply.header('www-authenticate', 'Bearer realm="poselift"');
    if (req.method === 'GET' && req.routeOptions.url === '/' && /text\/html/.test(String(req.headers.accept ?? ''))) {
      return reply.code(401).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(loginPage());
    }
    throw new ApiError(401, 'unauthorized', `${why}: send "Authorization: Bearer <token>" (the server's POSELIFT_TOKEN)`);
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer');
    return payload;
  });

  // no stack traces or framework internals in responses: every error goes through this handler
  app.setErrorHandler((e, req, reply) => {
    const err = e as Error & { statusCode?: number; code?: string };
    if (err instanceof ApiError) return reply.code(err.status).send({ error: err.code, message: err.message });
    if (err instanceof LimitError) return reply.code(413).send({ error: 'too_large', message: err.message.replace(/pass a smaller file, or raise.*$/, `upload a smaller file (the server's ${err.env})`) });
    if (isRedisDown(err)) return reply.code(503).send({ error: 'redis_unavailable', message: 'the queue\'s Redis does not answer; retry later' });
    const sc = err.statusCode;
    if (err.code === 'FST_REQ_FILE_TOO_LARGE') {
      return reply.code(413).send({ error: 'too_large', message: `the upload is over the size limit (POSELIFT_MAX_INPUT_MB for media, POSELIFT_MAX_JSON_MB for JSON / CSV)` });
    }
    if (err.code === 'FST_FILES_LIMIT' || err.code === 'FST_PARTS_LIMIT' || err.code === 'FST_FIELDS_LIMIT') {
      return reply.code(413).send({ error: 'too_many_parts', message: 'the form has too many parts: send one file "file", at most one file "camera" and the field "options"' });
    }
    if (sc && sc >= 400 && sc < 500) {
      return reply.code(sc).send({ error: (err.code ?? 'bad_request').replace(/^FST_(ERR_)?/, '').toLowerCase(), message: err.message });
    }
    req.log.error(err);
    process.stderr.write(`poselift serve: ${req.method} ${req.url.split('?')[0]}: ${err.stack ?? err.message}\n`);
    return reply.code(500).send({ error: 'internal', message: 'internal error; it is logged on the server' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}; the API is listed at /v1/openapi.json` }));

  // ---- jobs ------------------------------------------------------------------------------------------
  const getJob = async (id: string): Promise<Job<PoseliftJobData, PoseliftJobResult>> => {
    if (!JOB_ID.test(id)) throw new ApiError(400, 'bad_id', `job id "${id.slice(0, 40)}": expected letters, digits, ":", "_" or "-"`);
    const job = await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, id);
    if (!job) throw new ApiError(404, 'not_found', `job ${id}: not found in queue "${qname}" (finished jobs are kept for the last 1000)`);
    return job;
  };
  const resultFiles = (job: Job<PoseliftJobData, PoseliftJobResult>): string[] => job.returnvalue?.files ?? [];
  const viewable = (job: Job<PoseliftJobData, PoseliftJobResult>) => resultFiles(job).length === 1 && resultFiles(job)[0].endsWith('.poselift.json');
  const inputOf = (d: PoseliftJobData): string => {
    try {
      const p = d.kind === 'images' ? d.inputs[0] : d.input;
      const n = displayName(p, [uploads, inputRoot]);
      return d.kind === 'images' && d.inputs.length > 1 ? `${n} (+${d.inputs.length - 1})` : n;
    } catch { return '?'; }
  };
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const hide = new RegExp([`${esc(uploads + path.sep)}[0-9a-f-]{36}${esc(path.sep)}`, ...(inputRoot ? [...new Set([path.resolve(inputRoot), (() => { try { return fs.realpathSync(inputRoot); } catch { return path.resolve(inputRoot); } })()])].map((r) => esc(r + path.sep)) : [])].join('|'), 'g');
  /** a failure reason without the server's folders (uploads show as their file name, path inputs relative to the root) */
  const scrub = (r: string) => r.replace(hide, '');
  const view = async (job: Job<PoseliftJobData, PoseliftJobResult>, state?: string) => {
    const s = state ?? await job.getState();
    const iso = (t?: number) => (t ? new Date(t).toISOString() : null);
    return {
      id: String(job.id), kind: job.data?.kind ?? '?', state: s, input: inputOf(job.data),
      progress: progressOf(job.progress, s), attempts: job.attemptsMade,
      failed_reason: job.failedReason ? scrub(job.failedReason) : null,
      created: iso(job.timestamp), started: iso(job.processedOn), finished: iso(job.finishedOn),
      result: s === 'completed' ? `/v1/jobs/${job.id}/result` : null,
      viewer: s === 'completed' && viewable(job) ? `/v1/jobs/${job.id}/view/` : null,
    };
  };

  /** Save one file part to `dir`; returns the final path and what it is. */
  const savePart = async (part: { filename?: string; file: NodeJS.ReadableStream & { truncated?: boolean } }, dir: string, field: 'file' | 'camera') => {
    const label = field === 'camera' ? 'camera' : (part.filename ? path.basename(part.filename) : 'upload');
    const tmp = path.join(dir, `.${field}.part`);
    const meter = new UploadMeter(label, field === 'camera');
    await pipeline(part.file, meter, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o640 }));
    if (part.file.truncated) throw new ApiError(413, 'too_large', `${label}: over the size limit`);
    const s = meter.sniffed ?? sniff(meter.head);
    if (!s) throw new ApiError(415, 'unsupported_type', `${label}: the content is not a supported file (${SNIFFABLE}); its name and declared type are not trusted`);
    const out = field === 'camera' ? path.join(dir, 'camera.json') : path.join(dir, `${safeBase(part.filename)}${s.ext}`);
    fs.renameSync(tmp, out);
    return { file: out, sniffed: s, bytes: meter.bytes, label };
  };

  const enqueue = async (input: string, camera: string | undefined, opts: JobOptions) => {
    const kp = opts.keypoints;
    const data = await jobDataFor([input], {
      camera, detector: opts.detector, fps: opts.fps, temporal: opts.temporal,
      keypoints: !!kp, format: kp?.format, layout: kp?.layout, width: kp?.width, height: kp?.height, adapter: kp?.adapter,
    });
    if (data.kind === 'video') {
      if (opts.start !== undefined) data.start = opts.start;
      if (opts.duration !== undefined) data.duration = opts.duration;
      if (opts.maxPeople !== undefined) data.maxPeople = opts.maxPeople;
    } else if (data.kind === 'images' && opts.maxPeople !== undefined) data.maxPeople = opts.maxPeople;
    const { job } = await addJob(queue, data, opts.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS);
    return job;
  };

  const checkCamera = (file: string, label: string) => {
    try { loadCameraFile(file); } catch (e) {
      throw new ApiError(400, 'bad_camera', (e as Error).message.split(file).join(label).replace(/ check the --camera path| \(.*--camera.*\)/g, ''));
    }
  };

  app.post('/v1/jobs', async (req, reply) => {
    let job: Job<PoseliftJobData, PoseliftJobResult>;
    if (req.isMultipart()) {
      const dir = path.join(uploads, randomUUID());
      fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
      try {
        let input: Awaited<ReturnType<typeof savePart>> | undefined;
        let camera: string | undefined;
        let rawOptions: unknown;
        for await (const part of req.parts()) {
          if (part.type === 'field') {
            if (part.fieldname !== 'options') throw new ApiError(400, 'bad_form', `form field "${part.fieldname}": unknown; send "options" (JSON), file "file" and optionally file "camera"`);
            try { rawOptions = JSON.parse(String(part.value)); } catch { throw new ApiError(400, 'bad_options', 'options: not valid JSON'); }
            continue;
          }
          if (part.fieldname === 'file' && !input) input = await savePart(part, dir, 'file');
          else if (part.fieldname === 'camera' && !camera) {
            const c = await savePart(part, dir, 'camera');
            if (c.sniffed.kind !== 'json') throw new ApiError(415, 'unsupported_type', 'camera: expected a JSON file of intrinsics {fx, fy, cx, cy[, k, p]}');
            checkCamera(c.file, 'camera');
            camera = c.file;
          } else {
            part.file.resume();
            throw new ApiError(400, 'bad_form', `file part "${part.fieldname}": unexpected; send one "file" and at most one "camera"`);
          }
        }
        if (!input) throw new ApiError(400, 'no_file', 'no file part "file" in the form: attach the photo, video or keypoint file as "file"');
        const opts = parseOptions(rawOptions);
        const k = input.sniffed.kind;
        if (opts.keypoints && k !== 'json' && k !== 'csv') throw new ApiError(415, 'unsupported_type', `${input.label}: options.keypoints is set but the file is ${input.sniffed.mime}, not a JSON or CSV keypoint file`);
        if (!opts.keypoints && k !== 'image' && k !== 'video') throw new ApiError(415, 'unsupported_type', `${input.label}: the file is ${k.toUpperCase()} text, not a photo or video; for 2D keypoints set options.keypoints.format (coco or csv)`);
        job = await enqueue(input.file, camera, opts);
      } catch (e) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    } else {
      const parsed = PathBody.safeParse(req.body);
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        throw new ApiError(400, 'bad_body', `${i.path.map(String).join('.') || 'body'}: ${i.message}; send multipart/form-data with a file, or JSON {"path": ..., "camera"?: ..., "options"?: {...}}`);
      }
      const b = parsed.data;
      const opts = parseOptions(b.options);
      const input = confinePath(inputRoot, b.path, 'path');
      let camera: string | undefined;
      if (typeof b.camera === 'string') {
        camera = confinePath(inputRoot, b.camera, 'camera');
        checkCamera(camera, 'camera');
      } else if (b.camera) {
        const dir = path.join(uploads, randomUUID());
        fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
        camera = path.join(dir, 'camera.json');
        fs.writeFileSync(camera, JSON.stringify(b.camera));
        checkCamera(camera, 'camera');
      }
      job = await enqueue(input, camera, opts);
    }
    reply.code(201).header('location', `/v1/jobs/${job.id}`);
    return view(job);
  });

  app.get('/v1/jobs', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new ApiError(400, 'bad_query', `limit=${q.limit}: expected a whole number 1..200`);
    if (q.state !== undefined && !(STATES as readonly string[]).includes(q.state)) throw new ApiError(400, 'bad_query', `state=${q.state}: expected one of ${STATES.join(', ')}`);
    const states = q.state ? [q.state] : [...STATES];
    const all = (await queue.getJobs(states as typeof STATES[number][], 0, limit - 1, false)) as (Job<PoseliftJobData, PoseliftJobResult> | undefined)[];
    const jobs = all.filter((j): j is Job<PoseliftJobData, PoseliftJobResult> => !!j && j.data?.kind !== 'video-segment');
    jobs.sort((a, b) => b.timestamp - a.timestamp);
    return Promise.all(jobs.slice(0, limit).map((j) => view(j)));
  });

  app.get('/v1/jobs/:id', async (req) => view(await getJob((req.params as { id: string }).id)));

  app.delete('/v1/jobs/:id', async (req, reply) => {
    const job = await getJob((req.params as { id: string }).id);
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') throw new ApiError(409, 'finished', `job ${job.id} is ${state}; nothing to cancel`);
    if (state === 'active') {
      const n = await publishCancel(redis, qname, [String(job.id)]);
      reply.code(202);
      return { id: String(job.id), state, cancel: 'requested', workers_notified: n };
    }
    let kids: string[] = [];
    if (state === 'waiting-children') {
      // a split video: its running segments are told to stop; the queued ones go with the parent
      const deps = await job.getDependencies({ processed: { count: 0 }, unprocessed: { count: 1000 } });
      kids = (deps.unprocessed ?? []).map((k) => k.split(':').pop()!);
    }
    try {
      await job.remove();
    } catch (e) {
      // a segment is running (locked): stopping it fails the parent with "cancelled on request"
      if (!kids.length) throw new ApiError(409, 'busy', `job ${job.id} could not be removed now (${(e as Error).message}); retry in a moment`);
      const n = await publishCancel(redis, qname, kids);
      reply.code(202);
      return { id: String(job.id), state, cancel: 'requested', workers_notified: n };
    }
    return { id: String(job.id), state: 'removed' };
  });

  app.get('/v1/jobs/:id/result', async (req, reply) => {
    const job = await getJob((req.params as { id: string }).id);
    const q = req.query as Record<string, string | undefined>;
    const state = await job.getState();
    if (state !== 'completed') {
      throw new ApiError(409, 'no_result', `job ${job.id} is ${state}${job.failedReason ? ` (${scrub(job.failedReason)})` : ''}; no result${state === 'failed' ? '' : ' yet'}`);
    }
    const files = resultFiles(job);
    const k = q.file === undefined ? (files.length === 1 ? 0 : -1) : Number(q.file);
    if (k === -1) return { documents: files.map((f, i) => ({ file: path.basename(f), url: `/v1/jobs/${job.id}/result?file=${i}` })) };
    if (!Number.isInteger(k) || k < 0 || k >= files.length) throw new ApiError(400, 'bad_query', `file=${q.file}: expected 0..${files.length - 1}`);
    const f = files[k];
    if (!fs.existsSync(f)) throw new ApiError(410, 'gone', `job ${job.id}: its result file is gone from the results folder`);
    const format = (q.format ?? 'json').toLowerCase();
    const int = (name: string, min = -Infinity) => {
      const v = q[name];
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new ApiError(400, 'bad_query', `${name}=${v}: expected a whole number${min > -Infinity ? ` >= ${min}` : ''}`);
      return n;
    };
    const person = int('person'), frame = int('frame', 0);
    if (format === 'json') {
      reply.type('application/json').header('cache-control', 'no-store');
      return reply.send(fs.createReadStream(f));
    }
    if (format !== 'bvh' && format !== 'csv') throw new ApiError(400, 'bad_query', `format=${q.format}: expected json, bvh or csv`);
    if (!f.endsWith('.poselift.json')) throw new ApiError(400, 'bad_query', `format=${format}: job ${job.id}'s result is not a poselift/1 document`);
    const label = `job ${job.id}`;
    let text: string;
    try {
      const doc = readResult(f);
      if (format === 'bvh') text = toBvh(doc, { person, frame, file: label }).text;
      else {
        if (frame !== undefined) throw new Error('frame applies to format=bvh only; the CSV holds every frame');
        text = toCsv(doc, { person, file: label }).text;
      }
    } catch (e) {
      throw new ApiError(400, 'bad_export', (e as Error).message.split(f).join(label).replace(/--person/g, 'person='));
    }
    const name = `${job.id}.${format}`;
    reply.type(format === 'bvh' ? 'application/octet-stream' : 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`);
    return text;
  });

  const streams = new Set<() => void>();
  app.get('/v1/jobs/:id/events', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const job = await getJob(id);
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let closed = false;
    const send = (event: string, data: unknown) => { if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`); };
    const listeners: [string, (...a: any[]) => void][] = [];
    const on = (ev: string, f: (a: { jobId: string } & Record<string, unknown>) => void) => {
      const g = (a: { jobId: string } & Record<string, unknown>) => { if (a.jobId === id) f(a); };
      listeners.push([ev, g]);
      events.on(ev as 'progress', g as never);
    };
    const ping = setInterval(() => { if (!closed) res.write(': ping\n\n'); }, 15_000);
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(ping);
      for (const [ev, g] of listeners) events.off(ev as 'progress', g as never);
      streams.delete(finish);
      res.end();
    };
    streams.add(finish);
    req.raw.on('close', finish);
    const final = async () => {
      const j = await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, id);
      if (!j) { send('removed', { id }); return finish(); }
      const v = await view(j);
      if (v.state === 'completed' || v.state === 'failed') { send(v.state, v); finish(); } else send('state', v);
    };
    const safely = (f: () => Promise<void>) => () => { f().catch(() => { send('error', { error: 'redis_unavailable', message: 'the queue\'s Redis does not answer' }); finish(); }); };
    on('progress', ({ data }) => send('progress', { id, state: 'active', progress: progressOf(data, 'active') }));
    on('active', () => send('state', { id, state: 'active' }));
    on('completed', safely(final));
    on('failed', safely(final));
    on('removed', () => { send('removed', { id }); finish(); });
    // after subscribing, so nothing between the read and the subscription is missed
    try {
      const v = await view(job);
      send('state', v);
      if (v.state === 'completed' || v.state === 'failed') { send(v.state, v); finish(); }
    } catch {
      send('error', { error: 'redis_unavailable', message: 'the queue\'s Redis does not answer' });
      finish();
    }
  });

  // ---- the 3D viewer of a result (src/view), under /v1/jobs/<id>/view/ ----------------------------------
  const viewers = new Map<string, ViewerAssets>();
  app.get('/v1/jobs/:id/view/*', async (req, reply) => {
    const p = req.params as { id: string; '*': string };
    const job = await getJob(p.id);
    const state = await job.getState();
    if (state !== 'completed' || !viewable(job)) throw new ApiError(409, 'no_viewer', `job ${job.id} is ${state}${state === 'completed' ? ' but has several documents; view them with `poselift view`' : ''}; no result to view`);
    const base = `/v1/jobs/${job.id}/view/`;
    let a = viewers.get(String(job.id));
    if (!a) {
      a = viewerAssets(resultFiles(job)[0], base);
      viewers.set(String(job.id), a);
      if (viewers.size > 32) viewers.delete(viewers.keys().next().value!);
    }
    if (p['*'] === '' || p['*'] === 'index.html') return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(a.html);
    const f = a.files[base + p['*']];
    if (!f) throw new ApiError(404, 'not_found', `the viewer has no file "${p['*']}"`);
    sendFile(req, reply, f[0], f[1]);
  });

  // ---- service -----------------------------------------------------------------------------------------
  const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> => {
    let t: NodeJS.Timeout | undefined;
    return Promise.race([p, new Promise<T>((_, rej) => { t = setTimeout(() => rej(new Error('Connection is closed (timeout)')), ms); })]).finally(() => clearTimeout(t));
  };
  app.get('/v1/health', async (_req, reply) => {
    try {
      await withTimeout(redis.ping(), 2000);
      const counts = await withTimeout(queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'), 2000);
      const workers = await withTimeout(listWorkers(redis, qname), 2000);
      return { ok: true, version: VERSION, redis: 'up', queue: qname, counts, workers: workers.length };
    } catch {
      return reply.code(503).send({ ok: false, error: 'redis_unavailable', message: 'the queue\'s Redis does not answer', redis: 'down', queue: qname });
    }
  });
  app.get('/v1/workers', async () => {
    try {
      return await withTimeout(listWorkers(redis, qname), 2000);
    } catch {
      throw new ApiError(503, 'redis_unavailable', 'the queue\'s Redis does not answer');
    }
  });
  app.get('/v1/openapi.json', async () => openapiDocument(VERSION));
  app.post('/v1/session', async (req, reply) => {
    const b = req.body as { token?: unknown } | undefined;
    if (!b || typeof b.token !== 'string' || !b.token) throw new ApiError(400, 'no_token', 'send JSON {"token": "<the server\'s token>"}');
    if (tokens.length && tokenIndex(b.token) < 0) throw new ApiError(401, 'unauthorized', 'wrong token');
    const secure = req.protocol === 'https' ? '; Secure' : '';
    reply.header('set-cookie', `${COOKIE}=${encodeURIComponent(b.token)}; HttpOnly; SameSite=Strict; Path=/${secure}`);
    return reply.code(204).send();
  });

  // ---- the dashboard -------------------------------------------------------------------------------------
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(fs.readFileSync(path.join(DASHBOARD_DIR, 'index.html'), 'utf8')));
  app.get('/dashboard/:file', async (req, reply) => {
    const f = (req.params as { file: string }).file;
    if (!dashboardFiles.has(f)) throw new ApiError(404, 'not_found', `no dashboard file "${f}"`);
    return reply.type(f.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8').header('cache-control', 'no-store').send(fs.readFileSync(path.join(DASHBOARD_DIR, f), 'utf8'));
  });

  app.addHook('onClose', async () => {
    for (const f of [...streams]) f();
    // BullMQ's close waits for Redis; with Redis away, give up after 2 s (the connections are dropped below)
    let t: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([events.close(), queue.close()]), new Promise((r) => { t = setTimeout(r, 2000); })]);
    clearTimeout(t);
    void events.disconnect().catch(() => {});
    void queue.disconnect().catch(() => {});
    redis.disconnect();
  });
  await app.ready();
  return { app, routes, close: () => app.close() };
}

/** `poselift serve [--port P] [--host H]`: listen until SIGTERM / SIGINT. */
export async function serveCommand(o: { port?: number; host?: string }): Promise<void> {
  const host = o.host ?? '127.0.0.1';
  const tokens = envTokens();
  checkBind(host, tokens);
  const { checkRedis } = await import('../../workers/queue.js');
  await checkRedis();
  const s = await buildServer({ host, tokens, logLevel: process.env.POSELIFT_LOG_LEVEL || undefined });
  let addr: string;
  try {
    addr = await s.app.listen({ host, port: o.port ?? 8080 });
  } catch (e) {
    await s.close();
    const c = (e as NodeJS.ErrnoException).code;
    throw new Error(c === 'EADDRINUSE' ? `serve: port ${o.port ?? 8080} on ${host} is in use; pick another with --port (0 = any free port)` : `serve: cannot listen on ${host}:${o.port ?? 8080}: ${(e as Error).message}`);
  }
  process.stdout.write(`poselift serve: ${addr}/ (queue "${queueName()}" at ${redisUrl().replace(/\/\/[^@/]*@/, '//')}; ${tokens.length ? `${tokens.length} token(s)` : 'no token: loopback only'}; SIGTERM / Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => { void s.close().then(resolve, resolve); };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  // open SSE streams and Redis reconnect timers must not keep the process up
  process.exit(0);
}
