import type { Keypoints2D } from '../core/types.js';

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

export type DetectorName = 'movenet-lightning' | 'movenet-thunder' | 'movenet-multipose' | 'blazepose';

export const DETECTOR_NAMES: readonly DetectorName[] = [
  'movenet-lightning', 'movenet-thunder', 'movenet-multipose', 'blazepose',
];

/**
 * The detector of photos (`run`, the queue's image jobs), `eval --input images` and `calibrate` when none is
 * named: BlazePose, the most accurate from pixels on the four Human3.6M photos with the part-mixing PoseNet
 * (README, Decisions, "Default detector"), and faster per photo than MoveNet Thunder.
 */
export const DEFAULT_DETECTOR: DetectorName = 'blazepose';

/**
 * The detector of videos when none is named: MoveNet Thunder. BlazePose's person detector sees the whole
 * frame letterboxed to 224 px and missed a 270 px tall person in half of the 720p bench frames
 * (BENCHMARKS.md); MoveNet's crop tracking does not. `movenet-lightning` is the fast choice.
 */
export const DEFAULT_VIDEO_DETECTOR: DetectorName = 'movenet-thunder';

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
