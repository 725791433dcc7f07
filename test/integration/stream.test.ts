/**
 * Streamed documents (docs/decisions/streamed-documents.md): a video's poselift/1 document is written as
 * its frames become final, so memory does not grow with the video. Checked here: the streamed bytes equal
 * `JSON.stringify(doc) + '\n'` of the document assembled in memory; a failure part-way leaves neither the
 * output nor a temporary file; the frames held at once stay within about one track window however long
 * the track is. The video is made here with ffmpeg from a real Human3.6M photo (9 s at 25 fps: longer
 * than one 192-frame lifting window, so frames are written before the end).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runInputs } from '../../src/app/run.js';
import {
  detectVideo, liftVideoDetections, VideoAssembler, writeVideoDetections, type DetectedVideoFrame, type VideoDetections,
} from '../../src/app/video-stages.js';
import { DocumentWriter, type FrameOut } from '../../src/app/output.js';
import { closeDetectThreads } from '../../src/detect/stream.js';
import { StreamedJsonFile } from '../../src/util/atomic.js';
import { keypointExtent } from '../../src/util/box.js';
import { openDataset } from '../../src/data/dataset.js';
import { Lifter } from '../../src/lift/lifter.js';
import { TRACK_OVERLAP, TRACK_WINDOW } from '../../src/track/track-lift.js';
import { DATA, MODELS } from '../helpers.js';

const PHOTO = path.join(DATA, 'h36m-images', 'images', 'S8_WalkDog_1.55011271_000026.jpg');
const FRAMES = 225;
let tmp: string;
let video: string;
let dets: VideoDetections;

/** Files in `dir` (the output folder of a case): what a run leaves behind. */
const left = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-stream-'));
  video = path.join(tmp, 'walk.mp4');
  const ff = spawnSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', PHOTO, '-t', String(FRAMES / 25), '-r', '25', '-filter_complex',
    "color=c=gray:s=640x360:r=25[bg];[0:v]scale=360:360[fg];[bg][fg]overlay=x='140+120*sin(t)':y=0:shortest=1,format=yuv420p",
    '-c:v', 'libx264', '-preset', 'ultrafast', video]);
  assert.equal(ff.status, 0, ff.stderr.toString());
  dets = await detectVideo(video, { detector: 'movenet-lightning', threads: 1 });
  assert.equal(dets.frames.length, FRAMES);
});

after(async () => { await closeDetectThreads(); fs.rmSync(tmp, { recursive: true, force: true }); });

test('StreamedJsonFile: the bytes of JSON.stringify({ ...head, [key]: items }) + newline; items read back; abort leaves nothing', () => {
  const dir = path.join(tmp, 'json');
  const cases: [object, unknown[]][] = [
    [{ a: 1, b: { c: [1, 2], d: 'ü "q"' }, e: undefined }, [{ x: 1 }, [2, 3], 'é\n', null, 4.5e-7, { y: undefined }]],
    [{}, [1]],
    [{ a: 'only a head' }, []],
    [{}, []],
  ];
  for (const [n, [head, items]] of cases.entries()) {
    const file = path.join(dir, `case${n}.json`);
    const w = new StreamedJsonFile<unknown>(file, 'frames');
    for (const it of items) w.push(it);
    assert.equal(w.count, items.length);
    items.forEach((it, i) => assert.deepEqual(w.item(i), JSON.parse(JSON.stringify(it))));
    assert.equal(fs.existsSync(file), false, 'nothing at the final path before commit');
    w.commit(head);
    assert.equal(fs.readFileSync(file, 'utf8'), JSON.stringify({ ...head, frames: items }) + '\n', `case ${n}`);
  }
  assert.deepEqual(left(dir), cases.map((_c, n) => `case${n}.json`), 'no temporary file after commit');
  const aborted = new StreamedJsonFile<number>(path.join(dir, 'aborted.json'), 'frames');
  aborted.push(1);
  assert.equal(left(dir).filter((f) => f.endsWith('.tmp')).length, 1, 'the items go to one temporary file');
  aborted.abort();
  // a commit that cannot rename (a folder in the way) fails and removes both temporary files
  fs.mkdirSync(path.join(dir, 'blocked.json'));
  const blocked = new StreamedJsonFile<number>(path.join(dir, 'blocked.json'), 'frames');
  blocked.push(1);
  assert.throws(() => blocked.commit({}));
  assert.deepEqual(left(dir).filter((f) => !/^case\d\.json$/.test(f)), ['blocked.json']);
  assert.deepEqual(left(path.join(dir, 'blocked.json')), []);
  // the document writer says it in one line naming the input, the output and the fix
  const doc = new DocumentWriter('clip.mp4', path.join(dir, 'blocked.json'), false);
  doc.frame({ index: 0, time_s: 0, people: [] });
  assert.throws(() => doc.commit({ input: { frames: 0 } } as unknown as Parameters<DocumentWriter['commit']>[0]),
    (e: Error) => /^clip\.mp4: writing .*blocked\.json failed \(.+\); check that its folder is writable and has free space$/.test(e.message));
  assert.deepEqual(left(dir).filter((f) => !/^case\d\.json$/.test(f)), ['blocked.json']);
});

test('a streamed video document is byte-identical to the one assembled in memory (run and the queue\'s path)', async () => {
  const ref = JSON.stringify(await liftVideoDetections(dets, { models: MODELS })) + '\n';
  // the queue's path: detections given one at a time, the document streamed to its file
  const dir = path.join(tmp, 'same');
  const queued = path.join(dir, 'queued.json');
  const counts = await writeVideoDetections(dets, dets.frames, queued, { models: MODELS });
  assert.equal(fs.readFileSync(queued, 'utf8'), ref);
  assert.deepEqual(counts, { frames: FRAMES, personFrames: dets.frames.reduce((n, f) => n + f.people.length, 0) });
  // `poselift run` without keeping the document (the CLI), with --overlay reading the frames back from disk
  const out = path.join(dir, 'walk.poselift.json');
  const [r] = await runInputs([video], { models: MODELS, detector: 'movenet-lightning', threads: 1, out, keepDocuments: false, overlay: path.join(tmp, 'ov') });
  assert.equal('doc' in r, false, 'no document held');
  assert.equal(r.frames, FRAMES);
  assert.equal(r.personFrames, counts.personFrames);
  assert.equal(fs.readFileSync(out, 'utf8'), ref);
  assert.deepEqual(left(dir), ['queued.json', 'walk.poselift.json'], 'no temporary file left');
  const overlays = left(path.join(tmp, 'ov'));
  assert.equal(overlays.length, FRAMES);
  assert.equal(overlays[FRAMES - 1], `walk_${String(FRAMES - 1).padStart(6, '0')}.png`);
});

test('a failure part-way through a video leaves neither the output nor a temporary file', async () => {
  const dir = path.join(tmp, 'fail');
  fs.mkdirSync(dir);
  const out = path.join(dir, 'walk.poselift.json');
  let seen: string[] = [];
  let size = 0;
  // `poselift run`: fails part-way, when the first window's frames are already on disk (a window is written once
  // the temporal lifter's frames after it have come: 13 at 25 fps for COCO-style keypoints, so frame 215)
  const failAt = TRACK_WINDOW + (await Lifter.load(MODELS)).trackContext(25, { kind: 'coco' }) + 10;
  assert.ok(failAt < FRAMES, `the video (${FRAMES} frames) outlasts frame ${failAt}`);
  await assert.rejects(runInputs([video], {
    models: MODELS, detector: 'movenet-lightning', threads: 1, out, keepDocuments: false,
    progress: (done) => { if (done === failAt) { seen = left(dir); size = fs.statSync(path.join(dir, seen[0])).size; throw new Error('walk.mp4: the disk went away'); } },
  }), /walk\.mp4: the disk went away/);
  assert.equal(seen.length, 1, `one temporary file while running: ${seen.join(', ')}`);
  assert.match(seen[0], /^\.walk\.poselift\.json\..*\.tmp$/);
  assert.ok(size > 100_000, `${size} bytes of frames already streamed to it`);
  assert.deepEqual(left(dir), [], 'no output, no temporary file');
  // the queue's path: the detections stop part-way (a segment file that cannot be read)
  function* broken(): Generator<DetectedVideoFrame> {
    for (const f of dets.frames) {
      if (f.index === 210) throw new Error('segment 2: unreadable detections');
      yield f;
    }
  }
  await assert.rejects(writeVideoDetections(dets, broken(), out, { models: MODELS }), /segment 2: unreadable detections/);
  assert.deepEqual(left(dir), []);
  // frames out of order: one clear error, nothing written
  const swapped = [dets.frames[1], dets.frames[0], ...dets.frames.slice(2)];
  await assert.rejects(writeVideoDetections(dets, swapped, out, { models: MODELS }), /frames out of order: frame 0 after frame 1/);
  assert.deepEqual(left(dir), []);
});

test('bounded buffering: frames held at once stay within one track window (and the temporal lifter\'s context) on a long two-person video', async () => {
  // 4 windows of held-out S1 (projected ground truth, 50 fps) as detections; a second person (the same
  // motion 700 px to the right) enters at frame 100, so the two tracks' windows are out of phase
  const ds = openDataset(path.join(DATA, 'h36m-train'));
  const si = ds.sequences.findIndex((s) => s.subject === 'S1');
  const cam = ds.camera(si, 0);
  const n = TRACK_WINDOW * 4;
  const gt = ds.groundTruth2d(si, 0, 0, n);
  ds.close();
  const person = (i: number, dx: number) => {
    const data = new Float64Array(51);
    for (let j = 0; j < 17; j++) { data[j * 3] = gt[i * 51 + j * 3] + dx; data[j * 3 + 1] = gt[i * 51 + j * 3 + 1]; data[j * 3 + 2] = 0.9; }
    const e = keypointExtent(data, 0);
    return { keypoints: { layout: 'h36m17' as const, data }, score: 0.9, bbox: [e.x0, e.y0, e.x1 - e.x0, e.y1 - e.y0] as [number, number, number, number] };
  };
  const lifter = await Lifter.load(MODELS);
  const written: FrameOut[] = [];
  let pushed = 0;
  /** frames pushed when each frame was written */
  const when: number[] = [];
  const asm = new VideoAssembler({ lifter, cam, fps: 50 }, (f) => { written.push(f); when.push(pushed); });
  let worst = 0;
  for (let i = 0; i < n; i++) {
    await asm.push({ index: i, timeS: i / 50, people: i < 100 ? [person(i, 0)] : [person(i, 0), person(i - 100, 700)] });
    pushed++;
    worst = Math.max(worst, asm.held);
  }
  await asm.finish();
  console.log(`${n} frames, 2 tracks: at most ${asm.peakHeld} frames held (after a push: ${worst}); window ${TRACK_WINDOW}, overlap ${TRACK_OVERLAP}`);
  assert.equal(written.length, n);
  assert.deepEqual(written.map((f) => f.index), [...Array(n).keys()], 'every frame once, in order');
  assert.ok(written.every((f) => f.people.every((p) => p.joints3d !== null)), 'every person lifted before its frame is written');
  assert.equal(new Set(written.flatMap((f) => f.people.map((p) => p.id))).size, 2, 'two tracks');
  assert.ok(asm.peakHeld >= TRACK_WINDOW - TRACK_OVERLAP && asm.peakHeld <= TRACK_WINDOW + TRACK_OVERLAP + 2, `peak ${asm.peakHeld} frames held`);
  // a track holds one window plus the frames the temporal lifter reads after it (h36m17 keypoints are lifted by
  // temporal-truth.onnx since 2026-12-06: 13 slots at 25 fps = 26 frames at 50 fps)
  const context = lifter.trackContext(50, { kind: 'joints' });
  assert.ok(context > 0 && context <= 26, `the temporal lifter's context ${context}`);
  assert.ok(worst <= TRACK_WINDOW + context, `${worst} frames held between pushes (window ${TRACK_WINDOW}, context ${context})`);
  assert.equal(asm.held, 0);
  // written while the video went on, not at the end: the first frame after one window and its context, the
  // middle one before three quarters of the video was pushed
  assert.ok(when[0] <= TRACK_WINDOW + context, `first frame written after ${when[0]} pushed`);
  assert.ok(when[n / 2] < (3 * n) / 4, `middle frame written after ${when[n / 2]} pushed`);
});
