/**
 * `poselift run`: photos, folders of photos and videos -> one poselift/1 JSON document per input
 * (schema/poselift-1.schema.json). The detection stage is imported lazily (tfjs costs 100-200 ms at import).
 *
 * - photo: every detected person lifted independently (`liftBatch`); ids 1..n by score;
 * - folder: every image is an independent frame (fps 0), each with its own intrinsics when no --camera;
 * - video: frames streamed from ffmpeg (never held), people tracked (Hungarian on box IoU + keypoint
 *   distance), each track lifted with the temporal term in overlapping windows as frames arrive.
 *   --overlay on a video decodes it a second time to draw the final (smoothed) 3D.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Keypoints2D } from '../core/types.js';
import { writeFileAtomic } from '../core/atomic.js';
import { Lifter, type LiftedPerson } from '../pipeline/lifter.js';
import { normalisedH36m } from '../pipeline/keypoints.js';
import type { Detector, DetectorName, DetectedPerson, RgbFrame, ImageExif, VideoInfo } from '../detect/index.js';
import { loadCameraFile, resolveCamera, type FileCamera, type RunCamera } from './camera.js';
import { Tracker } from './tracker.js';
import { WindowedTrackLifter } from './track-lift.js';
import type { OverlayPerson } from './overlay.js';

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
  maxPeople?: number;
  /** progress per input: frames done, total (0 = unknown) */
  progress?: (done: number, total: number, label: string) => void;
  /** start / stop of a progress display for one input */
  progressStart?: (total: number, label: string) => void;
  progressStop?: () => void;
  /** after each input's document is written (queue workers report progress over inputs with it) */
  onResult?: (r: RunResult, index: number) => void;
  warn?: (msg: string) => void;
}

export interface PersonOut {
  id: number;
  score: number;
  bbox: number[];
  keypoints2d: number[][];
  layout2d: string;
  joints3d: number[][] | null;
  root: number[] | null;
  reprojection_px: number | null;
}

export interface FrameOut {
  index: number;
  time_s: number | null;
  /** for folders: the image file (relative to the folder) */
  file?: string;
  /** only when this frame's intrinsics differ from the document's (folders without --camera) */
  camera?: CameraOut;
  people: PersonOut[];
}

export interface CameraOut {
  fx: number; fy: number; cx: number; cy: number;
  k?: number[]; p?: number[];
  width: number; height: number;
  source: RunCamera['source'];
}

export interface PoseliftDoc {
  schema: 'poselift/1';
  joints: 'h36m17';
  units: 'mm';
  frame: 'camera (x right, y down, z forward)';
  input: { path: string; kind: 'image' | 'images' | 'video' | 'keypoints'; frames: number; width: number; height: number; start_s?: number; duration_s?: number | null; source_fps?: number };
  camera: CameraOut;
  /** for `poselift lift` (2D from a file): name 'keypoints-file' and the file's layout */
  detector: { name: DetectorName | 'keypoints-file'; layout: string };
  models: { posenet: string; rootnet: string };
  fps: number;
  frames: FrameOut[];
}

export interface RunResult {
  input: string;
  out: string;
  doc: PoseliftDoc;
  /** seconds spent on this input, and frames per second */
  seconds: number;
}

type InputKind = 'image' | 'images' | 'video';

const r1 = (v: number) => Math.round(v * 10) / 10;
const r2 = (v: number) => Math.round(v * 100) / 100;
const r3 = (v: number) => Math.round(v * 1000) / 1000;
const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

export function cameraOut(c: RunCamera): CameraOut {
  const o: CameraOut = { fx: r4(c.fx), fy: r4(c.fy), cx: r4(c.cx), cy: r4(c.cy), width: c.width, height: c.height, source: c.source };
  // distortion coefficients as given (rounding would lose small ones)
  if (c.k) o.k = [...c.k];
  if (c.p) o.p = [...c.p];
  return o;
}

function sameCamera(a: CameraOut, b: CameraOut): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function personOut(id: number, d: DetectedPerson, lifted: LiftedPerson | null): PersonOut {
  const k = d.keypoints.data;
  const kp: number[][] = [];
  for (let i = 0; i * 3 < k.length; i++) kp.push([r2(k[i * 3]), r2(k[i * 3 + 1]), r3(k[i * 3 + 2])]);
  return {
    id,
    score: r3(d.score),
    bbox: d.bbox.map(r2),
    keypoints2d: kp,
    layout2d: d.keypoints.layout,
    ...liftedOut(lifted),
  };
}

export function liftedOut(l: LiftedPerson | null): Pick<PersonOut, 'joints3d' | 'root' | 'reprojection_px'> {
  if (!l) return { joints3d: null, root: null, reprojection_px: null };
  const j: number[][] = [];
  for (let i = 0; i < 17; i++) j.push([r1(l.joints3d[i * 3]), r1(l.joints3d[i * 3 + 1]), r1(l.joints3d[i * 3 + 2])]);
  return { joints3d: j, root: l.root.map(r1), reprojection_px: Number.isFinite(l.reprojectionPx) ? r2(l.reprojectionPx) : null };
}

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
  const ext = path.extname(file).toLowerCase();
  if (IMAGE_EXTS.has(ext)) return 'image';
  if (VIDEO_EXTS.has(ext)) return 'video';
  // unknown extension: ask the decoders
  const sharp = (await import('sharp')).default;
  try {
    await sharp(file).metadata();
    return 'image';
  } catch { /* not an image */ }
  const { probeVideo } = await import('../detect/index.js');
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

class Session {
  private detector?: Detector;
  constructor(readonly lifter: Lifter, readonly o: RunOptions, readonly fileCam?: FileCamera) {}
  async det(): Promise<Detector> {
    if (!this.detector) {
      const { createDetector } = await import('../detect/index.js');
      this.detector = await createDetector(this.o.detector ?? 'movenet-thunder', { maxPoses: this.o.maxPeople });
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
): Promise<{ frame: FrameOut; cam: RunCamera; img: RgbFrame; dets: DetectedPerson[]; lifted: (LiftedPerson | null)[] }> {
  const { readImage } = await import('../detect/index.js');
  const img = await readImage(file);
  const cam = resolveCamera(img.width, img.height, s.fileCam, img.exif as ImageExif | undefined, s.o.camera, file);
  const det = await s.det();
  const dets = limitPeople(await det.detect(img), s.o.maxPeople);
  const kps = dets.map((d) => normalisedH36m(d.keypoints as Keypoints2D, cam));
  const lifted = dets.length ? await s.lifter.liftBatch(kps, cam) : [];
  const people = dets.map((d, i) => personOut(i + 1, d, lifted[i]));
  if (!dets.length) s.o.warn?.(`${frameWarn}: no person detected; its "people" list is empty`);
  return { frame: { index, time_s: null, people }, cam, img, dets, lifted };
}

function docHead(input: string, kind: InputKind, cam: RunCamera, s: Session, fps: number): Omit<PoseliftDoc, 'frames'> {
  return {
    schema: 'poselift/1',
    joints: 'h36m17',
    units: 'mm',
    frame: 'camera (x right, y down, z forward)',
    input: { path: input, kind, frames: 0, width: cam.width, height: cam.height },
    camera: cameraOut(cam),
    detector: { name: s.o.detector ?? 'movenet-thunder', layout: s.o.detector === 'blazepose' ? 'blazepose33' : 'coco17' },
    models: s.lifter.versions,
    fps,
  };
}

async function runImage(s: Session, input: string): Promise<PoseliftDoc> {
  const r = await stillFrame(s, input, 0, input);
  if (s.o.overlay) {
    const { writeOverlay } = await import('./overlay.js');
    await writeOverlay(overlayName(s.o.overlay, baseName(input)), r.img, toOverlay(r.frame.people, r.dets, r.lifted), r.cam);
  }
  const head = docHead(input, 'image', r.cam, s, 0);
  head.input.frames = 1;
  return { ...head, frames: [r.frame] };
}

async function runFolder(s: Session, input: string): Promise<PoseliftDoc> {
  const files = listImages(input);
  s.o.progressStart?.(files.length, input);
  let head: Omit<PoseliftDoc, 'frames'> | undefined;
  const frames: FrameOut[] = [];
  for (let i = 0; i < files.length; i++) {
    const file = path.join(input, files[i]);
    const r = await stillFrame(s, file, i, file);
    r.frame.file = files[i];
    const co = cameraOut(r.cam);
    if (!head) head = docHead(input, 'images', r.cam, s, 0);
    else if (!sameCamera(head.camera, co)) r.frame.camera = co;
    frames.push(r.frame);
    if (s.o.overlay) {
      const { writeOverlay } = await import('./overlay.js');
      const stem = path.basename(files[i], path.extname(files[i]));
      await writeOverlay(overlayName(s.o.overlay, stem), r.img, toOverlay(r.frame.people, r.dets, r.lifted), r.cam);
    }
    s.o.progress?.(i + 1, files.length, input);
  }
  s.o.progressStop?.();
  head!.input.frames = frames.length;
  return { ...head!, frames };
}

interface TrackState {
  lifter: WindowedTrackLifter<PersonOut | null>;
  lastFrame: number;
}

function expectedFrames(info: VideoInfo, fps: number, start: number, duration?: number): number {
  const total = info.duration > 0 ? info.duration : info.frames / info.fps;
  const len = Math.max(0, Math.min(duration ?? Infinity, total - start));
  return Math.max(0, Math.round(len * fps));
}

async function runVideo(s: Session, input: string): Promise<PoseliftDoc> {
  const { probeVideo, readVideoFrames } = await import('../detect/index.js');
  const info = await probeVideo(input);
  const cam = resolveCamera(info.width, info.height, s.fileCam, undefined, s.o.camera, input);
  const fps = s.o.fps ?? info.fps;
  const start = s.o.start ?? 0;
  if (start > 0 && info.duration > 0 && start >= info.duration) {
    throw new Error(`${input}: --start ${start} s is past the end of the video (${info.duration.toFixed(2)} s); pass a smaller --start`);
  }
  const total = expectedFrames(info, fps, start, s.o.duration);
  const det = await s.det();
  det.reset();
  const tracker = new Tracker();
  const tracks = new Map<number, TrackState>();
  const frames: FrameOut[] = [];
  const head = docHead(input, 'video', cam, s, r4(fps));
  head.input.start_s = start;
  head.input.duration_s = s.o.duration ?? null;
  head.input.source_fps = r4(info.fps);
  s.o.progressStart?.(total, input);
  const endTrack = async (id: number) => {
    const t = tracks.get(id);
    if (t) { await t.lifter.finish(); tracks.delete(id); }
  };
  for await (const vf of readVideoFrames(input, { fps, start, duration: s.o.duration })) {
    // every frame is detected afresh (with MoveNet's crop refinement): the detector's own tracking mode
    // (crop from the previous frame) stays stuck on the old region after a cut or a fast move
    const dets = limitPeople(await det.detect(vf.frame), s.o.maxPeople);
    const ids = tracker.update(dets.map((d) => ({ bbox: d.bbox, keypoints: d.keypoints.data })));
    const frame: FrameOut = { index: vf.index, time_s: r4(vf.timeS), people: [] };
    frames.push(frame);
    const seen = new Set<number>();
    for (let i = 0; i < dets.length; i++) {
      const id = ids[i];
      seen.add(id);
      const p = personOut(id, dets[i], null);
      frame.people.push(p);
      let t = tracks.get(id);
      if (!t) {
        const lifter = new WindowedTrackLifter<PersonOut | null>(s.lifter, cam, fps, (key, res) => {
          if (key) Object.assign(key, liftedOut(res));
        });
        t = { lifter, lastFrame: vf.index };
        tracks.set(id, t);
      }
      // frames this track missed in between: gaps (no keypoints) keep the window aligned in time
      for (let g = t.lastFrame + 1; g < vf.index; g++) await t.lifter.push(null, null);
      t.lastFrame = vf.index;
      await t.lifter.push(p, normalisedH36m(dets[i].keypoints as Keypoints2D, cam));
    }
    const live = new Set(tracker.live());
    for (const id of [...tracks.keys()]) if (!live.has(id)) await endTrack(id);
    s.o.progress?.(vf.index + 1, Math.max(total, vf.index + 1), input);
  }
  for (const id of [...tracks.keys()]) await endTrack(id);
  s.o.progressStop?.();
  head.input.frames = frames.length;
  if (s.o.overlay && frames.length) {
    const { writeOverlay } = await import('./overlay.js');
    const stem = baseName(input);
    for await (const vf of readVideoFrames(input, { fps, start, duration: s.o.duration })) {
      const f = frames[vf.index];
      if (!f) break;
      await writeOverlay(overlayName(s.o.overlay, stem, vf.index), vf.frame, f.people.map((p) => ({
        id: p.id,
        keypoints2d: Float64Array.from(p.keypoints2d.flat()),
        joints3d: p.joints3d ? Float64Array.from(p.joints3d.flat()) : null,
      })), cam);
    }
  }
  return { ...head, frames };
}

/** Run every input; writes one document each (atomically) and returns them. */
export async function runInputs(inputs: string[], o: RunOptions): Promise<RunResult[]> {
  if (!inputs.length) throw new Error('run: no input; pass a photo, a folder of photos or a video');
  const fileCam = o.camera ? loadCameraFile(o.camera) : undefined;
  const kinds: InputKind[] = [];
  for (const i of inputs) kinds.push(await classify(i));
  const outs = outputPaths(inputs, o.out);
  if (o.overlay) fs.mkdirSync(o.overlay, { recursive: true });
  const lifter = await Lifter.load(o.models);
  const s = new Session(lifter, o, fileCam);
  const results: RunResult[] = [];
  try {
    for (let n = 0; n < inputs.length; n++) {
      const t0 = performance.now();
      const input = inputs[n];
      const doc = kinds[n] === 'image' ? await runImage(s, input)
        : kinds[n] === 'images' ? await runFolder(s, input) : await runVideo(s, input);
      writeFileAtomic(outs[n], JSON.stringify(doc) + '\n');
      results.push({ input, out: outs[n], doc, seconds: (performance.now() - t0) / 1000 });
      o.onResult?.(results[n], n);
    }
  } finally {
    s.dispose();
  }
  return results;
}
