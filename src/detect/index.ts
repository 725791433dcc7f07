/** 2D detection stage: photos / video frames -> people with 2D keypoints (coco17 or blazepose33) and boxes. */
export type { RgbFrame, DetectedPerson, DetectorName } from './types.js';
export { DETECTOR_NAMES, checkFrame } from './types.js';
export {
  createDetector, personBox, BOX_KEYPOINT_SCORE, BOX_PAD,
  type Detector, type DetectorOptions, type DetectorRuntime, type DetectOptions,
} from './detector.js';
export { FLIP_AGREE, flipPermutation, fuseFlipped, mirrorFrame, unmirrorKeypoints } from './flip.js';
export { readImage, parseExifFocal, type DecodedImage, type ImageExif } from './image.js';
export {
  probeVideo, readVideoFrames, scaledSize, videoSpan, ffmpegPath, ffprobePath,
  type VideoInfo, type VideoFrame, type ReadVideoOptions,
} from './video.js';
export {
  initBackend, backendName, modelDir, modelJsonPath, diskModelHandler, modelHandler, readModelArtifacts, readModelTopology, wasmFiles,
  MODEL_FILES, type ModelFile,
} from './models.js';
