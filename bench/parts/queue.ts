/**
 * Part "queue": in-process vs one worker vs two workers on the same long video. The measurement itself is
 * bench/queue.ts (written with the queue work; its own default: 60 s of 720p at 25 fps); this part runs it as a
 * child process when it exists
 * (passing --runs N when given and --seconds from --queue-seconds; --quick: 2 s of video at 5 fps) and includes its
 * markdown table and lines and includes what it prints; otherwise it reports "not built".
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, PartResult } from '../lib/common.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const QUEUE_BENCH = path.join(REPO, 'bench', 'queue.ts');

export async function queuePart(ctx: BenchContext, queueSeconds?: number): Promise<PartResult> {
  const res: PartResult = { name: 'queue', title: 'Queue: in-process vs one worker vs two workers', tables: [], notes: [], targets: [] };
  if (!fs.existsSync(QUEUE_BENCH)) {
    res.skipped = 'not built (bench/queue.ts does not exist yet)';
    return res;
  }
  // quick: 2 s of video at 5 fps (10 frames per configuration, ~30 s with the worker start-ups)
  const seconds = queueSeconds ?? (ctx.quick ? 2 : undefined);
  const args = ['--import', 'tsx', QUEUE_BENCH, ...(ctx.quick ? ['--quick', '--fps', '5'] : []),
    ...(seconds !== undefined ? ['--seconds', String(seconds)] : []), ...(ctx.runsGiven ? ['--runs', String(ctx.runs)] : [])];
  ctx.log(`queue: node ${args.join(' ')}`);
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const code: number = await new Promise((resolve, reject) => { child.on('error', reject); child.on('close', resolve); });
  if (code !== 0) throw new Error(`queue: bench/queue.ts exited ${code}: ${err.trim().split('\n').slice(-5).join(' | ')}`);
  const lines = out.trim().split('\n');
  // markdown table lines are kept as a table; anything else becomes a note
  const tableLines = lines.filter((l) => l.trim().startsWith('|'));
  if (tableLines.length >= 2) {
    const cells = (l: string) => l.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
    res.tables.push({ head: cells(tableLines[0]), rows: tableLines.slice(2).map(cells) });
  }
  const rest = lines.filter((l) => !l.trim().startsWith('|') && l.trim());
  if (rest.length) res.notes.push(...rest);
  if (!res.tables.length && !rest.length) res.notes.push('(bench/queue.ts printed nothing)');
  return res;
}
