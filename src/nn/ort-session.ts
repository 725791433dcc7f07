/** Shared onnxruntime-node session options for the CPU. */
import os from 'node:os';
import * as ort from 'onnxruntime-node';

export function defaultThreads(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, n);
}

export interface CpuSessionConfig {
  /** intra-op threads (default: all cores). */
  threads?: number;
  /** Let idle intra-op threads spin (onnxruntime default: true). Turning it off helps when the CPU is shared. */
  spinning?: boolean;
}

export function cpuSessionOptions(cfg: CpuSessionConfig = {}): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: cfg.threads ?? defaultThreads(),
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
  };
  if (cfg.spinning === false) o.extra = { session: { intra_op: { allow_spinning: '0' } } };
  return o;
}

export { ort };
