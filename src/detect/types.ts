import type { DetectorName, Keypoints2D } from '../contracts/types.js';
export { DEFAULT_DETECTOR, DEFAULT_VIDEO_DETECTOR } from './constants.js';

/** An 8-bit RGB image, row-major, 3 bytes per pixel, no padding: data.length = width * height * 3. */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One person found in a frame. */
export interface DetectedPerson {
  /** keypoints in the detector's layout (coco17 or blazepose33): pixels, score 0..1, never NaN */
  keypoints: Keypoints2D;
  /** person confidence 0..1 */
  score: number;
  /** person box [x, y, width, height] in pixels */
  bbox: [number, number, number, number];
}

/** A DetectedPerson as plain JSON (thread messages, the queue's segment files). */
export interface DetectedPersonJson {
  score: number;
  bbox: number[];
  /** x, y, score triples in pixels, in `layout` */
  keypoints: number[];
  layout: string;
}

export function toJsonPeople(people: DetectedPerson[]): DetectedPersonJson[] {
  return people.map((d) => ({ score: d.score, bbox: [...d.bbox], keypoints: Array.from(d.keypoints.data), layout: d.keypoints.layout }));
}

export function fromJsonPeople(people: DetectedPersonJson[]): DetectedPerson[] {
  return people.map((d) => ({
    score: d.score,
    bbox: d.bbox as DetectedPerson['bbox'],
    keypoints: { layout: d.layout as DetectedPerson['keypoints']['layout'], data: Float64Array.from(d.keypoints) },
  }));
}

export { DETECTOR_NAMES, type DetectorName } from '../contracts/types.js';

/** Where a MoveNet detector's network runs (`DetectorOptions.runtime`): onnxruntime-node (default) or TF.js wasm. */
export type DetectorRuntime = 'onnx' | 'tfjs';

/** Whether `runtime` applies to this detector: every MoveNet; BlazePose always runs on TF.js. */
export function hasRuntimeChoice(name: DetectorName): boolean {
  return name !== 'blazepose';
}

/** Throws unless `frame` is a well-formed RgbFrame. */
export function checkFrame(frame: RgbFrame, where: string): void {
  const { width, height, data } = frame ?? ({} as RgbFrame);
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new Error(`${where}: frame width/height must be positive integers, got ${width} x ${height}`);
  }
  if (!(data instanceof Uint8Array)) throw new Error(`${where}: frame.data must be a Uint8Array of RGB bytes`);
  if (data.length !== width * height * 3) {
    throw new Error(
      `${where}: frame.data has ${data.length} bytes, expected width * height * 3 = ${width * height * 3} (RGB, no alpha)`,
    );
  }
}
