/**
 * The poselift/1 output document (schema/poselift-1.schema.json), as TypeScript types: one per input;
 * h36m17 joints in millimetres in the camera frame (x right, y down, z forward). test/unit/schema.test.ts holds
 * these types and the JSON schema to each other. Built by src/app/output.ts, read by src/formats.
 */
import type { CameraSource, DetectorName } from './types.js';

export interface PersonOut {
  id: number;
  score: number;
  bbox: number[];
  keypoints2d: number[][];
  layout2d: string;
  joints3d: number[][] | null;
  root: number[] | null;
  reprojection_px: number | null;
}

export interface FrameOut {
  index: number;
  time_s: number | null;
  /** for folders: the image file (relative to the folder) */
  file?: string;
  /** only when this frame's intrinsics differ from the document's (folders without --camera) */
  camera?: CameraOut;
  people: PersonOut[];
}

export interface CameraOut {
  fx: number; fy: number; cx: number; cy: number;
  k?: number[]; p?: number[];
  width: number; height: number;
  source: CameraSource;
}

export interface PoseliftDoc {
  schema: 'poselift/1';
  joints: 'h36m17';
  units: 'mm';
  frame: 'camera (x right, y down, z forward)';
  input: { path: string; kind: 'image' | 'images' | 'video' | 'keypoints'; frames: number; width: number; height: number; start_s?: number; duration_s?: number | null; source_fps?: number };
  camera: CameraOut;
  /**
   * for `poselift lift` (2D from a file): name 'keypoints-file' and the file's layout; `flip_test` (only
   * when true) when photos were detected with the flip test (`run --flip-test`); `runtime` 'tfjs' (only then)
   * when MoveNet ran on TF.js wasm instead of onnxruntime (`run --detector-runtime tfjs`)
   */
  detector: { name: DetectorName | 'keypoints-file'; layout: string; flip_test?: true; runtime?: 'tfjs' };
  /** model versions; keypoint_adapter when the detector's keypoint definitions were adapted */
  models: { posenet: string; rootnet: string; keypoint_adapter?: string; temporal?: string };
  fps: number;
  frames: FrameOut[];
}

/** What a document's input was. */
export type InputKind = PoseliftDoc['input']['kind'];
