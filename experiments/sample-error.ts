/**
 * The bundled sample's figure against the skeleton it was drawn from (samples/README.md): root depth,
 * root-aligned MPJPE and root error of a `poselift run` result on samples/person.jpg.
 *
 *   npx poselift run samples/person.jpg --camera samples/camera.json
 *   node --import tsx experiments/sample-error.ts [person.poselift.json]
 */
import fs from 'node:fs';
import path from 'node:path';
import { mpjpe, rootError } from '../src/eval/metrics.js';
import type { PoseliftDoc } from '../src/contracts/document.js';

const file = process.argv[2] ?? 'person.poselift.json';
const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as PoseliftDoc;
const truth = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'samples', 'person.truth.json'), 'utf8')) as { joints3d: number[][] };
const person = doc.frames[0]?.people[0];
if (!person?.joints3d) throw new Error(`${file}: no lifted person in the first frame`);
const pred = person.joints3d.flat(), gt = truth.joints3d.flat();
console.log(`${file} (${doc.detector.name}): root z ${person.root![2].toFixed(0)} mm (drawn ${gt[2].toFixed(0)}), ` +
  `root error ${rootError(pred, gt).error.toFixed(0)} mm, MPJPE ${mpjpe(pred, gt).toFixed(1)} mm (root-aligned, h36m17)`);
