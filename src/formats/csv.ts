/**
 * CSV export of a poselift/1 result: one row per frame, person and h36m17 joint.
 *
 * frame,time_s,person,joint_index,joint,x_mm,y_mm,z_mm,u_px,v_px,score
 *
 * x/y/z: camera frame (x right, y down, z forward), millimetres, empty when the person was detected but
 * not lifted. u/v/score: the detector's 2D keypoint mapped to h36m17 (pixels of the image as given;
 * empty for joints the detector's layout has no equivalent of, e.g. COCO's spine and head top).
 * time_s is empty for independent photos (fps 0).
 */
import { H36M17_NAMES, toH36m17 } from '../contracts/layouts.js';
import type { PoseliftDoc } from '../contracts/document.js';
import { personIds } from './doc.js';
import { roundTo } from '../util/numeric.js';

export const CSV_HEADER = 'frame,time_s,person,joint_index,joint,x_mm,y_mm,z_mm,u_px,v_px,score';

export interface CsvOptions {
  person?: number;
  file?: string;
}

const num = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '' : String(v));

export function toCsv(doc: PoseliftDoc, o: CsvOptions = {}): { text: string; rows: number } {
  const file = o.file ?? 'result';
  if (o.person !== undefined && !personIds(doc).some((e) => e.id === o.person)) {
    const list = personIds(doc).map((e) => e.id).join(', ') || 'none';
    throw new Error(`${file}: no person with id ${o.person} (ids in the result: ${list}); pass one of them to --person`);
  }
  const out: string[] = [CSV_HEADER];
  for (const f of doc.frames) {
    for (const p of f.people) {
      if (o.person !== undefined && p.id !== o.person) continue;
      let kp: Float64Array | null = null;
      if (p.keypoints2d?.length && p.layout2d) {
        kp = toH36m17({ layout: p.layout2d, data: Float64Array.from(p.keypoints2d.flat()) });
      }
      for (let j = 0; j < 17; j++) {
        const x = p.joints3d?.[j];
        const ok = kp !== null && kp[j * 3 + 2] > 0 && Number.isFinite(kp[j * 3]);
        out.push([
          f.index, num(f.time_s), p.id, j, H36M17_NAMES[j], num(x?.[0]), num(x?.[1]), num(x?.[2]),
          ok ? roundTo(kp![j * 3], 2) : '', ok ? roundTo(kp![j * 3 + 1], 2) : '', ok ? roundTo(kp![j * 3 + 2], 3) : '',
        ].join(','));
      }
    }
  }
  return { text: out.join('\n') + '\n', rows: out.length - 1 };
}
