/**
 * `poselift export` (src/export): BVH re-imported with three.js's own BVHLoader and checked by forward
 * kinematics against the JSON on every frame (within 1 mm), CSV rows and values, and bad inputs (one
 * clear error each). Real results: the bundled sample photo, and a 20-frame video made here with ffmpeg
 * from a Human3.6M photo (kept in a temp folder, never in the repo).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Vector3 } from 'three';
import { BVHLoader } from 'three/examples/jsm/loaders/BVHLoader.js';
import type { PoseliftDoc } from '../../src/contracts/document.js';
import { H36M17_NAMES, H36M17_PARENTS } from '../../src/contracts/layouts.js';
import { toBvh, BVH_NODE_OF_JOINT, BVH_NODES } from '../../src/formats/bvh.js';
import { toCsv, CSV_HEADER } from '../../src/formats/csv.js';
import { readResult } from '../../src/formats/doc.js';
import { CLI, REPO } from '../helpers.js';
import { makeSampleResults } from '../fixtures.js';

let tmp = '';
let photo: PoseliftDoc;
let video: PoseliftDoc;
let photoFile = '';
let videoFile = '';

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'poselift-export-'));
  ({ photoFile, photo, videoFile, video } = await makeSampleResults(tmp));
});
after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

/** Parse the BVH with three's loader, pose the bones from its keyframe tracks, return world joint positions per frame. */
function fkFromBvh(text: string): { positions: Vector3[][]; frameTime: number; names: string[] } {
  const { skeleton, clip } = new BVHLoader().parse(text);
  const root = skeleton.bones[0];
  const nFrames = clip.tracks[0].times.length;
  const positions: Vector3[][] = [];
  for (let k = 0; k < nFrames; k++) {
    for (const t of clip.tracks) {
      const [name, prop] = t.name.split('.');
      const bone = skeleton.getBoneByName(name)!;
      const n = prop === 'position' ? 3 : 4;
      const v = Array.from(t.values.slice(k * n, k * n + n));
      if (prop === 'position') bone.position.fromArray(v);
      else bone.quaternion.fromArray(v);
    }
    root.updateMatrixWorld(true);
    positions.push(BVH_NODE_OF_JOINT.map((name) => skeleton.getBoneByName(name)!.getWorldPosition(new Vector3())));
  }
  const frameTime = nFrames > 1 ? clip.tracks[0].times[1] - clip.tracks[0].times[0] : Number(/Frame Time:\s*(\S+)/.exec(text)![1]);
  return { positions, frameTime, names: skeleton.bones.map((b) => b.name) };
}

/** Largest distance between the BVH's forward kinematics and the JSON joints (camera frame -> (x, -y, -z)). */
function maxFkError(doc: PoseliftDoc, text: string, person: number, docFrames: number[]): number {
  const { positions } = fkFromBvh(text);
  assert.equal(positions.length, docFrames.length);
  let max = 0;
  docFrames.forEach((fi, k) => {
    const J = doc.frames[fi].people.find((p) => p.id === person)?.joints3d;
    if (!J) return;
    for (let j = 0; j < 17; j++) {
      max = Math.max(max, positions[k][j].distanceTo(new Vector3(J[j][0], -J[j][1], -J[j][2])));
    }
  });
  return max;
}

test('BVH of the sample photo: one frame, FK within 1 mm, standard hierarchy', () => {
  const r = toBvh(photo, { file: photoFile });
  assert.equal(r.person, 1);
  assert.deepEqual(r.frames, [0]);
  const { names, frameTime } = fkFromBvh(r.text);
  assert.deepEqual(names.filter((n) => n !== 'ENDSITE'), BVH_NODES.map((n) => n.name));
  assert.equal(frameTime, 1, 'photos: Frame Time 1 s');
  assert.match(r.text, /^HIERARCHY\nROOT Hips\n\{\n  OFFSET 0\.0000 0\.0000 0\.0000\n  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n/);
  assert.equal((r.text.match(/CHANNELS 3 Zrotation Xrotation Yrotation/g) ?? []).length, BVH_NODES.length - 1);
  const err = maxFkError(photo, r.text, 1, r.frames);
  console.log(`photo BVH: forward kinematics vs JSON max ${err.toFixed(3)} mm`);
  assert.ok(err < 1, `${err} mm`);
  // the rest pose has the person's bone lengths (e.g. the right thigh = |right hip - right knee|)
  const J = photo.frames[0].people[0].joints3d!;
  const thigh = Math.hypot(...J[2].map((v, k) => v - J[1][k]));
  const off = /JOINT RightLeg\n\s*\{\n\s*OFFSET (\S+) (\S+) (\S+)/.exec(r.text)!;
  assert.ok(Math.abs(Math.hypot(+off[1], +off[2], +off[3]) - thigh) < 0.01);
});

test('BVH of a 20-frame video: every frame within 1 mm by FK, Frame Time 1/fps, gaps held', () => {
  assert.equal(video.fps, 10);
  const ids = new Set(video.frames.flatMap((f) => f.people.filter((p) => p.joints3d).map((p) => p.id)));
  assert.equal(ids.size, 1, 'one tracked person');
  const person = [...ids][0];
  const r = toBvh(video, { file: videoFile });
  const lifted = video.frames.filter((f) => f.people.some((p) => p.joints3d)).length;
  assert.ok(lifted >= 18, `${lifted} lifted frames`);
  assert.equal(r.frames.length, r.frames[r.frames.length - 1] - r.frames[0] + 1, 'every frame from the first to the last');
  const { frameTime } = fkFromBvh(r.text);
  assert.ok(Math.abs(frameTime - 0.1) < 1e-6, `frame time ${frameTime}`);
  const err = maxFkError(video, r.text, person, r.frames);
  console.log(`video BVH: ${r.frames.length} frames, forward kinematics vs JSON max ${err.toFixed(3)} mm (exporter's own check ${r.maxErrorMm.toFixed(3)})`);
  assert.ok(err < 1, `${err} mm`);
  // the bones move: the pose is not the same in every frame
  const { positions } = fkFromBvh(r.text);
  assert.ok(positions[0][13].distanceTo(positions[positions.length - 1][13]) > 5, 'the wrist moves over the clip');

  // a gap (person absent in frame 5) holds the previous pose; the others still match
  const gap = structuredClone(video);
  gap.frames[5].people = [];
  const g = toBvh(gap, { file: 'gap.json' });
  assert.equal(g.frames.length, r.frames.length);
  assert.equal(g.held, 1);
  const gp = fkFromBvh(g.text).positions;
  const k5 = g.frames.indexOf(5);
  for (let j = 0; j < 17; j++) assert.ok(gp[k5][j].distanceTo(gp[k5 - 1][j]) < 1e-6);
  assert.ok(maxFkError(gap, g.text, person, g.frames) < 1);
});

test('BVH: bone lengths that vary (independent photos) are refused unless one --frame is taken', () => {
  const two = structuredClone(photo);
  const f1 = structuredClone(two.frames[0]);
  f1.index = 1;
  // a second, 10 % bigger "person 1" around the same pelvis (another photo)
  const J = f1.people[0].joints3d!;
  f1.people[0].joints3d = J.map((p) => p.map((v, k) => J[0][k] + 1.1 * (v - J[0][k])));
  two.frames.push(f1);
  assert.throws(() => toBvh(two, { file: 'two.json' }), (e: Error) =>
    /two\.json: person 1's bone lengths vary too much/.test(e.message) && /--frame N/.test(e.message));
  const one = toBvh(two, { file: 'two.json', frame: 1 });
  assert.deepEqual(one.frames, [1]);
  assert.ok(maxFkError(two, one.text, 1, [1]) < 1);
  assert.throws(() => toBvh(two, { file: 'two.json', frame: 7 }), /--frame 7 is not a frame index \(0\.\.1\)/);
  // a small drift (as between the lifter's windows on long videos): exported, and the reported FK error is the true one
  const drift = structuredClone(video);
  drift.frames.slice(10).forEach((f) => f.people.forEach((p) => {
    const P = p.joints3d!;
    p.joints3d = P.map((q) => q.map((v, k) => P[0][k] + 1.004 * (v - P[0][k])));
  }));
  const d = toBvh(drift, { file: 'drift.json' });
  const err = maxFkError(drift, d.text, d.person, d.frames);
  console.log(`0.4 % bone-length drift: FK off by ${err.toFixed(2)} mm, bone spread ${d.boneSpreadMm.toFixed(2)} mm`);
  assert.ok(err > 1 && err < 20, `${err}`);
  assert.ok(Math.abs(err - d.maxErrorMm) < 0.01, `reported ${d.maxErrorMm} vs three.js FK ${err}`);
});

test('CSV: one row per frame, person and joint; 3D from joints3d, 2D from the detector via the layout adapter', () => {
  const { text, rows } = toCsv(video, { file: videoFile });
  const lines = text.trim().split('\n');
  assert.equal(lines[0], CSV_HEADER);
  const people = video.frames.reduce((s, f) => s + f.people.length, 0);
  assert.equal(rows, people * 17);
  assert.equal(lines.length, rows + 1);
  const cols = CSV_HEADER.split(',');
  const rec = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
  const f7 = video.frames[7];
  const p = f7.people[0];
  const r = rec.filter((x) => x.frame === '7' && x.person === String(p.id));
  assert.equal(r.length, 17);
  assert.deepEqual(r.map((x) => x.joint), [...H36M17_NAMES]);
  assert.equal(Number(r[0].time_s), f7.time_s);
  for (let j = 0; j < 17; j++) {
    assert.deepEqual([+r[j].x_mm, +r[j].y_mm, +r[j].z_mm], p.joints3d![j]);
  }
  // coco17 -> h36m17: the pelvis is the hips' midpoint; spine and head top have no COCO equivalent
  const k = p.keypoints2d;
  assert.ok(Math.abs(+r[0].u_px - (k[11][0] + k[12][0]) / 2) < 0.01);
  assert.ok(Math.abs(+r[0].v_px - (k[11][1] + k[12][1]) / 2) < 0.01);
  assert.equal(r[7].u_px, '');
  assert.equal(r[10].score, '');
  assert.deepEqual([+r[13].u_px, +r[13].v_px], [k[9][0], k[9][1]], 'left wrist = COCO 9');
  // photos: empty time_s; a person that was not lifted keeps its rows with empty 3D
  const nl = structuredClone(photo);
  nl.frames[0].people[0].joints3d = null;
  const rows2 = toCsv(nl).text.trim().split('\n').slice(1);
  assert.equal(rows2.length, 17);
  assert.match(rows2[0], /^0,,1,0,pelvis,,,,\d/);
});

test('CLI: export writes the files; bad inputs give one clear error each', () => {
  const bvh = path.join(tmp, 'out.bvh');
  const ok = spawnSync(process.execPath, [CLI, 'export', videoFile, '--format', 'bvh', '--out', bvh], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /forward kinematics within 0\.\d\d mm/);
  assert.equal(readFileSync(bvh, 'utf8'), toBvh(readResult(videoFile), { file: videoFile }).text);
  const csv = path.join(tmp, 'out.csv');
  assert.equal(spawnSync(process.execPath, [CLI, 'export', videoFile, '--format', 'csv', '--out', csv]).status, 0);
  assert.equal(readFileSync(csv, 'utf8').split('\n')[0], CSV_HEADER);

  const fail = (args: string[], re: RegExp) => {
    const r = spawnSync(process.execPath, [CLI, 'export', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  };
  // not a result file
  const notResult = path.join(tmp, 'cam.json');
  writeFileSync(notResult, readFileSync(path.join(REPO, 'samples', 'camera.json')));
  fail([notResult, '--format', 'bvh'], /cam\.json: \(top level\) is missing the field "schema"; pass a poselift\/1 document as written by `poselift run`/);
  const notJson = path.join(tmp, 'x.poselift.json');
  writeFileSync(notJson, 'hello');
  fail([notJson, '--format', 'csv'], /x\.poselift\.json: is not valid JSON/);
  fail([path.join(tmp, 'missing.json'), '--format', 'bvh'], /missing\.json: does not exist; check the path/);
  fail([videoFile, '--format', 'fbx'], /unknown --format "fbx"; use bvh or csv/);
  // unknown person id
  fail([videoFile, '--format', 'bvh', '--person', '42'], /clip\.poselift\.json: no person with id 42 \(ids in the result: 1\)/);
  fail([videoFile, '--format', 'csv', '--person', '42'], /no person with id 42/);
  // several people: BVH needs --person; a person never lifted
  const multi = structuredClone(video);
  for (const f of multi.frames) {
    const p = f.people[0];
    if (!p) continue;
    f.people.push({ ...structuredClone(p), id: 2 }, { ...structuredClone(p), id: 3, joints3d: null, root: null });
  }
  const multiFile = path.join(tmp, 'multi.poselift.json');
  writeFileSync(multiFile, JSON.stringify(multi));
  fail([multiFile, '--format', 'bvh'], /multi\.poselift\.json: 2 people were lifted \(ids 1, 2\); BVH holds one skeleton: pass --person ID/);
  fail([multiFile, '--format', 'bvh', '--person', '3'], /multi\.poselift\.json: person 3 was never lifted \(joints3d is null in all \d+ frame\(s\) where it appears\)/);
  const p2 = path.join(tmp, 'p2.bvh');
  assert.equal(spawnSync(process.execPath, [CLI, 'export', multiFile, '--format', 'bvh', '--person', '2', '--out', p2]).status, 0);
  const r2 = readFileSync(p2, 'utf8');
  assert.ok(maxFkError(multi, r2, 2, toBvh(multi, { person: 2 }).frames) < 1);
  // the kinematic tree of the BVH follows h36m17's parents
  assert.equal(H36M17_PARENTS.length, BVH_NODE_OF_JOINT.length);
});
