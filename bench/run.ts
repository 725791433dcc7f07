/**
 * `npm run bench [-- --parts stages,lifter,peer,queue,memory,serve --runs N --quick --long --out FILE
 *                   --memory-fps N --queue-seconds N --models DIR]`
 *
 * poselift against its targets and its peer, every figure a median over `--runs` runs after warm-up with
 * min and max, every comparison a ratio of two things measured in the same run. Prints markdown tables
 * and writes BENCHMARKS.md (atomically): by default at the repository root in a full run of all parts;
 * with --quick or a subset of --parts only when --out is given. Never asserts timings.
 *
 *   stages  detectors on 720p frames, PoseNet + RootNet, depth search + fitter, end to end on a video
 *   lifter  PoseNet poses/s at batch 1 and 1024, GFLOP/s against a plain ONNX Gemm chain of the same size
 *   peer    BlazePose's own 3D vs poselift on the Human3.6M photos (MPJPE, root error, ms)
 *   queue   in-process vs 1 vs 2 workers (bench/queue.ts, when it exists; --queue-seconds N: its video's length)
 *   memory  peak RSS of `poselift run` on a long vs a short video (needs `npm run build`)
 *   serve   concurrent clients upload and poll through `poselift serve` while workers run the jobs: jobs lost,
 *           API latency p50 / p99 (needs `npm run build`)
 *
 * --quick: one run each, a few frames, 3 s vs 10 s videos: a smoke test (CI), not a measurement.
 * --long: memory's 5-minute video at its full 25 fps instead of --memory-fps (default 5; the 10 s one is
 *         always at 25 fps).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../src/util/atomic.js';
import { defaultModelsDir } from '../src/util/paths.js';
import { markdownTable, type BenchContext, type PartResult, type Target } from './lib/common.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PARTS = ['stages', 'lifter', 'peer', 'queue', 'memory', 'serve'] as const;
type PartName = (typeof PARTS)[number];

function fail(msg: string): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

let values: { parts?: string; runs?: string; quick?: boolean; long?: boolean; out?: string; 'memory-fps'?: string; 'queue-seconds'?: string; models?: string };
try {
  ({ values } = parseArgs({
    options: {
      parts: { type: 'string' },
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      long: { type: 'boolean', default: false },
      out: { type: 'string' },
      'memory-fps': { type: 'string' },
      'queue-seconds': { type: 'string' },
      models: { type: 'string' },
    },
  }));
} catch (e) {
  fail(`${(e as Error).message}; options: --parts ${PARTS.join(',')} --runs N --quick --long --out FILE --memory-fps N --queue-seconds N --models DIR`);
}
const parts: PartName[] = values.parts ? values.parts.split(',').map((s) => s.trim()).filter(Boolean) as PartName[] : [...PARTS];
for (const p of parts) if (!PARTS.includes(p)) fail(`--parts: unknown part "${p}"; use a comma-separated list of ${PARTS.join(', ')}`);
const quick = values.quick ?? false;
const runs = values.runs !== undefined ? Number(values.runs) : quick ? 1 : 5;
if (!(Number.isInteger(runs) && runs >= 1)) fail(`--runs ${values.runs}: expected a whole number >= 1`);
const memoryFps = values['memory-fps'] !== undefined ? Number(values['memory-fps']) : undefined;
if (memoryFps !== undefined && !(memoryFps > 0)) fail(`--memory-fps ${values['memory-fps']}: expected a number > 0`);
const queueSeconds = values['queue-seconds'] !== undefined ? Number(values['queue-seconds']) : undefined;
if (queueSeconds !== undefined && !(queueSeconds > 0)) fail(`--queue-seconds ${values['queue-seconds']}: expected a number > 0`);
const allParts = PARTS.every((p) => parts.includes(p));
const outFile = values.out ? path.resolve(values.out) : !quick && allParts ? path.join(REPO, 'BENCHMARKS.md') : undefined;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-bench-'));
const ctx: BenchContext = {
  runs, runsGiven: values.runs !== undefined, quick, long: values.long ?? false, tmp,
  models: values.models ? path.resolve(values.models) : defaultModelsDir(),
  log: (m) => process.stderr.write(`bench: ${m}\n`),
};

const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
const load0 = os.loadavg();
const started = new Date();
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const head = [
  '# poselift benchmarks',
  '',
  `- date: ${started.toISOString().replace(/\.\d+Z$/, 'Z')}`,
  `- machine: ${os.cpus().length} cores, ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, node ${process.version}`,
  `- command: \`${command}\` (${quick ? 'quick: one run, a few frames; a smoke test, not a measurement' : `${runs} run(s) after warm-up; median (min–max)`})`,
];
process.stdout.write(head.join('\n') + '\n');

function partMarkdown(r: PartResult): string {
  const lines = [`## ${r.name}: ${r.title}`, ''];
  if (r.skipped) lines.push(r.skipped, '');
  for (const t of r.tables) {
    if (t.title) lines.push(`${t.title}:`, '');
    lines.push(markdownTable(t), '');
  }
  for (const n of r.notes) lines.push(`${n}`, '');
  return lines.join('\n');
}

const results: PartResult[] = [];
let failed = 0;
for (const name of parts) {
  const t0 = performance.now();
  let r: PartResult;
  try {
    switch (name) {
      case 'stages': r = await (await import('./parts/stages.js')).stagesPart(ctx); break;
      case 'lifter': r = await (await import('./parts/lifter.js')).lifterPart(ctx); break;
      case 'peer': r = await (await import('./parts/peer.js')).peerPart(ctx); break;
      case 'queue': r = await (await import('./parts/queue.js')).queuePart(ctx, queueSeconds); break;
      case 'memory': r = await (await import('./parts/memory.js')).memoryPart(ctx, memoryFps); break;
      case 'serve': r = await (await import('./parts/serve.js')).servePart(ctx); break;
    }
  } catch (e) {
    failed++;
    r = { name, title: 'FAILED', tables: [], notes: [], targets: [], skipped: `FAILED: ${(e as Error).message}` };
  }
  ctx.log(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  results.push(r);
  process.stdout.write('\n' + partMarkdown(r));
}

const targets: Target[] = results.flatMap((r) => r.targets);
const targetsMd = [
  '## Targets',
  '',
  markdownTable({
    head: ['target', 'measured', 'met'],
    rows: targets.map((t) => [t.target, t.measured, t.met === null ? 'not judged (quick run)' : t.met ? 'met' : '**not met**']),
  }),
  '',
].join('\n');
const load1 = os.loadavg();
const tail = `Load average (1 min) ${load0[0].toFixed(2)} at the start, ${load1[0].toFixed(2)} at the end, on ${os.cpus().length} cores: above ~0.5 other work shared the machine and the timings are pessimistic.\n`;
process.stdout.write('\n' + targetsMd + '\n' + tail);

if (outFile) {
  const md = [head.join('\n'), '', ...results.map(partMarkdown), targetsMd, tail].join('\n');
  writeFileAtomic(outFile, md);
  ctx.log(`wrote ${outFile}`);
}
fs.rmSync(tmp, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
