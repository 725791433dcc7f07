/**
 * The video path in stages (src/app/video-stages.ts, src/detect/stream.ts): detection on threads gives the
 * same frames as on the main thread; detecting frame-aligned segments separately and joining them gives
 * exactly the document of one `poselift run` over the whole video (the queue's segment jobs rely on it).
 * The video is made here with ffmpeg from a real Human3.6M photo moving across a 640x360 frame.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runInputs } from '../../src/app/run.js';
import { detectVideo, liftVideoDetections, videoSegments, type VideoDetections } from '../../src/app/video-stages.js';
import { KEYFRAME_INTERVAL, closeDetectThreads, idleDetectThreadSets } from '../../src/detect/stream.js';
import { probeVideo } from '../../src/detect/index.js';
import { DATA, MODELS } from '../helpers.js';
import { openDataset } from '../../src/data/dataset.js';
import { Lifter, type LiftedPerson } from '../../src/lift/lifter.js';
import { normalisedH36m } from '../../src/lift/normalise.js';
import { WindowedTrackLifter, TRACK_WINDOW } from '../../src/track/track-lift.js';
import { uniqueBoneLengths } from '../../src/lift/solve/skeleton.js';

const PHOTO = path.join(DATA, 'h36m-images', 'images', 'S8_WalkDog_1.55011271_000026.jpg');
let tmp: string;
let video: string;

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'poselift-stages-'));
  video = path.join(tmp, 'moving.mp4');
  // 2.4 s at 25 fps: the photo (scaled to 360 px) slides left and right over a grey frame
  const ff = spawnSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', PHOTO, '-t', '2.4', '-r', '25', '-filter_complex',
    "color=c=gray:s=640x360:r=25[bg];[0:v]scale=360:360[fg];[bg][fg]overlay=x='140+120*sin(2*t)':y=0:shortest=1,format=yuv420p",
    '-c:v', 'libx264', '-preset', 'fast', video]);
  assert.equal(ff.status, 0, ff.stderr.toString());
});

after(async () => { await closeDetectThreads(); rmSync(tmp, { recursive: true, force: true }); });

test('segments: frame-aligned on key-frame chunks, covering the range once', () => {
  const segs = videoSegments({ duration: 10, fps: 25 }, { segmentSeconds: 3 });
  assert.ok(segs.length >= 3);
  assert.equal(segs[0].firstFrame, 0);
  for (let i = 1; i < segs.length; i++) {
    assert.equal(segs[i].firstFrame % KEYFRAME_INTERVAL, 0, 'starts on a key frame');
    assert.equal(segs[i].firstFrame, segs[i - 1].firstFrame + segs[i - 1].frames, 'no gap, no overlap');
    assert.ok(Math.abs(segs[i].start - segs[i].firstFrame / 25) < 1e-9);
  }
  assert.equal(segs.reduce((n, s) => n + s.frames, 0), 250);
  assert.equal(videoSegments({ duration: 10, fps: 25 }, { segmentSeconds: 0 }).length, 1);
  const part = videoSegments({ duration: 10, fps: 25 }, { start: 2, duration: 4, fps: 10, segmentSeconds: 1.6 });
  assert.equal(part.reduce((n, s) => n + s.frames, 0), 40);
  assert.ok(Math.abs(part[part.length - 1].start + part[part.length - 1].duration - 6) < 1e-9, 'ends at start + duration');
});

test('threads: the same detections on 2 threads as on the main thread', async () => {
  const one = await detectVideo(video, { detector: 'movenet-lightning', threads: 1 });
  const two = await detectVideo(video, { detector: 'movenet-lightning', threads: 2 });
  assert.equal(one.frames.length, 60);
  assert.deepEqual(two, one);
  // every frame has the person, and the tracked frames stay on them (a key frame every 16 frames)
  assert.ok(one.frames.every((f) => f.people.length === 1 && f.people[0].score > 0.5), 'person found in every frame');
});

test('thread pool: a second video reuses the idle detection threads and gets the same result; an aborted one ends them', async () => {
  await closeDetectThreads();
  const first = await detectVideo(video, { detector: 'movenet-lightning', threads: 2, duration: 1 });
  assert.equal(idleDetectThreadSets(), 1, 'threads kept after a clean run');
  const t0 = performance.now();
  const second = await detectVideo(video, { detector: 'movenet-lightning', threads: 2, duration: 1 });
  console.log(`second 1 s video on pooled threads: ${(performance.now() - t0).toFixed(0)} ms`);
  assert.deepEqual(second, first);
  assert.equal(idleDetectThreadSets(), 1);
  const stop = new AbortController();
  await assert.rejects(detectVideo(video, {
    detector: 'movenet-lightning', threads: 2, signal: stop.signal,
    progress: (done) => { if (done === 3) stop.abort(new Error('stopped')); },
  }), /stopped/);
  assert.equal(idleDetectThreadSets(), 0, 'threads of a stopped run are ended, not pooled');
  const third = await detectVideo(video, { detector: 'movenet-lightning', threads: 2, duration: 1 });
  assert.deepEqual(third, first);
  await closeDetectThreads();
  assert.equal(idleDetectThreadSets(), 0);
});

test('a process that ends on its own closes its idle detection threads first (never torn down with their onnxruntime sessions open)', () => {
  const src = (f: string) => JSON.stringify(new URL(`../../src/${f}`, import.meta.url).href);
  const script = `import { detectVideo } from ${src('app/video-stages.ts')};
import { idleDetectThreadSets } from ${src('detect/stream.ts')};
const r = await detectVideo(${JSON.stringify(video)}, { detector: 'movenet-lightning', threads: 2, duration: 0.64 });
console.log('frames', r.frames.length, 'pooled', idleDetectThreadSets());
process.on('exit', () => console.log('at exit', idleDetectThreadSets()));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /^frames 16 pooled 1$/m, 'the threads were pooled when the work ended');
  assert.match(child.stdout, /^at exit 0$/m, 'and closed before the process exited');
});

test('frames decoded smaller for detection: keypoints come back in the video\'s own pixels', async () => {
  const full = await detectVideo(video, { detector: 'movenet-lightning', threads: 1, detectSize: 0, duration: 0.64 });
  const half = await detectVideo(video, { detector: 'movenet-lightning', threads: 1, detectSize: 320, duration: 0.64 });
  assert.equal(half.width, 640);
  assert.equal(half.frames.length, full.frames.length);
  let d = 0, n = 0, cx = 0;
  for (let i = 0; i < full.frames.length; i++) {
    const a = full.frames[i].people[0].keypoints, b = half.frames[i].people[0].keypoints;
    for (let k = 0; k < a.length; k += 3) { d += Math.hypot(a[k] - b[k], a[k + 1] - b[k + 1]); cx += b[k] / 17; n++; }
  }
  const mean = d / n;
  console.log(`decoded at 320 x 180 vs 640 x 360: keypoints ${mean.toFixed(2)} px apart on average (in 640 x 360 pixels)`);
  // a scaling error would move every keypoint by tens of pixels (the person is ~360 px tall)
  assert.ok(mean < 4, `mean keypoint difference ${mean} px`);
  assert.ok(cx / full.frames.length > 150, 'x in full-size pixels, not the decoded ones');
});

test('an abort signal (the queue\'s job time limit) stops a video at the next frame and writes nothing', async () => {
  const stop = new AbortController();
  const out = path.join(tmp, 'stopped.json');
  let seen = 0;
  await assert.rejects(runInputs([video], {
    models: MODELS, detector: 'movenet-lightning', out, threads: 2, signal: stop.signal,
    progress: (done) => { seen = done; if (done === 5) stop.abort(new Error('moving.mp4: stopped at the job\'s time limit')); },
  }), /moving\.mp4: stopped at the job's time limit/);
  assert.equal(seen, 5, 'no frame after the abort');
  assert.equal(existsSync(out), false);
  const again = new AbortController();
  await assert.rejects(detectVideo(video, {
    detector: 'movenet-lightning', threads: 1, signal: again.signal,
    progress: (done) => { if (done === 3) again.abort(new Error('segment stopped')); },
  }), /segment stopped/);
});

test('segments detected apart and joined equal one run over the whole video', async () => {
  const whole = await runInputs([video], { models: MODELS, detector: 'movenet-lightning', out: path.join(tmp, 'whole.json') });
  const info = await probeVideo(video);
  const segs = videoSegments(info, { segmentSeconds: 0.7 });
  assert.ok(segs.length >= 3, `${segs.length} segments`);
  const parts: VideoDetections[] = [];
  for (const s of segs) {
    parts.push(await detectVideo(video, { detector: 'movenet-lightning', start: s.start, duration: s.duration, origin: 0, threads: 1 }));
  }
  const joined: VideoDetections = { ...parts[0], start: 0, duration: null, frames: parts.flatMap((p) => p.frames) };
  assert.deepEqual(joined.frames.map((f) => f.index), whole[0].doc.frames.map((f) => f.index));
  const doc = await liftVideoDetections(joined, { models: MODELS });
  assert.deepEqual(doc, whole[0].doc);
  const ids = new Set(doc.frames.flatMap((f) => f.people.map((p) => p.id)));
  assert.equal(ids.size, 1, 'one person id across the segment boundaries');
});

test('a long track keeps one skeleton: bone lengths fixed by its first window', async () => {
  // 3.5 windows of held-out S1 (projected ground truth, 50 fps), lifted window by window as `run` does
  const ds = openDataset(path.join(DATA, 'h36m-train'));
  const si = ds.sequences.findIndex((s) => s.subject === 'S1');
  const cam = ds.camera(si, 0);
  const n = Math.round(TRACK_WINDOW * 3.5);
  const gt = ds.groundTruth2d(si, 0, 0, n);
  ds.close();
  const lifter = await Lifter.load(MODELS);
  const out: LiftedPerson[] = [];
  const w = new WindowedTrackLifter<number>(lifter, cam, 50, (_k, r) => { out.push(r!); });
  for (let i = 0; i < n; i++) await w.push(i, normalisedH36m({ layout: 'h36m17', data: gt.subarray(i * 51, (i + 1) * 51) }, cam));
  await w.finish();
  assert.equal(out.length, n);
  const L = out.map((r) => uniqueBoneLengths(r.joints3d));
  let worst = 0;
  for (const l of L) for (let u = 0; u < l.length; u++) worst = Math.max(worst, Math.abs(l[u] - L[0][u]));
  console.log(`bone lengths over ${n} frames: at most ${worst.toFixed(3)} mm from the first frame's`);
  // cross-fading two windows' joints shortens a bone by a hair where they disagree: well under 1 mm
  assert.ok(worst < 0.5, `bone length drift ${worst} mm`);
});
