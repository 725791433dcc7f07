/**
 * Temporal lifter inference: one person's track of h36m17 normalised keypoints at TEMPORAL_FPS -> the
 * root-relative camera-frame joints (mm) of every frame, each from the window of W frames centred on it
 * (src/lift/temporal/features.ts: edge padding and missing frames repeat the nearest present frame). One batched
 * ONNX call per track (chunked by onnx-run).
 */
import { H36M17_FLIP } from '../../contracts/layouts.js';
import { loadOnnxModel, type OnnxModel } from '../../nn/onnx-run.js';
import { decodeOutput, J, mirrorKeypoints, POSENET_OUTPUT_DIM, type KeypointKind } from '../posenet/features.js';
import { assembleWindow, encodeFrames, temporalInputDim, windowOfInputDim, windowSlots } from './features.js';

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

  /**
   * Root-relative 3D (17 x 3 mm, pelvis = 0) of every frame of a track sampled at TEMPORAL_FPS (frame i =
   * keypoints 17 x [u, v, score], or null when the person was not detected); null for a frame that is
   * missing or has fewer than 4 usable joints. `flipTest`: also lift the mirrored track and average (as
   * PoseNet; default true). `at`: lift only these frame indices (the rest are null); a frame's answer does
   * not depend on which others are lifted.
   */
  async predictTrack(
    frames: readonly (ArrayLike<number> | null | undefined)[], o: { kind?: KeypointKind; flipTest?: boolean; at?: readonly number[] } = {},
  ): Promise<(Float64Array | null)[]> {
    const kind = o.kind ?? 'joints';
    const flipTest = o.flipTest ?? true;
    const W = this.window, D = temporalInputDim(W);
    const codes = encodeFrames(frames, kind);
    const mirrored = flipTest
      ? encodeFrames(frames.map((kp) => (kp ? mirrorKeypoints(kp, new Float64Array(J * 3)) : null)), kind)
      : null;
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
    for (let f = 0; f < n; f++) {
      if (rowOf[f] < 0) continue;
      windowSlots(codes.ok, n, f, W, 1, slots);
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
