/**
 * MoveNet's network (Lightning, Thunder, MultiPose) on onnxruntime-node instead of TF.js wasm (`DetectorOptions.runtime`,
 * default 'onnx'): about 3x faster per detection on one core, 4x for the network call alone (`npm run bench --
 * --parts stages` prints both runtimes in one run), the same keypoints up to float rounding.
 *
 * pose-detection's MoveNet detector keeps everything around the network (the crop region from the previous
 * pose, the crop and resize, the keypoints mapped back to the image, the next crop region); only its one
 * network call, `runSinglePersonPoseModel(croppedInt32Image) -> Pose` (pose-detection 2.1.x, crop-normalised
 * keypoints), is replaced on the detector instance by the same call through onnxruntime. The TF.js model it
 * loaded is disposed. The ONNX graph is converted from the same model.json in memory (movenet-onnx.ts) when the
 * detector is created; sessions run on one intra-op thread, so a frame's keypoints do not depend on
 * the machine's core count or on which thread detects it (video chunks, docs/decisions/video-threads-chunks.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as poseDetection from '@tensorflow-models/pose-detection';
import { ort, cpuSessionOptions } from '../nn/ort-session.js';
import { moveNetToOnnx, type WeightMap } from './movenet-onnx.js';
import { readModelTopology } from './models.js';

/** An onnxruntime session for a converted MoveNet graph: one intra-op thread, no spinning, warnings off. */
export function moveNetSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { ...cpuSessionOptions({ threads: 1, spinning: false }), logSeverityLevel: 3 });
}

/** pose-detection's keypoint score threshold for the pose score (movenet/constants.js MIN_CROP_KEYPOINT_SCORE). */
const MIN_CROP_KEYPOINT_SCORE = 0.2;
const NUM_KEYPOINTS = 17;

/** MultiPose's output per person: 17 x (y, x, score), then the box (yMin, xMin, yMax, xMax) and its score. */
const MULTIPOSE_INSTANCE_SIZE = NUM_KEYPOINTS * 3 + 5;

/** The parts of pose-detection's MoveNetDetector that are replaced (not in its public typings). */
interface MoveNetInternals {
  runSinglePersonPoseModel?: (input: tf.Tensor4D) => Promise<poseDetection.Pose>;
  runMultiPersonPoseModel?: (input: tf.Tensor4D) => Promise<poseDetection.Pose[]>;
  moveNetModel?: { dispose(): void; execute(x: tf.Tensor): tf.Tensor | tf.Tensor[]; weights?: WeightMap };
}

/**
 * Make `det` (a MoveNet detector of pose-detection; `multi` for MultiPose) run its network through onnxruntime. Throws
 * when the detector does not have the method this replaces (another pose-detection version): a clear error,
 * never a silent fall back to the slower runtime.
 */
export async function useOnnxRuntime(det: poseDetection.PoseDetector, jsonPath: string, multi = false): Promise<void> {
  const d = det as unknown as MoveNetInternals;
  const method = multi ? 'runMultiPersonPoseModel' : 'runSinglePersonPoseModel';
  if (typeof d[method] !== 'function' || !d.moveNetModel?.weights) {
    throw new Error(`detect: this @tensorflow-models/pose-detection has no MoveNetDetector.${method}; ` +
      'install the version in package-lock.json (npm ci) or pass runtime: "tfjs"');
  }
  // converted from model.json's topology and the weights of the GraphModel pose-detection loaded from it (not
  // decoded a second time), then that model is disposed
  const session = await moveNetSession(moveNetToOnnx(readModelTopology(jsonPath), d.moveNetModel.weights, multi ? [1, 'people', MULTIPOSE_INSTANCE_SIZE] : undefined));
  d.moveNetModel.dispose();
  d.moveNetModel = {
    dispose: () => { void session.release(); },
    execute: () => { throw new Error('detect: the MoveNet TF.js model was replaced by its onnxruntime session'); },
  };
  /** the network on pose-detection's int32 input image (its crop, or the resized frame for MultiPose) */
  const infer = async (input: tf.Tensor4D): Promise<ort.Tensor> =>
    (await session.run({ input: new ort.Tensor('int32', (await input.data()) as Int32Array, input.shape) })).output;
  if (multi) {
    d.runMultiPersonPoseModel = async (input: tf.Tensor4D): Promise<poseDetection.Pose[]> => {
      const out = await infer(input);
      const r = out.data as Float32Array;
      if (out.dims.length !== 3 || out.dims[2] !== MULTIPOSE_INSTANCE_SIZE) throw new Error(`detect: MoveNet MultiPose gave [${out.dims.join(', ')}], expected [1, n, ${MULTIPOSE_INSTANCE_SIZE}]`);
      // as pose-detection's own runMultiPersonPoseModel: keypoints (input-normalised), box and its score per person
      const poses: poseDetection.Pose[] = [];
      for (let i = 0; i < out.dims[1]; i++) {
        const o = i * MULTIPOSE_INSTANCE_SIZE, b = o + NUM_KEYPOINTS * 3;
        const keypoints = keypointsAt(r, o);
        const box = { yMin: r[b], xMin: r[b + 1], yMax: r[b + 2], xMax: r[b + 3], width: r[b + 3] - r[b + 1], height: r[b + 2] - r[b] };
        poses.push({ keypoints, box, score: r[b + 4] });
      }
      return poses;
    };
    return;
  }
  d.runSinglePersonPoseModel = async (input: tf.Tensor4D): Promise<poseDetection.Pose> => {
    const r = (await infer(input)).data as Float32Array;
    if (r.length !== NUM_KEYPOINTS * 3) throw new Error(`detect: MoveNet gave ${r.length} values, expected ${NUM_KEYPOINTS * 3}`);
    // as pose-detection's own runSinglePersonPoseModel: the pose score = the mean score of the keypoints above
    // MIN_CROP_KEYPOINT_SCORE
    const keypoints = keypointsAt(r, 0);
    let score = 0, valid = 0;
    for (const k of keypoints) if (k.score > MIN_CROP_KEYPOINT_SCORE) { valid++; score += k.score; }
    return { keypoints, score: valid > 0 ? score / valid : 0 };
  };
}

/** The 17 keypoints (y, x, score; normalised to the network's input) of a MoveNet output from `offset`. */
function keypointsAt(r: Float32Array, offset: number): { y: number; x: number; score: number }[] {
  return Array.from({ length: NUM_KEYPOINTS }, (_, j) => ({ y: r[offset + j * 3], x: r[offset + j * 3 + 1], score: r[offset + j * 3 + 2] }));
}
