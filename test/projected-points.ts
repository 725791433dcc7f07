/**
 * A pose-dataset/1 folder whose views carry `points2d` made from the ground truth: each view's projected
 * h36m17 joints written in another keypoint layout (COCO-17, MPII-16, ...), with the joints that layout
 * lacks missing (NaN, score 0). It runs the `points2d` path and the layout adapters end to end on data with
 * known answers (test/models/models.test.ts, experiments/layout-slices.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LAYOUTS, type LayoutName } from '../src/contracts/layouts.js';
import { openDataset } from '../src/data/dataset.js';

export interface ProjectedSliceOptions {
  layout: LayoutName;
  /** only sequences of this subject */
  subject: string;
  /** at most this many sequences (in index order) */
  sequences: number;
  /** at most this many frames from the start of each sequence */
  frames: number;
  /** the score given to every present keypoint */
  score?: number;
  /**
   * write the view's own stored detections (`points2d`, e.g. the Stacked Hourglass's) instead of the projected
   * truth; `layout` must be theirs
   */
  stored?: boolean;
}

/** Writes the folder into a new temp directory and returns its path (the caller removes it). */
export function writeProjectedSlice(src: string, o: ProjectedSliceOptions): string {
  const ds = openDataset(src);
  const index = JSON.parse(fs.readFileSync(path.join(src, 'index.json'), 'utf8'));
  const picked = index.sequences
    .map((s: { subject: string }, i: number) => ({ s, i }))
    .filter(({ s }: { s: { subject: string } }) => s.subject === o.subject)
    .slice(0, o.sequences);
  if (!picked.length) throw new Error(`${src}: no sequences of subject ${o.subject}`);
  const def = LAYOUTS[o.layout];
  const floats: number[] = [];
  const world: number[] = [];
  let storedChannels: number | undefined;
  try {
    index.sequences = picked.map(({ s, i }: { s: { frames: number; views: object[] }; i: number }) => {
      const frames = Math.min(s.frames, o.frames);
      const w3 = ds.readWorld3d(i, 0, frames);
      const seq = { ...s, frames, world3d: { file: 'world3d.f32', offset: world.length } };
      world.push(...w3);
      seq.views = s.views.map((v, vi) => {
        const offset = floats.length;
        if (o.stored) {
          // the stored rows as they are (their channels; NaN = missing)
          const p = ds.readPoints2d(i, vi, 0, frames);
          if (p.layout !== o.layout) throw new Error(`${src}: stored points2d are ${p.layout}, not ${o.layout}`);
          if (storedChannels !== undefined && storedChannels !== p.channels) throw new Error(`${src}: views with 2 and 3 channels`);
          storedChannels = p.channels;
          for (const x of p.data) floats.push(x);
          return { ...v, points2d: { file: 'points2d.f32', offset, layout: o.layout, channels: p.channels, source: 'stored detections' } };
        }
        const gt = ds.groundTruth2d(i, vi, 0, frames);
        for (let f = 0; f < frames; f++) {
          for (let k = 0; k < def.names.length; k++) {
            const j = def.toH36m.indexOf(k);
            if (j < 0) floats.push(NaN, NaN, 0);
            else floats.push(gt[(f * 17 + j) * 3], gt[(f * 17 + j) * 3 + 1], o.score ?? 0.9);
          }
        }
        return { ...v, points2d: { file: 'points2d.f32', offset, layout: o.layout, channels: 3, source: 'projected ground truth' } };
      });
      return seq;
    });
  } finally {
    ds.close();
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `poselift-${o.layout}-`));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
  fs.writeFileSync(path.join(dir, 'points2d.f32'), Buffer.from(new Float32Array(floats).buffer));
  fs.writeFileSync(path.join(dir, 'world3d.f32'), Buffer.from(new Float32Array(world).buffer));
  return dir;
}
