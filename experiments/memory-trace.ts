/**
 * Memory over time of the `poselift run` video path (runInputs, MoveNet Lightning) on the bench's 720p clip:
 * process RSS and the main thread's heap every `--every` frames. Shows whether memory grows with the
 * video's length or only saw-tooths (README, "Memory").
 *
 *   node --import tsx experiments/memory-trace.ts [--seconds 300] [--fps 25] [--threads 2] [--every 150]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { personClip } from '../bench/lib/media.js';
import { runInputs } from '../src/app/run.js';
import { closeDetectThreads } from '../src/detect/stream.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '300' }, fps: { type: 'string' }, threads: { type: 'string', default: '2' }, every: { type: 'string', default: '150' } },
});
const num = (v: string | undefined, name: string) => {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) { process.stderr.write(`memory-trace: --${name} ${v}: expected a positive number\n`); process.exit(2); }
  return n;
};
const seconds = num(values.seconds, 'seconds'), threads = num(values.threads, 'threads'), every = num(values.every, 'every');
const fps = values.fps !== undefined ? num(values.fps, 'fps') : undefined;
const clip = await personClip(seconds);
const mb = (v: number) => (v / 2 ** 20).toFixed(0);
const line = (label: string) => {
  const m = process.memoryUsage();
  process.stdout.write(`${label} rss ${mb(m.rss)} MB, main heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)} MB, external ${mb(m.external)} MB\n`);
};
let last = 0, peak = 0;
const out = path.join(os.tmpdir(), `poselift-memory-trace-${process.pid}.json`);
await runInputs([clip], {
  models: path.resolve(import.meta.dirname, '..', 'models'), detector: 'movenet-lightning', threads, fps,
  out,
  progress: (done) => {
    peak = Math.max(peak, process.memoryUsage().rss);
    if (done - last >= every) { last = done; line(`frame ${done}:`); }
  },
});
peak = Math.max(peak, process.memoryUsage().rss);
line('end:');
process.stdout.write(`peak sampled rss ${mb(peak)} MB\n`);
await closeDetectThreads();
fs.rmSync(out, { force: true });
