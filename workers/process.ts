/**
 * One job, in-process: the same functions as the CLI (`runInputs`, `liftKeypointFile`, `evaluateDataset`);
 * the result goes to `<results>/<jobId>.poselift.json` (dataset jobs: `<jobId>.eval.json`), written to a
 * temporary name and renamed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UnrecoverableError, type Job } from 'bullmq';
import { writeFileAtomic } from '../src/core/atomic.js';
import { defaultModelsDir } from '../src/core/paths.js';
import { DETECTOR_NAMES, type DetectorName } from '../src/detect/types.js';
import { KEYPOINT_FORMATS } from '../src/keypoints/read.js';
import { isInputError, JobInputError } from './errors.js';
import type { PoseliftJobData, PoseliftJobResult, PoseliftProgress } from './queue.js';

/** The paths a job names (used to check they exist and to classify errors). */
export function jobPaths(d: PoseliftJobData): string[] {
  const p = d.kind === 'images' ? [...d.inputs] : [d.input];
  if ('camera' in d && d.camera) p.push(d.camera);
  return p;
}

/** Job data checks (before any work): wrong kinds / options and missing files are input errors. */
export function validateJob(d: PoseliftJobData): void {
  if (!d || typeof d !== 'object') throw new JobInputError('job data is not an object');
  switch (d.kind) {
    case 'video': case 'images':
      if (d.detector !== undefined && !(DETECTOR_NAMES as readonly string[]).includes(d.detector)) {
        throw new JobInputError(`unknown detector "${d.detector}"; use one of ${DETECTOR_NAMES.join(', ')}`);
      }
      if (d.kind === 'images' && (!Array.isArray(d.inputs) || !d.inputs.length)) throw new JobInputError('images job: no input');
      break;
    case 'keypoints':
      if (!KEYPOINT_FORMATS.includes(d.format)) throw new JobInputError(`${d.input}: unknown format "${String(d.format)}"; use ${KEYPOINT_FORMATS.join(', ')}`);
      break;
    case 'dataset':
      if (d.mode !== 'gt2d' && d.mode !== 'points2d') throw new JobInputError(`${d.input}: dataset --input "${String(d.mode)}"; use gt2d or points2d`);
      break;
    default:
      throw new JobInputError(`unknown job kind "${String((d as { kind?: unknown }).kind)}"; use video, images, keypoints or dataset`);
  }
  for (const p of jobPaths(d)) {
    if (typeof p !== 'string' || !p) throw new JobInputError('a job path is empty');
    if (!fs.existsSync(p)) throw new JobInputError(`${p}: does not exist; check the path (the worker resolves it on its own machine)`);
  }
}

export interface ProcessContext {
  jobId: string;
  resultsDir: string;
  progress: (p: PoseliftProgress) => void | Promise<void>;
}

const pct = (done: number, total: number) => (total > 0 ? Math.min(100, Math.round((100 * done) / total)) : 0);

/** Do the work of one job; throws the pipeline's errors unchanged. */
export async function runJob(d: PoseliftJobData, c: ProcessContext): Promise<PoseliftJobResult> {
  validateJob(d);
  const models = d.models ?? defaultModelsDir();
  const base = path.join(c.resultsDir, c.jobId);
  fs.mkdirSync(c.resultsDir, { recursive: true });
  let last = '';
  const report = (frames: number, total: number, percent = pct(frames, total)) => {
    const key = `${percent}/${frames}`;
    if (key === last) return;
    last = key;
    void c.progress({ percent, frames, total });
  };
  if (d.kind === 'video' || d.kind === 'images') {
    const { runInputs } = await import('../src/run/run.js');
    const inputs = d.kind === 'video' ? [d.input] : d.inputs;
    const multi = inputs.length > 1;
    const results = await runInputs(inputs, {
      camera: d.camera, detector: d.detector as DetectorName | undefined, models, maxPeople: d.maxPeople,
      ...(d.kind === 'video' ? { fps: d.fps, start: d.start, duration: d.duration } : {}),
      out: multi ? base + path.sep : `${base}.poselift.json`,
      // one input: its frames (folders, videos); several photos: inputs done
      progress: (done, total) => { if (!multi) report(done, total); },
      onResult: (_r, n) => { if (multi) report(n + 1, inputs.length); },
    });
    if (multi) report(inputs.length, inputs.length);
    else { const n = results[0].doc.frames.length; report(n, n, 100); }
    return { result: multi ? base : results[0].out, files: results.map((r) => r.out) };
  }
  if (d.kind === 'keypoints') {
    const { liftKeypointFile } = await import('../src/keypoints/lift.js');
    report(0, 0, 0);
    const doc = await liftKeypointFile(d.input, {
      format: d.format, layout: d.layout, camera: d.camera, width: d.width, height: d.height, fps: d.fps, models,
    });
    const out = `${base}.poselift.json`;
    writeFileAtomic(out, JSON.stringify(doc) + '\n');
    report(doc.frames.length, doc.frames.length, 100);
    return { result: out, files: [out] };
  }
  const { evaluateDataset } = await import('../src/cli/eval.js');
  report(0, 0, 0);
  const rep = await evaluateDataset(d.input, { input: d.mode, stride: d.stride ?? 1, models, subjects: d.subjects });
  const out = `${base}.eval.json`;
  writeFileAtomic(out, JSON.stringify(rep) + '\n');
  report(rep.frames, rep.frames, 100);
  return { result: out, files: [out] };
}

/** The BullMQ processor: input errors become UnrecoverableError (no retry), the rest are rethrown (retried). */
export async function processJob(job: Job<PoseliftJobData, PoseliftJobResult>, resultsDir: string): Promise<PoseliftJobResult> {
  try {
    return await runJob(job.data, {
      jobId: String(job.id), resultsDir,
      progress: (p) => job.updateProgress(p as unknown as object),
    });
  } catch (err) {
    let paths: string[] = [];
    try { paths = jobPaths(job.data); } catch { /* malformed data */ }
    if (isInputError(err, paths)) throw new UnrecoverableError((err as Error).message);
    throw err;
  }
}
