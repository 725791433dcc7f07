/** `poselift eval-temporal`: the temporal lifter against the single-frame PoseNet on sequences (src/eval/temporal.ts). */
import { evaluateTemporal, type TemporalEvalOptions } from '../eval/temporal.js';
import { fmt } from './format.js';

export async function evalTemporalCommand(dir: string, o: TemporalEvalOptions & { json?: boolean }): Promise<void> {
  const quiet = o.json || !process.stderr.isTTY;
  const r = await evaluateTemporal(dir, o, quiet ? undefined : (s) => process.stderr.write(`${s}\n`));
  if (o.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const s = r.single_frame;
  const rows: [string, string, string][] = [
    ['', `temporal (${r.window} frames)`, 'single-frame PoseNet'],
    ['MPJPE, root-aligned (mm)', fmt(r.temporal.mpjpe), fmt(s?.mpjpe)],
    ['PA-MPJPE (mm)', fmt(r.temporal.pa_mpjpe), fmt(s?.pa_mpjpe)],
    [`accel error (mm/frame^2 at ${fmt(r.fps, 0)} fps)`, fmt(r.temporal.accel, 2), fmt(s?.accel, 2)],
    ['lift time (ms / frame)', fmt(r.temporal.ms_per_frame, 3), fmt(s?.ms_per_frame, 3)],
  ];
  const head = [
    `data set  ${r.dataset} (${dir})${r.subjects ? `, subjects ${r.subjects.join(',')}` : ''}`,
    `input     ${r.input}; every frame lifted at ${fmt(r.fps, 0)} fps (every ${r.frame_step} data frames), every ${r.score_every}th scored: ${r.frames} frames (person-views), ${r.unliftable} not liftable`,
    `model     ${r.model}${r.single_frame_model ? ` against ${r.single_frame_model}` : ''}${r.accel_ratio != null ? `; acceleration error ${r.accel_ratio.toFixed(1)}x lower than single-frame` : ''}`,
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length)), w1 = Math.max(...rows.map((x) => x[1].length));
  process.stdout.write(head.join('\n') + '\n' + rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`).join('\n') + '\n');
}
