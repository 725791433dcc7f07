/** `poselift export RESULT.json --format bvh|csv [--person ID] [--frame N] [--out F]`. */
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { readResult } from '../formats/doc.js';
import { toBvh } from '../formats/bvh.js';
import { toCsv } from '../formats/csv.js';

export interface ExportCliOptions {
  format: string;
  person?: number;
  frame?: number;
  out?: string;
}

/** Default output: ./<name>.bvh|csv in the working directory (name = the result's minus .poselift.json). */
export function defaultExportPath(result: string, format: string, person?: number): string {
  const base = path.basename(result).replace(/\.poselift\.json$|\.json$/i, '');
  return path.resolve(`${base}${person !== undefined && format === 'bvh' ? `.person${person}` : ''}.${format}`);
}

export async function exportCommand(result: string, o: ExportCliOptions): Promise<void> {
  const format = String(o.format).toLowerCase();
  if (format !== 'bvh' && format !== 'csv') throw new Error(`export: unknown --format "${o.format}"; use bvh or csv`);
  const doc = readResult(result);
  if (format === 'bvh') {
    const r = toBvh(doc, { person: o.person, frame: o.frame, file: result });
    const out = o.out ?? defaultExportPath(result, 'bvh', o.person);
    writeFileAtomic(out, r.text);
    process.stderr.write(`${result}: person ${r.person}, ${r.frames.length} BVH frame(s)${r.held ? ` (${r.held} held over gaps)` : ''}, forward kinematics within ${r.maxErrorMm.toFixed(2)} mm of the JSON -> ${out}\n`);
    if (r.maxErrorMm > 1) {
      process.stderr.write(`${result}: note: the result's bone lengths vary by up to ${r.boneSpreadMm.toFixed(1)} mm over the track (the lifter fits them per window) and BVH holds one length per bone; the CSV has the exact joints\n`);
    }
  } else {
    if (o.frame !== undefined) throw new Error('export: --frame applies to --format bvh only; the CSV holds every frame (filter its "frame" column)');
    const r = toCsv(doc, { person: o.person, file: result });
    const out = o.out ?? defaultExportPath(result, 'csv');
    writeFileAtomic(out, r.text);
    process.stderr.write(`${result}: ${r.rows} row(s) -> ${out}\n`);
  }
}
