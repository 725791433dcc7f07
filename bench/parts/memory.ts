/**
 * Part "memory": peak resident memory of `poselift run` (bin/poselift.js, the compiled CLI) on a long and
 * a short 720p video of one person with MoveNet Lightning: it must not grow with the video's length (the
 * document is streamed to its file as frames become final: docs/decisions/streamed-documents.md). The
 * target (issue 21): the 5-minute video at its full 25 fps within 1.1x of the 10 s one, judged with
 * `--long` only (a sampled long video has fewer frames than the target names).
 *
 * Full mode: the 10 s video at its own 25 fps (250 frames, one or more 192-frame track-lifting windows: the
 * steady state) vs the 300 s video sampled with `--fps 5` (`--memory-fps N`; 1,500 frames): the same code
 * path (decode, detect, track, windowed lifting, the document) on 6x the frames and 30x the length, in a
 * couple of minutes. `--long` runs the 300 s video at its own 25 fps too (7,500 frames, about 10-30 min on
 * 2 cores). A first design sampled both at 2 fps: the 10 s run then had 20 frames, never filled a lifting
 * window and under-stated the steady state (497 vs 600 MB). Quick mode: 3 s vs 10 s, both at 1 fps.
 *
 * Peak RSS of the poselift (node) process: `/usr/bin/time -v` ("Maximum resident set size") when
 * installed, else /proc/<pid>/status VmHWM polled every 50 ms (its last value before exit). ffmpeg's
 * decoder is a separate process and not counted.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { personClip } from '../lib/media.js';
import { ratio, type BenchContext, type PartResult } from '../lib/common.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(REPO, 'bin', 'poselift.js');

interface Peak { rssMb: number; seconds: number; frames: number; jsonMb: number; how: string }

function hwmKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export async function peakRss(args: string[], out: string): Promise<Peak> {
  const useTime = fs.existsSync('/usr/bin/time');
  const cmd = useTime ? '/usr/bin/time' : process.execPath;
  const argv = useTime ? ['-v', process.execPath, CLI, ...args] : [CLI, ...args];
  const t0 = performance.now();
  const child = spawn(cmd, argv, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.resume();
  let polled = 0;
  const timer = useTime ? undefined : setInterval(() => { polled = Math.max(polled, hwmKb(child.pid!)); }, 50);
  const code: number = await new Promise((resolve, reject) => { child.on('error', reject); child.on('close', resolve); });
  if (timer) clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) {
    // without the statistics /usr/bin/time appends
    const own = stderr.split(/\n\s*Command (being timed|exited with non-zero status)/)[0].trim().split('\n').slice(-5).join(' | ');
    throw new Error(`memory: \`poselift ${args.join(' ')}\` exited ${code}: ${own}`);
  }
  let kb = polled;
  if (useTime) {
    const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(stderr);
    if (!m) throw new Error(`memory: /usr/bin/time -v printed no "Maximum resident set size": ${stderr.slice(-300)}`);
    kb = Number(m[1]);
  }
  const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as { frames: unknown[] };
  return { rssMb: kb / 1024, seconds, frames: doc.frames.length, jsonMb: fs.statSync(out).size / 2 ** 20, how: useTime ? '/usr/bin/time -v' : '/proc VmHWM' };
}

export async function memoryPart(ctx: BenchContext, memoryFps?: number): Promise<PartResult> {
  const res: PartResult = { name: 'memory', title: 'Memory: peak RSS of `poselift run`, long vs short video', tables: [], notes: [], targets: [] };
  if (!fs.existsSync(path.join(REPO, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('memory: the compiled CLI is missing (dist/); run `npm run build` first');
  }
  const [shortS, longS] = ctx.quick ? [3, 10] : [10, 300];
  // sampling rate per video: [short, long]; undefined = the video's own 25 fps
  const fpsOf: (number | undefined)[] = ctx.quick ? [memoryFps ?? 1, memoryFps ?? 1] : [undefined, ctx.long ? undefined : (memoryFps ?? 5)];
  const rows: string[][] = [];
  const peaks: Peak[] = [];
  for (const [k, secs] of [shortS, longS].entries()) {
    const fps = fpsOf[k];
    const video = await personClip(secs);
    const out = path.join(ctx.tmp, `memory-${secs}s.json`);
    const args = ['run', video, '--detector', 'movenet-lightning', '--out', out, ...(fps ? ['--fps', String(fps)] : [])];
    ctx.log(`memory: ${secs} s video${fps ? ` at --fps ${fps}` : ''}`);
    const p = await peakRss(args, out);
    peaks.push(p);
    rows.push([`${secs} s`, fps ? `--fps ${fps}` : '25 (own)', String(p.frames), p.rssMb.toFixed(0), p.seconds.toFixed(1), (p.frames / p.seconds).toFixed(1), p.jsonMb.toFixed(2)]);
  }
  const r = peaks[1].rssMb / peaks[0].rssMb;
  rows.push([`${longS} s / ${shortS} s`, '', ratio(peaks[1].frames, peaks[0].frames, 0), ratio(peaks[1].rssMb, peaks[0].rssMb), '', '', '']);
  res.tables.push({
    title: `\`poselift run VIDEO --detector movenet-lightning [--fps N]\`, 1280 x 720, one person (peak RSS by ${peaks[0].how}; one run each)`,
    head: ['video', 'sampled at', 'frames processed', 'peak RSS (MB)', 'wall s (incl. start-up)', 'frames/s', 'output JSON (MB)'],
    rows,
  });
  res.notes.push(fpsOf[1]
    ? `Same code path on ${peaks[1].frames} vs ${peaks[0].frames} frames${fpsOf[0] ? '' : ' (the short video at its own rate fills one or more 192-frame lifting windows: the steady state)'}. \`--parts memory --long\` runs the long video at its full 25 fps too.`
    : 'Both videos at their own 25 fps (--long).');
  const fullRate = !fpsOf[1];
  res.targets.push({
    target: `peak memory of a ${longS / 60 >= 1 ? `${longS / 60}-minute` : `${longS} s`} 720p video at its full rate within 1.1x of a ${shortS} s one`,
    measured: `${r.toFixed(2)}x (${peaks[1].rssMb.toFixed(0)} vs ${peaks[0].rssMb.toFixed(0)} MB; ${peaks[1].frames} vs ${peaks[0].frames} frames)` +
      (fullRate ? '' : `; the long video sampled at --fps ${fpsOf[1]}: judged with --long`),
    met: ctx.quick || !fullRate ? null : r <= 1.1,
  });
  return res;
}
