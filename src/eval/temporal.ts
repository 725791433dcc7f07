/**
 * `poselift eval-temporal DATASET --input gt2d|points2d`: the temporal lifter measured as it is used. Every
 * view of every sequence is lifted at the model's rate (TEMPORAL_FPS: every 2nd frame of 50 fps data), every
 * frame of it, and every Nth lifted frame is scored (`--score-every`): root-relative MPJPE and PA-MPJPE
 * (no depth: the lifters' own output), beside single-frame PoseNet on the very same 2D; the acceleration
 * error of both over ALL lifted frames (consecutive frames at the lifted rate, mm / frame^2 at that rate).
 * Metrics come from src/eval/metrics.ts (MetricsAccumulator).
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Keypoints2D } from '../contracts/types.js';
import { openDataset, type PoseDataset } from '../data/dataset.js';
import { MetricsAccumulator } from './metrics.js';
import { normalisedH36m } from '../lift/normalise.js';
import { J, kindOfLayout } from '../lift/posenet/features.js';
import { PoseNet } from '../lift/posenet/model.js';
import { MODEL_FILES } from '../lift/lifter.js';
import { TEMPORAL_FPS } from '../lift/temporal/features.js';
import { TemporalLifter } from '../lift/temporal/model.js';

export interface TemporalEvalOptions {
  input: string;
  /** score every Nth lifted frame (default 5) */
  scoreEvery?: number;
  /** only these subjects */
  subjects?: string[];
  /** the temporal lifter's ONNX file */
  model: string;
  /** single-frame PoseNet's ONNX file for the comparison; null = no comparison */
  posenet: string | null;
  /** test-time mirroring for both (default true) */
  flipTest?: boolean;
  /**
   * lift only the windows of the scored frames (same MPJPE, no acceleration error): for quick checks such
   * as the tests' accuracy gate
   */
  scoredOnly?: boolean;
}

export interface LifterScores {
  /** mm over the scored frames */
  mpjpe: number;
  pa_mpjpe: number;
  /** mm / frame^2 at the lifted rate over all lifted frames; null with `scoredOnly` */
  accel: number | null;
  ms_per_frame: number;
}

export interface TemporalEvalReport {
  dataset: string;
  input: 'gt2d' | 'points2d';
  subjects?: string[];
  /** the rate the frames were lifted at, and every how many data frames that is */
  fps: number;
  frame_step: number;
  score_every: number;
  window: number;
  model: string;
  /** scored frames (person-views) */
  frames: number;
  /** lifted frames whose 2D was not liftable (too few joints), per lifter */
  unliftable: number;
  temporal: LifterScores;
  single_frame?: LifterScores;
  /** the single-frame PoseNet file compared with */
  single_frame_model?: string;
  /** single-frame acceleration error / temporal (how many times smoother) */
  accel_ratio?: number | null;
}

/** The normalised h36m17 keypoints (17 x [u, v, score]) of the given frames of a view, and their kind. */
function viewKeypoints(ds: PoseDataset, si: number, vi: number, input: 'gt2d' | 'points2d', frames: number[]): { kps: Float64Array[]; layout: string } {
  const cam = ds.camera(si, vi);
  const n = ds.sequences[si].frames;
  if (input === 'gt2d') {
    const gt = ds.groundTruth2d(si, vi, 0, n);
    return { kps: frames.map((f) => normalisedH36m({ layout: 'h36m17', data: gt.subarray(f * J * 3, (f + 1) * J * 3) }, cam)), layout: 'h36m17' };
  }
  const p = ds.readPoints2d(si, vi, 0, n);
  const K = p.data.length / n / p.channels;
  const kps = frames.map((f) => {
    const data = new Float64Array(K * 3);
    const base = f * K * p.channels;
    for (let k = 0; k < K; k++) {
      data[k * 3] = p.data[base + k * p.channels];
      data[k * 3 + 1] = p.data[base + k * p.channels + 1];
      data[k * 3 + 2] = p.channels === 3 ? p.data[base + k * p.channels + 2] : 1;
    }
    const kp: Keypoints2D = { layout: p.layout, data };
    return normalisedH36m(kp, cam);
  });
  return { kps, layout: p.layout };
}

export async function evaluateTemporal(dir: string, o: TemporalEvalOptions, progress?: (s: string) => void): Promise<TemporalEvalReport> {
  if (o.input !== 'gt2d' && o.input !== 'points2d') throw new Error(`eval-temporal: --input "${o.input}" is not supported; use gt2d or points2d`);
  const input = o.input;
  const every = o.scoreEvery ?? 5;
  if (!(Number.isInteger(every) && every >= 1)) throw new Error(`eval-temporal: --score-every must be a positive integer, got ${every}`);
  const ds = openDataset(dir);
  const temporal = await TemporalLifter.load(o.model);
  const posenet = o.posenet ? await PoseNet.load(o.posenet) : null;
  try {
    const wanted = o.subjects && o.subjects.length ? new Set(o.subjects) : null;
    if (wanted && !ds.sequences.some((s) => s.subject !== undefined && wanted.has(s.subject))) {
      throw new Error(`${ds.indexPath}: no sequence of subject(s) ${[...wanted].join(', ')}; check --subjects`);
    }
    const scoredT = new MetricsAccumulator(), scoredP = new MetricsAccumulator();
    const allT = new MetricsAccumulator(), allP = new MetricsAccumulator();
    let msT = 0, msP = 0, lifted = 0, unliftable = 0, step = 0;
    for (let si = 0; si < ds.sequences.length; si++) {
      const seq = ds.sequences[si];
      if (wanted && !(seq.subject !== undefined && wanted.has(seq.subject))) continue;
      if (!(seq.fps > 0)) continue;
      const st = Math.round(seq.fps / TEMPORAL_FPS);
      if (st < 1 || Math.abs(seq.fps / st - TEMPORAL_FPS) > 0.5) {
        throw new Error(`${seq.id}: ${seq.fps} fps is not a whole multiple of the temporal lifter's ${TEMPORAL_FPS} fps`);
      }
      if (step && st !== step) throw new Error(`eval-temporal: sequences at different rates (${seq.id}: ${seq.fps} fps)`);
      step = st;
      const frames: number[] = [];
      for (let f = 0; f < seq.frames; f += step) frames.push(f);
      const scored = frames.map((_, i) => i).filter((i) => i % every === 0);
      for (let vi = 0; vi < seq.views.length; vi++) {
        const { kps, layout } = viewKeypoints(ds, si, vi, input, frames);
        const kind = kindOfLayout(layout);
        const gtAll = ds.cameraFrame3d(si, vi, 0, seq.frames);
        const gtOf = (i: number) => gtAll.subarray(frames[i] * J * 3, (frames[i] + 1) * J * 3);
        let t0 = performance.now();
        const outT = await temporal.predictTrack(kps, { kind, flipTest: o.flipTest, ...(o.scoredOnly ? { at: scored } : {}) });
        msT += performance.now() - t0;
        let outP: (Float64Array | null)[] | null = null;
        if (posenet) {
          const idx = o.scoredOnly ? scored : frames.map((_, i) => i);
          t0 = performance.now();
          const res = await posenet.predict(idx.map((i) => kps[i]), { kind, flipTest: o.flipTest });
          msP += performance.now() - t0;
          outP = new Array(frames.length).fill(null);
          idx.forEach((i, k) => (outP![i] = res[k]));
        }
        lifted += o.scoredOnly ? scored.length : frames.length;
        // scored frames: both lifters must have an answer, so they are compared on the same frames
        for (const i of scored) {
          const t = outT[i], p = outP ? outP[i] : null;
          if (!t || (outP && !p)) { unliftable++; continue; }
          scoredT.add(t, gtOf(i));
          if (p) scoredP.add(p, gtOf(i));
        }
        if (o.scoredOnly) continue;
        // all lifted frames, for the acceleration error; a frame without an answer starts a new segment
        let segT = 0, segP = 0;
        for (let i = 0; i < frames.length; i++) {
          const t = outT[i];
          if (t) allT.add(t, gtOf(i), `${si}/${vi}/${segT}`); else segT++;
          if (outP) {
            const p = outP[i];
            if (p) allP.add(p, gtOf(i), `${si}/${vi}/${segP}`); else segP++;
          }
        }
      }
      progress?.(`${seq.id}: ${frames.length} frames x ${seq.views.length} views`);
    }
    if (!step) throw new Error(`${ds.indexPath}: no video sequence (fps > 0) to lift`);
    const T = scoredT.result(), P = scoredP.result();
    const accT = o.scoredOnly ? null : allT.result().accel, accP = o.scoredOnly ? null : allP.result().accel;
    const fin = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);
    return {
      dataset: ds.index.name ?? path.basename(ds.dir),
      input,
      ...(wanted ? { subjects: [...wanted] } : {}),
      fps: ds.sequences.find((s) => s.fps > 0)!.fps / step,
      frame_step: step,
      score_every: every,
      window: temporal.window,
      model: temporal.version,
      frames: T.frames,
      unliftable,
      temporal: { mpjpe: T.mpjpe, pa_mpjpe: T.pa_mpjpe, accel: fin(accT), ms_per_frame: msT / Math.max(1, lifted) },
      ...(posenet ? {
        single_frame: { mpjpe: P.mpjpe, pa_mpjpe: P.pa_mpjpe, accel: fin(accP), ms_per_frame: msP / Math.max(1, lifted) },
        single_frame_model: path.basename(o.posenet!),
        accel_ratio: fin(accT) !== null && fin(accP) !== null ? accP! / accT! : null,
      } : {}),
    };
  } finally {
    ds.close();
    await temporal.dispose();
  }
}

/**
 * The single-frame PoseNet the production path would use for this input (src/lift/lifter.ts): the
 * detection-trained `posenet-detected.onnx` for stored MPII-16 detections when the folder has it, else
 * `posenet.onnx`.
 */
export function singleFramePosenet(modelsDir: string, input: string): string {
  return modelFor(modelsDir, input, 'posenet');
}

/**
 * The temporal lifter the lift path uses for this input (as `singleFramePosenet`: the detected one for points2d
 * when present; for the projected truth, gt2d, `temporal-truth.onnx` when present, as `Lifter.temporalFor('joints')`).
 */
export function defaultTemporal(modelsDir: string, input: string): string {
  const truth = path.join(modelsDir, MODEL_FILES.temporalTruth);
  if (input === 'gt2d' && fs.existsSync(truth)) return truth;
  return modelFor(modelsDir, input, 'temporal');
}

function modelFor(modelsDir: string, input: string, name: 'posenet' | 'temporal'): string {
  const detected = path.join(modelsDir, `${name}-detected.onnx`);
  return input === 'points2d' && fs.existsSync(detected) ? detected : path.join(modelsDir, `${name}.onnx`);
}

