/** `poselift calibrate`: measure a detector's keypoint adapter, or the detected models' reference (src/eval/calibrate.ts), and print it. */
import path from 'node:path';
import { calibrateDetector, measureReference, type CalibrateOptions } from '../eval/calibrate.js';
import { ADAPTER_FILE, writeAdapterReference } from '../lift/adapter-file.js';

export function calibrateReferenceCommand(dir: string, o: { models: string; out?: string | null; subjects: string[]; stride: number; command: string; json?: boolean }): void {
  const ref = measureReference(dir, o.subjects, o.stride, o.command);
  const out = o.out === null ? null : path.resolve(o.out ?? path.join(o.models, ADAPTER_FILE));
  if (out) writeAdapterReference(out, ref);
  if (o.json) { process.stdout.write(`${JSON.stringify({ reference: ref, out })}\n`); return; }
  const a = ref.adapter;
  process.stdout.write(`reference: ${ref.dataset} ${ref.subjects.join(',')} (${ref.samples} person-views): pelvisShift ${a.pelvisShift}, hipShift ${a.hipShift}, hipWidth ${a.hipWidth}, thoraxShift ${a.thoraxShift}\n` +
    `${out ? `wrote ${out}` : 'not written (--dry-run)'}\n`);
}

export async function calibrateCommand(dir: string, o: CalibrateOptions & { json?: boolean }): Promise<void> {
  const r = await calibrateDetector(dir, o, (s) => process.stderr.write(`${s}\n`));
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ detector: o.detector, ...r.entry, out: r.out })}\n`);
    return;
  }
  const e = r.entry;
  const mean = (xs: { mpjpe: number; root: number }[], k: 'mpjpe' | 'root') => xs.reduce((s, x) => s + x[k], 0) / xs.length;
  const lines = [
    `${o.detector} on ${e.dataset} (${r.ids.length} photos): pelvisShift ${e.adapter.pelvisShift}, hipShift ${e.adapter.hipShift}, hipWidth ${e.adapter.hipWidth}, thoraxShift ${e.adapter.thoraxShift}`,
    'leave-one-out (each photo with the adapter measured on the others), MPJPE / root error mm:',
    ...r.ids.map((id, i) => `  ${id}: without ${e.leave_one_out.without[i].mpjpe.toFixed(1)} / ${e.leave_one_out.without[i].root.toFixed(0)}, with ${e.leave_one_out.with[i].mpjpe.toFixed(1)} / ${e.leave_one_out.with[i].root.toFixed(0)}`),
    `  mean: without ${mean(e.leave_one_out.without, 'mpjpe').toFixed(1)} / ${mean(e.leave_one_out.without, 'root').toFixed(0)}, with ${mean(e.leave_one_out.with, 'mpjpe').toFixed(1)} / ${mean(e.leave_one_out.with, 'root').toFixed(0)}`,
    r.out ? `wrote ${r.out}` : 'not written (--dry-run)',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
