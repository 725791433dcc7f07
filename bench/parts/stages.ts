/**
 * Part "stages": where the time of a video frame goes.
 *  - each 2D detector on one thread, ms per 1280 x 720 frame: a fresh detection (a photo or a video key
 *    frame; single-person MoveNet with its crop-refinement second pass) and a tracked one (the next video
 *    frame, from the previous crop / region of interest);
 *  - PoseNet + RootNet per person (batch 1, and batched over one track window as the video path does);
 *  - depth search, depth search + fitter per person-frame, and the temporal fit per frame;
 *  - end to end: `runInputs` on a 1 s and a 10 s 720p video of one person with MoveNet Lightning (frames/s;
 *    the difference of the two gives the steady-state rate), and in the same run the lifting alone (normalise + PoseNet + RootNet + depth search + temporal fit through the
 *    same WindowedTrackLifter) on that video's own keypoints: its share of the frame time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Intrinsics } from '../../src/contracts/types.js';
import type { PoseliftDoc } from '../../src/contracts/document.js';
import { openDataset } from '../../src/data/dataset.js';
import { defaultDataDir } from '../../src/util/paths.js';
import { createDetector, readVideoFrames, DETECTOR_NAMES, type RgbFrame, type DetectorName, type DetectorRuntime } from '../../src/detect/index.js';
import { DEFAULT_VIDEO_DETECTOR, hasRuntimeChoice } from '../../src/detect/types.js';
import { Lifter, LIFT_DEFAULTS, TEMPORAL_FLIP_TEST, type LiftCallOptions } from '../../src/lift/lifter.js';
import { normalisedH36m } from '../../src/lift/normalise.js';
import { kindOfLayout } from '../../src/lift/posenet/features.js';
import { liftPerson, liftSequence, placePerson, type LiftInput } from '../../src/lift/solve/lift.js';
import { runInputs, type RunSummary } from '../../src/app/run.js';
import { TRACK_WINDOW, WindowedTrackLifter } from '../../src/track/track-lift.js';
import { personClip } from '../lib/media.js';
import { fmt, perSecond, ratio, scale, stats, timeRuns, type BenchContext, type PartResult, type Stats } from '../lib/common.js';

/**
 * Real poses: ground-truth 2D of an S8 sequence (h36m-train), normalised as the pipeline does, every 2nd frame of
 * the 50 fps sequence, so a track of them is at the 25 fps its fit is told (before 2026-12-05 night consecutive
 * frames were told 25 fps: motion at half speed).
 */
function realPoses(n: number): { people: Float64Array[]; cam: Intrinsics } {
  const ds = openDataset(defaultDataDir('h36m-train'));
  try {
    const si = ds.sequences.findIndex((s) => s.subject === 'S8');
    const cam = ds.camera(si, 0);
    const gt = ds.groundTruth2d(si, 0, 0, 2 * n);
    const people = Array.from({ length: n }, (_, i) =>
      normalisedH36m({ layout: 'h36m17', data: gt.subarray(2 * i * 51, (2 * i + 1) * 51) }, cam));
    return { people, cam };
  } finally {
    ds.close();
  }
}

/** The detector of the end-to-end rows whose lifting share is measured: the fast one. */
const E2E_DETECTOR = 'movenet-lightning';

/** The networks the video path lifts a detector's adapted COCO-style keypoints with. */
const videoNets = (lifter: Lifter) => lifter.netsFor('coco', true);

/** What Lifter.prepare builds: PoseNet + RootNet answers as depth-search / fitter inputs. */
async function liftInputs(lifter: Lifter, people: Float64Array[], cam: Intrinsics): Promise<LiftInput[]> {
  const nets = videoNets(lifter);
  const [rels, roots] = await Promise.all([nets.posenet.predict(people, { kind: 'coco' }), nets.rootnet.predict(people, { kind: 'coco' })]);
  return people.map((kp, n) => {
    const kp2d = new Float64Array(34), conf = new Float64Array(17);
    for (let j = 0; j < 17; j++) {
      kp2d[j * 2] = kp[j * 3]; kp2d[j * 2 + 1] = kp[j * 3 + 1];
      conf[j] = Number.isFinite(kp[j * 3]) ? kp[j * 3 + 2] : 0;
    }
    return { rel: rels[n]!, kp2d, conf, zRoot: roots[n]!.z, fx: cam.fx, fy: cam.fy };
  });
}

async function videoFrames(file: string, count: number, start: number): Promise<RgbFrame[]> {
  const out: RgbFrame[] = [];
  for await (const vf of readVideoFrames(file, { start })) {
    out.push(vf.frame);
    if (out.length >= count) break;
  }
  return out;
}

export async function stagesPart(ctx: BenchContext): Promise<PartResult> {
  const { runs, quick } = ctx;
  const res: PartResult = { name: 'stages', title: 'Stages: where a frame\'s time goes', tables: [], notes: [], targets: [] };
  const clip10 = await personClip(10);

  // --- detectors on 720p frames: consecutive frames from 2 s in
  const nFrames = quick ? 2 : 10;
  const frames = await videoFrames(clip10, nFrames, 2);
  const detRows: string[][] = [];
  const detMs: Record<string, Stats> = {};
  // MoveNet runs on onnxruntime by default; its TF.js wasm runtime is timed beside it
  const variants = DETECTOR_NAMES.flatMap((name): { name: DetectorName; runtime?: DetectorRuntime; label: string }[] => (
    hasRuntimeChoice(name)
      ? [{ name, label: name }, { name, runtime: 'tfjs', label: `${name} (--detector-runtime tfjs)` }]
      : [{ name, label: name }]));
  for (const { name, runtime, label } of variants) {
    ctx.log(`stages: detector ${label}`);
    const det = await createDetector(name, { runtime });
    let found = 0;
    const fresh = await timeRuns(async () => {
      found = 0;
      for (const f of frames) found += (await det.detect(f)).length ? 1 : 0;
    }, runs, 1, quick ? 0 : 1);
    // tracked: the first frame detected afresh (not timed), the next ones from the previous crop / ROI
    const tracked: number[] = [];
    let foundT = 0;
    for (let r = 0; r < runs; r++) {
      det.reset();
      await det.detect(frames[0]);
      foundT = 0;
      const t0 = performance.now();
      for (const f of frames.slice(1)) foundT += (await det.detect(f, { track: true })).length ? 1 : 0;
      tracked.push((performance.now() - t0) / (frames.length - 1));
    }
    det.dispose();
    // the same fresh detection plus the flip test (the mirrored image too; not for MultiPose)
    let flip = '-';
    if (name !== 'movenet-multipose') {
      const detF = await createDetector(name, { flipTest: true, runtime });
      const withFlip = await timeRuns(async () => { for (const f of frames) await detF.detect(f); }, runs, 1, quick ? 0 : 1);
      detF.dispose();
      flip = fmt(scale(stats(withFlip), 1 / frames.length), 1);
    }
    const s = scale(stats(fresh), 1 / frames.length), t = stats(tracked);
    detMs[label] = s;
    detRows.push([label, fmt(s, 1), fmt(perSecond(s), 1), `${found}/${frames.length}`, fmt(t, 1), `${foundT}/${frames.length - 1}`, flip]);
  }
  const missed = detRows.filter((r) => !r[3].startsWith(`${frames.length}/`)).map((r) => `${r[0]} (${r[3]})`);
  if (missed.length) {
    res.notes.push(`Person found in fewer than all frames: ${missed.join(', ')}. The person is about 270 px tall in the 1280 x 720 frame; BlazePose's person detector sees the whole frame letterboxed to 224 px (about 50 px for the person), the likely reason; it finds the people of the 1000 x 1000 photos (peer part).`);
  }
  const light = detMs['movenet-lightning'].median;
  for (const r of detRows) r.push(ratio(detMs[r[0]].median, light));
  res.tables.push({
    title: `2D detectors on one thread, 1280 x 720 frames (${frames.length} consecutive frames of the clip per run); MoveNet's network on onnxruntime-node (the default) and on TF.js wasm (\`--detector-runtime tfjs\`, as pose-detection loads it). Fresh: \`detect(frame)\` as for a photo or a video key frame (single-person MoveNet: two passes, the second on the crop the first found). Tracked: \`detect(frame, { track: true })\`, one pass on the previous frame's crop / region of interest. Flip test: fresh plus the mirrored image detected and fused (\`flipTest\`, \`poselift run --flip-test\`; off by default)`,
    head: ['detector', 'ms/frame fresh', 'frames/s fresh', 'person found', 'ms/frame tracked', 'found tracked', 'ms/frame flip test', 'fresh time vs Lightning'],
    rows: detRows,
  });

  // --- lifting stages on real poses
  ctx.log('stages: lifting');
  const lifter = await Lifter.load(ctx.models);
  const W = TRACK_WINDOW;
  const { people, cam } = realPoses(W);
  const nets = videoNets(lifter);
  const nets1 = stats(await timeRuns(() => Promise.all([nets.posenet.predict([people[0]], { kind: 'coco' }), nets.rootnet.predict([people[0]], { kind: 'coco' })]), runs, quick ? 5 : 100, 3));
  const netsW = scale(stats(await timeRuns(() => Promise.all([nets.posenet.predict(people, { kind: 'coco' }), nets.rootnet.predict(people, { kind: 'coco' })]), runs, quick ? 1 : 10, 1)), 1 / W);
  const inputs = await liftInputs(lifter, people, cam);
  const nFit = quick ? 16 : W;
  const search = scale(stats(await timeRuns(() => { for (let i = 0; i < nFit; i++) placePerson(inputs[i], LIFT_DEFAULTS); }, runs, 1, 1)), 1 / nFit);
  const fit = scale(stats(await timeRuns(() => { for (let i = 0; i < nFit; i++) liftPerson(inputs[i], LIFT_DEFAULTS); }, runs, 1, 1)), 1 / nFit);
  const seq = scale(stats(await timeRuns(() => liftSequence(inputs.slice(0, nFit), 25, LIFT_DEFAULTS), runs, 1, 1)), 1 / nFit);
  res.tables.push({
    title: `Lifting stages, real poses (ground-truth 2D of Human3.6M S8), ms per person-frame`,
    head: ['stage', 'ms/person', 'notes'],
    rows: [
      ['PoseNet + RootNet, batch 1', fmt(nets1, 3), 'both with test-time mirroring (2 rows each)'],
      [`PoseNet + RootNet, batch ${W} (one track window)`, fmt(netsW, 4), `${ratio(nets1.median, netsW.median, 1)} faster than batch 1`],
      ['depth search', fmt(search, 3), 'closed-form x, y per candidate depth, coarse to fine'],
      ['depth search + fitter, one frame', fmt(fit, 3), `fitter alone ≈ ${(fit.median - search.median).toFixed(3)} ms`],
      [`depth search + temporal fit, ${nFit}-frame track at 25 fps`, fmt(seq, 3), 'what a video frame costs (per frame)'],
    ],
  });

  // --- end to end on a video, and the lifting share of it, in the same run
  ctx.log('stages: end to end');
  // a short and a long clip in one runInputs call: the long one's time is the whole-video figure; the
  // difference of the two (per extra frame) is the steady-state rate, free of per-input start-up
  // (detector threads, model loads) wherever the video path does it. Quick: 1 s vs 2 s at 10 fps.
  const [shortC, longC] = quick ? [await personClip(1), await personClip(2)] : [await personClip(1), clip10];
  const fps = quick ? 10 : undefined;
  const outDir = path.join(ctx.tmp, 'e2e');
  fs.mkdirSync(outDir, { recursive: true });
  const whole: number[] = [], steady: number[] = [], liftMs: number[] = [], liftMsFlip: number[] = [];
  /** ms per frame of the long clip whole, and per extra frame over the short one (the steady state) */
  const timing = (results: RunSummary[]) => {
    const n = results[1].frames, ns = results[0].frames;
    return { whole: results[1].seconds * 1000 / n, steady: (results[1].seconds - results[0].seconds) * 1000 / (n - ns) };
  };
  /**
   * ms per frame of lifting `doc`'s keypoints alone: the same WindowedTrackLifter the video path uses, with the
   * detector's keypoint adapter applied as the video path does, the track given the kind liftVideoFrames gives it
   */
  const liftAlone = async (doc: PoseliftDoc, detector: DetectorName, o: LiftCallOptions = {}): Promise<number> => {
    const adapter = lifter.adapterFor(detector);
    const c = doc.camera;
    const vcam: Intrinsics = { fx: c.fx, fy: c.fy, cx: c.cx, cy: c.cy, width: c.width, height: c.height };
    const kps = doc.frames.map((f) => f.people[0] ? { layout: f.people[0].layout2d, data: Float64Array.from(f.people[0].keypoints2d.flat()) } : null);
    const layout = kps.find(Boolean)?.layout;
    const t0 = performance.now();
    const tl = new WindowedTrackLifter<number>(lifter, vcam, doc.fps, () => {}, layout ? { kind: kindOfLayout(layout), adapted: adapter !== undefined, ...o } : o);
    for (let i = 0; i < kps.length; i++) {
      const k = kps[i];
      await tl.push(i, k ? normalisedH36m(k, vcam, 0, adapter) : null);
    }
    await tl.finish();
    return (performance.now() - t0) / doc.frames.length;
  };
  let framesDone = 0, framesShort = 0, framesWithPerson = 0;
  const e2eRuns = Math.min(runs, 3);
  for (let r = 0; r < e2eRuns; r++) {
    const results = await runInputs([shortC, longC], { detector: E2E_DETECTOR, models: ctx.models, out: outDir, fps });
    const doc = results[1].doc;
    framesDone = doc.frames.length;
    framesShort = results[0].doc.frames.length;
    const t = timing(results);
    whole.push(t.whole);
    steady.push(t.steady);
    framesWithPerson = doc.frames.filter((f) => f.people.length > 0).length;
    // the lifting alone on this run's keypoints (COCO-style, lifted by temporal.onnx as the video path does)
    liftMs.push(await liftAlone(doc, E2E_DETECTOR));
    // the same with the temporal lifter's test-time mirroring the other way round (TEMPORAL_FLIP_TEST)
    liftMsFlip.push(await liftAlone(doc, E2E_DETECTOR, { temporalFlipTest: !TEMPORAL_FLIP_TEST }));
  }
  // the default video path (no --detector: DEFAULT_VIDEO_DETECTOR), the same clips, timed the same way (issue 19's
  // frames/s target is on the default path)
  const defWhole: number[] = [], defSteady: number[] = [], defSteadyTfjs: number[] = [], defLiftMs: number[] = [];
  if (DEFAULT_VIDEO_DETECTOR !== E2E_DETECTOR) {
    for (let r = 0; r < e2eRuns; r++) {
      const results = await runInputs([shortC, longC], { models: ctx.models, out: outDir, fps });
      const t = timing(results);
      defWhole.push(t.whole);
      defSteady.push(t.steady);
      defLiftMs.push(await liftAlone(results[1].doc, DEFAULT_VIDEO_DETECTOR));
      // the same with the detector's network on TF.js wasm (before 2026-12-05 the only runtime)
      defSteadyTfjs.push(timing(await runInputs([shortC, longC], { models: ctx.models, out: outDir, fps, detectorRuntime: 'tfjs' })).steady);
    }
  }
  const wholeS = stats(whole), steadyS = stats(steady), liftS = stats(liftMs);
  const defSteadyS = stats(defSteady), defShare = stats(defSteady.map((ms, i) => defLiftMs[i] / ms));
  const share = stats(steady.map((ms, i) => liftMs[i] / ms));
  const shareFlip = stats(steady.map((ms, i) => liftMsFlip[i] / ms));
  const flipName = `the temporal lifter ${TEMPORAL_FLIP_TEST ? 'without' : 'with'} test-time mirroring (the default ${TEMPORAL_FLIP_TEST ? 'with' : 'without'})`;
  const fpsWhole = perSecond(wholeS), fpsSteady = perSecond(steadyS);
  const pct = (x: Stats) => `${fmt({ ...x, median: x.median * 100, min: x.min * 100, max: x.max * 100 }, 1)} %`;
  res.tables.push({
    title: `End to end: \`runInputs\` (= \`poselift run\`, default settings) on 1280 x 720 videos of one person, MoveNet Lightning: ${path.basename(longC)} (${framesDone} frames) after ${path.basename(shortC)} (${framesShort} frames)${fps ? ` at --fps ${fps}` : ''}, ${e2eRuns} run(s)`,
    head: ['measure', 'value'],
    rows: [
      ['frames/s, steady state (long minus short video: decode, detect, track, lift)', fmt(fpsSteady, 1)],
      [`frames/s, whole ${framesDone}-frame video (with its start-up and the JSON write)`, fmt(fpsWhole, 1)],
      ['ms/frame, steady state', fmt(steadyS, 1)],
      ['ms/frame, lifting alone (normalise, PoseNet, RootNet, depth search, temporal fit; same keypoints, same lifter)', fmt(liftS, 2)],
      ['lifting share of the steady-state frame time (same run)', pct(share)],
      [`ms/frame, lifting alone, ${flipName}`, fmt(stats(liftMsFlip), 2)],
      [`lifting share, ${flipName}`, pct(shareFlip)],
      ['frames with a person', `${framesWithPerson}/${framesDone}`],
      ['fresh Lightning detection on one thread (table above) / steady-state frame', ratio(light, steadyS.median)],
      ...(defSteady.length ? [
        [`frames/s, steady state, the default video detector (${DEFAULT_VIDEO_DETECTOR}, no --detector)`, fmt(perSecond(defSteadyS), 1)],
        [`frames/s, whole ${framesDone}-frame video, ${DEFAULT_VIDEO_DETECTOR}`, fmt(perSecond(stats(defWhole)), 1)],
        [`ms/frame, lifting alone, ${DEFAULT_VIDEO_DETECTOR}'s keypoints`, fmt(stats(defLiftMs), 2)],
        [`lifting share of the steady-state frame time, ${DEFAULT_VIDEO_DETECTOR} (same run)`, pct(defShare)],
        [`frames/s, steady state, ${DEFAULT_VIDEO_DETECTOR} with --detector-runtime tfjs`, fmt(perSecond(stats(defSteadyTfjs)), 1)],
        ['default video path: onnxruntime detector vs TF.js wasm detector (steady state, same run)', ratio(stats(defSteadyTfjs).median, defSteadyS.median)],
      ] : []),
    ],
  });
  res.targets.push(
    { target: 'lifting + fitting < 10 % of the frame time (video, Lightning)', measured: `${(share.median * 100).toFixed(1)} %`, met: quick ? null : share.median < 0.1 },
    { target: 'end to end ≥ 25 frames/s with MoveNet Lightning (720p, one person)', measured: `${fpsSteady.median.toFixed(1)} frames/s steady state (${fpsWhole.median.toFixed(1)} over the whole ${framesDone}-frame video)`, met: quick ? null : fpsSteady.median >= 25 },
  );
  if (defSteady.length) {
    const d = perSecond(defSteadyS);
    res.targets.push(
      { target: `end to end ≥ 25 frames/s on the default video path (${DEFAULT_VIDEO_DETECTOR}; 720p, one person)`, measured: `${d.median.toFixed(1)} frames/s steady state`, met: quick ? null : d.median >= 25 },
      { target: `lifting + fitting < 10 % of the frame time (video, the default path: ${DEFAULT_VIDEO_DETECTOR})`, measured: `${(defShare.median * 100).toFixed(1)} %`, met: quick ? null : defShare.median < 0.1 },
    );
  }
  return res;
}
