/**
 * PoseNet inference: h36m17 keypoints in normalised camera coordinates -> root-relative camera-frame
 * joints (mm). One batched ONNX call for any number of people.
 */
import { loadOnnxModel, type OnnxModel } from '../nn/onnx-run.js';
import { decodeOutput, encodeKeypoints, POSENET_INPUT_DIM, POSENET_OUTPUT_DIM } from './features.js';

export class PoseNet {
  private constructor(private readonly model: OnnxModel, readonly file: string) {}

  static async load(file: string): Promise<PoseNet> {
    const model = await loadOnnxModel(file);
    if (model.inputDim !== POSENET_INPUT_DIM || model.outputDim !== POSENET_OUTPUT_DIM) {
      throw new Error(
        `${file}: not a PoseNet model (input ${model.inputDim}, output ${model.outputDim}; expected ` +
          `${POSENET_INPUT_DIM} -> ${POSENET_OUTPUT_DIM}); retrain it with \`poselift train posenet\``,
      );
    }
    return new PoseNet(model, file);
  }

  get version(): string {
    return this.model.metadata.version ?? 'unknown';
  }

  /**
   * Root-relative 3D (17 x 3 mm, pelvis = 0) for each person's normalised keypoints (17 x [u, v, score]);
   * null for a person with fewer than 4 usable joints.
   */
  async predict(people: ArrayLike<number>[]): Promise<(Float64Array | null)[]> {
    const x = new Float32Array(people.length * POSENET_INPUT_DIM);
    const rowOf: number[] = [];
    let n = 0;
    for (const kp of people) {
      if (encodeKeypoints(kp, x, n * POSENET_INPUT_DIM)) rowOf.push(n++);
      else rowOf.push(-1);
    }
    if (n === 0) return people.map(() => null);
    const out = await this.model.run(x.subarray(0, n * POSENET_INPUT_DIM), n);
    return rowOf.map((r) => (r < 0 ? null : decodeOutput(out, r * POSENET_OUTPUT_DIM)));
  }
}
