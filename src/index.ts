/**
 * poselift as a library. Every 3D output is h36m17 joints in millimetres in the camera frame
 * (x right, y down, z forward); 2D inputs are pixels of the (distorted) image in any known layout.
 */
export type { Camera, Intrinsics, Joints3D, Keypoints2D } from './contracts/types.js';
export {
  H36M17_NAMES, H36M17_PARENTS, COCO17_NAMES, MPII16_NAMES, BLAZEPOSE33_NAMES, LAYOUTS, toH36m17,
} from './contracts/layouts.js';
export {
  projectCameraPoints, projectWorldPoints, undistortPixels, pixelsFromNormalized, worldToCamera,
  validateIntrinsics,
} from './camera/geometry.js';
export { openDataset, DatasetError, type PoseDataset } from './data/dataset.js';
export { Lifter, LIFT_DEFAULTS, type LiftedPerson, type LiftCallOptions } from './lift/lifter.js';
export { normalisedH36m } from './lift/normalise.js';
export { PoseNet } from './lift/posenet/model.js';
export { kindOfLayout, KEYPOINT_KINDS, type KeypointKind } from './lift/posenet/features.js';
export { RootNet, type RootEstimate } from './lift/rootnet/model.js';
export { kValue } from './lift/rootnet/kvalue.js';
export { MetricsAccumulator, mpjpe, paMpjpe, nMpjpe, mpjpeAbs, rootError, pck, auc, accelError } from './eval/metrics.js';
export { evaluateDataset, type EvalReport } from './eval/evaluate.js';
export { defaultModelsDir } from './util/paths.js';
export { liftKeypointFile } from './app/lift-keypoints.js';
