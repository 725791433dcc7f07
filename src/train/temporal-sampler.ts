/**
 * Training windows for the temporal lifter: W frames, `step` frames apart in a Human3.6M sequence (50 fps
 * data, step 2 = 25 fps), seen by one of its calibrated views, with the centre frame's camera-frame 3D as the
 * target. Everything a window's frames share is drawn ONCE per window, so a window looks like one detector
 * watching one person:
 * - the kind: half the windows are the projected truth with the detector-like augmentation ('joints'), half
 *   the view's stored Stacked Hourglass detections ('mpii', or 'coco' as a COCO-style detector gives them),
 *   the Martinez / VideoPose3D recipe (DEFAULT_DETECTED's share);
 * - mirroring (3D and 2D of every frame together, left and right swapped);
 * - projected truth: whether the window is noisy and its noise level (each frame then draws its own sigma in
 *   0..that level and its own Gaussian jitter and outliers: detector noise is independent from frame to
 *   frame), and the missing-joint pattern of the layout (COCO or MPII: a layout does not change mid-track);
 * - detections: the COCO share (a track comes from one detector).
 * Random single-joint drop-outs are drawn per frame. Frames outside the sequence are missing (the window
 * encoding repeats the nearest present frame: edge padding), and a share of windows loses random frames
 * (`FrameDropOptions`) so missing frames inside a track are seen in training.
 */
import { H36M17_FLIP } from '../contracts/layouts.js';
import type { Rng } from '../util/rng.js';
import type { KeypointKind } from '../lift/posenet/features.js';
import { detectorForm, makeSample, mirroredDetection, MIX_PARTS, mixPart, NO_MIX, type AugmentOptions, type DetectedOptions, type MixOptions } from './augment.js';
import { cameraPoseAt, type PoseBank } from './pose-bank.js';
import { H36M_JOINTS } from '../contracts/types.js';

const J = H36M_JOINTS;

export interface FrameDropOptions {
  /** probability that a window loses frames */
  prob: number;
  /** in such a window, the probability of each non-centre frame being missing */
  frameProb: number;
}

export const DEFAULT_FRAME_DROP: FrameDropOptions = { prob: 0.1, frameProb: 0.2 };
export const NO_FRAME_DROP: FrameDropOptions = { prob: 0, frameProb: 0 };

/** Mirror a camera-frame pose about the camera's y-z plane (x -> -x) with left and right swapped, in place. */
export function mirrorPose3d(p: Float64Array, scratch = new Float64Array(J * 3)): void {
  scratch.set(p);
  for (let j = 0; j < J; j++) {
    const s = H36M17_FLIP[j];
    p[j * 3] = -scratch[s * 3];
    p[j * 3 + 1] = scratch[s * 3 + 1];
    p[j * 3 + 2] = scratch[s * 3 + 2];
  }
}

/**
 * One frame of a detection window (the per-window draws given): the truth `cam3d` and the detection `det`
 * (17 x [u, v, score], normalised h36m17) mirrored together when `flip`, the COCO form when `coco` (the nose
 * from the projected truth's neck/nose with `noseSigma` x the radius of noise, as `makeDetectedSample`),
 * `dropJoint` drop-outs. Writes `target3d` and `kp`.
 */
export function detectedFrame(
  cam3d: ArrayLike<number>, det: ArrayLike<number>, flip: boolean, coco: boolean, rng: Rng, opt: DetectedOptions,
  target3d: Float64Array, kp: Float64Array,
): void {
  mirroredDetection(cam3d, det, flip, target3d, kp);
  detectorForm(kp, target3d, coco, rng, opt);
}

export interface WindowSample {
  /** slot k: the 2D of frame k of the window (17 x [u, v, score]), or null when missing */
  frames: (Float64Array | null)[];
  /** the centre frame's camera-frame 3D (17 x 3 mm), mirrored with the window */
  target: Float64Array;
  kind: KeypointKind;
}

/** A part a window takes from a donor window: the donor's sequence, centre frame and the sequence's frame count. */
type Donor = { part: (typeof MIX_PARTS)[number]; s: number; centre: number; frames: number };

/** Random augmented windows from a bank (every frame of its sequences must be in `worlds`: stride 1 or not). */
export class WindowStream {
  readonly window: number;
  private readonly bufs: Float64Array[];
  private readonly tgts: Float64Array[];
  private readonly cam = new Float64Array(J * 3);
  private readonly scratch = new Float64Array(J * 3);
  readonly sample: WindowSample;

  constructor(
    private readonly bank: PoseBank,
    private readonly rng: Rng,
    window: number,
    private readonly step: number,
    private readonly aug: AugmentOptions,
    private readonly detected: DetectedOptions,
    private readonly frameDrop: FrameDropOptions,
    /**
     * projected-truth windows with a layout's missing-joint pattern (COCO, MPII) are given that layout's kind,
     * so a kind names the keypoints' layout and not one detector's errors (false: every truth window is 'joints')
     */
    private readonly truthKinds = false,
    /**
     * part mixing per window (projected-truth windows only): with probability `mix.prob` each part (a leg, an
     * arm, the neck-head chain) takes, with probability `mix.partProb`, its motion from a window of another
     * random sequence and time: frame k of the window gets the part's directions of the donor's frame k
     * (`mixPart`: the window's own bone lengths, the donor's directions in the torso's axes)
     */
    private readonly mix: MixOptions = NO_MIX,
  ) {
    if (!(window % 2 === 1 && window >= 1)) throw new Error(`the window must be an odd number of frames, got ${window}`);
    this.window = window;
    this.bufs = Array.from({ length: window }, () => new Float64Array(J * 3));
    this.tgts = Array.from({ length: window }, () => new Float64Array(J * 3));
    this.sample = { frames: new Array(window).fill(null), target: new Float64Array(J * 3), kind: 'joints' };
  }

  /** Draw the next window into `this.sample` (reused) and return it. */
  next(): WindowSample {
    const { bank, rng, window: W, step } = this;
    const c = (W - 1) / 2;
    for (let tries = 0; tries < 100; tries++) {
      const e = rng.int(bank.count);
      const s = bank.entries[e * 2], centre = bank.entries[e * 2 + 1];
      const v = rng.int(bank.cameras[s].length);
      const n = bank.worlds[s].length / (J * 3);
      const det = this.detected.prob > 0 ? bank.detections?.[s]?.[v] ?? null : null;
      const useDet = det !== null && rng.next() < this.detected.prob;
      const flip = rng.next() < (useDet ? 0.5 : this.aug.flip);
      let kind: KeypointKind;
      let frameOpts: AugmentOptions | null = null;
      let coco = false;
      if (useDet) {
        coco = rng.next() < this.detected.cocoShare;
        kind = coco ? 'coco' : 'mpii';
      } else {
        kind = 'joints';
        const noisy = rng.next() < this.aug.noisy;
        const level = noisy ? rng.uniform(0, this.aug.noiseMax) : 0;
        const r = rng.next();
        const pattern = r < this.aug.cocoPattern ? 'coco' : r < this.aug.cocoPattern + this.aug.mpiiPattern ? 'mpii' : 'none';
        if (this.truthKinds && pattern !== 'none') kind = pattern;
        frameOpts = {
          flip: 0, noisy: noisy ? 1 : 0, noiseMax: level, outlier: this.aug.outlier,
          cocoPattern: pattern === 'coco' ? 1 : 0, mpiiPattern: pattern === 'mpii' ? 1 : 0, dropJoint: this.aug.dropJoint, cocoForm: this.aug.cocoForm,
        };
      }
      const mixes = !useDet ? this.drawMixes() : [];
      const dropFrames = this.frameDrop.prob > 0 && rng.next() < this.frameDrop.prob;
      let centreOk = false;
      for (let k = 0; k < W; k++) {
        const f = centre + (k - c) * step;
        this.sample.frames[k] = null;
        if (f < 0 || f >= n) continue;
        if (k !== c && dropFrames && rng.next() < this.frameDrop.frameProb) continue;
        cameraPoseAt(bank, s, f, v, this.cam);
        const kp = this.bufs[k], tgt = this.tgts[k];
        if (useDet) {
          detectedFrame(this.cam, det!.subarray(f * J * 3, (f + 1) * J * 3), flip, coco, rng, this.detected, tgt, kp);
          if (!(tgt[2] > 100) || !Number.isFinite(tgt[0])) continue;
        } else {
          for (const m of mixes) {
            const df = Math.min(m.frames - 1, Math.max(0, m.centre + (k - c) * step));
            mixPart(this.cam, bank.worlds[m.s].subarray(df * J * 3, (df + 1) * J * 3), m.part);
          }
          if (flip) mirrorPose3d(this.cam, this.scratch);
          if (!makeSample(this.cam, rng, frameOpts!, tgt, kp)) continue;
        }
        this.sample.frames[k] = kp;
        if (k === c) centreOk = true;
      }
      if (!centreOk) continue;
      this.sample.target.set(this.tgts[c]);
      this.sample.kind = kind;
      return this.sample;
    }
    throw new Error('training data: 100 unusable windows in a row (centre pelvis missing or behind the camera)');
  }

  /**
   * The parts a projected-truth window takes from donors, each with its donor window's sequence, centre and
   * the sequence's frame count (none without mixing).
   */
  private drawMixes(): Donor[] {
    const { rng, mix, bank } = this;
    if (!(mix.prob > 0) || rng.next() >= mix.prob) return [];
    const out: Donor[] = [];
    for (const part of MIX_PARTS) {
      if (rng.next() >= mix.partProb) continue;
      const e = rng.int(bank.count), s = bank.entries[e * 2];
      out.push({ part, s, centre: bank.entries[e * 2 + 1], frames: bank.worlds[s].length / (J * 3) });
    }
    return out;
  }
}
