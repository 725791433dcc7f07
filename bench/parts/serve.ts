/**
 * Part "serve": concurrent clients upload the sample photo (with its camera) to `poselift serve` on loopback
 * and poll their jobs until they end, while worker processes run them: jobs lost (must be 0: every upload that
 * was answered 201 ends completed with a valid result, or failed with a reason) and the API's latency
 * (upload, GET /v1/jobs/:id, GET /v1/health) p50 / p99 while the workers are busy. A private redis-server and
 * the compiled CLI (`npm run build` first); bounded in count (clients x uploads) and time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { RedisProc, WorkerProc, workerEnv } from '../soak.js';
import { num, type BenchContext, type PartResult } from '../lib/common.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(REPO, 'bin', 'poselift.js');
const PHOTO = path.join(REPO, 'samples', 'person.jpg');
const CAMERA = path.join(REPO, 'samples', 'camera.json');
const TOKEN = 'bench-serve-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

async function startServe(env: NodeJS.ProcessEnv): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => { err += d; });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => { out += d; const m = /poselift serve: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out); if (m) resolve(m[1]); });
    proc.on('exit', (code) => reject(new Error(`poselift serve exited ${code}: ${err.trim()}`)));
  });
  return { proc, url };
}

export async function servePart(ctx: BenchContext): Promise<PartResult> {
  const res: PartResult = { name: 'serve', title: 'HTTP API under load: concurrent uploads and polling while workers are busy', tables: [], notes: [], targets: [] };
  if (!fs.existsSync(path.join(REPO, 'dist', 'src', 'serve', 'server.js'))) {
    res.skipped = 'not built: run `npm run build` first (the part runs the compiled `poselift serve` and `poselift worker`)';
    return res;
  }
  const clients = ctx.quick ? 2 : 8;
  const perClient = ctx.quick ? 2 : 5;
  const nWorkers = ctx.quick ? 1 : 2;
  const budgetMs = ctx.quick ? 120_000 : 600_000;
  const dir = path.join(ctx.tmp, 'serve');
  const results = path.join(dir, 'results');
  const queue = `bench-serve-${process.pid}`;
  const redis = await RedisProc.create(path.join(dir, 'redis'));
  const workers: WorkerProc[] = [];
  let serve: ChildProcess | undefined;
  try {
    const s = await startServe({ REDIS_URL: redis.url, POSELIFT_QUEUE: queue, POSELIFT_RESULTS: results, POSELIFT_TOKEN: TOKEN, POSELIFT_RATE_LIMIT: '100000' });
    serve = s.proc;
    for (let k = 0; k < nWorkers; k++) workers.push(new WorkerProc(workerEnv(redis.url, queue, results, { POSELIFT_THREADS: '1' }), `worker ${k + 1}`));
    await Promise.all(workers.map((w) => w.ready()));
    const headers = { authorization: `Bearer ${TOKEN}` };
    const photo = fs.readFileSync(PHOTO), camera = fs.readFileSync(CAMERA);
    const lat: Record<string, number[]> = { 'POST /v1/jobs (upload)': [], 'GET /v1/jobs/:id': [], 'GET /v1/health': [] };
    const timed = async (key: string, f: () => Promise<Response>) => {
      const t = performance.now();
      const r = await f();
      const body = await r.text();
      lat[key].push(performance.now() - t);
      return { status: r.status, body };
    };
    const deadline = Date.now() + budgetMs;
    const ids: string[] = [];
    let uploadErrors = 0;
    const t0 = performance.now();
    const client = async () => {
      for (let j = 0; j < perClient && Date.now() < deadline; j++) {
        const fd = new FormData();
        fd.append('camera', new Blob([new Uint8Array(camera)]), 'camera.json');
        fd.append('file', new Blob([new Uint8Array(photo)]), 'person.jpg');
        const up = await timed('POST /v1/jobs (upload)', () => fetch(`${s.url}/v1/jobs`, { method: 'POST', headers, body: fd }));
        if (up.status !== 201) { uploadErrors++; ctx.log(`serve: upload answered ${up.status}: ${up.body.slice(0, 200)}`); continue; }
        const id = String(JSON.parse(up.body).id);
        ids.push(id);
        while (Date.now() < deadline) {
          const g = await timed('GET /v1/jobs/:id', () => fetch(`${s.url}/v1/jobs/${id}`, { headers }));
          const st = g.status === 200 ? JSON.parse(g.body).state : `HTTP ${g.status}`;
          if (st === 'completed' || st === 'failed' || g.status === 404) break;
          await sleep(250);
        }
      }
    };
    // a health probe alongside the clients: the API's latency for a request that touches Redis only
    let probing = true;
    const probe = (async () => { while (probing) { await timed('GET /v1/health', () => fetch(`${s.url}/v1/health`, { headers })); await sleep(200); } })();
    await Promise.all(Array.from({ length: clients }, client));
    probing = false;
    await probe;
    const wall = (performance.now() - t0) / 1000;
    // the books: every accepted upload ends completed with a valid poselift/1 result, or failed with a reason
    let completed = 0, failed = 0, lost = 0, unfinished = 0;
    for (const id of ids) {
      const r = await fetch(`${s.url}/v1/jobs/${id}`, { headers });
      if (r.status === 404) { lost++; continue; }
      const j = await r.json() as { state: string; failed_reason: string | null };
      if (j.state === 'failed') { failed++; if (!j.failed_reason) lost++; continue; }
      if (j.state !== 'completed') { unfinished++; continue; }
      const doc = await fetch(`${s.url}/v1/jobs/${id}/result`, { headers });
      let ok = false;
      try { const d = await doc.json() as { schema?: string; frames?: unknown[] }; ok = doc.status === 200 && d.schema === 'poselift/1' && d.frames?.length === 1; } catch { /* not JSON */ }
      if (ok) completed++; else lost++;
    }
    res.tables.push({
      head: ['clients', 'workers', 'jobs accepted', 'completed', 'failed', 'lost', 'unfinished at the time limit', 'upload errors', 'wall s', 'jobs/s'],
      rows: [[String(clients), String(nWorkers), String(ids.length), String(completed), String(failed), String(lost), String(unfinished), String(uploadErrors), num(wall, 1), num(completed / wall, 2)]],
    });
    res.tables.push({
      title: 'API latency on loopback while the workers are busy (ms)',
      head: ['request', 'count', 'p50', 'p99', 'max'],
      rows: Object.entries(lat).map(([k, xs]) => [k, String(xs.length), num(quantile(xs, 0.5), 1), num(quantile(xs, 0.99), 1), num(Math.max(...xs), 1)]),
    });
    res.notes.push(`${clients} clients x ${perClient} uploads of samples/person.jpg (${(photo.length / 1024).toFixed(0)} kB) with samples/camera.json, each polled every 250 ms until it ends; ${nWorkers} worker process(es) with 1 detection thread each; private redis-server; the serve process, the workers and the clients share the machine's ${(await import('node:os')).cpus().length} cores.`);
    res.targets.push({ target: 'serve: 0 jobs lost under concurrent uploads', measured: `${lost} lost, ${unfinished} unfinished, of ${ids.length} accepted`, met: ctx.quick ? null : lost === 0 && unfinished === 0 });
    return res;
  } finally {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    if (serve && serve.exitCode === null) {
      const exited = new Promise((r) => serve!.once('exit', r));
      serve.kill('SIGTERM');
      const t = setTimeout(() => serve!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    await redis.stop('SIGKILL');
  }
}
