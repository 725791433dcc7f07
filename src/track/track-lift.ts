/**
 * Temporal lifting of one track as its frames arrive, in overlapping windows: every `window` buffered
 * frames are lifted with `Lifter.liftTrack` (the fitter's acceleration term), the last `overlap` frames
 * of a window are lifted again as the start of the next one and the two answers are cross-faded there
 * (linear weights), so there is no seam and memory is O(window) per track, independent of video length.
 * The track's bone lengths are fixed by its first window (the fitter's per-track median) and held for
 * the later windows, so a track keeps one skeleton however long it is (BVH export relies on it).
 * With the temporal lifter (`Lifter.trackContext`), each window also hands it the frames around it: the
 * `context` frames before (kept from the previous windows) and after (a window is lifted only once that many
 * frames have arrived beyond it), so a frame's temporal pose does not depend on where the windows fall (its
 * scaling to PoseNet's size, `LiftCallOptions.temporalSize`, is one factor per window).
 */
import type { Intrinsics } from '../contracts/types.js';
import { uniqueBoneLengths } from '../lift/solve/skeleton.js';
import type { LiftCallOptions, LiftedPerson, Lifter } from '../lift/lifter.js';
import { TRACK_OVERLAP, TRACK_WINDOW } from './constants.js';
export { TRACK_OVERLAP, TRACK_WINDOW };

interface Entry<K> { key: K; kp: Float64Array | null }

export class WindowedTrackLifter<K> {
  private buf: Entry<K>[] = [];
  /** results of the previous window for buf[0 .. carry.length) */
  private carry: (LiftedPerson | null)[] = [];
  /** the track's 10 bone lengths (skeleton.ts order), once the first window is fitted */
  private lengths: Float64Array | null = null;
  /** frames of context the temporal lifter reads on each side of a window (0 without it) */
  private readonly context: number;
  /** the last `context` keypoints before buf[0] */
  private history: (Float64Array | null)[] = [];

  constructor(
    private readonly lifter: Lifter,
    private readonly cam: Intrinsics,
    private readonly fps: number,
    /** receives each frame's final result, in order */
    private readonly emit: (key: K, r: LiftedPerson | null) => void,
    private readonly opts: LiftCallOptions = {},
    private readonly window = TRACK_WINDOW,
    private readonly overlap = TRACK_OVERLAP,
  ) {
    if (!(overlap >= 0 && window > overlap)) throw new Error('WindowedTrackLifter: need window > overlap >= 0');
    this.context = lifter.trackContext(fps, opts);
  }

  /** Add the next frame of the track (kp = normalised h36m17, or null when the person was not seen). */
  async push(key: K, kp: Float64Array | null): Promise<void> {
    this.buf.push({ key, kp });
    if (this.buf.length >= this.window + this.context) await this.flush(false);
  }

  /** Lift and emit everything still buffered (the track ended). */
  async finish(): Promise<void> {
    if (this.buf.length) await this.flush(true);
  }

  private async flush(final: boolean): Promise<void> {
    // the window: everything buffered at the end, else `window` frames with `context` frames after them
    const size = final ? this.buf.length : this.window;
    const buf = this.buf.slice(0, size);
    const opts = this.lengths ? { ...this.opts, lift: { ...this.opts.lift, boneLengths: this.lengths } } : this.opts;
    const context = this.context > 0
      ? { before: this.history, after: this.buf.slice(size, size + this.context).map((e) => e.kp) }
      : undefined;
    const res = buf.some((e) => e.kp)
      ? await this.lifter.liftTrack(buf.map((e) => e.kp), this.cam, this.fps, opts, context)
      : buf.map(() => null);
    if (!this.lengths && this.opts.fit !== false) {
      // from the longest stretch's fit: frames fitted jointly share the track's lengths exactly
      const first = res.find((r) => r);
      if (first) {
        const l = uniqueBoneLengths(first.joints3d);
        if (l.every((v) => Number.isFinite(v) && v > 0)) this.lengths = l;
      }
    }
    const n = this.carry.length;
    for (let i = 0; i < n; i++) res[i] = blend(this.carry[i], res[i], (i + 1) / (n + 1));
    const keep = final ? 0 : Math.min(this.overlap, buf.length);
    const done = buf.length - keep;
    for (let i = 0; i < done; i++) this.emit(buf[i].key, res[i]);
    if (this.context > 0) this.history = [...this.history, ...this.buf.slice(0, done).map((e) => e.kp)].slice(-this.context);
    this.buf = this.buf.slice(done);
    this.carry = res.slice(done);
  }
}

/** (1 - w) a + w b, for the joints, the root, PoseNet's pose and the residual; either side may be null. */
function blend(a: LiftedPerson | null, b: LiftedPerson | null, w: number): LiftedPerson | null {
  if (!a) return b;
  if (!b) return a;
  const mix = (x: Float64Array, y: Float64Array) => x.map((v, i) => (1 - w) * v + w * y[i]);
  return {
    joints3d: mix(a.joints3d, b.joints3d),
    root: [0, 1, 2].map((i) => (1 - w) * a.root[i] + w * b.root[i]) as LiftedPerson['root'],
    rel3d: mix(a.rel3d, b.rel3d),
    rootnetZ: (1 - w) * a.rootnetZ + w * b.rootnetZ,
    reprojectionPx: (1 - w) * a.reprojectionPx + w * b.reprojectionPx,
  };
}
