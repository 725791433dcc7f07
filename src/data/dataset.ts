/**
 * Reader for pose-dataset/1 folders (index.json + little-endian float32 blobs; see FORMAT.md in the data
 * folder). The index is validated in full at open time (schema, cameras, layouts, and every declared blob
 * range against the file size); blobs are read lazily at byte offsets, nothing is loaded up front.
 *
 * I/O lives here; the geometry (world -> camera, projection with distortion) is in geometry/camera.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import type { Camera } from '../contracts/types.js';
import { H36M_JOINTS } from '../contracts/types.js';
import { isKnownLayout, layoutSize, unknownLayoutMessage } from '../contracts/layouts.js';
import { projectCameraPoints, validateIntrinsics, worldToCamera } from '../camera/geometry.js';
import { LimitError, checkFileSize } from '../contracts/limits.js';
import { fieldPath, oneLine } from '../util/json.js';

export const DATASET_FORMAT = 'pose-dataset/1';
const FIX_SEE_FORMAT = `see FORMAT.md (${DATASET_FORMAT})`;

/** Every problem with a dataset folder: the message names the file (full path), the field and the fix. */
export class DatasetError extends Error {
  /** full path of the file at fault (index.json or a blob), when there is one */
  readonly file?: string;
  /** field path inside index.json, e.g. `sequences[3].views[0].camera` */
  readonly field?: string;
  constructor(message: string, file?: string, field?: string) {
    super(message);
    this.name = 'DatasetError';
    this.file = file;
    this.field = field;
  }
}

// ---------------------------------------------------------------------------------------------------
// Schema

/** zod error text: `is missing` when the field is absent, else the text. */
function e(text: string) {
  return (iss: { input?: unknown }) => (iss.input === undefined ? `is missing (${text})` : text);
}

const num = z.number({ error: e('must be a number') });
const vec = (n: number, what: string, item: z.ZodNumber = num) =>
  z.array(item, { error: e(`must be an array of ${n} numbers (${what})`) })
    .length(n, { error: e(`must have exactly ${n} numbers (${what})`) });
const positive = num.positive({ error: e('must be > 0') });
/** A path relative to the dataset folder that stays inside it (no absolute path, no `..` out of it). */
export function staysInside(p: string): boolean {
  if (path.isAbsolute(p) || path.win32.isAbsolute(p)) return false;
  const n = path.posix.normalize(p.replace(/\\/g, '/'));
  return n !== '..' && !n.startsWith('../');
}
const INSIDE = e('must stay inside the dataset folder (a relative path without ../ out of it); move the file into the folder');
const blobRef = z.object({
  file: z.string({ error: e('must be a file name relative to the dataset folder') }).min(1, { error: e('must not be empty') })
    .refine(staysInside, { error: INSIDE }),
  offset: z.number({ error: e('must be a number (offset in floats)') })
    .int({ error: e('must be a whole number of floats') }).min(0, { error: e('must be >= 0 (offset in floats)') }),
});

const cameraSchema = z.object({
  f: vec(2, 'fx, fy in pixels', positive),
  c: vec(2, 'cx, cy in pixels'),
  size: vec(2, 'width, height in pixels', positive),
  R: z.array(vec(3, 'one row of the world->camera rotation'), { error: e('must be a 3x3 array (world->camera rotation, row-major)') })
    .length(3, { error: e('must have 3 rows (3x3 world->camera rotation)') }),
  C: vec(3, 'camera centre x, y, z in world mm'),
  k: vec(3, 'radial k1, k2, k3').optional(),
  p: vec(2, 'tangential p1, p2').optional(),
});

const points2dSchema = blobRef.extend({
  layout: z.string({ error: e('must be a joint layout name') }),
  channels: z.union([z.literal(2), z.literal(3)], { error: e('must be 2 (x, y) or 3 (x, y, score)') }),
  source: z.string({ error: e('must be a string naming the 2D detector') }).optional(),
});

const viewSchema = z.object({
  camera: z.string({ error: e('must be a camera id (a key of cameras)') }),
  points2d: points2dSchema.optional(),
  images: z.array(z.string({ error: e('must be an image path relative to the dataset folder') }).refine(staysInside, { error: INSIDE }), {
    error: e('must be an array of image paths, one per frame'),
  }).optional(),
});

const sequenceSchema = z.object({
  id: z.string({ error: e('must be a string') }).min(1, { error: e('must not be empty') }),
  subject: z.string({ error: e('must be a string') }).optional(),
  action: z.string({ error: e('must be a string') }).optional(),
  fps: z.number({ error: e('must be a number (0 for single images)') }).min(0, { error: e('must be >= 0 (0 for single images)') }),
  frames: z.number({ error: e('must be a number') }).int({ error: e('must be a whole number') })
    .positive({ error: e('must be > 0') }),
  world3d: blobRef,
  views: z.array(viewSchema, { error: e('must be an array of views') }),
});

const indexSchema = z.object({
  format: z.literal(DATASET_FORMAT, { error: e(`must be "${DATASET_FORMAT}"`) }),
  name: z.string({ error: e('must be a string') }).optional(),
  joints: z.literal('h36m17', { error: e('must be "h36m17" (the only 3D layout of pose-dataset/1)') }),
  units: z.literal('mm', { error: e('must be "mm"') }),
  world_up: z.string({ error: e('must be a string ("z" or "camera frame")') }).optional(),
  source: z.string({ error: e('must be a string') }).optional(),
  cameras: z.record(z.string(), cameraSchema, { error: e('must be an object of cameras keyed by id') }),
  sequences: z.array(sequenceSchema, { error: e('must be an array of sequences') })
    .min(1, { error: e('must hold at least one sequence') }),
});

export type DatasetIndex = z.infer<typeof indexSchema>;
export type SequenceEntry = DatasetIndex['sequences'][number];
export type ViewEntry = SequenceEntry['views'][number];

function issueText(issue: z.core.$ZodIssue): string {
  const msg = issue.message;
  if (issue.code === 'invalid_type' && /received undefined/.test(msg)) return 'is missing';
  if (issue.code === 'invalid_type' && issue.expected === 'object' && /undefined/.test(msg)) return 'is missing';
  return msg;
}

// ---------------------------------------------------------------------------------------------------
// Dataset

/** 2D keypoints as stored: frames x K x channels (x, y[, score]) in pixels. */
export interface Points2dSlice {
  layout: string;
  channels: 2 | 3;
  data: Float32Array;
}

export interface FramesOptions {
  /** take every stride-th frame (default 1) */
  stride?: number;
  /** frames per chunk (default 1024) */
  chunk?: number;
  /** first frame (default 0) */
  start?: number;
  /** one past the last frame (default: all) */
  end?: number;
  /** also return this view's camera-frame 3D, projected ground-truth 2D and stored 2D (when present) */
  view?: number;
}

export interface FrameChunk {
  seqIndex: number;
  /** frame numbers within the sequence of the frames in this chunk */
  frames: number[];
  /** frames.length x 17 x 3, world frame (mm) */
  world3d: Float32Array;
  /** with `view`: frames.length x 17 x 3, camera frame (mm) */
  camera3d?: Float64Array;
  /** with `view`: frames.length x 17 x 3 (x px, y px, score; see groundTruth2d) */
  gt2d?: Float64Array;
  /** with `view`, when the view has stored 2D */
  points2d?: Points2dSlice;
}

export interface PoseDataset {
  readonly dir: string;
  readonly indexPath: string;
  readonly index: DatasetIndex;
  readonly cameras: Record<string, Camera>;
  readonly sequences: DatasetIndex['sequences'];
  /** the Camera of a view */
  camera(seqIndex: number, viewIndex: number): Camera;
  /** count x 17 x 3 world-frame joints (mm), NaN = undefined joint */
  readWorld3d(seqIndex: number, start: number, count: number): Float32Array;
  /** stored 2D keypoints of a view (error if the view has none) */
  readPoints2d(seqIndex: number, viewIndex: number, start: number, count: number): Points2dSlice;
  /** count x 17 x 3 joints in the view's camera frame (mm) */
  cameraFrame3d(seqIndex: number, viewIndex: number, start: number, count: number): Float64Array;
  /**
   * count x 17 x 3 ground-truth 2D: camera-frame joints projected with distortion (x px, y px, score);
   * score 1 for a valid joint; a joint whose 3D is NaN (or behind the camera) gets x = y = NaN, score 0.
   */
  groundTruth2d(seqIndex: number, viewIndex: number, start: number, count: number): Float64Array;
  /** absolute path of a view's image for one frame, or undefined when the view lists no images */
  imagePath(seqIndex: number, viewIndex: number, frame: number): string | undefined;
  /** stream a sequence in chunks */
  frames(seqIndex: number, opts?: FramesOptions): Generator<FrameChunk>;
  /** close the cached blob file descriptors (reads reopen them on demand) */
  close(): void;
}

const J = H36M_JOINTS;
const LITTLE_ENDIAN = os.endianness() === 'LE';

/** Open and validate a pose-dataset/1 folder. Throws DatasetError on any problem. */
export function openDataset(dir: string): PoseDataset {
  const root = path.resolve(dir);
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    throw new DatasetError(`${root}: dataset folder does not exist; pass the folder that holds index.json`, root);
  }
  if (!st.isDirectory()) {
    throw new DatasetError(`${root}: is not a folder; pass the dataset folder that holds index.json, not a file`, root);
  }
  const indexPath = path.join(root, 'index.json');
  let text: string;
  try {
    checkFileSize(indexPath, 'json', 'index.json');
  } catch (e) {
    if (e instanceof LimitError) throw new DatasetError(e.message, indexPath);
    throw e;
  }
  try {
    text = fs.readFileSync(indexPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetError(
      code === 'ENOENT'
        ? `${indexPath}: missing; a pose-dataset/1 folder needs an index.json (${FIX_SEE_FORMAT})`
        : `${indexPath}: cannot be read (${(e as Error).message})`,
      indexPath);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(`${indexPath}: invalid JSON (${oneLine((e as Error).message)}); fix the syntax`, indexPath);
  }
  const parsed = indexSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const lines = issues.slice(0, 3).map((i) => `${indexPath}: ${fieldPath(i.path)}: ${issueText(i)}`);
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more problems)` : '';
    throw new DatasetError(`${lines.join('\n')}${more}; ${FIX_SEE_FORMAT}`, indexPath, fieldPath(issues[0].path));
  }
  const index = parsed.data;
  const fail = (field: string, msg: string, file = indexPath): never => {
    throw new DatasetError(file === indexPath ? `${indexPath}: ${field}: ${msg}`
      : `${file}: ${msg} (declared at ${indexPath}: ${field})`, file, field);
  };

  // cameras
  const cameras: Record<string, Camera> = {};
  for (const [id, c] of Object.entries(index.cameras)) {
    const where = `cameras[${JSON.stringify(id)}]`;
    const cam: Camera = {
      id, fx: c.f[0], fy: c.f[1], cx: c.c[0], cy: c.c[1], width: c.size[0], height: c.size[1],
      R: c.R.map((r) => [r[0], r[1], r[2]]), C: [c.C[0], c.C[1], c.C[2]],
    };
    if (c.k) cam.k = [c.k[0], c.k[1], c.k[2]];
    if (c.p) cam.p = [c.p[0], c.p[1]];
    try {
      validateIntrinsics(cam, `${indexPath}: ${where}`);
    } catch (e) {
      throw new DatasetError(`${(e as Error).message} (fx, fy = f; cx, cy = c; width, height = size)`, indexPath, where);
    }
    const err = rotationError(cam.R);
    if (err > 1e-3) {
      fail(`${where}.R`, `is not a rotation (|R Rᵀ - I| + |det R - 1| = ${err.toExponential(2)}); ` +
        'give the orthonormal world->camera rotation, row-major, with determinant +1');
    }
    cameras[id] = cam;
  }

  // sequences: references, layouts, images and blob ranges
  const sizes = new Map<string, number>();
  const blobSize = (file: string, field: string): number => {
    const full = path.resolve(root, file);
    let size = sizes.get(full);
    if (size === undefined) {
      let s: fs.Stats | undefined;
      try { s = fs.statSync(full); } catch { /* reported below */ }
      if (!s || !s.isFile()) {
        fail(field, `blob file is missing; put it in the dataset folder or fix the file name`, full);
      }
      size = s!.size;
      sizes.set(full, size);
    }
    return size;
  };
  const checkRange = (ref: { file: string; offset: number }, field: string, frames: number, perFrame: string, floatsPerFrame: number) => {
    const need = (ref.offset + frames * floatsPerFrame) * 4;
    const size = blobSize(ref.file, `${field}.file`);
    if (size < need) {
      const full = path.resolve(root, ref.file);
      fail(field, `blob is shorter than declared: (offset ${ref.offset} + ${frames} frames x ${perFrame}) x 4 bytes = ` +
        `${need} bytes needed, the file has ${size}; fix offset/frames in index.json or regenerate the blob`, full);
    }
  };
  const seenIds = new Map<string, number>();
  index.sequences.forEach((s, si) => {
    const sf = `sequences[${si}]`;
    const prev = seenIds.get(s.id);
    if (prev !== undefined) fail(`${sf}.id`, `"${s.id}" is already the id of sequences[${prev}]; sequence ids must be unique`);
    seenIds.set(s.id, si);
    checkRange(s.world3d, `${sf}.world3d`, s.frames, `${J} x 3`, J * 3);
    s.views.forEach((v, vi) => {
      const vf = `${sf}.views[${vi}]`;
      if (!Object.prototype.hasOwnProperty.call(cameras, v.camera)) {
        const known = Object.keys(cameras);
        if (v.camera === '__proto__') fail(`${vf}.camera`, '"__proto__" cannot be a camera id (it is reserved in JSON objects); rename the camera');
        fail(`${vf}.camera`, `"${v.camera}" is not in cameras; use one of ${known.slice(0, 8).join(', ')}` +
          `${known.length > 8 ? ', ...' : ''}${known.length ? '' : '(none: add the camera to cameras)'}`);
      }
      if (v.points2d) {
        const p = v.points2d;
        if (!isKnownLayout(p.layout)) fail(`${vf}.points2d.layout`, unknownLayoutMessage(p.layout, 'layout'));
        const k = layoutSize(p.layout);
        checkRange(p, `${vf}.points2d`, s.frames, `${k} x ${p.channels}`, k * p.channels);
      }
      if (v.images && v.images.length !== s.frames) {
        fail(`${vf}.images`, `lists ${v.images.length} images but the sequence has ${s.frames} frames; give one path per frame`);
      }
    });
  });

  return new PoseDatasetImpl(root, indexPath, index, cameras);
}

/** |R Rᵀ - I|_max + |det R - 1| */
function rotationError(R: number[][]): number {
  let e = 0;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const d = R[i][0] * R[j][0] + R[i][1] * R[j][1] + R[i][2] * R[j][2] - (i === j ? 1 : 0);
      e = Math.max(e, Math.abs(d));
    }
  }
  const det = R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1])
    - R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0])
    + R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
  return e + Math.abs(det - 1);
}

class PoseDatasetImpl implements PoseDataset {
  private readonly fds = new Map<string, number>();

  constructor(
    readonly dir: string,
    readonly indexPath: string,
    readonly index: DatasetIndex,
    readonly cameras: Record<string, Camera>,
  ) {}

  get sequences(): DatasetIndex['sequences'] {
    return this.index.sequences;
  }

  private seq(seqIndex: number): SequenceEntry {
    const s = this.index.sequences[seqIndex];
    if (!Number.isInteger(seqIndex) || !s) {
      throw new RangeError(`${this.indexPath}: sequence ${seqIndex} does not exist; the dataset has sequences 0..${this.index.sequences.length - 1}`);
    }
    return s;
  }

  private view(seqIndex: number, viewIndex: number): ViewEntry {
    const s = this.seq(seqIndex);
    const v = s.views[viewIndex];
    if (!Number.isInteger(viewIndex) || !v) {
      throw new RangeError(`${this.indexPath}: sequences[${seqIndex}] ("${s.id}") has no view ${viewIndex}; it has ${s.views.length} views`);
    }
    return v;
  }

  private checkFrames(seqIndex: number, start: number, count: number): SequenceEntry {
    const s = this.seq(seqIndex);
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > s.frames) {
      throw new RangeError(`${this.indexPath}: sequences[${seqIndex}] ("${s.id}") has ${s.frames} frames; ` +
        `start ${start}, count ${count} is out of range (need whole numbers with 0 <= start and start + count <= ${s.frames})`);
    }
    return s;
  }

  camera(seqIndex: number, viewIndex: number): Camera {
    return this.cameras[this.view(seqIndex, viewIndex).camera];
  }

  private fd(file: string): number {
    const full = path.resolve(this.dir, file);
    let fd = this.fds.get(full);
    if (fd === undefined) {
      try {
        fd = fs.openSync(full, 'r');
      } catch (e) {
        throw new DatasetError(`${full}: cannot open blob (${(e as Error).message}); was it removed after the dataset was opened?`, full);
      }
      this.fds.set(full, fd);
    }
    return fd;
  }

  /** `rows` rows of `rowFloats` float32s: row r = frames[r] of the blob that starts at `offset` floats. */
  private readRows(file: string, offset: number, rowFloats: number, first: number, count: number, stride = 1): Float32Array {
    const out = new Float32Array(count * rowFloats);
    if (count === 0) return out;
    const fd = this.fd(file);
    const rowBytes = rowFloats * 4;
    if (stride === 1) {
      this.readInto(fd, file, new Uint8Array(out.buffer), (offset + first * rowFloats) * 4);
    } else if (stride <= 4) {
      // one read of the whole span, then pick every stride-th row
      const span = new Float32Array(((count - 1) * stride + 1) * rowFloats);
      this.readInto(fd, file, new Uint8Array(span.buffer), (offset + first * rowFloats) * 4);
      for (let r = 0; r < count; r++) out.set(span.subarray(r * stride * rowFloats, (r * stride + 1) * rowFloats), r * rowFloats);
      return out;
    } else {
      const bytes = new Uint8Array(out.buffer);
      for (let r = 0; r < count; r++) {
        this.readInto(fd, file, bytes.subarray(r * rowBytes, (r + 1) * rowBytes), (offset + (first + r * stride) * rowFloats) * 4);
      }
    }
    return out;
  }

  private readInto(fd: number, file: string, buf: Uint8Array, position: number): void {
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(fd, buf, done, buf.length - done, position + done);
      if (n === 0) {
        const full = path.resolve(this.dir, file);
        throw new DatasetError(`${full}: blob ended at byte ${position + done}, expected ${position + buf.length}; ` +
          'the file changed after the dataset was opened', full);
      }
      done += n;
    }
    if (!LITTLE_ENDIAN) {
      for (let i = 0; i + 3 < buf.length; i += 4) {
        let t = buf[i]; buf[i] = buf[i + 3]; buf[i + 3] = t;
        t = buf[i + 1]; buf[i + 1] = buf[i + 2]; buf[i + 2] = t;
      }
    }
  }

  readWorld3d(seqIndex: number, start: number, count: number): Float32Array {
    const s = this.checkFrames(seqIndex, start, count);
    return this.readRows(s.world3d.file, s.world3d.offset, J * 3, start, count);
  }

  readPoints2d(seqIndex: number, viewIndex: number, start: number, count: number): Points2dSlice {
    const v = this.view(seqIndex, viewIndex);
    this.checkFrames(seqIndex, start, count);
    return this.points2dRows(seqIndex, viewIndex, v, start, count, 1);
  }

  private points2dRows(seqIndex: number, viewIndex: number, v: ViewEntry, first: number, count: number, stride: number): Points2dSlice {
    const p = v.points2d;
    if (!p) {
      throw new DatasetError(`${this.indexPath}: sequences[${seqIndex}].views[${viewIndex}] has no points2d; ` +
        'use groundTruth2d() for projected ground truth, or run a 2D detector on the images', this.indexPath,
        `sequences[${seqIndex}].views[${viewIndex}].points2d`);
    }
    const channels = p.channels as 2 | 3;
    const data = this.readRows(p.file, p.offset, layoutSize(p.layout) * channels, first, count, stride);
    return { layout: p.layout, channels, data };
  }

  cameraFrame3d(seqIndex: number, viewIndex: number, start: number, count: number): Float64Array {
    const cam = this.camera(seqIndex, viewIndex);
    return worldToCamera(cam, this.readWorld3d(seqIndex, start, count));
  }

  groundTruth2d(seqIndex: number, viewIndex: number, start: number, count: number): Float64Array {
    const cam = this.camera(seqIndex, viewIndex);
    return gt2dFromCamera(cam, this.cameraFrame3d(seqIndex, viewIndex, start, count));
  }

  imagePath(seqIndex: number, viewIndex: number, frame: number): string | undefined {
    const v = this.view(seqIndex, viewIndex);
    this.checkFrames(seqIndex, frame, 1);
    return v.images ? path.resolve(this.dir, v.images[frame]) : undefined;
  }

  *frames(seqIndex: number, opts: FramesOptions = {}): Generator<FrameChunk> {
    const s = this.seq(seqIndex);
    const stride = opts.stride ?? 1, chunk = opts.chunk ?? 1024;
    const start = opts.start ?? 0, end = opts.end ?? s.frames;
    if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`frames: stride must be an integer >= 1, got ${stride}`);
    if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`frames: chunk must be an integer >= 1, got ${chunk}`);
    this.checkFrames(seqIndex, start, Math.max(0, end - start));
    const v = opts.view === undefined ? undefined : this.view(seqIndex, opts.view);
    const cam = opts.view === undefined ? undefined : this.camera(seqIndex, opts.view);
    for (let f = start; f < end; f += chunk * stride) {
      const n = Math.min(chunk, Math.ceil((end - f) / stride));
      const frames = Array.from({ length: n }, (_, i) => f + i * stride);
      const world3d = this.readRows(s.world3d.file, s.world3d.offset, J * 3, f, n, stride);
      const out: FrameChunk = { seqIndex, frames, world3d };
      if (v && cam) {
        out.camera3d = worldToCamera(cam, world3d);
        out.gt2d = gt2dFromCamera(cam, out.camera3d);
        if (v.points2d) out.points2d = this.points2dRows(seqIndex, opts.view!, v, f, n, stride);
      }
      yield out;
    }
  }

  close(): void {
    for (const fd of this.fds.values()) {
      try { fs.closeSync(fd); } catch { /* already closed */ }
    }
    this.fds.clear();
  }
}

/** camera-frame joints (n x 3) -> n x 3 (x px, y px, score 1; NaN, NaN, 0 where the 3D is invalid). */
function gt2dFromCamera(cam: Camera, camPts: Float64Array): Float64Array {
  const n = camPts.length / 3;
  const px = projectCameraPoints(cam, camPts);
  const out = new Float64Array(n * 3);
  for (let j = 0; j < n; j++) {
    const x = px[j * 2], y = px[j * 2 + 1];
    const ok = Number.isFinite(x) && Number.isFinite(y);
    out[j * 3] = ok ? x : NaN;
    out[j * 3 + 1] = ok ? y : NaN;
    out[j * 3 + 2] = ok ? 1 : 0;
  }
  return out;
}
