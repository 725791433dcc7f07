/**
 * `poselift run` (src/run): the whole path from pixels on the four Human3.6M photos with their true
 * intrinsics (schema + accuracy), a video made here with ffmpeg (tracking + the temporal path), and bad
 * inputs (one clear error each). Needs ffmpeg on PATH. The research data stays in ../shared/data.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { runInputs, type PoseliftDoc } from '../../src/app/run.js';
import { loadCameraFile, resolveCamera, focalFromFov } from '../../src/camera/resolve.js';
import { hungarian, Tracker } from '../../src/track/tracker.js';
import { evaluateDataset } from '../../src/eval/evaluate.js';
import { DEFAULT_DETECTOR, DEFAULT_VIDEO_DETECTOR } from '../../src/detect/types.js';
import { MODELS, REPO } from '../helpers.js';
import { assertValid, IMAGES, leaveOutModels, loadPhotos, writeCamFile } from '../photos.js';
import { projectCameraPoints } from '../../src/camera/geometry.js';
import { mpjpe as rootAlignedMpjpe, rootError } from '../../src/eval/metrics.js';

globalThis.fetch = (async (input: unknown) => { throw new Error(`unexpected network fetch of ${String(input)}`); }) as typeof fetch;
const photos = loadPhotos();


let tmp = '';

const base = { models: MODELS };

before(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'poselift-run-')); });

after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

const camFile = (i: number) => writeCamFile(tmp, photos[i], i);

test('run --flip-test (S5, MoveNet Thunder): recorded in the document, and its 2D left ankle is the repaired one', async () => {
  const i = photos.findIndex((p: { id: string }) => p.id.startsWith('S5'));
  const p = photos[i];
  const intr = { fx: p.cam.f[0], fy: p.cam.f[1], cx: p.cam.c[0], cy: p.cam.c[1], k: p.cam.k, p: p.cam.p };
  const truth = projectCameraPoints(intr, p.gt); // h36m17 pixels; left ankle = 6
  const ankle = async (flipTest: boolean) => {
    const [r] = await runInputs([p.file], { ...base, detector: 'movenet-thunder', camera: camFile(i), flipTest, out: path.join(tmp, `flip-${flipTest}.json`) });
    const doc = JSON.parse(readFileSync(r.out, 'utf8')) as PoseliftDoc;
    assertValid(doc);
    assert.equal(doc.detector.flip_test, flipTest ? true : undefined);
    const k = doc.frames[0].people[0].keypoints2d[15]; // coco17 left ankle
    return Math.hypot(k[0] - truth[12], k[1] - truth[13]);
  };
  const [one, flip] = [await ankle(false), await ankle(true)];
  console.log(`S5 left ankle in the output: ${one.toFixed(0)} px one pass, ${flip.toFixed(0)} px with --flip-test`);
  assert.ok(one > 80 && flip < 25, `one pass ${one.toFixed(0)} px, flip test ${flip.toFixed(0)} px`);
});

test('run --detector-runtime tfjs (S1, MoveNet Thunder): recorded in the document; the default onnxruntime path gives the same answer', async () => {
  const i = photos.findIndex((p: { id: string }) => p.id.startsWith('S1'));
  const doc = async (detectorRuntime?: 'tfjs') => {
    const [r] = await runInputs([photos[i].file], { ...base, detector: 'movenet-thunder', camera: camFile(i), detectorRuntime, out: path.join(tmp, `runtime-${detectorRuntime ?? 'default'}.json`) });
    const d = JSON.parse(readFileSync(r.out, 'utf8')) as PoseliftDoc;
    assertValid(d);
    return d;
  };
  const [onnx, tfjs] = [await doc(), await doc('tfjs')];
  assert.equal(onnx.detector.runtime, undefined);
  assert.equal(tfjs.detector.runtime, 'tfjs');
  const a = onnx.frames[0].people[0], b = tfjs.frames[0].people[0];
  const d2 = Math.max(...a.keypoints2d.map((k, j) => Math.hypot(k[0] - b.keypoints2d[j][0], k[1] - b.keypoints2d[j][1])));
  const [ja, jb] = [a.joints3d!, b.joints3d!];
  const d3 = Math.max(...ja.map((k, j) => Math.hypot(k[0] - jb[j][0], k[1] - jb[j][1], k[2] - jb[j][2])));
  console.log(`onnxruntime vs TF.js detector on S1: 2D ${d2.toFixed(3)} px, 3D ${d3.toFixed(2)} mm at most`);
  assert.ok(d2 < 0.5 && d3 < 5, `2D ${d2} px, 3D ${d3} mm`);
});

test('two people in one photo (S7 and S8 side by side, one camera): both found, each at its own place', async () => {
  // S7 and S8 were taken by the same camera. A 500 px wide strip around each person, side by side: a
  // strip moved by d px is seen by that camera as the body with X' = X + d Z / fx (exact for a pinhole;
  // a shear of |d| / fx <= 0.22 of each joint's depth offset, <= ~35 mm here, which no real body could
  // make, so the limits below are generous). The lens distortion is left out of the camera file (the same
  // small error for both people).
  const [a, b] = [photos[2], photos[3]];
  const [fx, cx] = [a.cam.f[0], a.cam.c[0]];
  const strips = [a, b].map((p) => {
    let u = 0;
    for (let k = 0; k < 17; k++) u += (fx * p.gt[k * 3] / p.gt[k * 3 + 2] + cx) / 17;
    return Math.round(Math.max(0, Math.min(500, u - 250)));
  });
  const composite = path.join(tmp, 'two.jpg');
  const strip = (p: typeof a, left: number) => sharp(p.file).extract({ left, top: 0, width: 500, height: 1000 }).toBuffer();
  await sharp({ create: { width: 1000, height: 1000, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite([{ input: await strip(a, strips[0]), left: 0, top: 0 }, { input: await strip(b, strips[1]), left: 500, top: 0 }])
    .jpeg({ quality: 95 }).toFile(composite);
  const cf = path.join(tmp, 'two-cam.json');
  writeFileSync(cf, JSON.stringify({ fx, fy: a.cam.f[1], cx, cy: a.cam.c[1] }));
  const gts = [a, b].map((p, i) => {
    const d = i * 500 - strips[i];
    const g = Array.from(p.gt as Float32Array);
    for (let k = 0; k < 17; k++) g[k * 3] += (d * g[k * 3 + 2]) / fx;
    return g;
  });
  // the MultiPose keypoint adapter measured on the other two photos (S1, S5), not on these two
  const [r] = await runInputs([composite], { models: leaveOutModels(tmp, 'movenet-multipose', [a.id, b.id]), camera: cf, detector: 'movenet-multipose', out: path.join(tmp, 'two.json') });
  assertValid(r.doc);
  const people = r.doc.frames[0].people;
  assert.equal(people.length, 2, 'two people');
  const byX = [...people].sort((p, q) => p.root![0] - q.root![0]);
  const stats = byX.map((p, i) => {
    const g = gts[i], j = p.joints3d!.flat();
    return { mpjpe: rootAlignedMpjpe(j, g), root: rootError(j, g).error };
  });
  const dist = (u: number[], v: number[]) => Math.hypot(u[0] - v[0], u[1] - v[1], u[2] - v[2]);
  const dTrue = dist(gts[0], gts[1]), dEst = dist(byX[0].root!, byX[1].root!);
  console.log(`two people: MPJPE ${stats.map((s) => s.mpjpe.toFixed(1)).join(' / ')} mm, root error ${stats.map((s) => s.root.toFixed(0)).join(' / ')} mm, distance apart ${dEst.toFixed(0)} mm (true ${dTrue.toFixed(0)})`);
  // measured (MultiPose Lightning, adapter from S1 + S5, PoseNet with part mixing 0.8), S7 / S8: MPJPE 112.4 /
  // 65.5 mm, root error 50 / 302 mm, 2732 mm apart (true 2938); limits ~10 % above (mixing 0.5: 112.7 / 62.5,
  // 39 / 301, 2734 mm; before mixing: 111.4 / 53.7, 57 / 244, 2761 mm).
  assert.ok(stats[0].mpjpe < 124 && stats[1].mpjpe < 72, 'poses');
  assert.ok(stats[0].root < 70 && stats[1].root < 332, 'root positions');
  assert.ok(Math.abs(dEst / dTrue - 1) < 0.1, 'distance between the two people within 10 %');
});

test('a folder of photos: one frame per image, fps 0, default camera without EXIF', async () => {
  const [r] = await runInputs([path.join(IMAGES, 'images')], { ...base, out: path.join(tmp, 'folder.json'), detector: 'movenet-lightning' });
  assertValid(r.doc);
  assert.equal(r.doc.fps, 0);
  assert.equal(r.doc.frames.length, 4);
  assert.equal(r.doc.camera.source, 'default');
  assert.ok(Math.abs(r.doc.camera.fx - focalFromFov(1000, 1002)) < 0.01);
  assert.ok(r.doc.frames.every((f) => f.people.length === 1 && f.time_s === null));
});

test('video: one stable id per held photo, temporal path, --fps/--start/--duration', async () => {
  // each photo held for 6 frames at 10 fps (an image sequence: exact, unlike the concat demuxer's durations)
  const seqDir = path.join(tmp, 'seq');
  mkdirSync(seqDir);
  for (let n = 0; n < 24; n++) symlinkSync(photos[Math.floor(n / 6)].file, path.join(seqDir, `f${String(n).padStart(3, '0')}.jpg`));
  const video = path.join(tmp, 'held.mp4');
  const ff = spawnSync('ffmpeg', ['-v', 'error', '-y', '-framerate', '10', '-i', path.join(seqDir, 'f%03d.jpg'), '-vf', 'scale=500:500',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', video]);
  assert.equal(ff.status, 0, ff.stderr.toString());
  const [r] = await runInputs([video], { ...base, out: path.join(tmp, 'video.json'), detector: 'movenet-lightning', overlay: path.join(tmp, 'ov') });
  assertValid(r.doc);
  assert.equal(r.doc.fps, 10);
  const frames = r.doc.frames;
  assert.ok(frames.length >= 22 && frames.length <= 26, `${frames.length} frames`);
  const segIds: Set<number>[] = [0, 1, 2, 3].map(() => new Set());
  for (const f of frames) {
    const seg = Math.min(3, Math.floor((f.time_s! + 1e-6) / 0.6));
    // skip the frame at each cut (the encoder may blend it)
    if (Math.abs(f.time_s! - Math.round(f.time_s! / 0.6) * 0.6) < 0.05 && f.index > 0) continue;
    assert.equal(f.people.length, 1, `frame ${f.index}: one person`);
    assert.ok(f.people[0].joints3d, `frame ${f.index}: lifted`);
    segIds[seg].add(f.people[0].id);
  }
  console.log('video ids per held photo:', segIds.map((s) => [...s].join(',')).join(' | '));
  for (const s of segIds) assert.equal(s.size, 1, 'one id per held photo');
  assert.equal(new Set(segIds.map((s) => [...s][0])).size, 4, 'a new id after each cut (a different person)');
  assert.ok(existsSync(path.join(tmp, 'ov', 'held_000000.png')));
  // a 10 fps video's COCO-style tracks take temporal.onnx; --no-temporal (temporal: false) lifts each frame with PoseNet
  assert.match(r.doc.models.temporal ?? '', /^temporal-/);
  const [plain] = await runInputs([video], { ...base, out: path.join(tmp, 'plain.json'), detector: 'movenet-lightning', temporal: false, duration: 1 });
  assert.equal(plain.doc.models.temporal, undefined);
  assert.equal(plain.doc.frames.length, 10);
  assert.ok(plain.doc.frames.every((f) => f.people.every((p) => p.joints3d)), 'every person lifted');
  // smoothness: within a held photo the root barely moves
  const roots = frames.filter((f) => f.time_s! > 0.05 && f.time_s! < 0.55).map((f) => f.people[0].root![2]);
  assert.ok(Math.max(...roots) - Math.min(...roots) < 150, `root z spread ${Math.max(...roots) - Math.min(...roots)} mm`);
  // --flip-test is for photos: a video says so once and its document does not claim it
  const said: string[] = [];
  const [cut] = await runInputs([video], { ...base, out: path.join(tmp, 'cut.json'), detector: 'movenet-lightning', fps: 5, start: 0.6, duration: 1, flipTest: true, warn: (m) => said.push(m) });
  assert.deepEqual(said, [`${video}: --flip-test applies to photos only; this video's frames are detected without it`]);
  assert.equal(cut.doc.detector.flip_test, undefined);
  assert.equal(cut.doc.frames.length, 5);
  assert.ok(Math.abs(cut.doc.frames[0].time_s! - 0.6) < 1e-6);
  // no --detector: each input gets its kind's default (photos BlazePose, videos MoveNet Thunder) and its adapter
  const [photoDoc, videoDoc] = (await runInputs([photos[0].file, video], { ...base, out: path.join(tmp, 'defaults') + '/', fps: 5, duration: 0.6 })).map((x) => x.doc);
  assert.equal(photoDoc.detector.name, DEFAULT_DETECTOR);
  assert.equal(videoDoc.detector.name, DEFAULT_VIDEO_DETECTOR);
  assert.match(photoDoc.models.keypoint_adapter ?? '', new RegExp(`^${DEFAULT_DETECTOR} calibrated`));
  assert.match(videoDoc.models.keypoint_adapter ?? '', new RegExp(`^${DEFAULT_VIDEO_DETECTOR} calibrated`));
  assert.equal(videoDoc.frames.length, 3);
  // a truncated copy: one clear error naming the file
  const bad = path.join(tmp, 'truncated.mp4');
  writeFileSync(bad, readFileSync(video).subarray(0, Math.floor(statSync(video).size / 2)));
  await assert.rejects(runInputs([bad], { ...base, out: path.join(tmp, 'bad.json') }), (e: Error) => {
    assert.match(e.message, /truncated\.mp4/); assert.match(e.message, /corrupt|truncated|re-export|not a readable video/i); return true;
  });
});

test('bad inputs: one clear error naming the file and the fix', async () => {
  const txt = path.join(tmp, 'notes.jpg');
  writeFileSync(txt, 'not an image');
  await assert.rejects(runInputs([txt], base), /notes\.jpg.*not a readable image.*pass an uncorrupted image/);
  const odd = path.join(tmp, 'notes.xyz');
  writeFileSync(odd, 'not an image');
  await assert.rejects(runInputs([odd], base), /notes\.xyz: is neither a readable image nor a video; pass/);
  await assert.rejects(runInputs([path.join(tmp, 'missing.jpg')], base), /missing\.jpg: does not exist/);
  const cam = path.join(tmp, 'broken.json');
  writeFileSync(cam, '{"fx": 1000, "fy": ');
  await assert.rejects(runInputs([photos[0].file], { ...base, camera: cam }), /broken\.json: camera file is not valid JSON.*give/);
  writeFileSync(cam, '{"fx": "a", "fy": 1, "cx": 1, "cy": 1}');
  assert.throws(() => loadCameraFile(cam), /broken\.json: camera field fx: .*give/);
  for (const fx of [0, -500]) {
    writeFileSync(cam, JSON.stringify({ fx, fy: 1000, cx: 500, cy: 500 }));
    assert.throws(() => loadCameraFile(cam), new RegExp(`broken\\.json: camera: fx must be a finite number > 0.*got ${fx}; set it`));
  }
  writeFileSync(cam, JSON.stringify({ f: [-1, 1000], c: [500, 500] }));
  assert.throws(() => loadCameraFile(cam), /broken\.json: camera: fx must be a finite number > 0/);
  writeFileSync(cam, JSON.stringify({ f: [1000, 1000], c: [500, 500], size: [640, 480] }));
  assert.throws(() => resolveCamera(1000, 1002, loadCameraFile(cam), undefined, cam, 'x.jpg'), /broken\.json: calibrated for 640 x 480 px but x\.jpg is 1000 x 1002/);
});

test('no person in a photo: empty people and a warning, not an error', async () => {
  const blank = path.join(tmp, 'wall.png');
  await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 200, b: 190 } } }).png().toFile(blank);
  const warnings: string[] = [];
  const [r] = await runInputs([blank], { ...base, out: path.join(tmp, 'wall.json'), warn: (m) => warnings.push(m) });
  assertValid(r.doc);
  assert.deepEqual(r.doc.frames[0].people, []);
  assert.match(warnings.join('\n'), /wall\.png: no person detected/);
});

test('tracker: Hungarian assignment and track ends', () => {
  assert.deepEqual(hungarian([[4, 1, 3], [2, 0, 5], [3, 2, 2]]), [1, 0, 2]);
  assert.deepEqual(hungarian([[1, 2], [0, 9], [5, 5]]), [1, 0, -1]);
  const kp = (x: number) => Float64Array.from({ length: 51 }, (_, i) => (i % 3 === 2 ? 1 : i % 3 === 0 ? x + i : 100 + i));
  const t = new Tracker({ maxMissed: 2 });
  const a = { bbox: [0, 0, 100, 200] as [number, number, number, number], keypoints: kp(0) };
  const b = { bbox: [500, 0, 100, 200] as [number, number, number, number], keypoints: kp(500) };
  assert.deepEqual(t.update([a, b]), [1, 2]);
  assert.deepEqual(t.update([b, a]), [2, 1]);
  t.update([]); t.update([]); t.update([]);
  assert.deepEqual(t.update([a]), [3]);
});

test('eval --input images: the run path from pixels with the views\' true intrinsics (no keypoint adapter: it was calibrated on these photos)', async () => {
  const r = await evaluateDataset(IMAGES, { input: 'images', stride: 1, models: MODELS, adapter: false });
  assert.equal(r.frames, 4);
  assert.equal(r.unliftable, 0);
  assert.equal(r.detector, DEFAULT_DETECTOR);
  assert.equal(r.keypoint_adapter, null);
  console.log(`eval images: MPJPE ${r.mpjpe.toFixed(1)} mm, MRPE ${r.mrpe.toFixed(1)} mm`);
  // keypoints no adapter moved go to posenet-coco (COCO_POSENET unadapted)
  assert.match(r.models.posenet, /^posenet-coco-/);
  // measured 70.2 / 190.2 (BlazePose, posenet-coco; with posenet 74.3 / 190.3; Thunder with PoseNet's mixing 0.5:
  // 72.5 / 219.9); the adapter's leave-one-out per photo is the test above
  assert.ok(r.mpjpe <= 78 && r.mrpe <= 210, `${r.mpjpe} / ${r.mrpe}`);
});

test('intrinsics from EXIF FocalLengthIn35mmFilm: f = f35 / 36 x max(width, height)', async () => {
  const photo = path.join(tmp, 'exif.jpg');
  await sharp(path.join(REPO, 'samples', 'person.jpg')).withExif({ IFD2: { FocalLengthIn35mmFilm: '26' } }).jpeg().toFile(photo);
  const [r] = await runInputs([photo], { ...base, out: path.join(tmp, 'exif.json'), detector: 'movenet-lightning' });
  assertValid(r.doc);
  assert.equal(r.doc.camera.source, 'exif');
  assert.ok(Math.abs(r.doc.camera.fx - (26 / 36) * 1000) < 0.01, String(r.doc.camera.fx));
  assert.equal(r.doc.frames[0].people.length, 1);
});

test('keepDocuments: false (the CLI, the queue): the same bytes written, a summary returned instead of the document', async () => {
  const folder = path.join(IMAGES, 'images');
  const opts = { ...base, detector: 'movenet-lightning' as const };
  const [kept] = await runInputs([folder], { ...opts, out: path.join(tmp, 'kept.json') });
  const [streamed] = await runInputs([folder], { ...opts, out: path.join(tmp, 'streamed.json'), keepDocuments: false });
  assert.equal('doc' in streamed, false);
  assert.equal(readFileSync(streamed.out, 'utf8'), JSON.stringify(kept.doc) + '\n');
  assert.equal(readFileSync(kept.out, 'utf8'), JSON.stringify(kept.doc) + '\n');
  assert.deepEqual({ frames: streamed.frames, personFrames: streamed.personFrames, camera: streamed.camera },
    { frames: 4, personFrames: kept.doc.frames.reduce((n, f) => n + f.people.length, 0), camera: kept.doc.camera });
  assert.equal(kept.frames, 4);
});
