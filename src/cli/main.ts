/**
 * The `poselift` command line. Every failure ends with one line on stderr naming the input and the fix,
 * and a non-zero exit code.
 */
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { POSENET_COCO_DEFAULTS, POSENET_DEFAULTS, POSENET_DETECTED_DEFAULTS, trainPosenet } from '../train/posenet.js';
import { ROOTNET_DEFAULTS, ROOTNET_DETECTED_DEFAULTS, trainRootnet } from '../train/rootnet.js';
import { isTemporalModel, TEMPORAL_BASES, TEMPORAL_DEFAULTS } from '../train/temporal.js';
import { saveTrainedModel } from '../train/export.js';
import { DEFAULT_AUGMENT, DEFAULT_DETECTED, DEFAULT_VIEW, DEFAULT_MIX } from '../train/augment.js';
import { POSENET_BASE_DIM, POSENET_INPUT_DIM } from '../lift/posenet/features.js';
import { COCO_MODELS } from '../lift/lifter.js';
import { ROOTNET_BASE_DIM, ROOTNET_INPUT_DIM } from '../lift/rootnet/features.js';
import { commonTrainOverrides, type TrainConfig } from '../train/loop.js';
import { defaultModelsDir } from '../util/paths.js';
import { evalCommand } from './eval.js';
import { DEFAULT_DETECTOR, DEFAULT_VIDEO_DETECTOR, DETECTOR_NAMES } from '../detect/types.js';

const DETECTORS = DETECTOR_NAMES.join(' | ');

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** Option parser: a finite number >= 0; `expected` names it in the error ("seconds >= 0"). */
function nonNegativeNumber(expected: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected ${expected}`);
    return n;
  };
}

const COCO_MODELS_HELP = `which networks lift COCO-style keypoints: joints (trained on the projected truth) | detected (trained on detections too); default ${COCO_MODELS}`;

/** Option parser: --coco-models. */
/** Option parser: one of `choices` (the error names them). */
function oneOf<T extends string>(...choices: T[]): (v: string) => T {
  return (v) => {
    if (!(choices as string[]).includes(v)) throw new InvalidArgumentError(`expected ${choices.join(' or ')}`);
    return v as T;
  };
}

const cocoModelsArg = oneOf('joints', 'detected');
const COCO_POSENET_HELP = 'the PoseNet of COCO-style keypoints (coco17, body25, coco18, blazepose33) when the truth-trained networks lift them: posenet, coco (models/posenet-coco.onnx, trained on the COCO form) or unadapted (posenet-coco for keypoints no keypoint adapter moved, posenet for the rest); default COCO_POSENET, docs/decisions/real-detections.md';
const cocoPosenetArg = oneOf('posenet', 'coco', 'unadapted');
const keypointKindArg = oneOf('joints', 'mpii', 'coco');

/** Option parser: a whole number >= 0; `expected` names it in the error. */
function nonNegativeInt(expected: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected ${expected}`);
    return n;
  };
}

function probability(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a probability from 0 to 1');
  return n;
}

const log = (s: string) => process.stderr.write(`${s}\n`);

/** The single-frame models `poselift train` trains, and the recipe each starts from. */
const SINGLE_FRAME_BASES: Readonly<Record<string, Omit<TrainConfig, 'data'>>> = {
  posenet: POSENET_DEFAULTS, 'posenet-coco': POSENET_COCO_DEFAULTS, rootnet: ROOTNET_DEFAULTS,
  'posenet-detected': POSENET_DETECTED_DEFAULTS, 'rootnet-detected': ROOTNET_DETECTED_DEFAULTS,
};

/** Every model `poselift train` trains, for its unknown-model error. */
const TRAIN_MODELS = [...Object.keys(SINGLE_FRAME_BASES), ...Object.keys(TEMPORAL_BASES)].join(', ');

/** `poselift train` without --data (every model, temporal included). */
export const TRAIN_DATA_REQUIRED = 'train: --data DIR is required: the pose-dataset/1 folder to train on, e.g. ../shared/data/h36m-train';

export function buildProgram(): Command {
  const program = new Command('poselift')
    .description('Photos, videos and 2D keypoints of people -> camera-frame 3D joints in millimetres')
    .showHelpAfterError();

  program
    .command('train')
    .description('train a model on a pose-dataset/1 folder and write <out>/<model>.onnx and its model card')
    .argument('<model>', 'posenet (for ground-truth-like keypoints) | posenet-coco (for COCO-style keypoints) | rootnet (for ground-truth-like and COCO-style keypoints) | posenet-detected | rootnet-detected (for MPII-style detector keypoints) | temporal (tracks of COCO-style keypoints) | temporal-detected (tracks of MPII-style keypoints) | temporal-truth (tracks of ground-truth-like keypoints)')
    // no default: a training run names its data (a folder beside the checkout is one lab machine's layout)
    .option('--data <dir>', 'pose-dataset/1 training folder (required), e.g. ../shared/data/h36m-train')
    .option('--epochs <n>', 'epochs (an epoch = every 5th frame x all views)', positiveInt)
    .option('--out <dir>', 'output folder', defaultModelsDir())
    .option('--val-subjects <list>', 'held-out subjects, comma-separated', 'S1')
    .option('--hidden <n>', 'hidden units', positiveInt)
    .option('--batch <n>', 'batch size', positiveInt)
    .option('--lr <x>', 'initial learning rate', positiveNumber)
    .option('--seed <n>', 'random seed', positiveInt)
    .option('--view-prob <p>', 'share of samples seen from a new viewpoint (0 = the dataset\'s cameras only)', probability)
    .option('--mix-prob <p>', `share of samples whose limbs are partly taken from other frames (posenet default ${POSENET_DEFAULTS.mix?.prob ?? 0}, rootnet ${ROOTNET_DEFAULTS.mix?.prob ?? 0}, temporal ${TEMPORAL_DEFAULTS.mix?.prob ?? 0} per window; 0 = real poses only)`, probability)
    .option('--definition-prob <p>', 'share of samples whose hips, pelvis and thorax get a random keypoint-definition shift (default 0)', probability)
    .option('--detected-prob <p>', `share of samples that take the view's stored 2D detections (points2d) instead of the projected truth (posenet-detected, rootnet-detected, temporal, temporal-detected default ${POSENET_DETECTED_DEFAULTS.detected?.prob ?? 0}, posenet, rootnet 0 = ground truth only)`, probability)
    .option('--coco-share <p>', `of the detection samples, the share given as COCO-style keypoints made from them (default ${DEFAULT_DETECTED.cocoShare})`, probability)
    .option('--coco-prob <p>', `share of samples missing the spine and head top, as COCO-17 and BlazePose keypoints are (default ${DEFAULT_AUGMENT.cocoPattern})`, probability)
    .option('--coco-form <on|off>', 'samples in the COCO missing-joint pattern in the form COCO-17 keypoints arrive in (thorax = the shoulders\' midpoint, pelvis = the hips\'; src/train/augment.ts cocoForm) or with Human3.6M\'s thorax (default: on for temporal and posenet-coco, off for the others)', oneOf('on', 'off'))
    .option('--window <n>', 'temporal: frames per window at 25 fps (a power of 3 for tcn, odd for mlp; default 27)', positiveInt)
    .option('--arch <tcn|mlp>', 'temporal: a temporal convolution over the window (default) or a residual MLP over it', (v: string) => {
      if (v !== 'tcn' && v !== 'mlp') throw new Error(`--arch ${v}: use tcn or mlp`);
      return v;
    })
    .action(async (model: string, o) => {
      if (o.data === undefined) throw new Error(TRAIN_DATA_REQUIRED);
      if (isTemporalModel(model)) {
        const { trainTemporalCommand } = await import('./train-temporal.js');
        const args = process.argv.slice(2).map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ');
        await trainTemporalCommand(o, model, `poselift ${args}`, log);
        return;
      }
      const base = Object.hasOwn(SINGLE_FRAME_BASES, model) ? SINGLE_FRAME_BASES[model] : undefined;
      if (!base) throw new Error(`train: unknown model "${model}"; use ${TRAIN_MODELS}`);
      const isPosenet = model.startsWith('posenet');
      const cfg = {
        ...base,
        ...commonTrainOverrides(o),
        // a new-viewpoint share uses the default elevation / roll spreads (src/train/augment.ts DEFAULT_VIEW)
        ...(o.viewProb !== undefined ? { view: { ...DEFAULT_VIEW, prob: o.viewProb } } : {}),
        // a part-mixing share mixes each part with the default probability (src/train/augment.ts DEFAULT_MIX)
        ...(o.mixProb !== undefined ? { mix: { ...DEFAULT_MIX, prob: o.mixProb } } : {}),
        // the share of real-detection samples, the rest of their recipe as the defaults (src/train/augment.ts DEFAULT_DETECTED)
        ...(o.detectedProb !== undefined || o.cocoShare !== undefined ? {
          detected: {
            ...(base.detected && base.detected.prob > 0 ? base.detected : DEFAULT_DETECTED),
            ...(o.detectedProb !== undefined ? { prob: o.detectedProb } : {}),
            ...(o.cocoShare !== undefined ? { cocoShare: o.cocoShare } : {}),
          },
        } : {}),
        // overrides of the detector-like augmentation (src/train/augment.ts DEFAULT_AUGMENT)
        ...(o.definitionProb !== undefined || o.cocoProb !== undefined || o.cocoForm !== undefined ? {
          augment: {
            ...base.augment,
            ...(o.definitionProb !== undefined ? { definition: o.definitionProb } : {}),
            ...(o.cocoProb !== undefined ? { cocoPattern: o.cocoProb } : {}),
            ...(o.cocoForm !== undefined ? { cocoForm: o.cocoForm === 'on' } : {}),
          },
        } : {}),
      };
      const withKind = (cfg.detected?.prob ?? 0) > 0;
      const trained = isPosenet ? await trainPosenet(cfg, log) : await trainRootnet(cfg, log);
      const args = process.argv.slice(2).map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ');
      const files = saveTrainedModel(path.resolve(o.out), trained, {
        name: model as 'posenet' | 'posenet-coco' | 'rootnet' | 'posenet-detected' | 'rootnet-detected',
        description:
          isPosenet
            ? `Lifts 2D keypoints (h36m17, normalised camera coordinates) to root-relative camera-frame 3D joints in millimetres (the PoseNet stage of poselift)${withKind ? '; for detector keypoints (the mpii and coco kinds)' : model === 'posenet-coco' ? '; for COCO-style keypoints (the coco kind)' : '; for ground-truth-like keypoints'}.`
            : `Predicts the RootNet correction gamma of the k-calibrated root depth, Z_root = k / sqrt(gamma), from the 2D pose and its box (the RootNet stage of poselift)${withKind ? '; for detector keypoints (the mpii and coco kinds)' : '; for ground-truth-like keypoints'}.`,
        command: `poselift ${args}`,
        config: { ...cfg, data: path.basename(cfg.data) },
        inputDoc:
          isPosenet
            ? (withKind
              ? `${POSENET_INPUT_DIM} floats: 17 x (u, v centred at the pelvis and divided by the RMS radius, visible) + centre ray (u, v) + one-hot keypoint kind (joints, mpii, coco); u = X/Z, v = Y/Z undistorted`
              : `${POSENET_BASE_DIM} floats: 17 x (u, v centred at the pelvis and divided by the RMS radius, visible) + centre ray (u, v); u = X/Z, v = Y/Z undistorted`)
            : `${withKind ? ROOTNET_INPUT_DIM : ROOTNET_BASE_DIM} floats: the PoseNet features${withKind ? ' (keypoint kind included)' : ''} + log RMS radius + log box width and height over the radius`,
        outputDoc:
          isPosenet
            ? '51 floats: 17 x (x, y, z) root-relative camera-frame joints in metres (h36m17)'
            : '1 float: log gamma; Z_root = k / sqrt(gamma), k = sqrt(fx fy A_real / A_box), A_real = 2000 x 2000 mm',
      });
      log(`wrote ${files.onnx} and ${files.card}`);
    });

  program
    .command('eval-temporal')
    .description('the temporal lifter on a pose-dataset/1 folder: every frame of every view lifted at 25 fps, every Nth scored (root-relative), beside single-frame PoseNet on the same 2D')
    .argument('<dataset>', 'pose-dataset/1 folder')
    .requiredOption('--input <mode>', 'gt2d (projected ground truth) | points2d (stored detections)')
    .option('--subjects <list>', 'only these subjects, comma-separated (e.g. the held-out S1)')
    .option('--score-every <n>', 'score every Nth lifted frame', positiveInt, 5)
    .option('--model <file>', 'the temporal lifter (default: the one the lift path uses for this input, models/temporal-detected.onnx for points2d and models/temporal-truth.onnx for gt2d when present, else models/temporal.onnx)')
    .option('--posenet <file>', 'single-frame PoseNet to compare with (default: the one the lift path uses for this input, models/posenet-detected.onnx for points2d when present, else models/posenet.onnx)')
    .option('--no-compare', 'temporal lifter only')
    .option('--no-flip-test', 'no test-time mirroring (both lifters)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dataset: string, o) => {
      const { defaultTemporal, singleFramePosenet } = await import('../eval/temporal.js');
      const { evalTemporalCommand } = await import('./eval-temporal.js');
      const subjects = o.subjects ? String(o.subjects).split(',').map((s: string) => s.trim()).filter(Boolean) : undefined;
      await evalTemporalCommand(dataset, {
        input: o.input, subjects, scoreEvery: o.scoreEvery, model: o.model ?? defaultTemporal(defaultModelsDir(), o.input), posenet: o.compare ? o.posenet ?? singleFramePosenet(defaultModelsDir(), o.input) : null, flipTest: o.flipTest, json: o.json,
      });
    });

  program
    .command('eval')
    .description('run the production lift path on every view of every sequence of a pose-dataset/1 folder and print metrics')
    .argument('<dataset>', 'pose-dataset/1 folder')
    .requiredOption('--input <mode>', 'gt2d (project the ground truth through the camera) | points2d (stored detections) | images (detect from the views\' images)')
    .option('--stride <n>', 'take every Nth frame', positiveInt, 1)
    .option('--json', 'print one JSON object on stdout')
    .option('--models <dir>', 'folder with posenet.onnx and rootnet.onnx', defaultModelsDir())
    .option('--subjects <list>', 'only these subjects, comma-separated (e.g. the held-out S1)')
    .option('--no-fit', 'skip the fitter (depth search only)')
    .option('--detector <name>', `images: ${DETECTORS}`, DEFAULT_DETECTOR)
    .option('--no-adapter', 'images: lift the detector\'s keypoints without its calibrated keypoint-definition adapter')
    .option('--coco-models <which>', COCO_MODELS_HELP, cocoModelsArg)
    .option('--coco-adapter', 'with --coco-style: apply those detections\' keypoint adapter (the reference in <models>/keypoint-adapter.json, measured on the training subjects) as `run` applies a calibrated detector\'s')
    .option('--coco-posenet <which>', COCO_POSENET_HELP, cocoPosenetArg)
    .option('--coco-roots <which>', 'the RootNet that gives COCO-style keypoints their root depth when the truth-trained networks lift them: joints (rootnet.onnx) or detected (rootnet-detected.onnx) (tuning; default COCO_ROOTS)', cocoModelsArg)
    .option('--coco-style', 'points2d: give the stored MPII-16 detections as a COCO-17 detector would (its limbs and hips, the nose from the ground truth with noise), to measure the COCO path on real detection errors')
    .option('--definition-weight <w>', 'detector keypoints: weight of the joints a detector defines differently (pelvis, hips, thorax, head) in the depth search and the fitter (tuning; default DEFINITION_WEIGHT)', nonNegativeNumber('a weight >= 0'))
    .option('--score-every <n>', 'lift every (stride-th) frame of each view as a video track is lifted (the video path\'s windows, at the sequence\'s rate) and score every Nth; the acceleration error on every lifted frame', positiveInt)
    .option('--single-frame', 'lift every frame alone, as photos are (no temporal term), instead of each view as a track at its rate / stride; with --score-every, every frame alone and every Nth scored')
    .option('--no-temporal', 'tracks: single-frame PoseNet instead of the temporal lifters (models/temporal.onnx, temporal-detected.onnx, temporal-truth.onnx)')
    .option('--temporal-size <which>', 'the temporal lifter\'s poses at single-frame PoseNet\'s size (posenet, the default) or their own (own)', oneOf('posenet', 'own'))
    .option('--temporal-kinds <list>', 'the kinds of 2D whose tracks the temporal lifter lifts, comma-separated from joints, mpii, coco (tuning; default: the shipped TEMPORAL_KINDS)',
      (v: string) => v.split(',').map((k) => k.trim()).filter(Boolean).map(keypointKindArg))
    .option('--temporal-depth <which>', 'the pose the depth search places to find the root with the temporal lifter: single-frame PoseNet\'s (posenet, the default) or the temporal lifter\'s (temporal)', oneOf('posenet', 'temporal'))
    .option('--temporal-flip-test <on|off>', 'the temporal lifter\'s test-time mirroring (tuning; default: the shipped TEMPORAL_FLIP_TEST)', oneOf('on', 'off'))
    .option('--temporal-blend <w>', 'the share of single-frame PoseNet\'s pose in each frame\'s pose where the temporal lifter lifts, 0-1 (tuning; default 0)', probability)
    .action(async (dataset: string, o) => {
      const subjects = o.subjects ? String(o.subjects).split(',').map((s: string) => s.trim()).filter(Boolean) : undefined;
      const temporalFlipTest = o.temporalFlipTest === undefined ? undefined : o.temporalFlipTest === 'on';
      await evalCommand(dataset, { ...o, subjects, temporalFlipTest });
    });

  program
    .command('calibrate')
    .description('measure a 2D detector\'s keypoint-definition adapter on photos with ground truth (a pose-dataset/1 folder with images), report leave-one-out accuracy, write it into <models>/keypoint-adapter.json')
    .argument('<dataset>', 'pose-dataset/1 folder whose views list images')
    .option('--detector <name>', DETECTORS, DEFAULT_DETECTOR)
    .option('--models <dir>', 'folder with posenet.onnx and rootnet.onnx (and keypoint-adapter.json)', defaultModelsDir())
    .option('--out <file>', 'adapter file to write (default: <models>/keypoint-adapter.json)')
    .option('--dry-run', 'measure and report only; write nothing')
    .option('--flip-test', 'detect on each photo and its mirror image and fuse the two (src/detect/flip.ts)')
    .option('--json', 'print one JSON object on stdout')
    .option('--coco-models <which>', COCO_MODELS_HELP, cocoModelsArg)
    .option('--reference', 'instead of a detector: measure the definitions the lifters learn for COCO-style keypoints on a data set with stored MPII-16 detections (points2d) of the training subjects, and write them as the file\'s reference')
    .option('--subjects <list>', '--reference: subjects, comma-separated', 'S5,S6,S7,S8')
    .option('--stride <n>', '--reference: every Nth frame', positiveInt, 10)
    .action(async (dataset: string, o) => {
      const { calibrateCommand, calibrateReferenceCommand } = await import('./calibrate.js');
      const args = process.argv.slice(2).map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ');
      if (o.reference) {
        const subjects = String(o.subjects).split(',').map((s: string) => s.trim()).filter(Boolean);
        calibrateReferenceCommand(dataset, { models: o.models, out: o.dryRun ? null : o.out, subjects, stride: o.stride, command: `poselift ${args}`, json: o.json });
        return;
      }
      await calibrateCommand(dataset, { detector: o.detector, models: o.models, out: o.dryRun ? null : o.out, json: o.json, command: `poselift ${args}`, flipTest: o.flipTest, cocoModels: o.cocoModels });
    });

  program
    .command('run')
    .description('photos, folders of photos or videos -> one poselift/1 JSON of camera-frame 3D joints (mm) per input')
    .argument('<inputs...>', 'a photo, a folder of photos (independent frames) or a video')
    .option('--camera <file>', 'intrinsics JSON {fx,fy,cx,cy[,k,p]} or a pose-dataset/1 camera {f,c[,size,k,p]} (default: EXIF 35 mm focal, else a 60° field of view)')
    .option('--detector <name>', `${DETECTORS} (default: ${DEFAULT_DETECTOR} for photos, ${DEFAULT_VIDEO_DETECTOR} for videos)`)
    .option('--fps <n>', 'video: frames per second to sample (default: the video\'s rate)', positiveNumber)
    .option('--start <s>', 'video: start time in seconds', nonNegativeNumber('seconds >= 0'))
    .option('--duration <s>', 'video: seconds to process', positiveNumber)
    .option('--out <path>', 'output file (one input) or folder (default: ./<name>.poselift.json)')
    .option('--overlay <dir>', 'also write PNGs with the 2D keypoints and the reprojected 3D skeleton')
    .option('--models <dir>', 'folder with posenet.onnx and rootnet.onnx', defaultModelsDir())
    .option('--max-people <n>', 'at most this many people per frame', positiveInt)
    .option('--threads <n>', 'video: 2D detection threads (default: one per core, at most 4)', positiveInt)
    .option('--no-adapter', 'lift the detector\'s keypoints as they are, without its calibrated keypoint-definition adapter (models/keypoint-adapter.json)')
    .option('--flip-test', 'photos: detect on the photo and its mirror image and fuse the two joint by joint (twice the detection time; off by default, README "Decisions")')
    .option('--detect-size <px>', 'video: decode frames for detection at most this size on the longer side (default 640; 0 = full size); keypoints stay in the video\'s pixels', nonNegativeInt('an integer >= 0'))
    .option('--detector-runtime <onnx|tfjs>', 'where MoveNet (Thunder, Lightning, MultiPose) runs: onnx (default: onnxruntime-node, ~3x faster) or tfjs (TF.js wasm, as pose-detection loads them); the same keypoints up to float rounding', oneOf('onnx', 'tfjs'))
    .option('--no-temporal', 'video: lift every frame with single-frame PoseNet instead of the temporal lifter (models/temporal.onnx; for someone holding an unusual pose still, README "Results")')
    .option('--coco-posenet <which>', COCO_POSENET_HELP, cocoPosenetArg)
    .action(async (inputs: string[], o) => {
      const { runCommand } = await import('./run.js');
      await runCommand(inputs, o);
    });

  program
    .command('lift')
    .description('2D keypoints from another detector (COCO JSON, OpenPose folder, CSV) -> one poselift/1 JSON of camera-frame 3D joints (mm)')
    .argument('<input>', 'a COCO keypoints file, a folder of OpenPose *_keypoints.json, or a CSV file')
    .requiredOption('--format <f>', 'coco | openpose | csv')
    .option('--layout <name>', 'csv: the joint layout of its joint names / indices (h36m17, coco17, body25, coco18, mpii16, blazepose33)')
    .option('--camera <file>', 'intrinsics JSON as in `run` (default: a 60° field of view over the image size)')
    .option('--width <px>', 'image width for files that give none (OpenPose, CSV, COCO results)', positiveInt)
    .option('--height <px>', 'image height for files that give none', positiveInt)
    .option('--fps <n>', 'frames per second of the listed frames: > 0 lifts each person\'s track with the temporal term (default 0: independent frames)', nonNegativeNumber('a number >= 0'))
    .option('--out <path>', 'output file or folder (default: ./<name>.poselift.json)')
    .option('--models <dir>', 'folder with posenet.onnx and rootnet.onnx', defaultModelsDir())
    .option('--adapter <detector>', `the keypoints came from this detector (${DETECTOR_NAMES.join(', ')}): apply its calibrated keypoint adapter (default: lift as given)`)
    .option('--no-temporal', 'with --fps: lift every frame with single-frame PoseNet instead of the temporal lifter of the keypoints\' kind (models/temporal.onnx, temporal-detected.onnx, temporal-truth.onnx)')
    .option('--coco-posenet <which>', COCO_POSENET_HELP, cocoPosenetArg)
    .action(async (input: string, o) => {
      const { liftCommand } = await import('./lift.js');
      await liftCommand(input, o);
    });

  program
    .command('export')
    .description('a poselift/1 result -> BVH (one person\'s skeleton animation) or CSV (one row per frame, person and joint)')
    .argument('<result>', 'a *.poselift.json written by `run` or `lift`')
    .requiredOption('--format <f>', 'bvh | csv')
    .option('--person <id>', 'person id (BVH: required when several people were lifted; CSV: only this person)', (v: string) => { const n = Number(v); if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer person id'); return n; })
    .option('--frame <n>', 'BVH: only this frame index (e.g. one photo of a folder result)', nonNegativeInt('a frame index >= 0'))
    .option('--out <file>', 'output file (default: ./<name>.bvh or ./<name>.csv)')
    .action(async (result: string, o) => {
      const { exportCommand } = await import('./export.js');
      await exportCommand(result, o);
    });

  program
    .command('view')
    .description('serve a local 3D viewer of a poselift/1 result (skeletons in camera space, timeline, the photo / video with the 2D keypoints)')
    .argument('<result>', 'a *.poselift.json written by `run` or `lift`')
    .option('--port <p>', 'port on 127.0.0.1 (default 0: any free port)', (v: string) => { const n = Number(v); if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0..65535'); return n; }, 0)
    .option('--save <file>', 'write the page as one static HTML file (three.js, the result and the photo inlined) instead of serving it')
    .action(async (result: string, o) => {
      const { viewCommand } = await import('../view/server.js');
      await viewCommand(result, o);
    });

  // the job queue (workers/, GitHub issue 4): BullMQ on $REDIS_URL; loaded only when used
  program
    .command('worker')
    .description('process queued jobs (BullMQ queue "poselift" on $REDIS_URL); SIGTERM / Ctrl-C finishes the current job, then exits 0')
    .option('--concurrency <n>', 'jobs at a time', positiveInt, 1)
    .option('--threads <n>', 'video: 2D detection threads per job (default $POSELIFT_THREADS, else one per core, at most 4)', positiveInt)
    .option('--grace <s>', 'SIGTERM: seconds to finish the current job before exiting without it (default $POSELIFT_GRACE_S, else 25; at once when Redis is down)', nonNegativeNumber('seconds >= 0'))
    .action(async (o) => {
      const { workerCommand } = await import('../../workers/cli.js');
      await workerCommand(o);
    });

  program
    .command('serve')
    .description('HTTP API and web dashboard over the queue (docs/serve.md): needs $POSELIFT_TOKEN to listen beyond 127.0.0.1; workers run apart (`poselift worker`)')
    .option('--port <p>', 'port (0: any free port)', (v: string) => { const n = Number(v); if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0..65535'); return n; }, 8080)
    .option('--host <h>', 'address to listen on (other than 127.0.0.1 only with $POSELIFT_TOKEN)', '127.0.0.1')
    .action(async (o) => {
      const { serveCommand } = await import('../serve/server.js');
      await serveCommand(o);
    });

  program
    .command('enqueue')
    .description('queue a job for `poselift worker`: a video, photos / a folder, a keypoint file (--keypoints) or a pose-dataset/1 folder (--dataset); prints the job id')
    .argument('<inputs...>', 'a video, photos or a folder of photos; with --keypoints a keypoint file; with --dataset a dataset folder')
    .option('--camera <file>', 'intrinsics JSON as in `run`')
    .option('--detector <name>', DETECTORS)
    .option('--keypoints', 'the input is a keypoint file (as `poselift lift`); needs --format')
    .option('--format <f>', 'with --keypoints: coco | openpose | csv')
    .option('--layout <name>', 'with --keypoints --format csv: the joint layout')
    .option('--adapter <detector>', 'with --keypoints: the detector the keypoints came from (its keypoint adapter is applied, as `lift --adapter`)')
    .option('--width <px>', 'with --keypoints: image width', positiveInt)
    .option('--height <px>', 'with --keypoints: image height', positiveInt)
    .option('--fps <n>', 'video: sampling rate; keypoints: rate of the listed frames', positiveNumber)
    .option('--dataset', 'the input is a pose-dataset/1 folder, evaluated as `poselift eval` (needs --input)')
    .option('--input <mode>', 'with --dataset: gt2d | points2d')
    .option('--stride <n>', 'with --dataset: every Nth frame', positiveInt)
    .option('--models <dir>', 'folder with posenet.onnx and rootnet.onnx (default: the worker\'s)')
    .option('--wait', 'wait for the job, progress on stderr; exit 0 when it completes, 1 when it fails')
    .option('--segment-seconds <s>', 'videos longer than this are split into segments that all workers detect in parallel, then joined (0 = never split)', nonNegativeNumber('a number of seconds >= 0'), 60)
    .option('--no-temporal', 'videos, keypoint files with --fps: every frame\'s pose from single-frame PoseNet instead of the temporal lifter (as `run --no-temporal`)')
    .action(async (inputs: string[], o) => {
      const { enqueueCommand } = await import('../../workers/cli.js');
      await enqueueCommand(inputs, o);
    });

  program
    .command('status')
    .description('a queued job\'s state, progress, failed reason and result path (JSON); --workers: the live workers')
    .argument('[id]', 'job id (printed by enqueue)')
    .option('--workers', 'list the live workers (heartbeat within 15 s) instead')
    .action(async (id: string | undefined, o: { workers?: boolean }) => {
      const { statusCommand, workersCommand } = await import('../../workers/cli.js');
      if (o.workers) return workersCommand();
      if (!id) throw new Error('status: pass a job id, or --workers for the live workers');
      await statusCommand(id);
    });

  program
    .command('result')
    .description('print a completed job\'s result JSON, or copy it with --out')
    .argument('<id>', 'job id')
    .option('--out <path>', 'copy the result file here (a folder for several photos)')
    .action(async (id: string, o) => {
      const { resultCommand } = await import('../../workers/cli.js');
      await resultCommand(id, o);
    });

  program
    .command('jobs')
    .description('recent jobs of the queue and their state')
    .option('--limit <n>', 'at most this many', positiveInt, 20)
    .action(async (o) => {
      const { jobsCommand } = await import('../../workers/cli.js');
      await jobsCommand(o);
    });

  return program;
}

export async function run(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code && e.code.startsWith('commander.')) {
      process.exitCode = e.exitCode ?? 2;
      return;
    }
    process.stderr.write(`poselift: ${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
