/**
 * The production lift path, shared by `poselift eval`, `run`, `lift` and the workers:
 *   normalised h36m17 keypoints -> PoseNet (root-relative 3D) -> RootNet (root depth)
 *   -> depth search (global translation) -> skeleton fitter -> camera-frame joints (mm).
 * PoseNet and RootNet run batched over all person-frames given in one call.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Intrinsics } from '../contracts/types.js';
import { median } from '../util/numeric.js';
import { checkIntrinsics } from '../camera/geometry.js';
import { liftPerson, liftSequence, placePerson, type LiftInput, type LiftResult, type LiftSequenceOptions } from './solve/lift.js';
import type { Vec3 } from './solve/depth-search.js';
import { KEYPOINT_KINDS, type KeypointKind } from './posenet/features.js';
import { PoseNet } from './posenet/model.js';
import { RootNet } from './rootnet/model.js';
import { TemporalLifter } from './temporal/model.js';
import type { DefinitionAdapter } from './adapter.js';
import { ADAPTER_FILE, loadAdapters } from './adapter-file.js';
import { COCO_MODELS, COCO_POSENET, COCO_ROOTS, type CocoPosenet, DEFINITION_JOINTS, DEFINITION_WEIGHT, DETECTED_LIFT_OPTIONS, LIFT_DEFAULTS, TEMPORAL_FLIP_TEST, TEMPORAL_KINDS, TEMPORAL_MIN_FPS } from './constants.js';
export { COCO_MODELS, COCO_POSENET, COCO_ROOTS, type CocoPosenet, DEFINITION_JOINTS, DEFINITION_WEIGHT, DETECTED_LIFT_OPTIONS, LIFT_DEFAULTS, TEMPORAL_FLIP_TEST, TEMPORAL_KINDS, TEMPORAL_MIN_FPS };

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
  /** average PoseNet's and RootNet's answers for the input and its mirror image (default true) */
  flipTest?: boolean;
  /**
   * with the temporal lifter: average its answers for the track and its mirror image too (default
   * TEMPORAL_FLIP_TEST; `flipTest: false` turns it off as well)
   */
  temporalFlipTest?: boolean;
  /** depth-search and fitter settings (defaults: LIFT_DEFAULTS) */
  lift?: LiftSequenceOptions;
  /**
   * what the 2D points are (`kindOfLayout(layout)` of the keypoints' source layout): `joints` (default) for
   * ground-truth-like h36m17, `mpii` / `coco` for detectors. Tells the networks, and sets how much the depth
   * search and the fitter trust the joints a detector defines differently (`DEFINITION_WEIGHT`).
   */
  kind?: KeypointKind;
  /** override of DEFINITION_WEIGHT (tuning) */
  definitionWeight?: number;
  /**
   * the keypoints were moved to Human3.6M's definitions by a detector's keypoint adapter (`adapterFor`; default
   * false): COCO-style keypoints that were not take `posenet-coco` when COCO_POSENET is 'unadapted'
   */
  adapted?: boolean;
  /**
   * with the temporal lifter: 'posenet' (default) scales its poses to single-frame PoseNet's size on the same
   * frames (the median ratio of the two poses' RMS joint distance from the root over the call's frames), 'own'
   * keeps the temporal lifter's size (docs/decisions/temporal-lifter.md)
   */
  temporalSize?: 'posenet' | 'own';
  /**
   * with the temporal lifter: the pose the depth search places to find each frame's root, 'posenet' (default)
   * single-frame PoseNet's on the same frame (the pose RootNet and the search's priors were chosen with), or
   * 'temporal' the temporal lifter's; the fitter then fits the temporal lifter's pose from that root
   * (docs/decisions/temporal-lifter.md)
   */
  temporalDepth?: 'posenet' | 'temporal';
  /**
   * with the temporal lifter: the share of single-frame PoseNet's pose in each frame's root-relative pose, the
   * rest the temporal lifter's (after `temporalSize`); default 0, the temporal lifter's alone (tuning:
   * docs/decisions/temporal-lifter.md)
   */
  temporalBlend?: number;
  /**
   * tracks (`liftTrack`): the root-relative pose from the temporal lifter (`temporalFor(kind)`, a window of frames
   * around each one) instead of single-frame PoseNet, for the kinds in TEMPORAL_KINDS (default true; ignored
   * when the models folder has no temporal lifter)
   */
  temporal?: boolean;
}

/** Frames around a track's frames that the temporal lifter may read (a streamed track's neighbours). */
export interface TrackContext {
  before: (Float64Array | null)[];
  after: (Float64Array | null)[];
}

/** Model versions recorded in every output document. */
export interface ModelVersions {
  posenet: string;
  rootnet: string;
  /** the detector's keypoint-definition adapter, when one was applied */
  keypoint_adapter?: string;
  /** the temporal lifter, when tracks (videos, keypoint files with a rate) were lifted with it */
  temporal?: string;
}

/**
 * What the depth search and the fitter take for one person-frame: normalised h36m17 keypoints
 * (17 x [x, y, score]; NaN = missing, its confidence 0), PoseNet's root-relative joints and RootNet's depth.
 */
export function liftInput(
  kp: ArrayLike<number>, rel: ArrayLike<number>, zRoot: number, cam: Pick<Intrinsics, 'fx' | 'fy'>,
  kind: KeypointKind = 'joints', definitionWeight = DEFINITION_WEIGHT,
): LiftInput {
  const kp2d = new Float64Array(34), conf = new Float64Array(17);
  for (let j = 0; j < 17; j++) {
    kp2d[j * 2] = kp[j * 3]; kp2d[j * 2 + 1] = kp[j * 3 + 1];
    conf[j] = Number.isFinite(kp[j * 3]) ? kp[j * 3 + 2] : 0;
  }
  if (kind !== 'joints' && definitionWeight !== 1) for (const j of DEFINITION_JOINTS[kind]) conf[j] *= definitionWeight;
  return { rel, kp2d, conf, zRoot, fx: cam.fx, fy: cam.fy };
}

/** The two networks one kind of 2D is lifted with. */
export interface LiftNets { posenet: PoseNet; rootnet: RootNet }

/**
 * The networks of a models folder: `posenet.onnx` and `rootnet.onnx` (required; trained on the projected
 * truth, `poselift train posenet|rootnet`) lift ground-truth-like keypoints (the `joints` kind), and every
 * kind when the folder has nothing else; `posenet-detected.onnx` and `rootnet-detected.onnx` (optional, as a
 * pair; trained on real detections too, `poselift train posenet-detected|rootnet-detected`) lift detector
 * keypoints (the `mpii` and `coco` kinds); `posenet-coco.onnx` (the projected truth with its COCO-pattern samples
 * in the COCO form, `poselift train posenet-coco`) replaces `posenet` for COCO-style keypoints when asked
 * (`cocoPosenet`, COCO_POSENET). Held-out S1 decided the split (README, Validation). The temporal
 * lifters pair the same way: `temporal.onnx` (the projected truth, `poselift train temporal`) lifts the tracks of
 * the kinds the truth-trained networks lift, and of every kind when the folder has no `temporal-detected.onnx`
 * (`poselift train temporal-detected`), which lifts those of the kinds the detection-trained networks lift;
 * `temporal-truth.onnx` (the projected truth without detector-like noise, `poselift train temporal-truth`), when
 * present, lifts those of ground-truth-like keypoints (the `joints` kind).
 */
export const MODEL_FILES = {
  posenet: 'posenet.onnx', rootnet: 'rootnet.onnx', posenetCoco: 'posenet-coco.onnx',
  posenetDetected: 'posenet-detected.onnx', rootnetDetected: 'rootnet-detected.onnx',
  temporal: 'temporal.onnx', temporalDetected: 'temporal-detected.onnx', temporalTruth: 'temporal-truth.onnx',
} as const;

export interface LifterLoadOptions {
  /** which networks lift COCO-style keypoints (default COCO_MODELS) */
  cocoModels?: 'joints' | 'detected';
  /**
   * with `cocoModels` 'joints': the PoseNet of COCO-style keypoints, `posenet`, `coco` (`posenet-coco`, required)
   * or `unadapted` (`posenet-coco` for keypoints no adapter moved, `LiftCallOptions.adapted`, when the folder has
   * it; `posenet` for adapted ones) (default COCO_POSENET)
   */
  cocoPosenet?: CocoPosenet;
  /** with `cocoModels` 'joints': the RootNet that gives COCO-style keypoints their root depth (default COCO_ROOTS) */
  cocoRoots?: 'joints' | 'detected';
  /** load the temporal lifter when the folder has one (default true) */
  temporal?: boolean;
  /** the kinds of 2D whose tracks the temporal lifter lifts (default TEMPORAL_KINDS; tuning) */
  temporalKinds?: readonly KeypointKind[];
  /**
   * the kinds of 2D this lifter will be given (default every kind): the networks none of them reaches are not
   * loaded, and lifting another kind is an error. `run`'s detectors all give COCO-style keypoints, which need
   * neither the detection-trained networks nor the other kinds' temporal lifters (~200 MB less memory).
   */
  kinds?: readonly KeypointKind[];
  /**
   * networks already loaded by other lifters of this process, shared by file path (a queue worker keeps one
   * lifter per kind of 2D and loads the networks they have in common once)
   */
  shared?: SharedNetworks;
}

/**
 * The networks loaded for lifters of one process, by file path: `Lifter.load` with `shared` takes a network
 * from here when another lifter loaded it, and adds the ones it loads. A failed load is not kept.
 */
export class SharedNetworks {
  private readonly loaded = new Map<string, Promise<unknown>>();

  get<T>(file: string, load: (file: string) => Promise<T>): Promise<T> {
    const key = path.resolve(file);
    let p = this.loaded.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load(key);
      this.loaded.set(key, p);
      p.catch(() => { if (this.loaded.get(key) === p) this.loaded.delete(key); });
    }
    return p;
  }

  /** how many networks are loaded (or loading) */
  get size(): number {
    return this.loaded.size;
  }
}

/** Whether 2D of this kind goes to the detection-trained PoseNet when a folder has the pair (MODEL_FILES, COCO_MODELS). */
function detectedPose(kind: KeypointKind, cocoModels: 'joints' | 'detected'): boolean {
  return kind === 'mpii' || (kind === 'coco' && cocoModels === 'detected');
}

export class Lifter {
  private constructor(
    readonly posenet: PoseNet,
    readonly rootnet: RootNet,
    private readonly adapters: Map<string, { adapter: DefinitionAdapter; version: string }> = new Map(),
    private readonly detected?: LiftNets,
    readonly cocoModels: 'joints' | 'detected' = COCO_MODELS,
    readonly temporal?: TemporalLifter,
    readonly temporalKinds: readonly KeypointKind[] = TEMPORAL_KINDS,
    readonly temporalDetected?: TemporalLifter,
    readonly cocoRoots: 'joints' | 'detected' = COCO_ROOTS,
    readonly posenetCoco?: PoseNet,
    readonly cocoPosenet: CocoPosenet = COCO_POSENET,
    readonly temporalTruth?: TemporalLifter,
    readonly kinds: readonly KeypointKind[] = KEYPOINT_KINDS,
  ) {}

  static async load(modelsDir: string, o: LifterLoadOptions = {}): Promise<Lifter> {
    const p = path.join(modelsDir, MODEL_FILES.posenet), r = path.join(modelsDir, MODEL_FILES.rootnet);
    for (const f of [p, r]) {
      if (!fs.existsSync(f)) {
        throw new Error(`${f}: model file missing; pass --models with the folder holding posenet.onnx and rootnet.onnx, or train them with \`poselift train\``);
      }
    }
    const pd = path.join(modelsDir, MODEL_FILES.posenetDetected), rd = path.join(modelsDir, MODEL_FILES.rootnetDetected);
    const [hasPd, hasRd] = [fs.existsSync(pd), fs.existsSync(rd)];
    if (hasPd !== hasRd) {
      throw new Error(`${hasPd ? rd : pd}: model file missing; the detector models come as a pair (${MODEL_FILES.posenetDetected} and ${MODEL_FILES.rootnetDetected}): ` +
        `train the missing one with \`poselift train ${hasPd ? 'rootnet' : 'posenet'}-detected\`, or remove the other`);
    }
    const kinds = o.kinds ?? KEYPOINT_KINDS;
    const cocoPosenet = o.cocoPosenet ?? COCO_POSENET;
    const cocoModels = o.cocoModels ?? COCO_MODELS;
    const coco = kinds.includes('coco');
    // the detection-trained pair (and its temporal lifter) for the kinds that reach it
    const wantDetected = hasPd && hasRd && kinds.some((k) => detectedPose(k, cocoModels) || (k === 'coco' && o.cocoRoots === 'detected'));
    // a temporal lifter the folder has, unless the caller asked for none or none of its kinds comes
    const load = <T>(f: string, fn: (f: string) => Promise<T>): Promise<T> => (o.shared ? o.shared.get(f, fn) : fn(f));
    const loadPosenet = (f: string) => load(f, (x) => PoseNet.load(x)), loadRootnet = (f: string) => load(f, (x) => RootNet.load(x));
    const temporalIn = (file: string, wanted: boolean) => {
      const f = path.join(modelsDir, file);
      return o.temporal !== false && wanted && fs.existsSync(f) ? load(f, (x) => TemporalLifter.load(x)) : undefined;
    };
    const hasTd = fs.existsSync(path.join(modelsDir, MODEL_FILES.temporalDetected));
    const hasTt = fs.existsSync(path.join(modelsDir, MODEL_FILES.temporalTruth));
    const pc = path.join(modelsDir, MODEL_FILES.posenetCoco);
    // unadapted COCO keypoints reach posenet-coco only when the truth-trained networks lift COCO keypoints
    const hasPc = fs.existsSync(pc);
    const wantCoco = coco && (cocoPosenet === 'coco' || (cocoPosenet === 'unadapted' && cocoModels === 'joints' && hasPc));
    if (coco && cocoPosenet === 'coco' && !hasPc) throw new Error(`${pc}: model file missing; train it with \`poselift train posenet-coco\`, or lift COCO-style keypoints with posenet.onnx (leave out --coco-posenet coco)`);
    const [posenet, rootnet, posenetD, rootnetD, temporal, temporalD, temporalT, posenetC] = await Promise.all([
      loadPosenet(p), loadRootnet(r), wantDetected ? loadPosenet(pd) : undefined, wantDetected ? loadRootnet(rd) : undefined,
      // temporal.onnx: COCO-style keypoints, ground-truth-like ones without temporal-truth.onnx, and the
      // detection-trained networks' kinds without temporal-detected.onnx
      temporalIn(MODEL_FILES.temporal, kinds.some((k) => k === 'coco' || (k === 'joints' && !hasTt) || (k === 'mpii' && !(hasTd && wantDetected)))),
      temporalIn(MODEL_FILES.temporalDetected, wantDetected), temporalIn(MODEL_FILES.temporalTruth, kinds.includes('joints')),
      wantCoco ? loadPosenet(pc) : undefined,
    ]);
    const detected = posenetD && rootnetD ? { posenet: posenetD, rootnet: rootnetD } : undefined;
    // detector keypoints lifted by the detection-trained models are moved to the reference's definitions (with
    // posenet-coco, to Human3.6M's as for posenet: relative to the COCO form was worse on S1, decisions/real-detections.md)
    const relative = cocoModels === 'detected' && detected !== undefined;
    return new Lifter(posenet, rootnet, loadAdapters(path.join(modelsDir, ADAPTER_FILE), relative), detected, cocoModels, temporal, o.temporalKinds, temporalD, o.cocoRoots, posenetC, cocoPosenet, temporalT, kinds);
  }

  /**
   * The temporal lifter for tracks of this kind of 2D, if the folder has one for it: `temporal-detected.onnx`
   * for the kinds the detection-trained networks lift (`liftsWithDetected`), `temporal-truth.onnx` for
   * ground-truth-like keypoints, `temporal.onnx` for the others and for every kind that has none of its own
   * (`MODEL_FILES`).
   */
  temporalFor(kind: KeypointKind): TemporalLifter | undefined {
    if (this.liftsWithDetected(kind)) return this.temporalDetected ?? this.temporal;
    return (kind === 'joints' ? this.temporalTruth : undefined) ?? this.temporal;
  }

  /**
   * Whether tracks of this kind of 2D are lifted by the temporal lifter (`temporalKinds`, the `temporal`
   * option); with `fps`, whether a track at that rate is (TEMPORAL_MIN_FPS).
   */
  liftsWithTemporal(kind: KeypointKind, o: Pick<LiftCallOptions, 'temporal'> = {}, fps?: number): boolean {
    return this.trackTemporal(kind, o, fps) !== undefined;
  }

  /** The temporal lifter that lifts tracks of this kind with these options (`liftsWithTemporal`), if one does. */
  private trackTemporal(kind: KeypointKind, o: Pick<LiftCallOptions, 'temporal'>, fps?: number): TemporalLifter | undefined {
    const wanted = o.temporal !== false && this.temporalKinds.includes(kind) && (fps === undefined || fps >= TEMPORAL_MIN_FPS);
    return wanted ? this.temporalFor(kind) : undefined;
  }

  /**
   * How many frames before and after a track's frames the temporal lifter reads at `fps` (0 when tracks of
   * this kind are not lifted with it): a streamed track hands that many neighbours to `liftTrack`.
   */
  trackContext(fps: number, o: Pick<LiftCallOptions, 'temporal' | 'kind'> = {}): number {
    const kind = o.kind ?? 'joints';
    return this.trackTemporal(kind, o, fps)?.contextFrames(fps) ?? 0;
  }

  /** Whether 2D of this kind is lifted by the detection-trained networks (`MODEL_FILES`, `COCO_MODELS`). */
  liftsWithDetected(kind: KeypointKind): boolean {
    return this.detected !== undefined && detectedPose(kind, this.cocoModels);
  }

  /**
   * The networks that lift 2D of this kind: the detection-trained pair for the kinds it lifts
   * (`liftsWithDetected`), else `posenet` with `rootnet`; COCO-style keypoints take `posenet-coco` instead of
   * `posenet` with `cocoPosenet` 'coco', or 'unadapted' when no keypoint adapter moved them (`adapted`; COCO_POSENET),
   * and `rootnet-detected` with `cocoRoots` 'detected' (COCO_ROOTS).
   */
  netsFor(kind: KeypointKind, adapted = false): LiftNets {
    if (!this.kinds.includes(kind)) {
      throw new Error(`this lifter was loaded for ${this.kinds.join(', ')} keypoints (LifterLoadOptions.kinds), not ${kind}: load it with that kind too`);
    }
    if (this.liftsWithDetected(kind)) return this.detected!;
    if (kind !== 'coco') return { posenet: this.posenet, rootnet: this.rootnet };
    const rootnet = this.cocoRoots === 'detected' && this.detected ? this.detected.rootnet : this.rootnet;
    const coco = this.posenetCoco && (this.cocoPosenet === 'coco' || !adapted);
    return { posenet: coco ? this.posenetCoco! : this.posenet, rootnet };
  }

  /**
   * The versions of the models that lift this kind of 2D (default: a detector's keypoints are `coco`, else
   * `joints`); with a detector, its keypoint adapter's too when the models folder has one (`adapted`: whether an
   * adapter moved the keypoints, default whether the detector has one).
   */
  versionsFor(detector?: string, kind: KeypointKind = detector !== undefined ? 'coco' : 'joints', o: { track?: boolean; temporal?: boolean; fps?: number; adapted?: boolean } = {}): ModelVersions {
    const a = detector !== undefined ? this.adapters.get(detector) : undefined;
    const n = this.netsFor(kind, o.adapted ?? a !== undefined);
    const v: ModelVersions = { posenet: n.posenet.version, rootnet: n.rootnet.version };
    if (a) v.keypoint_adapter = a.version;
    const temporal = o.track ? this.trackTemporal(kind, o, o.fps) : undefined;
    if (temporal) v.temporal = temporal.version;
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

  /**
   * PoseNet (or, for a track, the temporal lifter) + RootNet for a batch; null entries where a person cannot
   * be lifted. `track`: the people are one person's consecutive frames at `fps`, with `context` around them.
   */
  private async prepare(
    people: (Float64Array | null)[], cam: Intrinsics, o: LiftCallOptions, track?: { fps: number; context?: TrackContext },
  ): Promise<(LiftInput | null)[]> {
    checkIntrinsics(cam, 'camera');
    const idx: number[] = [];
    const kps: Float64Array[] = [];
    people.forEach((p, i) => { if (p) { idx.push(i); kps.push(p); } });
    const kind = o.kind ?? 'joints';
    const nets = this.netsFor(kind, o.adapted);
    const temporal = (track && this.trackTemporal(kind, o, track.fps)) || null;
    // with the temporal lifter, single-frame PoseNet runs beside it: its size (temporalSize) and its root (temporalDepth)
    const sizeFromPosenet = (o.temporalSize ?? 'posenet') === 'posenet';
    const searchPosenet = (o.temporalDepth ?? 'posenet') === 'posenet';
    const blend = o.temporalBlend ?? 0;
    if (!(blend >= 0 && blend <= 1)) throw new Error(`temporalBlend must be between 0 and 1, got ${blend}`);
    const single = temporal && (sizeFromPosenet || searchPosenet || blend > 0) ? nets.posenet.predict(kps, { flipTest: o.flipTest, kind }) : null;
    // awaited below; if the temporal lifter fails first, its failure is the one reported
    single?.catch(() => undefined);
    const relsOf = async (): Promise<(Float64Array | null)[]> => {
      if (!temporal) return nets.posenet.predict(kps, { flipTest: o.flipTest, kind });
      const before = track!.context?.before ?? [], after = track!.context?.after ?? [];
      const all = await temporal.predictTrack([...before, ...people, ...after], {
        kind, flipTest: o.flipTest !== false && (o.temporalFlipTest ?? TEMPORAL_FLIP_TEST), fps: track!.fps, at: idx.map((i) => i + before.length),
      });
      const rels = idx.map((i) => all[i + before.length]);
      if (sizeFromPosenet) {
        // the person's size from single-frame PoseNet, the size RootNet and the fitter agree with
        const sing = await single!;
        const ratios: number[] = [];
        rels.forEach((r, n) => { const q = sing[n]; if (r && q) ratios.push(rmsRadius(q) / rmsRadius(r)); });
        const k = ratios.length ? median(ratios) : 1;
        for (const r of rels) if (r) for (let i = 0; i < r.length; i++) r[i] *= k;
      }
      if (blend > 0) {
        const sing = await single!;
        rels.forEach((r, n) => {
          const q = sing[n];
          if (r && q) for (let i = 0; i < r.length; i++) r[i] = (1 - blend) * r[i] + blend * q[i];
        });
      }
      return rels;
    };
    const [rels, roots, searchRels] = await Promise.all([
      relsOf(), nets.rootnet.predict(kps, { flipTest: o.flipTest, kind }),
      searchPosenet ? single : null,
    ]);
    const out: (LiftInput | null)[] = people.map(() => null);
    idx.forEach((i, n) => {
      const rel = rels[n], root = roots[n], kp = kps[n];
      if (rel && root) {
        out[i] = liftInput(kp, rel, root.z, cam, kind, o.definitionWeight);
        const s = searchRels?.[n];
        if (s) out[i]!.searchRel = s;
      }
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

  /** The depth search's and the fitter's settings for a call: LIFT_DEFAULTS, DETECTED_LIFT_OPTIONS, the call's. */
  private liftOptions(o: LiftCallOptions): LiftSequenceOptions {
    return { ...LIFT_DEFAULTS, ...(this.liftsWithDetected(o.kind ?? 'joints') ? DETECTED_LIFT_OPTIONS : {}), ...o.lift };
  }

  /** Independent person-frames (photos, or people of one frame): no temporal term. */
  async liftBatch(people: (Float64Array | null)[], cam: Intrinsics, o: LiftCallOptions = {}): Promise<(LiftedPerson | null)[]> {
    const inputs = await this.prepare(people, cam, o);
    const opts = this.liftOptions(o);
    const lift = o.fit === false ? placePerson : liftPerson;
    return inputs.map((x) => (x ? Lifter.result(x, lift(x, opts)) : null));
  }

  /**
   * One person over consecutive frames at `fps` (a track): the fitter's temporal term smooths it. Frames
   * where the person cannot be lifted split the track; each run of liftable frames is fitted on its own.
   */
  async liftTrack(
    frames: (Float64Array | null)[], cam: Intrinsics, fps: number, o: LiftCallOptions = {}, context?: TrackContext,
  ): Promise<(LiftedPerson | null)[]> {
    const inputs = await this.prepare(frames, cam, o, { fps, context });
    const out: (LiftedPerson | null)[] = frames.map(() => null);
    const opts = this.liftOptions(o);
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

/** RMS distance of the 16 non-root joints from the root (a root-relative h36m17 pose, mm). */
function rmsRadius(p: ArrayLike<number>): number {
  let t = 0;
  for (let j = 1; j < 17; j++) t += p[j * 3] ** 2 + p[j * 3 + 1] ** 2 + p[j * 3 + 2] ** 2;
  return Math.sqrt(t / 16);
}
