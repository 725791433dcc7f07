/**
 * `poselift lift INPUT --format coco|openpose|csv`: 2D keypoints from another detector -> the same
 * poselift/1 document as `poselift run` (same lift path, builders, tracker and windowed track lifting).
 * `liftKeypointFile` is the entry point for the CLI and, later, the queue workers (issue 4).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { defaultModelsDir } from '../util/paths.js';
import { Lifter, type CocoPosenet, type LiftedPerson } from '../lift/lifter.js';
import { normalisedH36m } from '../lift/normalise.js';
import { kindOfLayout, type KeypointKind } from '../lift/posenet/features.js';
import { loadCameraFile, resolveCamera } from '../camera/resolve.js';
import type { Intrinsics, ResolvedIntrinsics } from '../contracts/types.js';
import { cameraOut, liftedOut, personOut, r4, type FrameOut, type PersonOut, type PoseliftDoc } from './output.js';
import { Tracker } from '../track/tracker.js';
import { WindowedTrackLifter } from '../track/track-lift.js';
import { readKeypointFile, KEYPOINT_FORMATS, type FileFrame, type KeypointFile, type KeypointFormat } from '../formats/keypoints.js';

export interface LiftKeypointOptions {
  format: KeypointFormat;
  /** csv: the layout its joint names / indices refer to (required for csv) */
  layout?: string;
  /** intrinsics file as in `poselift run --camera` */
  camera?: string;
  /** image size in pixels for frames whose file gives none (OpenPose, CSV, COCO results files) */
  width?: number;
  height?: number;
  /** > 0: the frames are a sequence at this rate (temporal term per track); default 0 = independent frames */
  fps?: number;
  /** models folder (ignored when `lifter` is given) */
  models?: string;
  /**
   * with `fps`: each track's poses from the temporal lifter of its kind (default true); false = single-frame
   * PoseNet (ignored when `lifter` is given: load it with `{ temporal: false }`)
   */
  temporal?: boolean;
  /** the PoseNet of COCO-style keypoints: `posenet`, `coco` (posenet-coco.onnx) or `unadapted` (posenet-coco for keypoints no adapter moved; default COCO_POSENET); ignored when `lifter` is given */
  cocoPosenet?: CocoPosenet;
  /**
   * an already loaded lifter, or one for the file's kind of 2D (workers keep one per kind: `(kind) =>
   * Lifter.load(dir, { kinds: [kind], shared })`)
   */
  lifter?: Lifter | ((kind: KeypointKind) => Promise<Lifter>);
  /**
   * the 2D detector the keypoints came from, to apply its calibrated keypoint-definition adapter
   * (models/keypoint-adapter.json); default none: a file's keypoints are lifted as given
   */
  adapter?: string;
}


function frameCamera(input: string, fr: FileFrame, o: LiftKeypointOptions, fileCam: Intrinsics | undefined): ResolvedIntrinsics {
  let w = fr.width ?? o.width, h = fr.height ?? o.height;
  if ((w === undefined || h === undefined) && fileCam) {
    if (fileCam.width !== undefined && fileCam.height !== undefined) [w, h] = [fileCam.width, fileCam.height];
    else { w = Math.round(2 * fileCam.cx); h = Math.round(2 * fileCam.cy); }
  }
  if (w === undefined || h === undefined) {
    throw new Error(`${input}: frame ${fr.file ?? ''} has no image size (the ${o.format} file gives none); ` +
      'pass --width and --height in pixels (then a 60° field of view is assumed) or --camera with the intrinsics');
  }
  return resolveCamera(w, h, fileCam, undefined, o.camera, input);
}

/** Read a keypoint file and lift it; returns the poselift/1 document (nothing is written). */
export async function liftKeypointFile(input: string, o: LiftKeypointOptions): Promise<PoseliftDoc> {
  if (!KEYPOINT_FORMATS.includes(o.format)) {
    throw new Error(`${input}: unknown --format "${String(o.format)}"; use ${KEYPOINT_FORMATS.join(', ')}`);
  }
  const fps = o.fps ?? 0;
  if (!(fps >= 0) || !Number.isFinite(fps)) throw new Error(`--fps ${fps}: must be a number >= 0 (0 = independent frames)`);
  for (const [k, v] of [['--width', o.width], ['--height', o.height]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`${k} ${v}: must be a positive whole number of pixels`);
  }
  const fileCam = o.camera ? loadCameraFile(o.camera) : undefined;
  const kf = readKeypointFile(input, o.format, o.layout);
  const cams = kf.frames.map((fr) => frameCamera(input, fr, o, fileCam));
  // one file, one layout: only the networks its kind of 2D reaches are loaded
  const kind = kindOfLayout(kf.layout);
  const lifter = typeof o.lifter === 'function' ? await o.lifter(kind)
    : o.lifter ?? await Lifter.load(o.models ?? defaultModelsDir(), { temporal: o.temporal, cocoPosenet: o.cocoPosenet, kinds: [kind] });
  const adapter = lifter.adapterFor(o.adapter);
  if (o.adapter !== undefined && !adapter) {
    throw new Error(`${input}: --adapter ${o.adapter}: the models folder has no keypoint adapter for that detector; use one of ${lifter.adapterNames().join(', ') || '(none: run `poselift calibrate`)'}`);
  }
  return liftFrames(input, kf, cams, fps, lifter, o.adapter);
}

/** Person ids: the file's (csv), tracked across frames (openpose, or any sequence), else 1..n per frame. */
function assignIds(kf: KeypointFile, fps: number): number[][] {
  if (kf.format === 'csv') return kf.frames.map((f) => f.people.map((p) => p.id ?? 0));
  if (kf.format === 'openpose' || fps > 0) {
    const tracker = new Tracker();
    return kf.frames.map((f) => tracker.update(f.people.map((p) => ({ bbox: p.bbox, keypoints: p.data }))));
  }
  return kf.frames.map((f) => f.people.map((_, i) => i + 1));
}

async function liftFrames(input: string, kf: KeypointFile, cams: ResolvedIntrinsics[], fps: number, lifter: Lifter, detector?: string): Promise<PoseliftDoc> {
  const adapter = lifter.adapterFor(detector);
  const ids = assignIds(kf, fps);
  const head = cameraOut(cams[0]);
  const frames: FrameOut[] = kf.frames.map((fr, i) => {
    const f: FrameOut = { index: i, time_s: fps > 0 ? r4(i / fps) : null, people: [] };
    if (fr.file !== undefined) f.file = fr.file;
    const co = cameraOut(cams[i]);
    if (JSON.stringify(co) !== JSON.stringify(head)) f.camera = co;
    return f;
  });
  const people: { fi: number; out: PersonOut; kp: Float64Array }[] = [];
  kf.frames.forEach((fr, fi) => fr.people.forEach((p, n) => {
    const keypoints = { layout: kf.layout, data: p.data };
    const out = personOut(ids[fi][n], { keypoints, score: p.score, bbox: p.bbox }, null);
    frames[fi].people.push(out);
    people.push({ fi, out, kp: normalisedH36m(keypoints, cams[fi], 0, adapter) });
  }));
  const set = (out: PersonOut, r: LiftedPerson | null) => { Object.assign(out, liftedOut(r)); };
  // what the file's points are: its layout's kind (h36m17 = joints, mpii16 = MPII-style, the rest COCO-style)
  const kind = kindOfLayout(kf.layout);
  if (fps > 0) {
    const moved = frames.findIndex((f) => f.camera);
    if (moved >= 0) {
      throw new Error(`${input}: frame ${kf.frames[moved].file ?? moved} has other intrinsics (image size) than frame 0, ` +
        'but --fps makes the frames one sequence from one camera; pass --camera or --width/--height, or --fps 0');
    }
    // each track over its frames, gaps kept as null so the temporal term sees real time steps
    const tracks = new Map<number, typeof people>();
    for (const p of people) {
      let t = tracks.get(p.out.id);
      if (!t) { t = []; tracks.set(p.out.id, t); }
      t.push(p);
    }
    for (const t of tracks.values()) {
      const wl = new WindowedTrackLifter<PersonOut | null>(lifter, cams[0], fps, (key, r) => { if (key) set(key, r); }, { kind, adapted: adapter !== undefined });
      let last = t[0].fi - 1;
      for (const p of t) {
        for (let g = last + 1; g < p.fi; g++) await wl.push(null, null);
        // two entries of one id in one frame (csv cannot, the tracker does not) would break the time axis
        if (p.fi === last) throw new Error(`${input}: person ${p.out.id} appears twice in frame ${kf.frames[p.fi].file ?? p.fi}`);
        last = p.fi;
        await wl.push(p.out, p.kp);
      }
      await wl.finish();
    }
  } else {
    // independent person-frames, batched per camera
    const groups = new Map<string, typeof people>();
    for (const p of people) {
      const k = JSON.stringify(cameraOut(cams[p.fi]));
      let g = groups.get(k);
      if (!g) { g = []; groups.set(k, g); }
      g.push(p);
    }
    for (const g of groups.values()) {
      const res = await lifter.liftBatch(g.map((p) => p.kp), cams[g[0].fi], { kind, adapted: adapter !== undefined });
      g.forEach((p, i) => set(p.out, res[i]));
    }
  }
  const w = cams[0].width, h = cams[0].height;
  return {
    schema: 'poselift/1',
    joints: 'h36m17',
    units: 'mm',
    frame: 'camera (x right, y down, z forward)',
    input: { path: input, kind: 'keypoints', frames: frames.length, width: w, height: h },
    camera: head,
    detector: { name: 'keypoints-file', layout: kf.layout },
    models: lifter.versionsFor(detector, kindOfLayout(kf.layout), { track: fps > 0, fps }),
    fps: r4(fps),
    frames,
  };
}

