/**
 * The keypoint definitions `posenet-coco` was trained with for COCO-style keypoints, as an adapter: the projected
 * ground truth of the training subjects (S5-S8, every 50th frame, four cameras) in the form COCO-17 keypoints
 * arrive in (thorax = the shoulders' midpoint, pelvis = the hips'; src/train/augment.ts cocoForm), measured
 * against Human3.6M's joints like a detector (src/lift/adapter.ts measureAdapter). Prints the count and the mean
 * adapter (its thorax shift, 0.129, is the figure in docs/decisions/real-detections.md).
 *
 *   node --import tsx experiments/coco-form-reference.ts
 */
import { openDataset } from '../src/data/dataset.js';
import { keypointsOf } from '../src/eval/evaluate.js';
import { measureAdapter, meanAdapter, type DefinitionAdapter } from '../src/lift/adapter.js';
import { defaultDataDir } from '../src/util/paths.js';

const ds = openDataset(defaultDataDir('h36m-train'));
const list: DefinitionAdapter[] = [];
ds.sequences.forEach((s, si) => {
  if (!['S5', 'S6', 'S7', 'S8'].includes(s.subject ?? '')) return;
  const frames: number[] = [];
  for (let f = 0; f < s.frames; f += 50) frames.push(f);
  s.views.forEach((_v, vi) => {
    for (const k of keypointsOf(ds, si, vi, 'gt2d', frames)) {
      const truth = Float64Array.from(k.data);
      const coco = Float64Array.from(truth);
      // thorax (8) = the shoulders' (11, 14) midpoint, pelvis (0) = the hips' (1, 4)
      for (const [t, a, b] of [[8, 11, 14], [0, 1, 4]]) for (let c = 0; c < 2; c++) coco[t * 3 + c] = 0.5 * (truth[a * 3 + c] + truth[b * 3 + c]);
      const m = measureAdapter(coco, truth);
      if (m) list.push(m);
    }
  });
});
console.log(`${list.length} person-views: ${JSON.stringify(meanAdapter(list))}`);
