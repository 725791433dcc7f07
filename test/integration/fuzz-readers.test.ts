/**
 * Property-based tests (fast-check, issue 7) of every file reader: camera JSON, pose-dataset/1 index and
 * blobs, COCO / OpenPose / CSV keypoints and poselift/1 results. Random and hostile contents (any JSON,
 * near-valid documents with one field replaced by NaN-like, huge, empty or wrongly typed values, truncated
 * files, random bytes) are written to a temp folder; each read either returns a valid value or throws one
 * Error whose message names the file. Plus the size limits of these readers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { loadCameraFile, resolveCamera } from '../../src/camera/resolve.js';
import { openDataset, DatasetError } from '../../src/data/dataset.js';
import { readCoco, readCsv, readOpenpose } from '../../src/formats/keypoints.js';
import { readResult, validateResult } from '../../src/formats/result.js';
import { LAYOUTS } from '../../src/contracts/layouts.js';
import { LimitError } from '../../src/contracts/limits.js';
import type { PoseliftDoc } from '../../src/contracts/document.js';
import { liftKeypointFile } from '../../src/app/lift-keypoints.js';
import { MODELS } from '../helpers.js';

/** POSELIFT_FUZZ_SCALE=10 runs ten times as many cases (a deeper local search; CI uses 1) */
const SCALE = Number(process.env.POSELIFT_FUZZ_SCALE) || 1;
const RUNS = 150 * SCALE;
let tmp = '';
let n = 0;
/** a fresh file name per case (names with spaces and unicode, as users have) */
const fresh = (ext: string) => path.join(tmp, `case ${++n} ü${ext}`);

before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'poselift-fuzz-')); });
after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

/** Call `fn`; a throw must be a plain Error (not TypeError / RangeError from a bug) whose message names `name`. */
function returnsOrNames<T>(fn: () => T, name: string): T | undefined {
  try {
    return fn();
  } catch (e) {
    assert.ok(e instanceof Error, `threw a non-Error: ${String(e)}`);
    assert.ok(!(e instanceof TypeError) && !(e instanceof RangeError) && !(e instanceof SyntaxError), `a crash, not a clear error: ${e.stack}`);
    assert.ok(e.message.includes(name), `the message names ${name}: ${e.message}`);
    assert.ok(!e.message.includes('\n') || e instanceof DatasetError, `one line: ${e.message}`);
    return undefined;
  }
}

/** values that break readers: wrong types, non-finite-looking strings, huge and tiny numbers, deep nesting */
const hostile = fc.oneof(
  fc.constantFrom(null, true, false, '', 'NaN', 'Infinity', '1e999', '-0', '__proto__', 'constructor', 0, -0, -1, 0.5, 1e308, -1e308,
    5e-324, 2 ** 53, 2 ** 31, -(2 ** 31), 1e21, [], {}, [[]], [null], { __proto__: null }, '\u0000', '../../etc/passwd'),
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Replace the value at one path (chosen by `pick`) of a JSON document; returns the mutated copy and the path. */
function mutate(doc: unknown, pick: number, value: unknown, mode: 'set' | 'delete'): { doc: unknown; where: (string | number)[] } {
  const copy = JSON.parse(JSON.stringify(doc));
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    if (p.length) paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(copy, []);
  if (!paths.length) return { doc: value, where: [] };
  const where = paths[pick % paths.length];
  let parent = copy as Record<string | number, unknown>;
  for (const k of where.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = where[where.length - 1];
  if (mode === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1); else delete parent[last];
  } else parent[last] = value;
  return { doc: copy, where };
}

const mutation = fc.record({ pick: fc.nat(), value: hostile, mode: fc.constantFrom<'set' | 'delete'>('set', 'set', 'set', 'delete') });

/** file contents: a mutated valid document, any JSON, random text, or a truncated valid document */
function contents(valid: unknown) {
  const text = JSON.stringify(valid);
  return fc.oneof(
    { weight: 5, arbitrary: mutation.map((m) => JSON.stringify(mutate(valid, m.pick, m.value, m.mode).doc)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
    { weight: 1, arbitrary: fc.nat({ max: text.length - 1 }).map((k) => text.slice(0, k)) },
  );
}

// ------------------------------------------------------------------------------------------------ camera

const CAM_FLAT = { fx: 1145.5, fy: 1144.8, cx: 514.9, cy: 501.9, k: [-0.207, 0.247, -0.003], p: [-0.0009, -0.0014], width: 1000, height: 1002 };
const CAM_DATASET = { f: [1145.5, 1144.8], c: [514.9, 501.9], size: [1000, 1002], k: [-0.207, 0.247, -0.003], p: [-0.0009, -0.0014], R: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };

test('camera files: loadCameraFile + resolveCamera return valid intrinsics or one error naming the file', (t) => {
  let ok = 0;
  fc.assert(fc.property(fc.oneof(contents(CAM_FLAT), contents(CAM_DATASET)), fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 1, max: 20000 }), (text, w, h) => {
    const file = fresh('.json');
    fs.writeFileSync(file, text);
    const cam = returnsOrNames(() => loadCameraFile(file), file);
    if (!cam) return;
    assert.ok(cam.fx > 0 && cam.fy > 0 && [cam.fx, cam.fy, cam.cx, cam.cy].every(Number.isFinite), JSON.stringify(cam));
    for (const v of [...(cam.k ?? []), ...(cam.p ?? [])]) assert.ok(Number.isFinite(v));
    const sized = cam.width !== undefined && cam.height !== undefined;
    if (sized) assert.ok(cam.width! >= 1 && cam.height! >= 1);
    const [W, H] = sized ? [Math.round(cam.width!), Math.round(cam.height!)] : [w, h];
    const rc = returnsOrNames(() => resolveCamera(W, H, cam, undefined, file, 'photo.jpg'), file);
    assert.ok(rc && rc.source === 'file' && rc.width === W && rc.height === H);
    if (sized && W < 1e9) assert.throws(() => resolveCamera(W + 1, H, cam, undefined, file, 'photo.jpg'), (e: Error) => e.message.includes(file) && e.message.includes('photo.jpg'));
    ok++;
  }), { numRuns: 300 * SCALE });
  t.diagnostic(`${ok} valid of the generated cases`);
  assert.ok(ok > 0, 'some cases are valid cameras');
  assert.throws(() => loadCameraFile(tmp), (e: Error) => e.message.startsWith(`${tmp}: is a folder`));
  assert.throws(() => loadCameraFile(path.join(tmp, 'none.json')), /does not exist; check the --camera path/);
});

test('resolveCamera from EXIF / defaults with hostile image sizes and focal lengths: finite intrinsics for positive sizes', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 100000 }), fc.integer({ min: 1, max: 100000 }),
    fc.oneof(fc.constant(undefined), fc.record({ focalLength35mm: fc.double() }, { requiredKeys: [] })), (w, h, exif) => {
      const c = resolveCamera(w, h, undefined, exif, undefined, 'x.jpg');
      assert.ok(c.fx > 0 && Number.isFinite(c.fx) && c.fx === c.fy && c.cx === w / 2 && c.cy === h / 2, JSON.stringify({ c, exif }));
    }), { numRuns: RUNS });
});

// ------------------------------------------------------------------------------------------------ dataset

const J3 = 17 * 3;
function datasetIndex(): Record<string, unknown> {
  return {
    format: 'pose-dataset/1', name: 'fuzz', joints: 'h36m17', units: 'mm',
    cameras: { c1: { f: [1000, 1000], c: [500, 500], size: [1000, 1000], R: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], C: [0, 0, -4000], k: [0, 0, 0], p: [0, 0] } },
    sequences: [{
      id: 's1', fps: 50, frames: 3, world3d: { file: 'w.f32', offset: 0 },
      views: [{ camera: 'c1', points2d: { file: 'p.f32', offset: 0, layout: 'coco17', channels: 3 } }],
    }],
  };
}

test('pose-dataset/1: mutated index.json and blobs open and read, or fail with a DatasetError naming the file', (t) => {
  const valid = datasetIndex();
  const world = Float32Array.from({ length: 3 * J3 }, (_, i) => (i % 3 === 2 ? 100 : 0) + (i % 7) * 10);
  const pts = Float32Array.from({ length: 3 * 17 * 3 }, (_, i) => (i % 3 === 2 ? 0.9 : 300 + i));
  let opened = 0;
  const blobBytes = (full: number) => fc.oneof({ weight: 6, arbitrary: fc.constant(full) }, { weight: 1, arbitrary: fc.nat({ max: full }) });
  const index = fc.oneof({ weight: 4, arbitrary: contents(valid) }, { weight: 1, arbitrary: fc.constant(JSON.stringify(valid)) });
  fc.assert(fc.property(index, blobBytes(world.byteLength), blobBytes(pts.byteLength), (text, wBytes, pBytes) => {
    const dir = fresh('');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'index.json'), text);
    fs.writeFileSync(path.join(dir, 'w.f32'), Buffer.from(world.buffer).subarray(0, Math.min(wBytes, world.byteLength)));
    fs.writeFileSync(path.join(dir, 'p.f32'), Buffer.from(pts.buffer).subarray(0, Math.min(pBytes, pts.byteLength)));
    let ds;
    try {
      ds = openDataset(dir);
    } catch (e) {
      assert.ok(e instanceof DatasetError, `a DatasetError, got ${(e as Error).stack}`);
      assert.ok(e.message.includes(dir), e.message);
      return;
    }
    opened++;
    // every declared range was checked against the blob sizes at open: reading all of it works
    try {
      ds.sequences.forEach((s, si) => {
        assert.equal(ds.readWorld3d(si, 0, s.frames).length, s.frames * J3);
        s.views.forEach((v, vi) => {
          if (v.points2d) assert.equal(ds.readPoints2d(si, vi, 0, s.frames).data.length, s.frames * LAYOUTS[v.points2d.layout].names.length * v.points2d.channels);
          assert.equal(ds.groundTruth2d(si, vi, 0, s.frames).length, s.frames * J3);
        });
        for (const chunk of ds.frames(si, { chunk: 2 })) assert.ok(chunk.world3d.length > 0);
      });
    } finally {
      ds.close();
    }
  }), { numRuns: RUNS });
  t.diagnostic(`${opened} valid of the generated cases`);
  assert.ok(opened > 0, 'some cases open');
});

test('pose-dataset/1 regressions: camera id "__proto__", duplicate ids, offsets past the blob', () => {
  const dir = fresh('');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'w.f32'), new Uint8Array(3 * J3 * 4));
  fs.writeFileSync(path.join(dir, 'p.f32'), new Uint8Array(3 * 17 * 3 * 4));
  const write = (idx: unknown) => fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(idx));
  const base = datasetIndex();
  write(base);
  assert.equal(openDataset(dir).sequences.length, 1);
  const seq = (base.sequences as Record<string, unknown>[])[0];
  write({ ...base, sequences: [{ ...seq, world3d: { file: 'w.f32', offset: 2 ** 52 } }] });
  assert.throws(() => openDataset(dir), (e: Error) => e instanceof DatasetError && /blob is shorter than declared/.test(e.message) && e.message.includes(dir));
  write({ ...base, sequences: [seq, seq] });
  assert.throws(() => openDataset(dir), /is already the id of sequences\[0\]/);
  const protoCams = JSON.parse(JSON.stringify(base).replace('"c1":', '"__proto__":').replace('"camera":"c1"', '"camera":"__proto__"'));
  write(protoCams);
  assert.throws(() => openDataset(dir), (e: Error) => e instanceof DatasetError && e.message.includes(dir) && /"__proto__" cannot be a camera id/.test(e.message));
});

// ------------------------------------------------------------------------------------------------ keypoints

const kp = (k: number) => Array.from({ length: k * 3 }, (_, i) => (i % 3 === 2 ? 0.8 : 100 + i * 3));
const COCO_RESULTS = [{ image_id: 1, category_id: 1, keypoints: kp(17), score: 0.9 }, { image_id: 2, keypoints: kp(17), bbox: [1, 2, 30, 40] }];
const COCO_ANN = { images: [{ id: 1, width: 640, height: 480, file_name: 'a.jpg' }, { id: 2, width: 640, height: 480, file_name: 'b.jpg' }], annotations: COCO_RESULTS };
const OPENPOSE = { version: 1.3, people: [{ person_id: [-1], pose_keypoints_2d: kp(25) }, { pose_keypoints_2d: kp(25) }] };

function checkKeypointFile(r: { layout: string; frames: { people: { data: Float64Array; bbox: number[]; score: number }[] }[] }): void {
  const k = LAYOUTS[r.layout].names.length;
  assert.ok(r.frames.length > 0);
  for (const f of r.frames) {
    for (const p of f.people) {
      assert.equal(p.data.length, k * 3);
      assert.ok(p.data.every(Number.isFinite), 'finite keypoints');
      assert.ok(p.bbox.length === 4 && p.bbox.every(Number.isFinite) && p.score >= 0 && p.score <= 1, JSON.stringify(p.bbox) + p.score);
    }
  }
}

test('COCO keypoint files (results and annotations): a valid KeypointFile or one error naming the file', (t) => {
  let ok = 0;
  fc.assert(fc.property(fc.oneof(contents(COCO_RESULTS), contents(COCO_ANN)), (text) => {
    const file = fresh('.json');
    fs.writeFileSync(file, text);
    const r = returnsOrNames(() => readCoco(file), file);
    if (r) { checkKeypointFile(r); ok++; }
  }), { numRuns: 300 * SCALE });
  t.diagnostic(`${ok} valid of the generated cases`);
  assert.ok(ok > 0);
});

test('OpenPose folders: a valid KeypointFile or one error naming the file', (t) => {
  let ok = 0;
  const second = fc.oneof(contents(OPENPOSE), fc.constant(JSON.stringify(OPENPOSE)));
  fc.assert(fc.property(contents(OPENPOSE), second, (a, b) => {
    const dir = fresh('');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'clip_000000000000_keypoints.json'), a);
    fs.writeFileSync(path.join(dir, 'clip_000000000001_keypoints.json'), b);
    const r = returnsOrNames(() => readOpenpose(dir), dir);
    if (r) { checkKeypointFile(r); ok++; }
  }), { numRuns: RUNS });
  t.diagnostic(`${ok} valid of the generated cases`);
  assert.ok(ok > 0);
  const empty = fresh('');
  fs.mkdirSync(empty);
  assert.throws(() => readOpenpose(empty), (e: Error) => e.message.startsWith(`${empty}: the folder has no OpenPose`));
});

test('CSV keypoints: random rows of hostile cells give a valid KeypointFile or one error naming the file and line', (t) => {
  const names = LAYOUTS.h36m17.names;
  const cell = fc.oneof(
    fc.constantFrom('', ' ', 'NaN', 'Infinity', '-1', '0', '1', '1e400', '0x10', '1.5', '"a"', names[3], 'HEAD_TOP', '17', '99999999999999999999', '\t2'),
    fc.integer({ min: -5, max: 20 }).map(String),
    fc.double({ noNaN: true }).map(String),
    fc.string({ maxLength: 5 }),
  );
  const row = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.nat({ max: 3 }), fc.integer({ min: 1, max: 2 }), fc.constantFrom(...names), fc.double({ min: -1e4, max: 1e4, noNaN: true }), fc.double({ min: -1e4, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })).map((c) => c.join(',')) },
    { weight: 1, arbitrary: fc.array(cell, { minLength: 1, maxLength: 7 }).map((c) => c.join(',')) },
  );
  const header = fc.constantFrom('frame,person,joint,x,y,score', 'frame,person,joint,x,y', 'joint,x,y,frame,person', 'frame,person,joint,x', '', 'FRAME, Person ,joint,x,y,score');
  let ok = 0;
  fc.assert(fc.property(header, fc.array(row, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), fc.constantFrom('h36m17', 'coco17', undefined, 'nope'), (h, rows, eol, layout) => {
    const file = fresh('.csv');
    fs.writeFileSync(file, [h, ...rows].join(eol));
    const r = returnsOrNames(() => readCsv(file, layout), file);
    if (r) { checkKeypointFile(r); ok++; }
  }), { numRuns: 300 * SCALE });
  t.diagnostic(`${ok} valid of the generated cases`);
  assert.ok(ok > 0);
});

test('a folder or a missing path where a keypoint, camera or result file is expected: one error saying so', () => {
  const missing = path.join(tmp, 'nothing-here.json');
  for (const read of [() => readCoco(tmp), () => readCsv(tmp, 'h36m17')]) {
    assert.throws(read, (e: Error) => e.message === `${tmp}: is a folder; pass a keypoint file (only --format openpose takes a folder of *_keypoints.json)`);
  }
  for (const read of [() => readCoco(missing), () => readCsv(missing, 'coco17'), () => readOpenpose(missing)]) {
    assert.throws(read, (e: Error) => e.message.startsWith(`${missing}: does not exist`));
  }
  assert.throws(() => loadCameraFile(tmp), (e: Error) => e.message.startsWith(`${tmp}: is a folder; --camera takes a JSON file`));
  assert.throws(() => readResult(tmp), (e: Error) => e.message.startsWith(`${tmp}: is a folder`));
  assert.throws(() => openDataset(missing), (e: Error) => e instanceof DatasetError && e.message.includes('dataset folder does not exist'));
});

test('keypoint and camera files over POSELIFT_MAX_JSON_MB are refused before reading, naming the file and the variable', () => {
  const big = fresh('.json');
  fs.writeFileSync(big, JSON.stringify(COCO_RESULTS) + ' '.repeat(1024 * 1024 + 10));
  const prev = process.env.POSELIFT_MAX_JSON_MB;
  process.env.POSELIFT_MAX_JSON_MB = '1';
  try {
    for (const read of [() => readCoco(big), () => loadCameraFile(big), () => readCsv(big, 'h36m17'), () => readResult(big)]) {
      assert.throws(read, (e: Error) => e instanceof LimitError && e.message.startsWith(`${big}: the `) && /over the limit of 1\.0 MB/.test(e.message) && e.message.includes('POSELIFT_MAX_JSON_MB'));
    }
    process.env.POSELIFT_MAX_JSON_MB = '0'; // no limit
    assert.equal(readCoco(big).frames.length, 2);
    process.env.POSELIFT_MAX_JSON_MB = 'lots';
    assert.throws(() => readCoco(big), /^Error: POSELIFT_MAX_JSON_MB="lots": must be a number >= 0/);
  } finally {
    if (prev === undefined) delete process.env.POSELIFT_MAX_JSON_MB; else process.env.POSELIFT_MAX_JSON_MB = prev;
  }
});

// ------------------------------------------------------------------------------------------------ results

let realDoc: PoseliftDoc;

test('readResult: a document written by `poselift lift` reads back equal', async () => {
  const csv = fresh('.csv');
  const XY = [[500, 500], [470, 500], [470, 650], [470, 800], [530, 500], [530, 650], [530, 800], [500, 420], [500, 340],
    [500, 300], [500, 250], [550, 340], [570, 420], [580, 490], [450, 340], [430, 420], [420, 490]];
  fs.writeFileSync(csv, 'frame,person,joint,x,y,score\n' + XY.map(([x, y], j) => `0,1,${j},${x},${y},1\n1,1,${j},${x + 5},${y},1`).join('\n') + '\n');
  realDoc = JSON.parse(JSON.stringify(await liftKeypointFile(csv, { format: 'csv', layout: 'h36m17', width: 1000, height: 1000, models: MODELS })));
  const file = fresh('.poselift.json');
  fs.writeFileSync(file, JSON.stringify(realDoc) + '\n');
  const back = readResult(file);
  assert.deepEqual(back, realDoc);
  assert.equal(back.frames.length, 2);
  assert.ok(back.frames[0].people[0].joints3d && back.frames[0].people[0].joints3d[0][2] > 1000, 'a lifted person in front of the camera');
});

test('readResult: mutated, truncated and random documents: valid or one error naming the file and the JSON path', () => {
  assert.ok(realDoc, 'needs the previous test');
  fc.assert(fc.property(contents(realDoc), (text) => {
    const file = fresh('.json');
    fs.writeFileSync(file, text);
    const doc = returnsOrNames(() => readResult(file), file);
    if (doc) assert.equal(doc.schema, 'poselift/1');
  }), { numRuns: 300 * SCALE });
  // a number replaced by a string: the error names that path
  fc.assert(fc.property(fc.nat(), (pick) => {
    const leaves: (string | number)[][] = [];
    const walk = (v: unknown, p: (string | number)[]) => {
      if (typeof v === 'number') leaves.push(p);
      else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
    };
    walk(realDoc, []);
    const where = leaves[pick % leaves.length];
    const doc: unknown = JSON.parse(JSON.stringify(realDoc));
    let parent = doc as Record<string | number, unknown>;
    for (const k of where.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    parent[where[where.length - 1]] = 'x';
    const shown = where.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${k}`)).join('');
    assert.throws(() => validateResult(doc, 'R.json'), (e: Error) => e.message.startsWith(`R.json: ${shown} `), shown);
  }), { numRuns: RUNS });
  const missing = path.join(tmp, 'none.poselift.json');
  assert.throws(() => readResult(missing), new RegExp(`^Error: ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: does not exist`));
  const empty = fresh('.json');
  fs.writeFileSync(empty, '');
  assert.throws(() => readResult(empty), /is empty \(0 bytes of JSON\)/);
  assert.throws(() => readResult(tmp), /is a folder/);
  const extra = fresh('.json');
  fs.writeFileSync(extra, JSON.stringify({ ...realDoc, extra: 1 }));
  assert.throws(() => readResult(extra), (e: Error) => e.message.startsWith(`${extra}: (top level) has an unknown field "extra"`));
});
