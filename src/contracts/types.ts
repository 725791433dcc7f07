/**
 * Shared contracts between the stages. Units and frames are explicit everywhere:
 * - 3D joints are millimetres in the camera frame (x right, y down, z forward) unless a name says `world`.
 * - 2D keypoints are pixels of the (distorted) image, or `normalised` = undistorted pinhole coordinates
 *   (X/Z, Y/Z), which is what the geometry works in.
 * Poses are flat typed arrays, joint-major: [x0, y0, (z0|score0), x1, ...]. NaN marks a missing joint.
 */

/** Pinhole intrinsics plus Human3.6M / OpenCV radial (k1,k2,k3) and tangential (p1,p2) distortion. */
export interface Intrinsics {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  /** radial k1, k2, k3 (zero when absent) */
  k?: [number, number, number];
  /** tangential p1, p2 (zero when absent) */
  p?: [number, number];
  /** image size in pixels, when known (a camera file's calibration size, or the image's once resolved) */
  width?: number;
  height?: number;
  /** where the intrinsics came from, once resolved for an input (`resolveCamera`) */
  source?: CameraSource;
}

/**
 * Intrinsics resolved for one input (`resolveCamera` in src/camera/resolve.ts): the image size and the
 * source are known, and the values were validated (the object is frozen).
 */
export type ResolvedIntrinsics = Intrinsics & { width: number; height: number; source: CameraSource };

/** A calibrated camera: Xc = R (Xw - C). */
export interface Camera extends Intrinsics {
  id: string;
  /** world -> camera rotation, row-major 3x3 */
  R: number[][];
  /** camera centre in world coordinates (mm) */
  C: [number, number, number];
}

/** 2D keypoints of one person in one layout: K x 3 (x px, y px, score in 0..1; NaN x/y = missing). */
export interface Keypoints2D {
  layout: string;
  /** K*3 floats: x, y, score */
  data: Float64Array;
}

/** Camera-frame 3D joints of one person in h36m17, millimetres: 17*3 floats. */
export type Joints3D = Float64Array;

export const H36M_JOINTS = 17;

/** The 2D detectors poselift runs (src/detect). */
export type DetectorName = 'movenet-lightning' | 'movenet-thunder' | 'movenet-multipose' | 'blazepose';

export const DETECTOR_NAMES: readonly DetectorName[] = [
  'movenet-lightning', 'movenet-thunder', 'movenet-multipose', 'blazepose',
];

/** A photo's EXIF focal lengths (src/detect/image.ts reads them; src/camera/resolve.ts turns them into intrinsics). */
export interface ImageExif {
  /** EXIF FocalLengthIn35mmFilm (mm, 35 mm-equivalent) */
  focalLength35mm?: number;
  /** EXIF FocalLength (mm, of the real lens) */
  focalLength?: number;
}

/** Where a run's intrinsics came from: a camera file, the photo's EXIF focal length, or the default field of view. */
export type CameraSource = 'file' | 'exif' | 'default';
