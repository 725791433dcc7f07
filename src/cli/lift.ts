/** `poselift lift`: lift a keypoint file (src/app/lift-keypoints.ts) and write its poselift/1 document atomically. */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { liftKeypointFile, type LiftKeypointOptions } from '../app/lift-keypoints.js';

/** Where `poselift lift` writes: --out (a file, or a folder) else ./<name>.poselift.json. */
export function liftOutputPath(input: string, out: string | undefined): string {
  const b = path.basename(path.resolve(input)).replace(/\.(json|csv)$/i, '');
  const name = `${b}.poselift.json`;
  if (out === undefined) return path.resolve(name);
  if ((fs.existsSync(out) && fs.statSync(out).isDirectory()) || /[\\/]$/.test(out)) return path.resolve(out, name);
  return path.resolve(out);
}

/** The CLI: lift, write atomically, one summary line on stderr. */
export async function liftCommand(input: string, o: LiftKeypointOptions & { out?: string }): Promise<void> {
  const doc = await liftKeypointFile(input, o);
  const out = liftOutputPath(input, o.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  writeFileAtomic(out, JSON.stringify(doc) + '\n');
  const n = doc.frames.length, people = doc.frames.reduce((a, f) => a + f.people.length, 0);
  process.stderr.write(`${input}: ${n} frame(s), ${people} person-frame(s) (${doc.detector.layout}), camera ${doc.camera.source} ` +
    `(fx ${doc.camera.fx.toFixed(1)} px), fps ${doc.fps} -> ${out}\n`);
}
