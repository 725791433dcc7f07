/**
 * The production lift path, shared by `poselift eval`, `run`, `lift` and the workers:
 *   normalised h36m17 keypoints -> PoseNet (root-relative 3D) -> RootNet (root depth)
 *   -> depth search (global translation) -> skeleton fitter -> camera-frame joints (mm).
 * PoseNet and RootNet run batched over all person-frames given in one call.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Intrinsics } from '../core/types.js';
import { validateIntrinsics } from '../geometry/camera.js';
import { liftPerson, liftSequence, placePerson, type LiftInput, type LiftResult, type LiftSequenceOptions } from '../lift/lift.js';
import type { Vec3 } from '../lift/depth-search.js';
import { PoseNet } from '../posenet/model.js';
import { RootNet } from '../rootnet/model.js';
import type { DefinitionAdapter } from './adapter.js';
import { ADAPTER_FILE, loadAdapters } from './adapter-file.js';

export interface LiftedPerson {
  /** camera-frame joints, h36m17, 17 x 3 mm */
  joints3d: Float64Array;
  /** camera-frame pelvis, mm */
  root: Vec3;
  /** PoseNet's root-relative joints, mm */
  rel3d: Float64Array;
  /** RootNet's root depth, mm */
  rootnetZ: number;
  /** RMS reprojection error of the fitted joints over the used keypoints, px */
  reprojectionPx: number;
}

export interface LiftCallOptions {
  /** run the skeleton fitter (default true); false = PoseNet placed by the depth search only */
  fit?: boolean;
  /** average PoseNet's answers for the input and its mirror image (default true) */
  flipTest?: boolean;
  /** depth-search and fitter settings (defaults: LIFT_DEFAULTS) */
  lift?: LiftSequenceOptions;
}

/**
 * The production settings of the depth search and the fitter, chosen on the held-out subject S1
 * (`poselift eval ../shared/data/h36m-train --input gt2d --subjects S1`, README): RootNet's depth enters
 * as a 50 mm prior on the searched and on the fitted root depth (measured with the first, 40-epoch
 * PoseNet: MRPE 119 -> 103 mm on 3 sequences at
 * 25 fps, MPJPE unchanged), and two window iterations of the temporal fit are as good as four at 2/3
 * of the time (1.15 vs 1.79 ms per person-frame, accel 1.30 mm/frame^2 either way).
 */
export const LIFT_DEFAULTS: LiftSequenceOptions = {
  search: { zSigmaMm: 50 },
  depthSigmaMm: 50,
  sequenceIterations: 2,
};

/** Model versions recorded in every output document. */
export interface ModelVersions {
  posenet: string;
  rootnet: string;
  /** the detector's keypoint-definition adapter, when one was applied */
  keypoint_adapter?: string;
}

/**
 * What the depth search and the fitter take for one person-frame: normalised h36m17 keypoints
 * (17 x [x, y, score]; NaN = missing, its confidence 0), PoseNet's root-relative joints and RootNet's depth.
 */
export function liftInput(kp: ArrayLike<number>, rel: ArrayLike<number>, zRoot: number, cam: Pick<Intrinsics, 'fx' | 'fy'>): LiftInput {
  const kp2d = new Float64Array(34), conf = new Float64Array(17);
  for (let j = 0; j < 17; j++) {
    kp2d[j * 2] = kp[j * 3]; kp2d[j * 2 + 1] = kp[j * 3 + 1];
    conf[j] = Number.isFinite(kp[j * 3]) ? kp[j * 3 + 2] : 0;
  }
  return { rel, kp2d, conf, zRoot, fx: cam.fx, fy: cam.fy };
}

export class Lifter {
  private constructor(
    readonly posenet: PoseNet,
    readonly rootnet: RootNet,
    private readonly adapters: Map<string, { adapter: DefinitionAdapter; version: string }> = new Map(),
  ) {}

  static async load(modelsDir: string): Promise<Lifter> {
    const p = path.join(modelsDir, 'posenet.onnx'), r = path.join(modelsDir, 'rootnet.onnx');
    for (const f of [p, r]) {
      if (!fs.existsSync(f)) {
        throw new Error(`${f}: model file missing; pass --models with the folder holding posenet.onnx and rootnet.onnx, or train them with \`poselift train\``);
      }
    }
    const [posenet, rootnet] = await Promise.all([PoseNet.load(p), RootNet.load(r)]);
    return new Lifter(posenet, rootnet, loadAdapters(path.join(modelsDir, ADAPTER_FILE)));
  }

  /** The models' versions; with a detector, its keypoint adapter's too when the models folder has one. */
  versionsFor(detector?: string): ModelVersions {
    const v: ModelVersions = { posenet: this.posenet.version, rootnet: this.rootnet.version };
    const a = detector !== undefined ? this.adapters.get(detector) : undefined;
    if (a) v.keypoint_adapter = a.version;
    return v;
  }

  get versions(): ModelVersions {
    return this.versionsFor();
  }

  /**
   * The keypoint-definition adapter calibrated for a 2D detector (`models/keypoint-adapter.json`), or
   * undefined (keypoint files, unknown detectors, a models folder without the file).
   */
  adapterFor(detector: string | undefined): DefinitionAdapter | undefined {
    return detector !== undefined ? this.adapters.get(detector)?.adapter : undefined;
  }

  /** The detectors that have a keypoint adapter in the models folder. */
  adapterNames(): string[] {
    return [...this.adapters.keys()];
  }

  /** PoseNet + RootNet for a batch; null entries where a person cannot be lifted. */
  private async prepare(people: (Float64Array | null)[], cam: Intrinsics, o: LiftCallOptions): Promise<(LiftInput | null)[]> {
    validateIntrinsics(cam, 'camera');
    const idx: number[] = [];
    const kps: Float64Array[] = [];
    people.forEach((p, i) => { if (p) { idx.push(i); kps.push(p); } });
    const [rels, roots] = await Promise.all([this.posenet.predict(kps, { flipTest: o.flipTest }), this.rootnet.predict(kps, { flipTest: o.flipTest })]);
    const out: (LiftInput | null)[] = people.map(() => null);
    idx.forEach((i, n) => {
      const rel = rels[n], root = roots[n], kp = kps[n];
      if (rel && root) out[i] = liftInput(kp, rel, root.z, cam);
    });
    return out;
  }

  private static result(input: LiftInput, r: LiftResult): LiftedPerson {
    return {
      joints3d: r.joints3d,
      root: r.root,
      rel3d: Float64Array.from(input.rel),
      rootnetZ: input.zRoot,
      reprojectionPx: r.residualPx,
    };
  }

  /** Independent person-frames (photos, or people of one frame): no temporal term. */
  async liftBatch(people: (Float64Array | null)[], cam: Intrinsics, o: LiftCallOptions = {}): Promise<(LiftedPerson | null)[]> {
    const inputs = await this.prepare(people, cam, o);
    const opts = { ...LIFT_DEFAULTS, ...o.lift };
    const lift = o.fit === false ? placePerson : liftPerson;
    return inputs.map((x) => (x ? Lifter.result(x, lift(x, opts)) : null));
  }

  /**
   * One person over consecutive frames at `fps` (a track): the fitter's temporal term smooths it. Frames
   * where the person cannot be lifted split the track; each run of liftable frames is fitted on its own.
   */
  async liftTrack(frames: (Float64Array | null)[], cam: Intrinsics, fps: number, o: LiftCallOptions = {}): Promise<(LiftedPerson | null)[]> {
    const inputs = await this.prepare(frames, cam, o);
    const out: (LiftedPerson | null)[] = frames.map(() => null);
    const opts = { ...LIFT_DEFAULTS, ...o.lift };
    let i = 0;
    while (i < inputs.length) {
      if (!inputs[i]) { i++; continue; }
      let j = i;
      while (j < inputs.length && inputs[j]) j++;
      const run = inputs.slice(i, j) as LiftInput[];
      const res = o.fit === false
        ? run.map((x) => placePerson(x, opts))
        : run.length >= 3 ? liftSequence(run, fps, opts) : run.map((x) => liftPerson(x, opts));
      res.forEach((r, k) => { out[i + k] = Lifter.result(run[k], r); });
      i = j;
    }
    return out;
  }
}
