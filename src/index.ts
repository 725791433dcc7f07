/**
 * poselift as a library. Every 3D output is h36m17 joints in millimetres in the camera frame
 * (x right, y down, z forward); 2D inputs are pixels of the (distorted) image in any known layout.
 */
export type { Camera, Intrinsics, Joints3D, Keypoints2D } from './core/types.js';
export {
  H36M17_NAMES, H36M17_PARENTS, COCO17_NAMES, MPII16_NAMES, BLAZEPOSE33_NAMES, LAYOUTS, toH36m17,
} from './core/layouts.js';
export {
  projectCameraPoints, projectWorldPoints, undistortPixels, pixelsFromNormalized, worldToCamera,
  validateIntrinsics,
} from './geometry/camera.js';
export { openDataset, DatasetError, type PoseDataset } from './data/dataset.js';
export { Lifter, LIFT_DEFAULTS, type LiftedPerson, type LiftCallOptions } from './pipeline/lifter.js';
export { normalisedH36m } from './pipeline/keypoints.js';
export { PoseNet } from './posenet/model.js';
export { kindOfLayout, KEYPOINT_KINDS, type KeypointKind } from './posenet/features.js';
export { RootNet, type RootEstimate } from './rootnet/model.js';
export { kValue } from './rootnet/kvalue.js';
export { MetricsAccumulator, mpjpe, paMpjpe, nMpjpe, mpjpeAbs, rootError, pck, auc, accelError } from './eval/metrics.js';
export { evaluateDataset, type EvalReport } from './cli/eval.js';
export { defaultModelsDir } from './core/paths.js';
export { liftKeypointFile } from './keypoints/lift.js';
