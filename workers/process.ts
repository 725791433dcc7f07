/**
 * One job, in-process: the same functions as the CLI (`runInputs`, `liftKeypointFile`, `evaluateDataset`);
 * the result goes to `<results>/<jobId>.poselift.json` (dataset jobs: `<jobId>.eval.json`), written to a
 * temporary name and renamed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Job, UnrecoverableError, type Queue } from 'bullmq';
import { writeFileAtomic } from '../src/util/atomic.js';
import { withJobTimeout } from '../src/contracts/limits.js';
import { defaultModelsDir } from '../src/util/paths.js';
import { DETECTOR_NAMES, type DetectorName } from '../src/detect/types.js';
import { KEYPOINT_FORMATS } from '../src/formats/keypoints.js';
import { Lifter, SharedNetworks } from '../src/lift/lifter.js';
import type { KeypointKind } from '../src/lift/posenet/features.js';
import { isInputError, JobInputError } from './errors.js';
import type { PoseliftJobData, PoseliftJobResult, PoseliftProgress, SegmentSpec, VideoJob, KeypointsJob } from './queue.js';
import type { VideoDetections } from '../src/app/video-stages.js';

/** The paths a job names (used to check they exist and to classify errors). */
export function jobPaths(d: PoseliftJobData): string[] {
  const p = d.kind === 'images' ? [...d.inputs] : [d.input];
  if ('camera' in d && d.camera) p.push(d.camera);
  return p;
}

/** A video's or keypoint file's `temporal` option, when given, is a boolean. */
function checkTemporalOption(d: VideoJob | KeypointsJob): void {
  if (d.temporal !== undefined && typeof d.temporal !== 'boolean') throw new JobInputError(`${d.input}: the option temporal must be true or false, got ${JSON.stringify(d.temporal)}`);
}

/** Job data checks (before any work): wrong kinds / options and missing files are input errors. */
export function validateJob(d: PoseliftJobData): void {
  if (!d || typeof d !== 'object') throw new JobInputError('job data is not an object');
  switch (d.kind) {
    case 'video': case 'images':
      if (d.kind === 'video') checkTemporalOption(d);
      if (d.detector !== undefined && !(DETECTOR_NAMES as readonly string[]).includes(d.detector)) {
        throw new JobInputError(`unknown detector "${d.detector}"; use one of ${DETECTOR_NAMES.join(', ')}`);
      }
      if (d.kind === 'images' && (!Array.isArray(d.inputs) || !d.inputs.length)) throw new JobInputError('images job: no input');
      break;
    case 'video-segment':
      if (d.detector !== undefined && !(DETECTOR_NAMES as readonly string[]).includes(d.detector)) {
        throw new JobInputError(`unknown detector "${d.detector}"; use one of ${DETECTOR_NAMES.join(', ')}`);
      }
      if (![d.start, d.duration, d.origin].every((v) => typeof v === 'number' && Number.isFinite(v))) throw new JobInputError(`${d.input}: video-segment job without start, duration and origin`);
      break;
    case 'keypoints':
      checkTemporalOption(d);
      if (!KEYPOINT_FORMATS.includes(d.format)) throw new JobInputError(`${d.input}: unknown format "${String(d.format)}"; use ${KEYPOINT_FORMATS.join(', ')}`);
      break;
    case 'dataset':
      if (d.mode !== 'gt2d' && d.mode !== 'points2d') throw new JobInputError(`${d.input}: dataset --input "${String(d.mode)}"; use gt2d or points2d`);
      break;
    default:
      throw new JobInputError(`unknown job kind "${String((d as { kind?: unknown }).kind)}"; use video, images, keypoints or dataset`);
  }
  // a segmented video's parent reads its children's detections, not the video (they report on that)
  for (const p of d.kind === 'video' && d.segments?.length ? jobPaths(d).slice(1) : jobPaths(d)) {
    if (typeof p !== 'string' || !p) throw new JobInputError('a job path is empty');
    if (!fs.existsSync(p)) throw new JobInputError(`${p}: does not exist; check the path (the worker resolves it on its own machine)`);
  }
}

/** What the parent of a segment flow needs from BullMQ. */
export interface FlowContext {
  /** the completed children's return values, by child key */
  childrenValues: () => Promise<Record<string, PoseliftJobResult>>;
  /** the failed children's reasons, by child key */
  failedChildren: () => Promise<Record<string, string>>;
  /** drop the children not started yet (after one failed) */
  removeUnprocessedChildren: () => Promise<void>;
}

export interface ProcessContext {
  jobId: string;
  resultsDir: string;
  progress: (p: PoseliftProgress) => void | Promise<void>;
  /** video detection threads (default: the pipeline's, one per core) */
  threads?: number;
  /** segment parents only */
  flow?: FlowContext;
  /** segment children only: frames detected so far (reported to the parent) */
  segmentProgress?: (frames: number, final?: boolean) => void;
  /** aborted when the job passes its time limit: video and photo loops stop at the next frame */
  signal?: AbortSignal;
}

/**
 * Temp files of an earlier attempt of this job that died between write and rename (a SIGKILLed worker):
 * `writeFileAtomic` names them `.<file>.<pid>.<ms>.tmp`. This attempt holds the job's lock, so no live
 * attempt owns them. (The result itself never needs cleaning: a re-run renames over the same name.)
 */
export function removeStaleTemps(dir: string, jobId: string): void {
  const clean = (d: string, prefix: string) => {
    let names: string[] = [];
    try { names = fs.readdirSync(d); } catch { return; }
    for (const n of names) if (n.startsWith(prefix) && n.endsWith('.tmp')) fs.rmSync(path.join(d, n), { force: true });
  };
  clean(dir, `.${jobId}.`);
  clean(path.join(dir, jobId), '.'); // an images job's folder
}

const lifters = new Map<string, Promise<Lifter>>();
const shared = new SharedNetworks();
/**
 * One loaded lifter per models folder, kind of 2D and `temporal` (a job's) for the worker's life (loading the
 * ONNX models per small job costs more than the job), loading only the networks that kind reaches (videos and
 * photos: COCO-style keypoints) and sharing the ones the kinds have in common; a failed load is not kept.
 */
function cachedLifter(models: string, kind: KeypointKind, temporal = true): Promise<Lifter> {
  const dir = path.resolve(models);
  const key = `${temporal}:${kind}:${dir}`;
  let p = lifters.get(key);
  if (!p) {
    p = Lifter.load(dir, { temporal, kinds: [kind], shared });
    lifters.set(key, p);
    p.catch(() => lifters.delete(key));
  }
  return p;
}

const pct = (done: number, total: number) => (total > 0 ? Math.min(100, Math.round((100 * done) / total)) : 0);

/** Do the work of one job; throws the pipeline's errors unchanged. */
export async function runJob(d: PoseliftJobData, c: ProcessContext): Promise<PoseliftJobResult> {
  validateJob(d);
  const models = ('models' in d ? d.models : undefined) ?? defaultModelsDir();
  const base = path.join(c.resultsDir, c.jobId);
  fs.mkdirSync(c.resultsDir, { recursive: true });
  removeStaleTemps(c.resultsDir, c.jobId);
  // progress goes to Redis when the percentage changes, else at most every 500 ms (not once per frame)
  let lastPct = -1, lastFrames = -1, lastAt = 0;
  const report = (frames: number, total: number, percent = pct(frames, total)) => {
    const now = Date.now();
    if (percent === lastPct && (frames === lastFrames || now - lastAt < 500)) return;
    lastPct = percent; lastFrames = frames; lastAt = now;
    // best effort: a progress write that fails (Redis away) must not become an unhandled rejection that ends the worker
    Promise.resolve(c.progress({ percent, frames, total })).catch(() => {});
  };
  if (d.kind === 'video-segment') {
    const { detectVideo } = await import('../src/app/video-stages.js');
    const det = await detectVideo(d.input, {
      detector: d.detector as DetectorName | undefined, fps: d.fps, start: d.start, duration: d.duration, origin: d.origin,
      maxPeople: d.maxPeople, threads: c.threads, signal: c.signal,
      progress: (done, total) => { report(done, total); c.segmentProgress?.(done); },
    });
    const out = `${base}.detections.json`;
    writeFileAtomic(out, JSON.stringify(det) + '\n');
    const n = det.frames.length;
    report(n, n, 100);
    c.segmentProgress?.(n, true);
    return { result: out, files: [out], frames: n };
  }
  if (d.kind === 'video' && d.segments?.length) return joinSegments(d, d.segments, c, models, base, report);
  if (d.kind === 'video' || d.kind === 'images') {
    const { runInputs } = await import('../src/app/run.js');
    const inputs = d.kind === 'video' ? [d.input] : d.inputs;
    const multi = inputs.length > 1;
    const results = await runInputs(inputs, {
      camera: d.camera, detector: d.detector as DetectorName | undefined, models,
      lifter: await cachedLifter(models, 'coco', d.kind === 'video' ? d.temporal : undefined), maxPeople: d.maxPeople, threads: c.threads, signal: c.signal,
      ...(d.kind === 'video' ? { fps: d.fps, start: d.start, duration: d.duration, temporal: d.temporal } : {}),
      out: multi ? base + path.sep : `${base}.poselift.json`,
      keepDocuments: false, // streamed to the result file, never held whole
      // one input: its frames (folders, videos); several photos: inputs done
      progress: (done, total) => { if (!multi) report(done, total); },
      onResult: (_r, n) => { if (multi) report(n + 1, inputs.length); },
    });
    if (multi) report(inputs.length, inputs.length);
    else { const n = results[0].frames; report(n, n, 100); }
    return { result: multi ? base : results[0].out, files: results.map((r) => r.out) };
  }
  if (d.kind === 'keypoints') {
    const { liftKeypointFile } = await import('../src/app/lift-keypoints.js');
    report(0, 0, 0);
    const doc = await liftKeypointFile(d.input, {
      format: d.format, layout: d.layout, camera: d.camera, width: d.width, height: d.height, fps: d.fps, adapter: d.adapter, models,
      lifter: (kind) => cachedLifter(models, kind, d.temporal),
    });
    const out = `${base}.poselift.json`;
    writeFileAtomic(out, JSON.stringify(doc) + '\n');
    report(doc.frames.length, doc.frames.length, 100);
    return { result: out, files: [out] };
  }
  const { evaluateDataset } = await import('../src/eval/evaluate.js');
  report(0, 0, 0);
  const rep = await evaluateDataset(d.input, { input: d.mode, stride: d.stride ?? 1, models, subjects: d.subjects });
  const out = `${base}.eval.json`;
  writeFileAtomic(out, JSON.stringify(rep) + '\n');
  report(rep.frames, rep.frames, 100);
  return { result: out, files: [out] };
}

/**
 * The parent of a segment flow, run once all its children completed (or one failed for good): a failed
 * child fails the parent with the child's reason (no retry: the child has had its retries); else the
 * children's detections are joined in frame order and tracked + lifted over the whole range at once
 * (`writeVideoDetections`: segment files read one at a time, the document streamed to the result), which
 * gives the same document as `poselift run` on the whole video.
 */
async function joinSegments(
  d: VideoJob, segments: SegmentSpec[], c: ProcessContext, models: string, base: string,
  report: (frames: number, total: number, percent?: number) => void,
): Promise<PoseliftJobResult> {
  if (!c.flow) throw new Error(`${d.input}: a segmented video job must run as the parent of its segment jobs (enqueue it with \`poselift enqueue\`)`);
  const failed = Object.entries(await c.flow.failedChildren());
  if (failed.length) {
    await c.flow.removeUnprocessedChildren().catch(() => { /* best effort: they would only waste time */ });
    const [key, reason] = failed[0];
    throw new UnrecoverableError(`${reason} (segment job ${key.split(':').pop()})`);
  }
  const out = `${base}.poselift.json`;
  const parts = Object.values(await c.flow.childrenValues()).map((v) => v.result);
  const gone = parts.filter((f) => !fs.existsSync(f));
  // an earlier attempt of this parent wrote the result and removed the parts, then lost its lock
  if (gone.length === parts.length && parts.length && fs.existsSync(out)) return { result: out, files: [out] };
  if (parts.length !== segments.length || gone.length) {
    throw new Error(`${d.input}: ${segments.length} segments expected, ${parts.length - gone.length} segment detection files found in ${c.resultsDir}; all workers must share the results folder for segmented videos`);
  }
  const { writeVideoDetections } = await import('../src/app/video-stages.js');
  // each segment's detections are read once to order them, then again one at a time while lifting
  const read = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as VideoDetections;
  const order = parts.map((f) => { const { frames, ...head } = read(f); return { f, head, frames: frames.length }; })
    .sort((a, b) => a.head.start - b.head.start);
  const total = order.reduce((n, x) => n + x.frames, 0);
  report(total, total, 99);
  function* frames() {
    for (const x of order) yield* read(x.f).frames;
  }
  await writeVideoDetections({ ...order[0].head, start: d.start ?? 0, duration: d.duration ?? null }, frames(), out, {
    camera: d.camera, models, lifter: await cachedLifter(models, 'coco', d.temporal),
  });
  for (const f of parts) fs.rmSync(f, { force: true });
  report(total, total, 100);
  return { result: out, files: [out] };
}

export interface ProcessOptions {
  /** video detection threads per job */
  threads?: number;
  /** the queue (segment jobs report their parent's progress through it) */
  queue?: Queue;
  /** BullMQ's abort signal of the job (a cancel request): the job stops at the next frame and fails, not retried */
  signal?: AbortSignal;
}

/** A segment child's frames -> its parent's progress: the sum over the siblings, at most once a second. */
function segmentReporter(job: Job<PoseliftJobData, PoseliftJobResult>, queue: Queue | undefined): ProcessContext['segmentProgress'] {
  const d = job.data;
  const parentId = job.parent?.id;
  if (d.kind !== 'video-segment' || !parentId || !queue) return undefined;
  let lastSent = 0, busy = false;
  return (frames, final) => {
    const now = Date.now();
    if (busy || (!final && now - lastSent < 1000)) return;
    busy = true;
    lastSent = now;
    void (async () => {
      let sum = frames;
      for (let k = 0; k < d.segments; k++) {
        if (k === d.segment) continue;
        const sib = await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, `${d.group}-${k}`);
        const p = sib?.returnvalue?.frames ?? (sib?.progress as Partial<PoseliftProgress> | undefined)?.frames ?? 0;
        sum += typeof p === 'number' ? p : 0;
      }
      const parent = await Job.fromId(queue, parentId);
      const total = Math.max(d.total, sum);
      await parent?.updateProgress({ percent: Math.min(99, pct(sum, total)), frames: sum, total } as object);
    })().catch(() => { /* progress is best effort */ }).finally(() => { busy = false; });
  };
}

/** The BullMQ processor: input errors become UnrecoverableError (no retry), the rest are rethrown (retried). */
export async function processJob(job: Job<PoseliftJobData, PoseliftJobResult>, resultsDir: string, o: ProcessOptions = {}): Promise<PoseliftJobResult> {
  let label = `job ${job.id}`;
  try { label = jobPaths(job.data)[0] || label; } catch { /* malformed data: validateJob says so */ }
  // POSELIFT_JOB_TIMEOUT_S (src/contracts/limits.ts): past it the job fails naming its input (not retried),
  // and the abort signal stops its video / photo loop at the next frame (threads and ffmpeg end with it);
  // a cancel request (o.signal) stops it the same way
  const stop = new AbortController();
  const cancelled = () => `${label}: ${typeof o.signal?.reason === 'string' ? o.signal.reason : 'cancelled'}`;
  const onCancel = () => stop.abort(new Error(cancelled()));
  if (o.signal?.aborted) onCancel();
  o.signal?.addEventListener('abort', onCancel, { once: true });
  try {
    return await withJobTimeout(runJob(job.data, {
      jobId: String(job.id), resultsDir, threads: o.threads, signal: stop.signal,
      progress: (p) => job.updateProgress(p as unknown as object),
      segmentProgress: segmentReporter(job, o.queue),
      flow: {
        childrenValues: () => job.getChildrenValues<PoseliftJobResult>(),
        failedChildren: () => job.getFailedChildrenValues(),
        removeUnprocessedChildren: () => job.removeUnprocessedChildren(),
      },
    }), label, undefined, () => stop.abort(new Error(`${label}: stopped at the job's time limit`)));
  } catch (err) {
    if (o.signal?.aborted) throw new UnrecoverableError(cancelled());
    let paths: string[] = [];
    try { paths = jobPaths(job.data); } catch { /* malformed data */ }
    if (isInputError(err, paths)) throw new UnrecoverableError((err as Error).message);
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onCancel);
  }
}
