/** `poselift eval`: evaluate a pose-dataset/1 folder (src/eval/evaluate.ts) and print the report (a table, or --json). */
import { evaluateDataset, type EvalOptions } from '../eval/evaluate.js';
import { fmt } from './format.js';

export async function evalCommand(dir: string, o: EvalOptions): Promise<void> {
  const quiet = o.json || !process.stderr.isTTY;
  const r = await evaluateDataset(dir, o, quiet ? undefined : (s) => process.stderr.write(`${s}\n`));
  if (o.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const rows: [string, string][] = [
    ['data set', `${r.dataset} (${dir})`],
    ['input', `${r.input}${r.coco_style ? ' (as COCO-17)' : ''}, every ${r.stride} frame(s)${r.single_frame ? ', each frame lifted alone' : ''}${r.score_every ? `${r.single_frame ? ',' : ' lifted as a video,'} every ${r.score_every}th scored` : ''}${r.subjects ? `, subjects ${r.subjects.join(',')}` : ''}`],
    ['models', Object.entries(r.models).map(([k, v]) => `${k} ${v}`).join(', ')],
    ...(r.detector ? [['detector', `${r.detector}, keypoint adapter: ${r.keypoint_adapter ?? 'none'}`] as [string, string]] : []),
    ['frames (person-views)', String(r.frames)],
    ['MPJPE, root-aligned (mm)', fmt(r.mpjpe)],
    ['PA-MPJPE (mm)', fmt(r.pa_mpjpe)],
    ['N-MPJPE (mm)', fmt(r.n_mpjpe)],
    ['MPJPE, camera frame (mm)', fmt(r.mpjpe_abs)],
    ['MRPE, root (mm)', fmt(r.mrpe)],
    ['MRPE x / y / z (mm)', r.mrpe_xyz.map((v) => fmt(v)).join(' / ')],
    ['root depth bias, predicted - true (mm)', fmt(r.root_depth_bias)],
    ['PCK3D @150 mm (%)', fmt(r.pck150 * 100)],
    ['AUC 0..150 mm (%)', fmt(r.auc * 100)],
    [`accel error (mm/frame^2${r.score_every ? ', every lifted frame' : ''})`, fmt(r.accel, 2)],
    ['lift time (ms / frame)', fmt(r.ms_per_frame, 3)],
    ['not liftable (frames)', String(r.unliftable)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n');
  if (r.per_action) {
    const names = Object.keys(r.per_action);
    const aw = Math.max(6, ...names.map((n) => n.length));
    process.stdout.write(`\n${'action'.padEnd(aw)}  frames   MPJPE  PA-MPJPE    MRPE\n` + names.map((n) => {
      const a = r.per_action![n];
      return `${n.padEnd(aw)}  ${String(a.frames).padStart(6)}  ${fmt(a.mpjpe).padStart(6)}  ${fmt(a.pa_mpjpe).padStart(8)}  ${fmt(a.mrpe).padStart(6)}`;
    }).join('\n') + '\n');
  }
}
