/**
 * The detect stage's defaults, each with the reason it has its value and the decision record behind it
 * (docs/decisions/).
 */
import type { DetectorName } from '../contracts/types.js';

/**
 * The detector of photos (`run`, the queue's image jobs), `eval --input images` and `calibrate` when none is
 * named: BlazePose, the most accurate from pixels on the four Human3.6M photos with the part-mixing PoseNet
 * (README, Decisions, "Default detector"), and faster per photo than MoveNet Thunder.
 * Decision: docs/decisions/default-detector.md.
 */
export const DEFAULT_DETECTOR: DetectorName = 'blazepose';

/**
 * The detector of videos when none is named: MoveNet Thunder. BlazePose's person detector sees the whole
 * frame letterboxed to 224 px and missed a 270 px tall person in half of the 720p bench frames
 * (BENCHMARKS.md); MoveNet's crop tracking does not. `movenet-lightning` is the fast choice.
 * Decision: docs/decisions/default-detector.md.
 */
export const DEFAULT_VIDEO_DETECTOR: DetectorName = 'movenet-thunder';

/**
 * Frames per chunk: one key frame every this many frames (0.64 s at 25 fps).
 * Decision: docs/decisions/video-threads-chunks.md.
 */
export const KEYFRAME_INTERVAL = 16;

/** A tracked pose scoring below this is detected again from scratch. */
export const TRACK_MIN_SCORE = 0.35;

/** Keypoints above this score define the box of a single-person MoveNet / BlazePose detection (the document's `bbox`, tracking). */
export const BOX_KEYPOINT_SCORE = 0.2;

/** The keypoint box is grown by this fraction of its size on each side (joints lie inside the body). */
export const BOX_PAD = 0.1;

/**
 * Video frames are decoded for 2D detection at most this many pixels on their longer side (ffmpeg's
 * area-averaging scaler; keypoints are reported in the video's own pixels). The detectors see 192-256 px
 * crops, so for anyone taller than about a third of a 720p frame nothing is lost, and decoding, copying
 * and converting a 640 x 360 frame costs a quarter of a 1280 x 720 one. 0 = full size.
 * Decision: docs/decisions/detect-size.md.
 */
export const DETECT_SIZE = 640;
