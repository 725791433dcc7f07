/**
 * PoseNet inference: h36m17 keypoints in normalised camera coordinates -> root-relative camera-frame
 * joints (mm). One batched ONNX call for any number of people.
 */
import { loadOnnxModel, type OnnxModel } from '../../nn/onnx-run.js';
import { H36M17_FLIP } from '../../contracts/layouts.js';
import {
  decodeOutput, dropKind, encodeKeypoints, J, mirrorKeypoints, POSENET_BASE_DIM, POSENET_INPUT_DIM, POSENET_OUTPUT_DIM, type KeypointKind,
} from './features.js';

export class PoseNet {
  private constructor(private readonly model: OnnxModel, readonly file: string) {}

  static async load(file: string): Promise<PoseNet> {
    const model = await loadOnnxModel(file);
    if ((model.inputDim !== POSENET_INPUT_DIM && model.inputDim !== POSENET_BASE_DIM) || model.outputDim !== POSENET_OUTPUT_DIM) {
      throw new Error(
        `${file}: not a PoseNet model (input ${model.inputDim}, output ${model.outputDim}; expected ` +
          `${POSENET_INPUT_DIM} (or ${POSENET_BASE_DIM} without the keypoint kind) -> ${POSENET_OUTPUT_DIM}); retrain it with \`poselift train posenet\``,
      );
    }
    return new PoseNet(model, file);
  }

  /** whether the model takes the keypoint kind (trained on detections too); without it `kind` is ignored */
  get takesKind(): boolean {
    return this.model.inputDim === POSENET_INPUT_DIM;
  }

  get version(): string {
    return this.model.metadata.version ?? 'unknown';
  }

  /**
   * Root-relative 3D (17 x 3 mm, pelvis = 0) for each person's normalised keypoints (17 x [u, v, score]);
   * null for a person with fewer than 4 usable joints. `kind`: what the 2D points are (default `joints`).
   */
  async predict(people: ArrayLike<number>[], o: { flipTest?: boolean; kind?: KeypointKind } = {}): Promise<(Float64Array | null)[]> {
    const flipTest = o.flipTest ?? true;
    const kind = o.kind ?? 'joints';
    const copies = flipTest ? 2 : 1;
    const x = new Float32Array(people.length * copies * POSENET_INPUT_DIM);
    const rowOf: number[] = [];
    const mirrored = new Float64Array(J * 3);
    let n = 0;
    for (const kp of people) {
      if (!encodeKeypoints(kp, x, n * copies * POSENET_INPUT_DIM, kind)) { rowOf.push(-1); continue; }
      if (flipTest) {
        mirrorKeypoints(kp, mirrored);
        encodeKeypoints(mirrored, x, (n * 2 + 1) * POSENET_INPUT_DIM, kind);
      }
      rowOf.push(n++);
    }
    if (n === 0) return people.map(() => null);
    const rows = x.subarray(0, n * copies * POSENET_INPUT_DIM);
    const out = await this.model.run(this.takesKind ? rows : dropKind(rows, n * copies, POSENET_INPUT_DIM), n * copies);
    return rowOf.map((r) => {
      if (r < 0) return null;
      const pose = decodeOutput(out, r * copies * POSENET_OUTPUT_DIM);
      if (!flipTest) return pose;
      // Test-time mirroring: the mirrored input's answer, mirrored back, averaged with the direct one.
      const m = decodeOutput(out, (r * 2 + 1) * POSENET_OUTPUT_DIM);
      for (let j = 0; j < J; j++) {
        const f = H36M17_FLIP[j];
        pose[j * 3] = 0.5 * (pose[j * 3] - m[f * 3]);
        pose[j * 3 + 1] = 0.5 * (pose[j * 3 + 1] + m[f * 3 + 1]);
        pose[j * 3 + 2] = 0.5 * (pose[j * 3 + 2] + m[f * 3 + 2]);
      }
      return pose;
    });
  }
}
