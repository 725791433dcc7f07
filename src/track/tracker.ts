/**
 * Multi-person tracking across video frames: detections of a frame are assigned to live tracks with the
 * Hungarian algorithm on a cost mixing box IoU and scale-normalised keypoint distance; pairs beyond the
 * gate stay unmatched. A detection no track takes starts a new track (new id); a track that misses more
 * than `maxMissed` consecutive frames ends. Ids are never reused within one input.
 */

export interface TrackerOptions {
  /** consecutive frames a track may go without a detection before it ends (default 5) */
  maxMissed?: number;
  /** largest accepted match cost (default 0.8): 1 - IoU + mean keypoint distance / box diagonal */
  maxCost?: number;
}

export interface TrackInput {
  bbox: [number, number, number, number];
  /** K x 3 (x, y, score), pixels, in the detector's layout */
  keypoints: Float64Array;
}

interface Track {
  id: number;
  bbox: [number, number, number, number];
  keypoints: Float64Array;
  missed: number;
}

export function boxIoU(a: readonly number[], b: readonly number[]): number {
  const x0 = Math.max(a[0], b[0]), y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]), y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const uni = a[2] * a[3] + b[2] * b[3] - inter;
  return uni > 0 ? inter / uni : 0;
}

/** Mean distance of the keypoints both poses see (score > 0.2), over the diagonal of box `a`. */
export function keypointDistance(ka: Float64Array, kb: Float64Array, boxA: readonly number[]): number {
  const diag = Math.hypot(boxA[2], boxA[3]) || 1;
  let s = 0, n = 0;
  for (let i = 0; i * 3 < Math.min(ka.length, kb.length); i++) {
    if (ka[i * 3 + 2] > 0.2 && kb[i * 3 + 2] > 0.2) {
      s += Math.hypot(ka[i * 3] - kb[i * 3], ka[i * 3 + 1] - kb[i * 3 + 1]); n++;
    }
  }
  return n >= 3 ? s / n / diag : 1;
}

/**
 * Minimum-cost assignment (Hungarian / Kuhn–Munkres with potentials, O(n^2 m)) on an n x m cost matrix.
 * Returns for each row the assigned column or -1 (rows > columns leave some rows unassigned).
 */
export function hungarian(cost: number[][]): number[] {
  const n0 = cost.length, m0 = n0 ? cost[0].length : 0;
  if (!n0 || !m0) return new Array(n0).fill(-1);
  const transpose = n0 > m0;
  const a = transpose ? cost[0].map((_, j) => cost.map((r) => r[j])) : cost;
  const n = a.length, m = a[0].length; // n <= m
  const INF = Number.POSITIVE_INFINITY;
  const u = new Array(n + 1).fill(0), v = new Array(m + 1).fill(0);
  const p = new Array(m + 1).fill(0), way = new Array(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Array(m + 1).fill(INF), used = new Array(m + 1).fill(false);
    do {
      used[j0] = true;
      const i0 = p[j0];
      let delta = INF, j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
        if (minv[j] < delta) { delta = minv[j]; j1 = j; }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) { u[p[j]] += delta; v[j] -= delta; } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do { const j1 = way[j0]; p[j0] = p[j1]; j0 = j1; } while (j0);
  }
  const rowOf = new Array(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j]) rowOf[p[j] - 1] = j - 1;
  if (!transpose) return rowOf;
  const out = new Array(n0).fill(-1);
  rowOf.forEach((col, r) => { if (col >= 0) out[col] = r; });
  return out;
}

export class Tracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private readonly maxMissed: number;
  private readonly maxCost: number;

  constructor(o: TrackerOptions = {}) {
    this.maxMissed = o.maxMissed ?? 5;
    this.maxCost = o.maxCost ?? 0.8;
  }

  /** Assign ids to this frame's detections; returns one id per detection, in order. */
  update(dets: TrackInput[]): number[] {
    const cost = dets.map((d) => this.tracks.map((t) =>
      1 - boxIoU(t.bbox, d.bbox) + keypointDistance(t.keypoints, d.keypoints, t.bbox)));
    const assign = hungarian(cost);
    const ids = new Array<number>(dets.length).fill(0);
    const matched = new Set<Track>();
    dets.forEach((d, i) => {
      const j = assign[i];
      if (j >= 0 && cost[i][j] <= this.maxCost) {
        const t = this.tracks[j];
        t.bbox = d.bbox; t.keypoints = d.keypoints; t.missed = 0;
        matched.add(t);
        ids[i] = t.id;
      }
    });
    for (const t of this.tracks) if (!matched.has(t)) t.missed++;
    this.tracks = this.tracks.filter((t) => t.missed <= this.maxMissed);
    dets.forEach((d, i) => {
      if (ids[i]) return;
      const t: Track = { id: this.nextId++, bbox: d.bbox, keypoints: d.keypoints, missed: 0 };
      this.tracks.push(t);
      ids[i] = t.id;
    });
    return ids;
  }

  /** ids of tracks that ended in the last update (missed too long) are simply absent from `live()`. */
  live(): number[] {
    return this.tracks.map((t) => t.id);
  }
}
