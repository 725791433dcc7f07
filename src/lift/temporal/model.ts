/**
 * Temporal lifter inference: one person's track of h36m17 normalised keypoints at any rate -> the
 * root-relative camera-frame joints (mm) of every frame, each from the window of W frames at TEMPORAL_FPS
 * centred on it (src/lift/temporal/features.ts: edge padding and missing frames repeat the nearest present
 * frame). A track at a whole multiple of TEMPORAL_FPS reads every (fps / TEMPORAL_FPS)th frame; any other rate
 * is resampled: a slot between two frames interpolates their keypoints linearly (the nearer one when the other
 * is missing). One batched ONNX call per track (chunked by onnx-run).
 */
import { H36M17_FLIP } from '../../contracts/layouts.js';
import { loadOnnxModel, type OnnxModel } from '../../nn/onnx-run.js';
import { decodeOutput, J, mirrorKeypoints, POSENET_OUTPUT_DIM, type KeypointKind } from '../posenet/features.js';
import { assembleWindow, encodeFrames, encodeWindow, TEMPORAL_FPS, temporalInputDim, windowOfInputDim, windowSlots, type FrameCodes } from './features.js';

export class TemporalLifter {
  private constructor(private readonly model: OnnxModel, readonly file: string, readonly window: number) {}

  static async load(file: string): Promise<TemporalLifter> {
    const model = await loadOnnxModel(file);
    const W = windowOfInputDim(model.inputDim);
    if (W === null || model.outputDim !== POSENET_OUTPUT_DIM) {
      throw new Error(
        `${file}: not a temporal lifter (input ${model.inputDim}, output ${model.outputDim}; expected W x 53 + 5 -> ` +
          `${POSENET_OUTPUT_DIM}); retrain it with \`poselift train temporal\``,
      );
    }
    return new TemporalLifter(model, file, W);
  }

  get version(): string {
    return this.model.metadata.version ?? 'unknown';
  }

  /** Frames of a track at `fps` that a window reaches on each side of its centre frame. */
  contextFrames(fps: number): number {
    return Math.ceil((((this.window - 1) / 2) * fps) / TEMPORAL_FPS - 1e-9);
  }

  /**
   * Root-relative 3D (17 x 3 mm, pelvis = 0) of every frame of a track sampled at TEMPORAL_FPS (frame i =
   * keypoints 17 x [u, v, score], or null when the person was not detected); null for a frame that is
   * missing or has fewer than 4 usable joints. `fps`: the track's rate (default TEMPORAL_FPS). `flipTest`:
   * also lift the mirrored track and average (as PoseNet; default true). `at`: lift only these frame indices
   * (the rest are null); a frame's answer does not depend on which others are lifted.
   */
  async predictTrack(
    frames: readonly (ArrayLike<number> | null | undefined)[],
    o: { kind?: KeypointKind; flipTest?: boolean; at?: readonly number[]; fps?: number } = {},
  ): Promise<(Float64Array | null)[]> {
    const kind = o.kind ?? 'joints';
    const flipTest = o.flipTest ?? true;
    const fps = o.fps ?? TEMPORAL_FPS;
    if (!(fps > 0 && Number.isFinite(fps))) throw new Error(`temporal lifter: the track's frame rate must be a positive number, got ${fps}`);
    const step = fps / TEMPORAL_FPS;
    const W = this.window, D = temporalInputDim(W);
    const codes = encodeFrames(frames, kind);
    const mirroredFrames = flipTest ? frames.map((kp) => (kp ? mirrorKeypoints(kp, new Float64Array(J * 3)) : null)) : null;
    const mirrored = mirroredFrames ? encodeFrames(mirroredFrames, kind) : null;
    const whole = Math.abs(step - Math.round(step)) < 1e-9;
    const copies = flipTest ? 2 : 1;
    const n = frames.length;
    const rowOf = new Int32Array(n).fill(-1);
    const slots = new Int32Array(W);
    let rows = 0;
    // `at`: only these frames (each window still reads its neighbours; the others come back null)
    const wanted = o.at ? new Uint8Array(n) : null;
    if (wanted) for (const f of o.at!) if (f >= 0 && f < n) wanted[f] = 1;
    for (let f = 0; f < n; f++) if (codes.ok[f] && (!wanted || wanted[f])) rowOf[f] = rows++;
    if (rows === 0) return frames.map(() => null);
    const x = new Float32Array(rows * copies * D);
    const resample = whole ? null : new Resampler(W, step);
    for (let f = 0; f < n; f++) {
      if (rowOf[f] < 0) continue;
      if (resample) {
        resample.window(frames, codes, f, kind, x, rowOf[f] * copies * D);
        if (mirroredFrames) resample.window(mirroredFrames, mirrored!, f, kind, x, (rowOf[f] * 2 + 1) * D);
        continue;
      }
      windowSlots(codes.ok, n, f, W, Math.round(step), slots);
      assembleWindow(codes, slots, x, rowOf[f] * copies * D);
      // the mirror of a frame is present exactly when the frame is, so the slots are the same
      if (mirrored) assembleWindow(mirrored, slots, x, (rowOf[f] * 2 + 1) * D);
    }
    const out = await this.model.run(x, rows * copies);
    const res: (Float64Array | null)[] = [];
    for (let f = 0; f < n; f++) {
      const r = rowOf[f];
      if (r < 0) { res.push(null); continue; }
      const pose = decodeOutput(out, r * copies * POSENET_OUTPUT_DIM);
      if (mirrored) {
        const m = decodeOutput(out, (r * 2 + 1) * POSENET_OUTPUT_DIM);
        for (let j = 0; j < J; j++) {
          const s = H36M17_FLIP[j];
          pose[j * 3] = 0.5 * (pose[j * 3] - m[s * 3]);
          pose[j * 3 + 1] = 0.5 * (pose[j * 3 + 1] + m[s * 3 + 1]);
          pose[j * 3 + 2] = 0.5 * (pose[j * 3 + 2] + m[s * 3 + 2]);
        }
      }
      res.push(pose);
    }
    return res;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/**
 * Windows of a track whose rate is not a whole multiple of TEMPORAL_FPS: slot k of the window centred on
 * frame f sits at (fractional) frame f + (k - c) x step; on a frame it reads that frame, between two present
 * frames it interpolates their keypoints linearly, next to a missing one it reads the nearer present frame of
 * the two (or nothing: the window rule then repeats the nearest present slot).
 */
class Resampler {
  private readonly slotFrames: (Float64Array | null)[];
  private readonly bufs: Float64Array[];
  private readonly scratch: { codes?: FrameCodes; slots?: Int32Array } = {};

  constructor(private readonly W: number, private readonly step: number) {
    this.slotFrames = new Array(W).fill(null);
    this.bufs = Array.from({ length: W }, () => new Float64Array(J * 3));
  }

  window(frames: readonly (ArrayLike<number> | null | undefined)[], codes: FrameCodes, f: number, kind: KeypointKind, out: Float32Array, offset: number): void {
    const c = (this.W - 1) / 2, n = frames.length;
    for (let k = 0; k < this.W; k++) {
      const pos = f + (k - c) * this.step;
      const i0 = Math.floor(pos + 1e-9), t = pos - i0;
      const ok0 = i0 >= 0 && i0 < n && codes.ok[i0] === 1, ok1 = i0 + 1 >= 0 && i0 + 1 < n && codes.ok[i0 + 1] === 1;
      let src: ArrayLike<number> | null = null;
      if (t < 1e-6 || (ok0 && !ok1 && t < 0.5)) src = ok0 ? frames[i0]! : null;
      else if (!ok0 && ok1 && t >= 0.5) src = frames[i0 + 1]!;
      if (src) {
        this.bufs[k].set(src);
        this.slotFrames[k] = this.bufs[k];
      } else if (ok0 && ok1) {
        const a = frames[i0]!, b = frames[i0 + 1]!, buf = this.bufs[k];
        for (let i = 0; i < J * 3; i++) buf[i] = (1 - t) * a[i] + t * b[i];
        this.slotFrames[k] = buf;
      } else {
        this.slotFrames[k] = null;
      }
    }
    // the centre slot is frame f itself, present (the caller lifts only present frames)
    encodeWindow(this.slotFrames, out, offset, kind, this.scratch);
  }
}
