/**
 * RootNet inference: absolute root (pelvis) depth from the k-value of the person box and the learned
 * gamma correction, Z_root = k / sqrt(gamma).
 */
import { loadOnnxModel, type OnnxModel } from '../../nn/onnx-run.js';
import { dropKind, mirrorKeypoints, type KeypointKind } from '../posenet/features.js';
import { encodeRootFeatures, ROOTNET_BASE_DIM, ROOTNET_INPUT_DIM, ROOTNET_OUTPUT_DIM } from './features.js';
import { depthFromGamma, type Box } from './kvalue.js';

export interface RootEstimate {
  /** root depth along the optical axis, mm */
  z: number;
  /** k-value, mm */
  k: number;
  gamma: number;
  /** person box in normalised coordinates */
  box: Box;
}

export class RootNet {
  private constructor(private readonly model: OnnxModel, readonly file: string) {}

  static async load(file: string): Promise<RootNet> {
    const model = await loadOnnxModel(file);
    if ((model.inputDim !== ROOTNET_INPUT_DIM && model.inputDim !== ROOTNET_BASE_DIM) || model.outputDim !== ROOTNET_OUTPUT_DIM) {
      throw new Error(
        `${file}: not a RootNet model (input ${model.inputDim}, output ${model.outputDim}; expected ` +
          `${ROOTNET_INPUT_DIM} (or ${ROOTNET_BASE_DIM} without the keypoint kind) -> ${ROOTNET_OUTPUT_DIM}); retrain it with \`poselift train rootnet\``,
      );
    }
    return new RootNet(model, file);
  }

  /** whether the model takes the keypoint kind (trained on detections too); without it `kind` is ignored */
  get takesKind(): boolean {
    return this.model.inputDim === ROOTNET_INPUT_DIM;
  }

  get version(): string {
    return this.model.metadata.version ?? 'unknown';
  }

  /**
   * Root depth for each person's normalised keypoints (17 x [u, v, score]); null when not liftable.
   * With `flipTest` (default) log gamma is averaged over the input and its mirror image. `kind`: what the
   * 2D points are (default `joints`).
   */
  async predict(people: ArrayLike<number>[], o: { flipTest?: boolean; kind?: KeypointKind } = {}): Promise<(RootEstimate | null)[]> {
    const copies = o.flipTest ?? true ? 2 : 1;
    const kind = o.kind ?? 'joints';
    const x = new Float32Array(people.length * copies * ROOTNET_INPUT_DIM);
    const feats: ({ k: number; box: Box; row: number } | null)[] = [];
    const mirrored = new Float64Array(17 * 3);
    let n = 0;
    for (const kp of people) {
      const f = encodeRootFeatures(kp, x, n * copies * ROOTNET_INPUT_DIM, kind);
      if (f && copies === 2) encodeRootFeatures(mirrorKeypoints(kp, mirrored), x, (n * 2 + 1) * ROOTNET_INPUT_DIM, kind);
      feats.push(f ? { ...f, row: n++ } : null);
    }
    if (n === 0) return people.map(() => null);
    const rows = x.subarray(0, n * copies * ROOTNET_INPUT_DIM);
    const out = await this.model.run(this.takesKind ? rows : dropKind(rows, n * copies, ROOTNET_INPUT_DIM), n * copies);
    return feats.map((f) => {
      if (!f) return null;
      let logGamma = 0;
      for (let c = 0; c < copies; c++) logGamma += out[f.row * copies + c] / copies;
      const gamma = Math.exp(logGamma);
      return { z: depthFromGamma(f.k, gamma), k: f.k, gamma, box: f.box };
    });
  }
}
