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
import { MIX_PARTS, mixPart } from '../src/train/augment.js';
import { Rng } from '../src/util/rng.js';

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
  return writeFolder(`poselift-${o.layout}-`, index, { 'points2d.f32': floats, 'world3d.f32': world });
}

/** A new temp folder holding `index.json` and each named float32 blob; returns its path. */
function writeFolder(prefix: string, index: object, blobs: Record<string, number[]>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
  for (const [file, values] of Object.entries(blobs)) fs.writeFileSync(path.join(dir, file), Buffer.from(new Float32Array(values).buffer));
  return dir;
}

export interface NovelPoseOptions {
  /** sequences of this subject (e.g. the held-out S1) */
  subject: string;
  /** at most this many of its sequences, spread over its index order */
  sequences: number;
  /** at most this many frames from the start of each sequence */
  frames: number;
  /** mix limbs between sequences (false: the same sequences as they are, the reference) */
  mix: boolean;
  seed: number;
}

/**
 * Poses nobody made, with their motion: a pose-dataset/1 folder (world3d only, the source's cameras) of a
 * subject's sequences in which each sequence takes each part (MIX_PARTS: legs, arms, head) with probability
 * 0.5, at least one, from a random other sequence of the subject with another action: frame t's part takes the
 * donor's frame t (wrapping) bone directions relative to the torso (`mixPart`), at the subject's own bone
 * lengths, so the motion stays smooth. Project it with `writeProjectedSlice`. Returns the folder (the caller
 * removes it) and one line per sequence naming what it took.
 */
export function writeNovelPoseWorld(src: string, o: NovelPoseOptions): { dir: string; parts: string[] } {
  const ds = openDataset(src);
  const index = JSON.parse(fs.readFileSync(path.join(src, 'index.json'), 'utf8'));
  type Seq = { subject: string; action: string; frames: number; views: { camera: string }[] };
  const own = (index.sequences as Seq[]).map((s, i) => ({ s, i })).filter(({ s }) => s.subject === o.subject);
  if (!own.length) throw new Error(`${src}: no sequences of subject ${o.subject}`);
  const every = Math.max(1, Math.floor(own.length / o.sequences));
  const picked = own.filter((_, k) => k % every === 0).slice(0, o.sequences);
  const rng = new Rng(o.seed);
  const world: number[] = [];
  const parts: string[] = [];
  const actionOf = (s: Seq) => s.action.split(' ')[0];
  try {
    index.sequences = picked.map(({ s, i }) => {
      const frames = Math.min(s.frames, o.frames);
      const w3 = Float64Array.from(ds.readWorld3d(i, 0, frames));
      if (o.mix) {
        const others = own.filter(({ s: d }) => actionOf(d) !== actionOf(s));
        const donor = others[rng.int(others.length)];
        let chosen = MIX_PARTS.filter(() => rng.next() < 0.5);
        if (!chosen.length) chosen = [MIX_PARTS[rng.int(MIX_PARTS.length)]];
        parts.push(`${s.action} <- ${chosen.map((p) => p.name).join(', ')} of ${donor.s.action}`);
        // only the donor frames this sequence reaches (frame t takes the donor's t, wrapping)
        const donorFrames = Math.min(donor.s.frames, frames);
        const dw = ds.readWorld3d(donor.i, 0, donorFrames);
        const J3 = 17 * 3;
        for (let f = 0; f < frames; f++) {
          const pose = w3.subarray(f * J3, f * J3 + J3);
          const df = f % donorFrames;
          for (const part of chosen) mixPart(pose, dw.subarray(df * J3, df * J3 + J3), part);
        }
      }
      const seq = { ...s, frames, world3d: { file: 'world3d.f32', offset: world.length }, views: s.views.map((v) => ({ camera: v.camera })) };
      for (const x of w3) world.push(x);
      return seq;
    });
  } finally {
    ds.close();
  }
  return { dir: writeFolder(`poselift-novel-${o.mix ? 'mixed' : 'plain'}-`, index, { 'world3d.f32': world }), parts };
}
