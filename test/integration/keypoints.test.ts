/**
 * `poselift lift` (src/keypoints, issue 8): projected ground truth of ../shared/data written as COCO JSON,
 * OpenPose folders (BODY_25, COCO-18) and CSV in os.tmpdir(); lifting the files must reproduce the
 * production lift (`Lifter` on `normalisedH36m` of the same keypoints, camera and fps) within 1 mm, and
 * malformed files must fail with one error naming the file and the entry.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { LAYOUTS } from '../../src/contracts/layouts.js';
import type { Camera, Intrinsics } from '../../src/contracts/types.js';
import { openDataset } from '../../src/data/dataset.js';
import { Lifter, type LiftedPerson } from '../../src/lift/lifter.js';
import { normalisedH36m } from '../../src/lift/normalise.js';
import { kindOfLayout } from '../../src/lift/posenet/features.js';
import type { DefinitionAdapter } from '../../src/lift/adapter.js';
import { resolveCamera } from '../../src/camera/resolve.js';
import type { PoseliftDoc } from '../../src/contracts/document.js';
import { liftKeypointFile } from '../../src/app/lift-keypoints.js';
import { Ajv } from 'ajv';
import { CLI, DATA, MODELS, REPO } from '../helpers.js';

let tmp = '';
let lifter: Lifter;
let cam: Camera;
let camFile = '';
let fps = 0;
/** 50 frames x h36m17 [x, y, score] of S1, view 0, every 10th frame; a second person shifted right */
let gt: Float64Array[] = [];
let gt2: Float64Array[] = [];
const SHIFT = 350;

/** h36m17 [x, y, score] -> another layout: joints with an h36m17 equivalent filled, the rest 0, 0, 0. */
function fromH36m(h: Float64Array, layout: string): Float64Array {
  const def = LAYOUTS[layout];
  const out = new Float64Array(def.names.length * 3);
  def.toH36m.forEach((s, j) => {
    if (typeof s === 'number') { out[s * 3] = h[j * 3]; out[s * 3 + 1] = h[j * 3 + 1]; out[s * 3 + 2] = h[j * 3 + 2]; }
  });
  return out;
}

const flat = (a: Float64Array) => Array.from(a, (v) => Math.round(v * 1e4) / 1e4);
const rounded = (a: Float64Array) => Float64Array.from(flat(a));

function maxDiff(doc: PoseliftDoc, ref: (LiftedPerson | null)[][]): number {
  let m = 0;
  doc.frames.forEach((f, i) => f.people.forEach((p, n) => {
    const r = ref[n][i];
    assert.ok(r && p.joints3d, `frame ${i} person ${p.id} lifted`);
    p.joints3d!.flat().forEach((v, k) => { m = Math.max(m, Math.abs(v - r!.joints3d[k])); });
  }));
  return m;
}

async function reference(people: Float64Array[][], layout: string, c: Intrinsics, f: number, adapter?: DefinitionAdapter): Promise<(LiftedPerson | null)[][]> {
  const out: (LiftedPerson | null)[][] = [];
  for (const frames of people) {
    const norm = frames.map((d) => normalisedH36m({ layout, data: d }, c, 0, adapter));
    // the kind of the layout, and whether an adapter moved the keypoints, as `lift` tells the Lifter
    const o = { kind: kindOfLayout(layout), adapted: adapter !== undefined };
    out.push(f > 0 ? await lifter.liftTrack(norm, c, f, o) : await lifter.liftBatch(norm, c, o));
  }
  return out;
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'poselift-kp-'));
  lifter = await Lifter.load(MODELS);
  const ds = openDataset(path.join(DATA, 'h36m-train'));
  const si = ds.sequences.findIndex((s) => s.subject === 'S1');
  cam = ds.camera(si, 0);
  fps = ds.sequences[si].fps / 10;
  const all = ds.groundTruth2d(si, 0, 0, 500);
  for (let f = 0; f < 500; f += 10) {
    const g = all.slice(f * 51, (f + 1) * 51);
    gt.push(g);
    const g2 = Float64Array.from(g);
    for (let j = 0; j < 17; j++) g2[j * 3] += SHIFT;
    gt2.push(g2);
  }
  // snap to what the files hold (4 decimals), so the reference sees the same numbers
  gt = gt.map(rounded); gt2 = gt2.map(rounded);
  ds.close();
  camFile = path.join(tmp, 'cam.json');
  writeFileSync(camFile, JSON.stringify({ fx: cam.fx, fy: cam.fy, cx: cam.cx, cy: cam.cy, k: cam.k, p: cam.p, width: cam.width, height: cam.height }));
});

after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

test('layouts body25 and coco18 map only true equivalents', () => {
  for (const l of ['body25', 'coco18']) {
    const def = LAYOUTS[l];
    assert.equal(def.toH36m[7], null, `${l}: no spine`);
    assert.equal(def.toH36m[10], null, `${l}: no head top`);
    assert.ok(!def.toH36m.includes(def.names.indexOf('neck')), `${l}: OpenPose's neck is not mapped`);
  }
  assert.equal(LAYOUTS.body25.toH36m[0], LAYOUTS.body25.names.indexOf('mid_hip'));
});

test('coco annotations file, --camera, fps 0: two people per image, = Lifter.liftBatch within 1 mm', async (t) => {
  const file = path.join(tmp, 'anno.json');
  const images = gt.map((_, i) => ({ id: 100 + i, width: cam.width, height: cam.height, file_name: `img_${i}.jpg` }));
  const annotations = gt.flatMap((g, i) => [g, gt2[i]].map((d, n) => ({
    id: i * 2 + n, image_id: 100 + i, category_id: 1, bbox: [0, 0, 10, 10],
    keypoints: flat(fromH36m(d, 'coco17')).map((v, k) => (k % 3 === 2 && v > 0 ? 2 : v)),
  })));
  writeFileSync(file, JSON.stringify({ images, annotations }));
  const doc = await liftKeypointFile(file, { format: 'coco', camera: camFile, lifter });
  assert.equal(doc.frames.length, 50);
  assert.equal(doc.input.kind, 'keypoints');
  assert.deepEqual(doc.detector, { name: 'keypoints-file', layout: 'coco17' });
  assert.equal(doc.camera.source, 'file');
  assert.equal(doc.frames[3].file, 'img_3.jpg');
  assert.deepEqual(doc.frames[0].people.map((p) => p.id), [1, 2]);
  const v2 = (d: Float64Array) => d.map((v, k) => (k % 3 === 2 && v > 0 ? 2 : v));
  const ref = await reference([gt, gt2].map((ps) => ps.map((g) => v2(fromH36m(g, 'coco17')))), 'coco17', cam, 0);
  const d = maxDiff(doc, ref);
  t.diagnostic(`max |joints3d - reference| = ${d.toFixed(3)} mm`);
  assert.ok(d <= 1, `max difference ${d.toFixed(3)} mm`);
});

test('--adapter: keypoints from a known detector get its keypoint adapter (= Lifter on adapted keypoints); an unknown one is refused', async (t) => {
  const file = path.join(tmp, 'adapted.json');
  const images = gt.slice(0, 10).map((_, i) => ({ id: i, width: cam.width, height: cam.height, file_name: `img_${i}.jpg` }));
  const annotations = gt.slice(0, 10).map((g, i) => ({ id: i, image_id: i, category_id: 1, bbox: [0, 0, 10, 10], keypoints: flat(fromH36m(g, 'coco17')) }));
  writeFileSync(file, JSON.stringify({ images, annotations }));
  const doc = await liftKeypointFile(file, { format: 'coco', camera: camFile, lifter, adapter: 'movenet-thunder' });
  assert.match(doc.models.keypoint_adapter ?? '', /^movenet-thunder calibrated/);
  const adapter = lifter.adapterFor('movenet-thunder');
  assert.ok(adapter);
  const ref = await reference([gt.slice(0, 10).map((g) => fromH36m(g, 'coco17'))], 'coco17', cam, 0, adapter);
  const d = maxDiff(doc, ref);
  t.diagnostic(`max |joints3d - reference| = ${d.toFixed(3)} mm`);
  assert.ok(d <= 1, `max difference ${d.toFixed(3)} mm`);
  const plain = await liftKeypointFile(file, { format: 'coco', camera: camFile, lifter });
  assert.equal(plain.models.keypoint_adapter, undefined);
  assert.notDeepEqual(plain.frames[0].people[0].root, doc.frames[0].people[0].root, 'the adapter moves the root');
  await assert.rejects(liftKeypointFile(file, { format: 'coco', camera: camFile, lifter, adapter: 'openpose' }),
    /adapted\.json: --adapter openpose: the models folder has no keypoint adapter for that detector; use one of .*movenet-thunder/);
});

test('coco annotations of the h36m-images photos, no --camera: default field of view from the image size', async () => {
  const ds = openDataset(path.join(DATA, 'h36m-images'));
  const images: object[] = [], annotations: object[] = [], kps: Float64Array[] = [], cams: Intrinsics[] = [];
  ds.sequences.forEach((_, si) => {
    const c = ds.camera(si, 0);
    const d = rounded(fromH36m(ds.groundTruth2d(si, 0, 0, 1), 'coco17'));
    images.push({ id: si + 1, width: c.width, height: c.height });
    annotations.push({ image_id: si + 1, category_id: 1, keypoints: flat(d), score: 0.9 });
    kps.push(d); cams.push(resolveCamera(c.width!, c.height!, undefined, undefined));
  });
  ds.close();
  const file = path.join(tmp, 'photos.json');
  writeFileSync(file, JSON.stringify({ images, annotations }));
  const doc = await liftKeypointFile(file, { format: 'coco', lifter });
  assert.equal(doc.camera.source, 'default');
  for (let i = 0; i < kps.length; i++) {
    const [r] = await lifter.liftBatch([normalisedH36m({ layout: 'coco17', data: kps[i] }, cams[i])], cams[i], { kind: 'coco' });
    const p = doc.frames[i].people[0];
    const m = Math.max(...p.joints3d!.flat().map((v, k) => Math.abs(v - r!.joints3d[k])));
    assert.ok(m <= 1, `photo ${i}: max difference ${m.toFixed(3)} mm`);
  }
});

function writeOpenpose(dir: string, layout: string, people: Float64Array[][]): void {
  mkdirSync(dir, { recursive: true });
  // file numbers not zero-padded in the same width, to check numeric ordering
  for (let i = 0; i < people[0].length; i++) {
    writeFileSync(path.join(dir, `clip_${i}_keypoints.json`), JSON.stringify({
      version: 1.3, people: people.map((ps) => ({ person_id: [-1], pose_keypoints_2d: flat(fromH36m(ps[i], layout)) })),
    }));
  }
}

test('openpose BODY_25 folder, --fps: tracked ids, = Lifter.liftTrack within 1 mm', async (t) => {
  const dir = path.join(tmp, 'op25');
  // person order swapped on odd frames: the tracker must keep the ids
  const a = gt.map((g, i) => (i % 2 ? gt2[i] : g)), b = gt.map((g, i) => (i % 2 ? g : gt2[i]));
  writeOpenpose(dir, 'body25', [a, b]);
  const doc = await liftKeypointFile(dir, { format: 'openpose', camera: camFile, fps, lifter });
  assert.equal(doc.fps, fps);
  assert.equal(doc.detector.layout, 'body25');
  assert.equal(doc.frames[10].file, 'clip_10_keypoints.json');
  // person 1 = gt on every frame, person 2 = gt shifted
  const ref = await reference([gt, gt2].map((ps) => ps.map((g) => fromH36m(g, 'body25'))), 'body25', cam, fps);
  doc.frames.forEach((f) => f.people.sort((x, y) => x.id - y.id));
  assert.deepEqual(new Set(doc.frames.flatMap((f) => f.people.map((p) => p.id))), new Set([1, 2]));
  const d = maxDiff(doc, ref);
  t.diagnostic(`max |joints3d - reference| = ${d.toFixed(3)} mm`);
  assert.ok(d <= 1, `max difference ${d.toFixed(3)} mm`);
});

test('openpose COCO-18 folder, fps 0, --width/--height: = Lifter.liftBatch within 1 mm', async (t) => {
  const dir = path.join(tmp, 'op18');
  writeOpenpose(dir, 'coco18', [gt]);
  const doc = await liftKeypointFile(dir, { format: 'openpose', width: cam.width, height: cam.height, lifter });
  const c = resolveCamera(cam.width!, cam.height!, undefined, undefined);
  const ref = await reference([gt.map((g) => fromH36m(g, 'coco18'))], 'coco18', c, 0);
  const d = maxDiff(doc, ref);
  t.diagnostic(`max |joints3d - reference| = ${d.toFixed(3)} mm`);
  assert.ok(d <= 1, `max difference ${d.toFixed(3)} mm`);
});

test('csv (h36m17 joint names, coco17 indices), --fps: = Lifter.liftTrack within 1 mm; CLI writes the document', async (t) => {
  const rows = ['frame,person,joint,x,y,score'];
  gt.forEach((g, i) => { for (let j = 0; j < 17; j++) rows.push(`${i * 10},1,${LAYOUTS.h36m17.names[j]},${g[j * 3]},${g[j * 3 + 1]},${g[j * 3 + 2]}`); });
  const file = path.join(tmp, 'h36m.csv');
  writeFileSync(file, rows.join('\n') + '\n');
  const doc = await liftKeypointFile(file, { format: 'csv', layout: 'h36m17', camera: camFile, fps, lifter });
  const ref = await reference([gt], 'h36m17', cam, fps);
  assert.ok(maxDiff(doc, ref) <= 1);

  const rows2 = ['person,frame,joint,x,y'];
  gt.forEach((g, i) => {
    const c = fromH36m(g, 'coco17');
    for (let j = 0; j < 17; j++) if (c[j * 3 + 2] > 0) rows2.push(`7,${i},${j},${c[j * 3]},${c[j * 3 + 1]}`);
  });
  const file2 = path.join(tmp, 'coco.csv');
  writeFileSync(file2, rows2.join('\n'));
  const out = path.join(tmp, 'out', 'coco.poselift.json');
  const r = spawnSync(process.execPath, [CLI, 'lift', file2, '--format', 'csv', '--layout', 'coco17', '--camera', camFile,
    '--fps', String(fps), '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const doc2 = JSON.parse(readFileSync(out, 'utf8')) as PoseliftDoc;
  // the shipped poselift/1 schema, unmodified: it must know every layout the adapters accept
  const schema = JSON.parse(readFileSync(path.join(REPO, 'schema', 'poselift-1.schema.json'), 'utf8'));
  assert.deepEqual([...schema.definitions.person.properties.layout2d.enum].sort(), Object.keys(LAYOUTS).sort());
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  assert.ok(validate(doc2), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.equal(doc2.frames[0].people[0].id, 7);
  const ref2 = await reference([gt.map((g) => fromH36m(g, 'coco17'))], 'coco17', cam, fps);
  const d = maxDiff(doc2, ref2);
  t.diagnostic(`max |joints3d - reference| = ${d.toFixed(3)} mm`);
  assert.ok(d <= 1, `max difference ${d.toFixed(3)} mm`);
});

test('malformed files fail with one error naming the file and the entry', async () => {
  const kp = flat(fromH36m(gt[0], 'coco17'));
  const anno = (mut: (a: any[]) => void) => {
    const annotations: any[] = gt.slice(0, 13).map((_, i) => ({ image_id: 1, category_id: 1, keypoints: [...kp] }));
    mut(annotations);
    return { images: [{ id: 1, width: 1000, height: 1000 }], annotations };
  };
  const cases: [string, unknown, RegExp][] = [
    ['short.json', anno((a) => { a[12].keypoints = kp.slice(0, 48); }), /short\.json: annotations\[12\]\.keypoints: expected 51 numbers .*got 48$/],
    ['nan.json', anno((a) => { a[3].keypoints[5] = 'x'; }), /nan\.json: annotations\[3\]\.keypoints\[5\]: must be a finite number, got "x"$/],
    ['noid.json', anno((a) => { delete a[2].image_id; }), /noid\.json: annotations\[2\]\.image_id: missing/],
    ['results.json', [{ image_id: 1, keypoints: kp, score: 1 }], /results\.json: frame 1 has no image size .*--width and --height/],
  ];
  for (const [name, body, re] of cases) {
    const f = path.join(tmp, name);
    writeFileSync(f, JSON.stringify(body));
    await assert.rejects(liftKeypointFile(f, { format: 'coco', lifter }), (e: Error) => { assert.match(e.message, re); assert.ok(!e.message.includes('\n')); return true; });
  }
  const mixed = path.join(tmp, 'mixed');
  mkdirSync(mixed);
  writeFileSync(path.join(mixed, 'a_0_keypoints.json'), JSON.stringify({ people: [{ pose_keypoints_2d: flat(fromH36m(gt[0], 'body25')) }] }));
  writeFileSync(path.join(mixed, 'a_1_keypoints.json'), JSON.stringify({ people: [{ pose_keypoints_2d: flat(fromH36m(gt[1], 'coco18')) }] }));
  await assert.rejects(liftKeypointFile(mixed, { format: 'openpose', camera: camFile, lifter }),
    /a_1_keypoints\.json: people\[0\]\.pose_keypoints_2d: is coco18 .* one folder must hold one layout/);
  writeFileSync(path.join(mixed, 'a_1_keypoints.json'), JSON.stringify({ people: [{ pose_keypoints_2d: [1, 2, 3] }] }));
  await assert.rejects(liftKeypointFile(mixed, { format: 'openpose', camera: camFile, lifter }),
    /a_1_keypoints\.json: people\[0\]\.pose_keypoints_2d: expected 75 numbers \(BODY_25\) or 54 \(COCO-18\), got 3/);
  const csv = path.join(tmp, 'bad.csv');
  writeFileSync(csv, 'frame,person,joint,x,y\n0,1,pelvis,1,2\n0,1,elbow,3,4\n');
  await assert.rejects(liftKeypointFile(csv, { format: 'csv', layout: 'h36m17', camera: camFile, lifter }), /bad\.csv: line 3: joint "elbow" is neither/);
  writeFileSync(csv, 'frame,person,joint,x,y\n0,1,pelvis,1,abc\n');
  await assert.rejects(liftKeypointFile(csv, { format: 'csv', layout: 'h36m17', camera: camFile, lifter }), /bad\.csv: line 2: y must be a number, got "abc"/);
  await assert.rejects(liftKeypointFile(csv, { format: 'csv', camera: camFile, lifter }), /bad\.csv: --layout is required/);
  // the CLI: one line on stderr, non-zero exit
  const r = spawnSync(process.execPath, [CLI, 'lift', path.join(tmp, 'short.json'), '--format', 'coco', '--out', path.join(tmp, 'x.json')], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr.trim(), /^poselift: .*short\.json: annotations\[12\]\.keypoints: expected 51 numbers/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
