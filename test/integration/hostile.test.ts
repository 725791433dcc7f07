/**
 * Hostile media and limits (issue 7, parts 2 and 4): truncated / corrupt JPEG, PNG and MP4 files, 0-byte
 * files, a 20000 x 20000 image (a real header claiming that size, refused by the pixel limit before anything
 * is decoded), a video with no video stream, folders where files are expected, and the size / pixel / frame /
 * time limits. Everything is generated in a temp folder with sharp and ffmpeg; no binary fixture is committed.
 * Each must give one clear error naming the file from readImage / probeVideo / readVideoFrames / runInputs,
 * leave no output file behind, and a queue worker (in this process, unique queue name) must fail such a job
 * with its reason and then complete the next good job.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import fc from 'fast-check';
import { Job, Queue, QueueEvents, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { readImage } from '../../src/detect/image.js';
import { probeVideo, readVideoFrames } from '../../src/detect/video.js';
import { runInputs } from '../../src/app/run.js';
import { DEFAULT_LIMITS, LimitError, limits, sharpPixelLimit, withJobTimeout } from '../../src/contracts/limits.js';
import { JOB_OPTIONS, redisUrl, workerConnection, type PoseliftJobData, type PoseliftJobResult } from '../../workers/queue.js';
import { startWorker } from '../../workers/worker.js';
import { CLI, MODELS, REPO } from '../helpers.js';

let tmp = '';
const f = (name: string) => path.join(tmp, name);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Run `fn` with environment variables set, then restore them. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T> | T): Promise<T> {
  const prev = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(prev)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}

/** CRC-32 of PNG chunks */
function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A valid PNG whose IHDR claims w x h (CRC fixed): only its header says so, the data is a tiny image's. */
function pngClaiming(png: Buffer, w: number, h: number): Buffer {
  const out = Buffer.from(png);
  // signature (8) | length (4) "IHDR" (4) width (4) height (4) ...
  assert.equal(out.toString('latin1', 12, 16), 'IHDR');
  out.writeUInt32BE(w, 16);
  out.writeUInt32BE(h, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

/** A baseline JPEG whose SOF0 marker claims w x h. */
function jpegClaiming(jpg: Buffer, w: number, h: number): Buffer {
  const out = Buffer.from(jpg);
  const sof = out.indexOf(Buffer.from([0xff, 0xc0]));
  assert.ok(sof > 0, 'SOF0 marker');
  out.writeUInt16BE(h, sof + 5);
  out.writeUInt16BE(w, sof + 7);
  return out;
}

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

let jpg: Buffer, png: Buffer, mp4: Buffer;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-hostile-'));
  // a 64 x 48 gradient (not constant: JPEG scan data to corrupt)
  const raw = Buffer.alloc(64 * 48 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) & 255;
  jpg = await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  png = await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).png().toBuffer();
  fs.writeFileSync(f('good.jpg'), jpg);
  fs.writeFileSync(f('good.png'), png);
  fs.writeFileSync(f('truncated.jpg'), jpg.subarray(0, Math.floor(jpg.length / 2)));
  fs.writeFileSync(f('truncated.png'), png.subarray(0, Math.floor(png.length / 2)));
  fs.writeFileSync(f('empty.jpg'), '');
  fs.writeFileSync(f('empty.mp4'), '');
  fs.writeFileSync(f('huge.png'), pngClaiming(png, 20000, 20000));
  fs.writeFileSync(f('huge.jpg'), jpegClaiming(jpg, 20000, 20000));
  fs.writeFileSync(f('text.jpg'), 'this is not an image\n');
  fs.mkdirSync(f('folder.jpg'));
  fs.mkdirSync(f('folder.mp4'));
  fs.mkdirSync(f('empty-folder'));
  // 2 s at 10 fps = 20 frames, moov at the end (ffmpeg's default): a truncated copy has no index
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-t', '2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', f('good.mp4')]);
  // moov first: a truncated copy probes fine and fails while decoding
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-t', '2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', f('faststart.mp4')]);
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', f('audio-only.mp4')]);
  mp4 = fs.readFileSync(f('good.mp4'));
  fs.writeFileSync(f('truncated.mp4'), mp4.subarray(0, Math.floor(mp4.length / 2)));
  const fsm = fs.readFileSync(f('faststart.mp4'));
  fs.writeFileSync(f('truncated-faststart.mp4'), fsm.subarray(0, Math.floor((fsm.length * 2) / 3)));
});

after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

test('readImage: good files decode; hostile ones give one error naming the file and the problem', async () => {
  for (const name of ['good.jpg', 'good.png']) {
    const img = await readImage(f(name));
    assert.equal(img.width, 64);
    assert.equal(img.height, 48);
    assert.equal(img.data.length, 64 * 48 * 3);
  }
  const cases: [string, RegExp][] = [
    ['truncated.jpg', /is not a readable image \(.*\); pass an uncorrupted image file/],
    ['truncated.png', /is not a readable image \(.*\); pass an uncorrupted image file/],
    ['empty.jpg', /is empty \(0 bytes\); pass a complete image file/],
    ['text.jpg', /is not a readable image/],
    ['folder.jpg', /is a folder, not an image; pass an image file inside it/],
    ['missing.jpg', /does not exist; check the path/],
  ];
  for (const [name, re] of cases) {
    await assert.rejects(readImage(f(name)), (e: Error) => e.message.startsWith(`readImage: ${f(name)}`) && re.test(e.message), name);
  }
});

test('a 20000 x 20000 image (PNG and JPEG headers) is refused by the pixel limit from its header', async () => {
  for (const name of ['huge.png', 'huge.jpg']) {
    // the header really says 20000 x 20000 (sharp reads it; the file is a few kB)
    const meta = await sharp(f(name), { limitInputPixels: false }).metadata();
    assert.deepEqual([meta.width, meta.height], [20000, 20000]);
    assert.ok(fs.statSync(f(name)).size < 10_000);
    await assert.rejects(readImage(f(name)), (e: Error) => e instanceof LimitError && e.limit === 'maxPixels' &&
      e.message.startsWith(`readImage: ${f(name)}: the image is 20000 x 20000 = 400000000 pixels, over the limit of ${DEFAULT_LIMITS.maxPixels}`) &&
      e.message.includes('POSELIFT_MAX_PIXELS'));
  }
  // the limit follows the environment: 3072 px (64 x 48) passes at 3072 and fails at 3071; 0 = no limit
  await withEnv({ POSELIFT_MAX_PIXELS: '3072' }, async () => assert.equal((await readImage(f('good.jpg'))).width, 64));
  await withEnv({ POSELIFT_MAX_PIXELS: '3071' }, () => assert.rejects(readImage(f('good.jpg')), /64 x 48 = 3072 pixels, over the limit of 3071/));
  await withEnv({ POSELIFT_MAX_PIXELS: '0' }, async () => {
    assert.equal(limits().maxPixels, Infinity);
    assert.equal(sharpPixelLimit(), false);
    assert.equal((await readImage(f('good.jpg'))).height, 48);
  });
});

test('corrupted images (random bytes overwritten): a full-size frame or one error naming the file', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom('jpg', 'png'), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(), async (ext, edits, cut) => {
    const src = ext === 'jpg' ? jpg : png;
    const buf = Buffer.from(src);
    for (const [at, v] of edits) buf[at % buf.length] = v;
    const file = f(`corrupt-${Math.random().toString(36).slice(2)}.${ext}`);
    fs.writeFileSync(file, cut % 3 === 0 ? buf.subarray(0, cut % buf.length) : buf);
    try {
      const img = await readImage(file);
      assert.equal(img.data.length, img.width * img.height * 3);
    } catch (e) {
      assert.ok(e instanceof Error && e.message.includes(file), String(e));
    } finally {
      fs.rmSync(file, { force: true });
    }
  }), { numRuns: 60 });
});

test('videos: good decodes; truncated, audio-only, 0-byte and folder inputs give one error naming the file', async () => {
  const info = await probeVideo(f('good.mp4'));
  assert.deepEqual([info.width, info.height, info.fps, info.frames], [64, 48, 10, 20]);
  let n = 0;
  for await (const v of readVideoFrames(f('good.mp4'))) { assert.equal(v.frame.data.length, 64 * 48 * 3); n++; }
  assert.equal(n, 20);
  const cases: [string, RegExp][] = [
    ['truncated.mp4', /^probeVideo: .* is not a readable video \(ffprobe: moov atom not found\); pass an uncorrupted video file/],
    ['audio-only.mp4', /^probeVideo: .* has no video stream \(format [^)]*\); pass a video file/],
    ['empty.mp4', /^probeVideo: .* is empty \(0 bytes\); pass a complete video file/],
    ['folder.mp4', /^probeVideo: .* is a folder, not a video/],
    ['good.jpg', /is a still image|not a readable video/],
  ];
  for (const [name, re] of cases) {
    await assert.rejects(probeVideo(f(name)), (e: Error) => e.message.includes(f(name)) && re.test(e.message), name);
  }
  // moov first: probes, then decoding fails; frames before the damage may come out, then the error
  let got = 0;
  await assert.rejects((async () => { for await (const _ of readVideoFrames(f('truncated-faststart.mp4'))) got++; })(),
    (e: Error) => e.message.startsWith(`readVideoFrames: ${f('truncated-faststart.mp4')}`) && /truncated|corrupt/.test(e.message));
  assert.ok(got < 20, `${got} frames before the error`);
});

test('a damaged sample table that stretches the timestamps: an error naming the file, not repeated frames', async () => {
  // found by the property below (fast-check seed 1380315316): with this ffmpeg, 42 frames of a 20-frame video
  const buf = Buffer.from(fs.readFileSync(f('faststart.mp4')));
  buf[403553599 % buf.length] = 18;
  const file = f('stretched.mp4');
  fs.writeFileSync(file, buf);
  let n = 0;
  try {
    for await (const _ of readVideoFrames(file)) n++;
    assert.ok(n <= 22, `${n} frames`);
  } catch (e) {
    assert.ok(e instanceof Error && e.message.includes(file), String(e));
  }
});

test('corrupted videos (random bytes overwritten, moov first): frames then an error naming the file, or all frames; never a hang', async () => {
  const src = fs.readFileSync(f('faststart.mp4'));
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 16 }), async (edits) => {
    const buf = Buffer.from(src);
    for (const [at, v] of edits) buf[at % buf.length] = v;
    const file = f(`corrupt-${Math.random().toString(36).slice(2)}.mp4`);
    fs.writeFileSync(file, buf);
    let n = 0;
    try {
      for await (const v of readVideoFrames(file)) { assert.equal(v.frame.data.length, v.frame.width * v.frame.height * 3); n++; }
      // 20 frames in the header; a damaged sample table stops with an error past 22 (readVideoFrames' overrun)
      assert.ok(n <= 22, `${n} frames`);
    } catch (e) {
      assert.ok(e instanceof Error && e.message.includes(file) && !(e instanceof TypeError), String(e));
    } finally {
      fs.rmSync(file, { force: true });
    }
  }), { numRuns: 25 });
});

test('frame limit: refused from the probed length, or stopped when the count passes it; names file, limit and variable', async () => {
  // 20 frames: a limit of 5 is refused before decoding (about 20 frames)
  await withEnv({ POSELIFT_MAX_FRAMES: '5' }, () => assert.rejects(readVideoFrames(f('good.mp4')).next(), (e: Error) => e instanceof LimitError &&
    e.message.startsWith(`readVideoFrames: ${f('good.mp4')}: the video has about 20 frames to decode, over the limit of 5`) && e.message.includes('POSELIFT_MAX_FRAMES')));
  // a limit of 19: the estimate (20) is within one frame of it, so decoding starts and stops at frame 20
  let n = 0;
  await withEnv({ POSELIFT_MAX_FRAMES: '19' }, () => assert.rejects((async () => { for await (const _ of readVideoFrames(f('good.mp4'))) n++; })(),
    (e: Error) => e instanceof LimitError && /has more than 19 frames to decode, over the limit of 19/.test(e.message)));
  assert.equal(n, 19);
  // within the limit with --fps / --duration: fine
  n = 0;
  await withEnv({ POSELIFT_MAX_FRAMES: '10' }, async () => { for await (const _ of readVideoFrames(f('good.mp4'), { fps: 5 })) n++; });
  assert.equal(n, 10);
});

test('size limit (POSELIFT_MAX_INPUT_MB) on photos and videos', async () => {
  // one byte less than the JPEG: refused; the (smaller) PNG passes
  assert.ok(png.length < jpg.length - 1 && mp4.length > jpg.length, `${jpg.length} ${png.length} ${mp4.length}`);
  await withEnv({ POSELIFT_MAX_INPUT_MB: String((jpg.length - 1) / 1024 / 1024) }, async () => {
    await assert.rejects(readImage(f('good.jpg')), (e: Error) => e instanceof LimitError &&
      e.message.startsWith(`readImage: ${f('good.jpg')}: the image file is ${jpg.length} bytes, over the limit of ${jpg.length - 1} bytes`) &&
      e.message.includes('POSELIFT_MAX_INPUT_MB'));
    assert.equal((await readImage(f('good.png'))).width, 64);
    await assert.rejects(probeVideo(f('good.mp4')), (e: Error) => e instanceof LimitError && e.message.includes(f('good.mp4')));
    await assert.rejects(runInputs([f('good.mp4')], { models: MODELS, out: f('never.json') }), (e: Error) => e instanceof LimitError && e.message.startsWith(`${f('good.mp4')}: the input is`));
  });
  await withEnv({ POSELIFT_MAX_INPUT_MB: '-1' }, () => assert.rejects(readImage(f('good.png')), /^Error: POSELIFT_MAX_INPUT_MB="-1": must be a number >= 0/));
});

test('withJobTimeout: passes results and errors through, rejects a job past the limit naming it', async () => {
  assert.equal(await withJobTimeout(Promise.resolve(7), 'a.mp4', 5), 7);
  await assert.rejects(withJobTimeout(Promise.reject(new Error('boom')), 'a.mp4', 5), /^Error: boom$/);
  let stopped = false;
  await assert.rejects(withJobTimeout(new Promise(() => {}), '/data/clip.mp4', 0.05, () => { stopped = true; }), (e: Error) => e instanceof LimitError &&
    e.limit === 'jobTimeoutS' && e.message.startsWith('/data/clip.mp4: the job ran longer than the time limit of 0.05 s') && e.message.includes('POSELIFT_JOB_TIMEOUT_S'));
  assert.equal(stopped, true);
  await withEnv({ POSELIFT_JOB_TIMEOUT_S: '0.05' }, () => assert.rejects(withJobTimeout(new Promise(() => {}), 'x'), /time limit of 0\.05 s/));
  await withEnv({ POSELIFT_JOB_TIMEOUT_S: '0' }, async () => assert.equal(await withJobTimeout(Promise.resolve(1), 'x'), 1));
  assert.equal(DEFAULT_LIMITS.jobTimeoutS, limits().jobTimeoutS);
});

test('runInputs (`poselift run`): every hostile input fails with one error naming it, and writes nothing', { timeout: 120_000 }, async () => {
  fs.writeFileSync(f('notes.bin'), 'neither an image nor a video');
  const cases: [string, RegExp][] = [
    ['empty.jpg', /is empty \(0 bytes\)/],
    ['empty.mp4', /is empty \(0 bytes\)/],
    ['truncated.jpg', /is not a readable image/],
    ['huge.png', /over the limit of \d+; pass a smaller \(downscaled\) file, or raise the limit with POSELIFT_MAX_PIXELS/],
    ['audio-only.mp4', /has no video stream/],
    ['truncated.mp4', /is not a readable video/],
    ['empty-folder', /the folder has no images/],
    ['folder.mp4', /the folder has no images/],
    ['missing.mp4', /does not exist/],
    ['notes.bin', /is neither a readable image nor a video/],
  ];
  const out = f('out');
  fs.mkdirSync(out);
  for (const [name, re] of cases) {
    await assert.rejects(runInputs([f(name)], { models: MODELS, out: out + path.sep }),
      (e: Error) => e.message.includes(f(name)) && re.test(e.message) && !e.message.includes('\n'), name);
  }
  assert.deepEqual(fs.readdirSync(out), [], 'no output and no temp file');
});

test('the CLI (`poselift run`) on hostile inputs: exit code 1, one line naming the file, no output file', { timeout: 120_000 }, () => {
  assert.ok(fs.existsSync(path.join(REPO, 'dist', 'src', 'cli', 'main.js')), 'run `npm run build` first (npm test does)');
  for (const [name, re] of [['huge.jpg', /POSELIFT_MAX_PIXELS/], ['truncated.mp4', /moov atom not found/], ['empty.jpg', /is empty \(0 bytes\)/]] as const) {
    const out = f(`cli-${name}.poselift.json`);
    const r = spawnSync(process.execPath, [CLI, 'run', f(name), '--out', out, '--models', MODELS], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, `${name}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n').filter((l) => !/warn|^\s*$/i.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0].includes(f(name)) && re.test(lines[0]), lines[0]);
    assert.equal(fs.existsSync(out), false);
  }
});

// ------------------------------------------------------------------------------------------------ worker

const QUEUE = `poselift-hostile-${process.pid}-${Date.now()}`;
let queue: Queue, events: QueueEvents, worker: Worker<PoseliftJobData, PoseliftJobResult>;

async function run(data: PoseliftJobData): Promise<Job<PoseliftJobData, PoseliftJobResult>> {
  const job = await queue.add(data.kind, data, JOB_OPTIONS);
  try { await job.waitUntilFinished(events, 60_000); } catch { /* inspected by the caller */ }
  return (await Job.fromId<PoseliftJobData, PoseliftJobResult>(queue, job.id!))!;
}

test('a worker fails hostile jobs with their reason (no retry) and completes the next good job', { timeout: 180_000 }, async () => {
  const results = f('results');
  queue = new Queue(QUEUE, { connection: workerConnection() });
  events = new QueueEvents(QUEUE, { connection: workerConnection() });
  await events.waitUntilReady();
  worker = startWorker({ queue: QUEUE, results, concurrency: 1 });
  await worker.waitUntilReady();
  const hostile: [PoseliftJobData, string, RegExp][] = [
    [{ kind: 'images', inputs: [f('truncated.jpg')], models: MODELS }, f('truncated.jpg'), /is not a readable image/],
    [{ kind: 'images', inputs: [f('huge.jpg')], models: MODELS }, f('huge.jpg'), /POSELIFT_MAX_PIXELS/],
    [{ kind: 'video', input: f('audio-only.mp4'), models: MODELS }, f('audio-only.mp4'), /has no video stream/],
    [{ kind: 'video', input: f('truncated.mp4'), models: MODELS }, f('truncated.mp4'), /is not a readable video/],
    [{ kind: 'keypoints', input: f('truncated.png'), format: 'coco', width: 100, height: 100, models: MODELS }, f('truncated.png'), /is not valid JSON/],
  ];
  for (const [data, file, re] of hostile) {
    const job = await run(data);
    assert.equal(await job.getState(), 'failed', `${file} should fail`);
    assert.ok(job.failedReason.includes(file) && re.test(job.failedReason), job.failedReason);
    assert.equal(job.attemptsMade, 1, `input errors are not retried: ${job.failedReason}`);
  }
  const csv = f('person.csv');
  const XY = [[500, 500], [470, 500], [470, 650], [470, 800], [530, 500], [530, 650], [530, 800], [500, 420], [500, 340],
    [500, 300], [500, 250], [550, 340], [570, 420], [580, 490], [450, 340], [430, 420], [420, 490]];
  fs.writeFileSync(csv, 'frame,person,joint,x,y,score\n' + XY.map(([x, y], j) => `0,1,${j},${x},${y},1`).join('\n') + '\n');
  const good = await run({ kind: 'keypoints', input: csv, format: 'csv', layout: 'h36m17', width: 1000, height: 1000, models: MODELS });
  assert.equal(await good.getState(), 'completed', good.failedReason);
  const doc = JSON.parse(fs.readFileSync(good.returnvalue.result, 'utf8'));
  assert.equal(doc.frames[0].people[0].joints3d.length, 17);
  assert.ok(doc.frames[0].people[0].root[2] > 1000, `root depth ${doc.frames[0].people[0].root[2]} mm`);
  // no partial results of the failed jobs
  assert.deepEqual(fs.readdirSync(results).filter((n) => n !== path.basename(good.returnvalue.result)), []);
});

after(async () => {
  await worker?.close();
  await events?.close();
  await queue?.obliterate({ force: true }).catch(() => {});
  await queue?.close();
  if (queue) {
    const r = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
    const keys = await r.keys(`bull:${QUEUE}*`);
    if (keys.length) await r.del(...keys);
    await r.quit();
  }
});
