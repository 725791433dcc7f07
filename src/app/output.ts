/**
 * The conversion of detections and lifted people into the poselift/1 document (its types:
 * src/contracts/document.ts) (rounded: 0.1 mm, 0.01 px, 0.001 score).
 */
import type { DetectorName, DetectedPerson } from '../detect/index.js';
import type { LiftedPerson } from '../lift/lifter.js';
import type { ResolvedIntrinsics } from '../contracts/types.js';
import type { CameraOut, FrameOut, InputKind, PersonOut, PoseliftDoc } from '../contracts/document.js';
import { roundTo } from '../util/numeric.js';
import { StreamedJsonFile } from '../util/atomic.js';

export type { CameraOut, FrameOut, InputKind, PersonOut, PoseliftDoc };

const r1 = (v: number) => roundTo(v, 1);
const r2 = (v: number) => roundTo(v, 2);
const r3 = (v: number) => roundTo(v, 3);
export const r4 = (v: number) => roundTo(v, 4);

export function cameraOut(c: ResolvedIntrinsics): CameraOut {
  const o: CameraOut = { fx: r4(c.fx), fy: r4(c.fy), cx: r4(c.cx), cy: r4(c.cy), width: c.width, height: c.height, source: c.source };
  // distortion coefficients as given (rounding would lose small ones)
  if (c.k) o.k = [...c.k];
  if (c.p) o.p = [...c.p];
  return o;
}

export function sameCamera(a: CameraOut, b: CameraOut): boolean {
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

/** Everything of a document but its frames. */
export function makeDocHead(
  input: string, kind: InputKind, cam: ResolvedIntrinsics, detector: PoseliftDoc['detector']['name'],
  versions: PoseliftDoc['models'], fps: number,
): Omit<PoseliftDoc, 'frames'> {
  return {
    schema: 'poselift/1',
    joints: 'h36m17',
    units: 'mm',
    frame: 'camera (x right, y down, z forward)',
    input: { path: input, kind, frames: 0, width: cam.width, height: cam.height },
    camera: cameraOut(cam),
    detector: {
      name: detector,
      layout: detector === 'blazepose' ? 'blazepose33' : detector === 'keypoints-file' ? 'unknown' : 'coco17',
    },
    models: versions,
    fps,
  };
}

/** The head of a video's document (sampling rate, range and the source's own rate recorded). */
export function videoHead(
  input: string, info: { fps: number }, cam: ResolvedIntrinsics, detector: DetectorName,
  versions: PoseliftDoc['models'], fps: number, start: number, duration: number | undefined | null,
): Omit<PoseliftDoc, 'frames'> {
  const head = makeDocHead(input, 'video', cam, detector, versions, r4(fps));
  head.input.start_s = start;
  head.input.duration_s = duration ?? null;
  head.input.source_fps = r4(info.fps);
  return head;
}

/**
 * One input's document, written as its frames become final: each `frame` goes to a temporary file
 * (StreamedJsonFile), `commit(head)` sets `input.frames` and renames the complete document into place
 * (the bytes of `JSON.stringify(doc) + '\n'`); `abort()` leaves nothing behind. With `keep` the frames
 * are also held, and `commit` returns the whole document; without it memory does not grow with the
 * frames. A failed write is one line naming the input and the output.
 */
export class DocumentWriter {
  private readonly file: StreamedJsonFile<FrameOut>;
  private readonly kept: FrameOut[] | undefined;
  /** people over all frames written */
  personFrames = 0;

  constructor(readonly input: string, readonly out: string, keep: boolean) {
    this.file = new StreamedJsonFile<FrameOut>(out, 'frames');
    this.kept = keep ? [] : undefined;
  }

  get frames(): number { return this.file.count; }

  /** The next frame (index order), final: it is not changed after this. */
  frame(f: FrameOut): void {
    this.guard(() => this.file.push(f));
    this.kept?.push(f);
    this.personFrames += f.people.length;
  }

  /** Frame `i` as written (held, or read back from the temporary file; before `commit`). */
  written(i: number): FrameOut {
    return this.kept ? this.kept[i] : this.guard(() => this.file.item(i));
  }

  commit(head: Omit<PoseliftDoc, 'frames'>): PoseliftDoc | undefined {
    head.input.frames = this.frames;
    this.guard(() => this.file.commit(head));
    return this.kept && { ...head, frames: this.kept };
  }

  abort(): void { this.file.abort(); }

  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (err) {
      this.abort();
      throw new Error(`${this.input}: writing ${this.out} failed (${(err as Error).message}); check that its folder is writable and has free space`, { cause: err });
    }
  }
}
