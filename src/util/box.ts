/** The one keypoint box: every person box in poselift (detector crops, keypoint files, RootNet's area) starts here. */

/** Extent of a set of keypoints; `n` = how many took part (x0 > x1 when none did). */
export interface KeypointExtent { x0: number; y0: number; x1: number; y1: number; n: number }

/**
 * The extent of the first `count` keypoints of `data` (x, y, score triples) whose score is above `minScore`
 * and whose x and y are finite.
 */
export function keypointExtent(data: ArrayLike<number>, minScore: number, count = Math.floor(data.length / 3)): KeypointExtent {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, n = 0;
  for (let i = 0; i < count; i++) {
    const x = data[i * 3], y = data[i * 3 + 1];
    if (!(data[i * 3 + 2] > minScore) || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); n++;
  }
  return { x0, y0, x1, y1, n };
}
