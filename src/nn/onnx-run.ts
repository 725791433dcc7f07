/** Loads a single-input/single-output float32 ONNX model (e.g. one written by MlpTrainer.exportOnnx) for CPU inference. */
import fs from 'node:fs';
import { ort, cpuSessionOptions } from './ort-session.js';
import { decodeModel } from './onnx-graph.js';

export interface OnnxModel {
  /** Runs `n` rows (n * inputDim values); returns n * outputDim values. */
  run(x: Float32Array, n: number): Promise<Float32Array>;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly metadata: Record<string, string>;
  readonly path: string;
  dispose(): Promise<void>;
}

export interface LoadOptions {
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /** Rows per session.run (bounds memory for large n). Default 8192. */
  chunkRows?: number;
  /**
   * Let this session's idle intra-op threads spin (onnxruntime's own default). Default false: a lift runs
   * three to five sessions one after another, beside the detector's threads, and each session's spinning
   * threads took the cores from the next one (2 cores, a 216-frame track: the temporal lifter with its
   * mirror image 0.31 -> 0.18 ms per frame, PoseNet 0.055 -> 0.043, with spinning off;
   * docs/decisions/temporal-lifter.md, "The lifting share").
   */
  spinning?: boolean;
}

export async function loadOnnxModel(file: string, options: LoadOptions = {}): Promise<OnnxModel> {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `ONNX model not found: ${file}` : `cannot read ONNX model ${file}: ${(e as Error).message}`);
  }
  const metadata: Record<string, string> = {};
  try {
    const model = decodeModel(bytes);
    if (!model.graph || !model.graph.node || model.graph.node.length === 0) throw new Error('no graph');
    for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  } catch (e) {
    throw new Error(`not an ONNX model: ${file} (${(e as Error).message})`);
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, cpuSessionOptions({ threads: options.threads, spinning: options.spinning ?? false }));
  } catch (e) {
    throw new Error(`failed to load ONNX model ${file}: ${(e as Error).message}`);
  }
  if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
    throw new Error(`ONNX model ${file}: expected 1 input and 1 output, got ${session.inputNames.length} / ${session.outputNames.length}`);
  }
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  const lastDim = (m: ort.InferenceSession.ValueMetadata, what: string): number => {
    const shape = m.isTensor ? m.shape : [];
    const d = shape[shape.length - 1];
    if (shape.length !== 2 || typeof d !== 'number') throw new Error(`ONNX model ${file}: ${what} must have shape [N, D] with static D`);
    return d;
  };
  const inputDim = lastDim(session.inputMetadata[0], 'input');
  const outputDim = lastDim(session.outputMetadata[0], 'output');
  const chunk = options.chunkRows ?? 8192;
  return {
    inputDim,
    outputDim,
    metadata,
    path: file,
    async run(x: Float32Array, n: number): Promise<Float32Array> {
      if (x.length !== n * inputDim) throw new Error(`${file}: expected ${n}*${inputDim} input values, got ${x.length}`);
      const out = new Float32Array(n * outputDim);
      for (let r0 = 0; r0 < n; r0 += chunk) {
        const r1 = Math.min(n, r0 + chunk);
        const t = new ort.Tensor('float32', x.subarray(r0 * inputDim, r1 * inputDim), [r1 - r0, inputDim]);
        const res = await session.run({ [inName]: t }, [outName]);
        out.set(res[outName].data as Float32Array, r0 * outputDim);
      }
      return out;
    },
    async dispose() {
      await session.release();
    },
  };
}
