/**
 * `poselift run`: photos, folders of photos and videos -> one poselift/1 JSON document per input
 * (schema/poselift-1.schema.json). The detection stage is imported lazily (tfjs costs 100-200 ms at import).
 *
 * - photo: every detected person lifted independently (`liftBatch`); ids 1..n by score;
 * - folder: every image is an independent frame (fps 0), each with its own intrinsics when no --camera;
 * - video: frames streamed from ffmpeg (never held), people tracked (Hungarian on box IoU + keypoint
 *   distance), each track lifted with the temporal term in overlapping windows as frames arrive.
 *   --overlay on a video decodes it a second time to draw the final (smoothed) 3D.
 *
 * Every document is written as its frames become final (`DocumentWriter`: a temporary file, renamed into
 * place when complete), so a video's frames are never all in memory unless the caller asks for the
 * documents back (`keepDocuments`, the library's default; the CLI and the queue do not):
 * docs/decisions/streamed-documents.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkSize } from '../contracts/limits.js';
import { Lifter, type CocoPosenet, type LiftedPerson } from '../lift/lifter.js';
import { kindOfLayout } from '../lift/posenet/features.js';
import { normalisedH36m } from '../lift/normalise.js';
import type { DefinitionAdapter } from '../lift/adapter.js';
import type { Detector, DetectorName, DetectorRuntime, DetectedPerson, RgbFrame, ImageExif, VideoInfo } from '../detect/index.js';
import { DEFAULT_DETECTOR, DEFAULT_VIDEO_DETECTOR, hasRuntimeChoice } from '../detect/types.js';
import { loadCameraFile, resolveCamera } from '../camera/resolve.js';
import type { Intrinsics, Keypoints2D, ResolvedIntrinsics } from '../contracts/types.js';
import { detectVideoFrames, expectedFrames, liftVideoFrames } from './video-stages.js';
import type { OverlayPerson } from './overlay.js';
import { cameraOut, DocumentWriter, makeDocHead, personOut, sameCamera, videoHead, type CameraOut, type FrameOut, type PersonOut, type PoseliftDoc } from './output.js';

export { cameraOut, liftedOut, personOut, type CameraOut, type FrameOut, type PersonOut, type PoseliftDoc } from './output.js';

export const IMAGE_EXTS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heic', '.heif']);
export const VIDEO_EXTS = new Set(['.mp4', '.mov', '.m4v', '.mkv', '.webm', '.avi', '.mpg', '.mpeg', '.wmv', '.flv', '.3gp', '.ts', '.mts', '.m2ts', '.ogv']);

export interface RunOptions {
  camera?: string;
  detector?: DetectorName;
  fps?: number;
  start?: number;
  duration?: number;
  out?: string;
  overlay?: string;
  models: string;
  /**
   * an already loaded lifter that lifts COCO-style keypoints (workers keep one); `models`, `temporal` and
   * `cocoPosenet` are then its, not read again
   */
  lifter?: Lifter;
  maxPeople?: number;
  /** progress per input: frames done, total (0 = unknown) */
  progress?: (done: number, total: number, label: string) => void;
  /** start / stop of a progress display for one input */
  progressStart?: (total: number, label: string) => void;
  progressStop?: () => void;
  /** after each input's document is written (queue workers report progress over inputs with it) */
  onResult?: (r: RunSummary, index: number) => void;
  warn?: (msg: string) => void;
  /** video: 2D detection threads (default: one per core, at most 4; 1 = on the main thread) */
  threads?: number;
  /** stop at the next frame (video) or image (folder) when aborted; the reason is thrown */
  signal?: AbortSignal;
  /** video: frames are decoded for detection at most this many pixels on their longer side (default DETECT_SIZE; 0 = full size) */
  detectSize?: number;
  /** apply the detector's calibrated keypoint-definition adapter (models/keypoint-adapter.json; default true) */
  adapter?: boolean;
  /** where MoveNet's network runs: 'onnx' (default, onnxruntime-node) or 'tfjs' (TF.js wasm; src/detect/movenet-ort.ts) */
  detectorRuntime?: DetectorRuntime;
  /** photos: detect on the image and its mirror and fuse them (src/detect/flip.ts; default false; not for video frames) */
  flipTest?: boolean;
  /**
   * videos: each track's poses from the temporal lifter of its kind (models/temporal.onnx for COCO-style keypoints;
   * default true); false lifts every frame with single-frame PoseNet (the fitter's temporal term stays)
   */
  temporal?: boolean;
  /** the PoseNet of COCO-style keypoints: `posenet`, `coco` (posenet-coco.onnx) or `unadapted` (posenet-coco for keypoints no adapter moved; default COCO_POSENET) */
  cocoPosenet?: CocoPosenet;
  /**
   * return each input's whole document as `RunResult.doc` (default true). false: the documents are only
   * written, streamed as frames become final, so memory does not grow with a video's length; each result
   * carries counts (`RunSummary`). The CLI and the queue's workers pass false.
   */
  keepDocuments?: boolean;
}

/** What `runInputs` reports of each input without its document. */
export interface RunSummary {
  input: string;
  /** the document's path */
  out: string;
  /** frames in the document, and people over all of them */
  frames: number;
  personFrames: number;
  /** the document's camera (a folder's first image's) */
  camera: CameraOut;
  /** seconds spent on this input */
  seconds: number;
}

export interface RunResult extends RunSummary {
  doc: PoseliftDoc;
}

type InputKind = 'image' | 'images' | 'video';
type DocHead = Omit<PoseliftDoc, 'frames'>;
function baseName(input: string): string {
  const b = path.basename(path.resolve(input));
  const ext = path.extname(b);
  return ext && !fs.statSync(input).isDirectory() ? b.slice(0, -ext.length) : b;
}

/** Where each input's document goes. Several inputs: --out must be a folder (created if missing). */
export function outputPaths(inputs: string[], out: string | undefined): string[] {
  const names = inputs.map((i) => `${baseName(i)}.poselift.json`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  let dir: string | undefined;
  if (out === undefined) dir = process.cwd();
  else {
    const isDir = fs.existsSync(out) && fs.statSync(out).isDirectory();
    if (inputs.length > 1) {
      if (fs.existsSync(out) && !isDir) {
        throw new Error(`--out ${out}: is a file, but ${inputs.length} inputs need a folder (one <name>.poselift.json each); pass a folder`);
      }
      if (!isDir && /\.json$/i.test(out)) {
        throw new Error(`--out ${out}: ${inputs.length} inputs need a folder, not a .json file; pass a folder`);
      }
      dir = out;
    } else if (isDir || /[\\/]$/.test(out)) dir = out;
    else return [path.resolve(out)];
  }
  if (dup) throw new Error(`${dup}: two inputs have the same name and would overwrite each other's output; run them separately with --out`);
  return names.map((n) => path.resolve(dir as string, n));
}

async function classify(file: string): Promise<InputKind> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new Error(`${file}: does not exist; pass a photo, a folder of photos or a video`);
  }
  if (st.isDirectory()) return 'images';
  if (!st.isFile()) throw new Error(`${file}: is not a regular file; pass a photo, a folder of photos or a video`);
  if (st.size === 0) throw new Error(`${file}: is empty (0 bytes); pass a complete photo or video file`);
  checkSize(file, st.size, 'media');
  const ext = path.extname(file).toLowerCase();
  if (IMAGE_EXTS.has(ext)) return 'image';
  if (VIDEO_EXTS.has(ext)) return 'video';
  // unknown extension: ask the decoders
  const sharp = (await import('sharp')).default;
  try {
    await sharp(file, { limitInputPixels: false }).metadata(); // header only; readImage checks the pixel limit
    return 'image';
  } catch { /* not an image */ }
  const { probeVideo } = await import('../detect/video.js');
  try {
    await probeVideo(file);
    return 'video';
  } catch { /* not a video */ }
  throw new Error(
    `${file}: is neither a readable image nor a video; pass a photo (JPEG, PNG, WebP, TIFF, ...), a folder of photos or a video (mp4, mov, mkv, webm, ...)`,
  );
}

function listImages(dir: string): string[] {
  const files = fs.readdirSync(dir).filter((f) => IMAGE_EXTS.has(path.extname(f).toLowerCase()) && !f.startsWith('.'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (!files.length) {
    throw new Error(`${dir}: the folder has no images (${[...IMAGE_EXTS].join(', ')}); pass a folder of photos, or a photo or video`);
  }
  return files;
}

/**
 * The detector one kind of input gets, its keypoint-definition adapter (unless switched off) and the model
 * versions to report for a photo (a video's add the temporal lifter at its rate: `Lifter.versionsFor`).
 */
interface DetectorChoice {
  name: DetectorName;
  adapter: DefinitionAdapter | undefined;
  versions: ReturnType<Lifter['versionsFor']>;
}

class Session {
  private detector?: Detector;
  /** photos: `--detector`, else DEFAULT_DETECTOR; videos: `--detector`, else DEFAULT_VIDEO_DETECTOR */
  readonly photo: DetectorChoice;
  readonly video: DetectorChoice;
  constructor(readonly lifter: Lifter, readonly o: RunOptions, readonly fileCam?: Intrinsics) {
    const choose = (name: DetectorName): DetectorChoice => {
      const adapter = o.adapter === false ? undefined : lifter.adapterFor(name);
      return { name, adapter, versions: adapter ? lifter.versionsFor(name) : lifter.versionsFor(undefined, 'coco') };
    };
    this.photo = choose(o.detector ?? DEFAULT_DETECTOR);
    this.video = choose(o.detector ?? DEFAULT_VIDEO_DETECTOR);
  }
  async det(): Promise<Detector> {
    if (!this.detector) {
      const { createDetector } = await import('../detect/index.js');
      this.detector = await createDetector(this.photo.name, { maxPoses: this.o.maxPeople, flipTest: this.o.flipTest, runtime: this.o.detectorRuntime });
    }
    return this.detector;
  }
  dispose() { this.detector?.dispose(); }
}

function limitPeople(people: DetectedPerson[], n?: number): DetectedPerson[] {
  return n !== undefined ? people.slice(0, n) : people;
}

function overlayName(dir: string, stem: string, index?: number): string {
  return path.join(dir, index === undefined ? `${stem}.png` : `${stem}_${String(index).padStart(6, '0')}.png`);
}

function toOverlay(people: PersonOut[], dets: DetectedPerson[], lifted: (LiftedPerson | null)[]): OverlayPerson[] {
  return people.map((p, i) => ({ id: p.id, keypoints2d: dets[i].keypoints.data, joints3d: lifted[i]?.joints3d ?? null }));
}

/** Detect + lift one still image. */
async function stillFrame(
  s: Session, file: string, index: number, frameWarn: string,
): Promise<{ frame: FrameOut; cam: ResolvedIntrinsics; img: RgbFrame; dets: DetectedPerson[]; lifted: (LiftedPerson | null)[] }> {
  const { readImage } = await import('../detect/index.js');
  const img = await readImage(file);
  const cam = resolveCamera(img.width, img.height, s.fileCam, img.exif as ImageExif | undefined, s.o.camera, file);
  const det = await s.det();
  const dets = limitPeople(await det.detect(img), s.o.maxPeople);
  const kps = dets.map((d) => normalisedH36m(d.keypoints as Keypoints2D, cam, 0, s.photo.adapter));
  const lifted = dets.length ? await s.lifter.liftBatch(kps, cam, { kind: kindOfLayout(dets[0].keypoints.layout), adapted: s.photo.adapter !== undefined }) : [];
  const people = dets.map((d, i) => personOut(i + 1, d, lifted[i]));
  if (!dets.length) s.o.warn?.(`${frameWarn}: no person detected; its "people" list is empty`);
  return { frame: { index, time_s: null, people }, cam, img, dets, lifted };
}

function docHead(input: string, kind: InputKind, cam: ResolvedIntrinsics, s: Session, fps: number): DocHead {
  const head = makeDocHead(input, kind, cam, s.photo.name, s.photo.versions, fps);
  // photos only (video frames never use it); MultiPose ignores it
  if (s.o.flipTest && s.photo.name !== 'movenet-multipose') head.detector.flip_test = true;
  markRuntime(head, s.photo.name, s.o.detectorRuntime);
  return head;
}

/** `detector.runtime` 'tfjs' when MoveNet ran on TF.js (the default, onnxruntime, is not written). */
function markRuntime(head: DocHead, detector: DetectorName, runtime: DetectorRuntime | undefined): void {
  if (runtime === 'tfjs' && hasRuntimeChoice(detector)) head.detector.runtime = 'tfjs';
}

async function runImage(s: Session, input: string, w: DocumentWriter): Promise<DocHead> {
  const r = await stillFrame(s, input, 0, input);
  if (s.o.overlay) {
    const { writeOverlay } = await import('./overlay.js');
    await writeOverlay(overlayName(s.o.overlay, baseName(input)), r.img, toOverlay(r.frame.people, r.dets, r.lifted), r.cam);
  }
  w.frame(r.frame);
  return docHead(input, 'image', r.cam, s, 0);
}

async function runFolder(s: Session, input: string, w: DocumentWriter): Promise<DocHead> {
  const files = listImages(input);
  s.o.progressStart?.(files.length, input);
  let head: DocHead | undefined;
  for (let i = 0; i < files.length; i++) {
    s.o.signal?.throwIfAborted();
    const file = path.join(input, files[i]);
    const r = await stillFrame(s, file, i, file);
    r.frame.file = files[i];
    const co = cameraOut(r.cam);
    if (!head) head = docHead(input, 'images', r.cam, s, 0);
    else if (!sameCamera(head.camera, co)) r.frame.camera = co;
    w.frame(r.frame);
    if (s.o.overlay) {
      const { writeOverlay } = await import('./overlay.js');
      const stem = path.basename(files[i], path.extname(files[i]));
      await writeOverlay(overlayName(s.o.overlay, stem), r.img, toOverlay(r.frame.people, r.dets, r.lifted), r.cam);
    }
    s.o.progress?.(i + 1, files.length, input);
  }
  s.o.progressStop?.();
  return head!;
}

async function runVideo(s: Session, input: string, w: DocumentWriter): Promise<DocHead> {
  const { probeVideo, readVideoFrames } = await import('../detect/video.js');
  const info = await probeVideo(input);
  if (s.o.flipTest) s.o.warn?.(`${input}: --flip-test applies to photos only; this video's frames are detected without it`);
  const cam = resolveCamera(info.width, info.height, s.fileCam, undefined, s.o.camera, input);
  const fps = s.o.fps ?? info.fps;
  const start = s.o.start ?? 0;
  if (start > 0 && info.duration > 0 && start >= info.duration) {
    throw new Error(`${input}: --start ${start} s is past the end of the video (${info.duration.toFixed(2)} s); pass a smaller --start`);
  }
  const total = expectedFrames(info, fps, start, s.o.duration);
  const head = videoHead(input, info, cam, s.video.name, s.lifter.versionsFor(s.video.adapter ? s.video.name : undefined, 'coco', { track: true, fps }), fps, start, s.o.duration);
  markRuntime(head, s.video.name, s.o.detectorRuntime);
  s.o.progressStart?.(total, input);
  const detect = { fps, start, duration: s.o.duration, detector: s.video.name, maxPeople: s.o.maxPeople, threads: s.o.threads, detectSize: s.o.detectSize, detectorRuntime: s.o.detectorRuntime };
  await liftVideoFrames(detectVideoFrames(input, info, detect), { lifter: s.lifter, cam, fps, adapter: s.video.adapter }, (f) => w.frame(f), {
    signal: s.o.signal,
    each: (f) => s.o.progress?.(f.index + 1, Math.max(total, f.index + 1), input),
  });
  s.o.progressStop?.();
  if (s.o.overlay && w.frames) {
    // the final (smoothed) 3D is known only once each frame is final: a second decode draws it, the
    // frames read back one at a time from the document being written
    const { writeOverlay } = await import('./overlay.js');
    const stem = baseName(input);
    for await (const vf of readVideoFrames(input, { fps, start, duration: s.o.duration, info })) {
      if (vf.index >= w.frames) break;
      const f = w.written(vf.index);
      await writeOverlay(overlayName(s.o.overlay, stem, vf.index), vf.frame, f.people.map((p) => ({
        id: p.id,
        keypoints2d: Float64Array.from(p.keypoints2d.flat()),
        joints3d: p.joints3d ? Float64Array.from(p.joints3d.flat()) : null,
      })), cam);
    }
  }
  return head;
}

/**
 * Run every input; writes one document each (atomically: streamed to a temporary file, renamed when
 * complete; nothing is left of an input that fails) and returns them, or with `keepDocuments: false`
 * their summaries.
 */
export async function runInputs(inputs: string[], o: RunOptions & { keepDocuments?: true }): Promise<RunResult[]>;
export async function runInputs(inputs: string[], o: RunOptions): Promise<RunSummary[]>;
export async function runInputs(inputs: string[], o: RunOptions): Promise<RunSummary[]> {
  if (!inputs.length) throw new Error('run: no input; pass a photo, a folder of photos or a video');
  const fileCam = o.camera ? loadCameraFile(o.camera) : undefined;
  const kinds: InputKind[] = [];
  for (const i of inputs) kinds.push(await classify(i));
  const outs = outputPaths(inputs, o.out);
  if (o.overlay) fs.mkdirSync(o.overlay, { recursive: true });
  // every detector gives COCO-style keypoints (coco17, blazepose33): the other kinds' networks are not loaded
  const lifter = o.lifter ?? await Lifter.load(o.models, { temporal: o.temporal, cocoPosenet: o.cocoPosenet, kinds: ['coco'] });
  const s = new Session(lifter, o, fileCam);
  const results: RunSummary[] = [];
  try {
    for (let n = 0; n < inputs.length; n++) {
      o.signal?.throwIfAborted();
      const t0 = performance.now();
      const input = inputs[n];
      const w = new DocumentWriter(input, outs[n], o.keepDocuments !== false);
      try {
        const run = kinds[n] === 'image' ? runImage : kinds[n] === 'images' ? runFolder : runVideo;
        const head = await run(s, input, w);
        const doc = w.commit(head);
        const summary: RunSummary = { input, out: outs[n], frames: w.frames, personFrames: w.personFrames, camera: head.camera, seconds: (performance.now() - t0) / 1000 };
        const kept: RunResult | undefined = doc && { ...summary, doc };
        results.push(kept ?? summary);
      } catch (err) {
        w.abort();
        throw err;
      }
      o.onResult?.(results[n], n);
    }
  } finally {
    s.dispose();
  }
  return results;
}
