/**
 * The lift stage's defaults, each with the measurement behind it and its decision record (docs/decisions/).
 */
import type { KeypointKind } from './posenet/features.js';
import type { LiftSequenceOptions } from './solve/lift.js';

/**
 * The joints whose detector keypoints are other anatomical points than Human3.6M's joints of the same name
 * (FORMAT.md: the Stacked Hourglass thorax ~45 px and head top ~23 px off, its hips not the hip joints; a
 * COCO detector's pelvis and thorax are midpoints of its hips and shoulders, its nose not H36M's neck/nose).
 * PoseNet and RootNet learn that gap from real detections; the reprojection terms of the depth search and
 * the fitter cannot, so these joints' confidences are scaled by DEFINITION_WEIGHT for detector kinds.
 * Decision: docs/decisions/real-detections.md.
 */
export const DEFINITION_JOINTS: Record<Exclude<KeypointKind, 'joints'>, readonly number[]> = {
  mpii: [0, 1, 4, 8, 10],
  coco: [0, 1, 4, 8, 9],
};

/**
 * The production settings of the depth search and the fitter, chosen on the held-out subject S1
 * (`poselift eval ../shared/data/h36m-train --input gt2d --subjects S1`, README): RootNet's depth enters
 * as a 50 mm prior on the searched and on the fitted root depth (measured with the first, 40-epoch
 * PoseNet: MRPE 119 -> 103 mm on 3 sequences at
 * 25 fps, MPJPE unchanged), and two window iterations of the temporal fit are as good as four at 2/3
 * of the time (1.15 vs 1.79 ms per person-frame, accel 1.30 mm/frame^2 either way). Since 2026-12-05 (night) a
 * track's frames start the windows from 3 LM iterations each (not 20) and a window is 192 frames (a video's
 * whole track window, not 64): the fit of a 192-frame S8 track at 25 fps 0.61 -> 0.41 ms per frame (a timing
 * script), held-out S1's rows within 0.3 mm (MRPE) of before (docs/decisions/lift-defaults.md).
 * Decision: docs/decisions/lift-defaults.md.
 */
export const LIFT_DEFAULTS: LiftSequenceOptions = {
  search: { zSigmaMm: 50 },
  depthSigmaMm: 50,
  sequenceIterations: 2,
  initIterations: 3,
  window: 192,
};

/**
 * What changes in LIFT_DEFAULTS when the detection-trained networks lift (mpii keypoints, or COCO ones with
 * `cocoModels: 'detected'`): a tighter prior toward PoseNet's pose (the fitter's `relSigmaMm`, 40 mm by
 * default), as detections pull the fit away from it. Chosen on held-out S1's Stacked Hourglass detections
 * (every 10th frame; `node --import tsx experiments/detection-sweep.ts`): MPJPE / MRPE 71.4 / 146.6 mm with the
 * defaults, 69.4 / 145.9 at 25 mm, 69.3 / 145.5 at 15, 69.8 / 164.1 without the fitter. The RootNet prior stays
 * LIFT_DEFAULTS' 50 mm: 100 mm was 5.7 mm better in MRPE on S1's detections as tracks but 23 mm worse on the
 * novel-pose MPII-16 tracks (mixed), 75 mm 11.5 mm worse there (2026-12-05, night).
 * Decision: docs/decisions/real-detections.md.
 */
export const DETECTED_LIFT_OPTIONS: LiftSequenceOptions = { relSigmaMm: 25 };

/**
 * See DEFINITION_JOINTS; chosen on held-out S1 from detections (README, Validation).
 * Decision: docs/decisions/real-detections.md.
 */
export const DEFINITION_WEIGHT = 1;

/**
 * Which networks lift COCO-style keypoints (MoveNet, BlazePose, COCO and OpenPose files): `joints`, the models
 * trained on the projected truth with noise and part mixing (the default), or `detected`. On held-out S1 with
 * its real Stacked Hourglass detections given as COCO-17 keypoints `detected` is far better (67.7 against
 * 83.2 mm MPJPE, MRPE 166 against 377), but those poses are Human3.6M's; on the one photo whose pose is far
 * from every training pose (S5) it collapses from BlazePose's keypoints (153.0 against 60.9 mm), as half of
 * its training samples (the detections) cannot be part-mixed. Until a COCO model keeps that robustness, COCO
 * keypoints stay with `joints` (README, Validation; docs/decisions/real-detections.md).
 * Decision: docs/decisions/real-detections.md.
 */
export const COCO_MODELS: 'joints' | 'detected' = 'joints';

/**
 * Which RootNet gives the root depth of COCO-style keypoints when COCO_MODELS lifts their poses with the
 * truth-trained networks: `joints` (`rootnet.onnx`) or `detected` (`rootnet-detected.onnx`, trained on real
 * detections too, when the folder has it). `joints` kept: measured 2026-12-05 (night) against bars written before
 * (S1's detections as COCO-17: MRPE at least 50 mm better), `detected` was better on every COCO row but by less
 * (383.8 -> 361.0 mm MRPE; the clean slice 164.9 -> 148.8; the novel-pose tracks, mixed, 182.7 -> 163.2; all
 * without the temporal lifter's mirroring). Decision: docs/decisions/temporal-lifter.md.
 */
export const COCO_ROOTS: 'joints' | 'detected' = 'joints';

/**
 * Which PoseNet lifts COCO-style keypoints when the truth-trained networks lift them: `unadapted` (the default since
 * 2026-12-05, night): `posenet-coco` (`posenet-coco.onnx`, its COCO-pattern samples in the form COCO-17 keypoints
 * arrive in, the thorax at the shoulders' midpoint) for keypoints that no detector's keypoint adapter moved to
 * Human3.6M's definitions (keypoint files lifted by `lift`, `run --no-adapter`), `posenet` for adapted ones (`run`'s
 * photos and videos: each adapter moves the thorax where `posenet` expects it); `posenet` or `coco` for either
 * network everywhere. Held-out S1, unadapted keypoints, MPJPE / MRPE: clean COCO-17 keypoints as 10 fps tracks 36.7 /
 * 82.3 against 36.7 / 165.2, single frame 36.9 / 83.0 against 44.7 / 168.3; S1's detections as COCO-17 tracks 69.5 /
 * 314.0 against 71.6 / 383.8, single frame 81.9 / 308.2 against 83.2 / 376.6; novel-pose COCO-17 tracks, mixed, 49.9 /
 * 107.0 against 50.4 / 182.6. Adapted keypoints keep `posenet`: with the photos' leave-one-out adapters `posenet-coco`
 * was worse on two of the four photos (issue 18: no photo worse), and relative adapters were worse on S1.
 * Decision: docs/decisions/real-detections.md.
 */
export const COCO_POSENET: CocoPosenet = 'unadapted';

/** Which PoseNet lifts COCO-style keypoints (COCO_POSENET): `posenet`, `coco` (`posenet-coco`), or `unadapted`
 * (`posenet-coco` for keypoints no detector's keypoint adapter moved to Human3.6M's definitions, `posenet` for the rest). */
export type CocoPosenet = 'posenet' | 'coco' | 'unadapted';

/**
 * The kinds of 2D whose tracks (videos, keypoint files with a rate) a temporal lifter lifts, when the models
 * folder has one for the kind (`Lifter.temporalFor`): MPII-style detector keypoints, by `temporal-detected.onnx`
 * (shipped 2026-12-05; 1024 channels with part mixing per window), and since 2026-12-05 (evening) COCO-style
 * keypoints (`run`'s videos: MoveNet, BlazePose), by `temporal.onnx` (the detections' recipe with its truth
 * windows in the COCO form). Held-out S1, every 5th frame as 10 fps tracks (MPJPE / MRPE, mm): MPII-16, its
 * Stacked Hourglass detections 66.1 / 143.3 against single-frame PoseNet's 68.4 / 144.4, clean MPII-16 keypoints
 * 38.0 / 133.2 against 63.7 / 135.2, S1's sequences with limbs swapped between actions (experiments/novel-poses.ts)
 * 52.9 against 77.8; COCO-17, S1's detections as COCO-17 71.6 / 383.8 against 83.2 / 376.6, clean COCO-17 36.7
 * against 44.7, the novel-pose tracks 42.8 / 50.4 (unmixed / mixed) against 46.7 / 52.4 (bars set before the
 * run: no worse than PoseNet on the last and on the detections as COCO-17). Since 2026-12-06 ground-truth-like
 * keypoints too (h36m17 keypoint files, projected motion capture), by `temporal-truth.onnx` (the projected truth
 * without detector-like noise, 512 channels x 96 epochs since the third session of 2026-12-06): S1's projected truth
 * 37.2 / 102.3 against 42.1 / 105.1, the novel-pose h36m17 tracks 36.0 / 39.1 (unmixed / mixed) against 40.0 / 45.2
 * (bars written first). Known weakness (the four photos
 * held still as tracks, a smoke test): S5's seated frontal pose 135.9 against PoseNet's 65.0.
 * Decision: docs/decisions/temporal-lifter.md.
 */
export const TEMPORAL_KINDS: readonly KeypointKind[] = ['joints', 'mpii', 'coco'];

/**
 * Whether the temporal lifters average their answers for a track and for its mirror image (test-time
 * mirroring, as PoseNet and RootNet do; twice the temporal lifter's network time). Kept on: measured 2026-12-05
 * (night) against bars written before measuring (off iff every held-out S1 track row no more than 1 mm worse
 * and the lifting share of a 720p frame at most 10 %): the rows were 0.3-0.6 mm worse without it (S1's
 * detections as 10 fps tracks 66.1 -> 66.6, as a 50 fps video 65.7 -> 66.2, as COCO-17 71.6 -> 72.1), but
 * `npm run bench -- --parts stages` gave a lifting share of 10.4 / 12.0 / 11.7 % without it against 9.9 / 14.4 /
 * 11.7 % with it (three runs; lifting alone 2.58 / 2.04 / 2.50 against 3.07 / 2.65 / 2.69 ms per frame): not
 * under 10 %. Decision: docs/decisions/temporal-lifter.md.
 */
export const TEMPORAL_FLIP_TEST = true;

/**
 * Tracks slower than this (frames more than 0.1 s apart: a strided data set, a time-lapse) are lifted frame by
 * frame by PoseNet: the temporal lifter's 25 fps window would be interpolated from too few frames to show
 * the motion. Issue 19 asks for 10-60 fps; faster tracks are resampled.
 */
export const TEMPORAL_MIN_FPS = 10;
