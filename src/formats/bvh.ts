/**
 * BVH export of one person of a poselift/1 result.
 *
 * Hierarchy (21 nodes, CMU-style names): Hips (root: Xposition Yposition Zposition Zrotation Xrotation
 * Yrotation) with RHipJoint / LHipJoint (zero-offset branch joints, as in the CMU mocap BVHs) -> UpLeg ->
 * Leg -> Foot, and Spine -> Spine1 (thorax) -> Neck -> Head, with LeftShoulder / RightShoulder
 * (zero-offset clavicle joints at the thorax) -> Arm -> ForeArm -> Hand. Every non-root joint has the 3
 * rotation channels only (Zrotation Xrotation Yrotation: R = Rz Rx Ry).
 *
 * Why branch joints: the lifter's bone lengths are constant per track (to the JSON's 0.1 mm rounding),
 * but the angles between sibling bones (the two hips and the spine at the pelvis; the neck and the two
 * shoulders at the thorax) change from frame to frame by several degrees, which one rotation per joint
 * cannot follow. With a zero-offset joint per extra branch every node aims exactly one bone, so forward
 * kinematics reproduces every joint of every frame to well under 1 mm with rotation-only channels (no
 * per-joint position channels, whose meaning differs between importers).
 *
 * Axes and units: millimetres; the camera frame turned 180 degrees about its x axis, i.e. x right, y up,
 * z toward the camera (OpenGL / three.js camera frame; BVH's usual Y-up), so (x, y, z)_bvh =
 * (x, -y, -z)_camera. The root translation is the pelvis in that frame. Rest pose: a T-pose facing +z
 * (toward the camera) with each bone's median length over the track.
 */
import { Euler, Matrix4, Quaternion, Vector3 } from 'three';
import { H36M17_NAMES, H36M17_PARENTS } from '../contracts/layouts.js';
import type { PoseliftDoc } from '../contracts/document.js';
import { personIds, personTrack } from './doc.js';
import { median } from '../util/numeric.js';

export interface BvhNode {
  name: string;
  /** BVH parent node index (-1 for the root) */
  parent: number;
  /** the h36m17 joint at this node's position (a branch joint sits at its parent's joint) */
  at: number;
  /** the h36m17 joint this node's rotation aims its one child bone at (null: leaf) */
  aim: number | null;
  /** root and thorax: a second direction (left minus right joint) fixing the twist */
  side?: readonly [number, number];
}

export const BVH_NODES: readonly BvhNode[] = [
  { name: 'Hips', parent: -1, at: 0, aim: 7, side: [4, 1] },
  { name: 'RHipJoint', parent: 0, at: 0, aim: 1 },
  { name: 'RightUpLeg', parent: 1, at: 1, aim: 2 },
  { name: 'RightLeg', parent: 2, at: 2, aim: 3 },
  { name: 'RightFoot', parent: 3, at: 3, aim: null },
  { name: 'LHipJoint', parent: 0, at: 0, aim: 4 },
  { name: 'LeftUpLeg', parent: 5, at: 4, aim: 5 },
  { name: 'LeftLeg', parent: 6, at: 5, aim: 6 },
  { name: 'LeftFoot', parent: 7, at: 6, aim: null },
  { name: 'Spine', parent: 0, at: 7, aim: 8 },
  { name: 'Spine1', parent: 9, at: 8, aim: 9, side: [11, 14] },
  { name: 'Neck', parent: 10, at: 9, aim: 10 },
  { name: 'Head', parent: 11, at: 10, aim: null },
  { name: 'LeftShoulder', parent: 10, at: 8, aim: 11 },
  { name: 'LeftArm', parent: 13, at: 11, aim: 12 },
  { name: 'LeftForeArm', parent: 14, at: 12, aim: 13 },
  { name: 'LeftHand', parent: 15, at: 13, aim: null },
  { name: 'RightShoulder', parent: 10, at: 8, aim: 14 },
  { name: 'RightArm', parent: 17, at: 14, aim: 15 },
  { name: 'RightForeArm', parent: 18, at: 15, aim: 16 },
  { name: 'RightHand', parent: 19, at: 16, aim: null },
];

/** The BVH node that sits at each h36m17 joint (not a branch joint). */
export const BVH_NODE_OF_JOINT: readonly string[] = H36M17_NAMES.map(
  (_, j) => BVH_NODES.find((n) => n.at === j && (n.parent < 0 || BVH_NODES[n.parent].at !== j))!.name,
);

/** Rest (T-pose) direction of the bone parent(j) -> j in the BVH frame (y up, facing +z, right = -x). */
const REST_DIR: readonly (readonly [number, number, number])[] = [
  [0, 0, 0], [-1, 0, 0], [0, -1, 0], [0, -1, 0], [1, 0, 0], [0, -1, 0], [0, -1, 0],
  [0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [-1, 0, 0], [-1, 0, 0], [-1, 0, 0],
];

/** Camera frame (x right, y down, z forward) -> BVH frame (x right, y up, z backward). */
export function cameraToBvh(p: readonly number[]): Vector3 {
  return new Vector3(p[0], -p[1], -p[2]);
}

/** Forward kinematics further than this from the JSON: refused (one skeleton cannot hold the track). */
export const BVH_REFUSE_MM = 20;

export interface BvhOptions {
  /** person id (default: the only person that was lifted) */
  person?: number;
  /** only this frame index (e.g. one photo of a folder result) */
  frame?: number;
  /** name of the result file for error messages */
  file?: string;
  /** refuse when forward kinematics is further than this from the JSON (mm; default 20: e.g. the same id on different people in independent photos) */
  maxErrorMm?: number;
}

export interface BvhResult {
  text: string;
  person: number;
  /** doc frame index of each BVH frame */
  frames: number[];
  /** BVH frames whose pose was held from the previous lifted frame (person absent or not lifted) */
  held: number;
  /** largest distance between a joint from forward kinematics and the JSON, mm */
  maxErrorMm: number;
  boneLengths: number[];
  /** largest deviation of a bone's length in the JSON from the BVH's (the track's median), mm */
  boneSpreadMm: number;
}

/** Pick the person to export; one clear error when the choice is impossible. */
export function choosePerson(doc: PoseliftDoc, person: number | undefined, file: string, what: string): number {
  const ids = personIds(doc);
  const list = ids.map((e) => e.id).join(', ') || 'none';
  if (person === undefined) {
    const lifted = ids.filter((e) => e.lifted > 0);
    if (lifted.length === 0) throw new Error(`${file}: no person was lifted in any frame (every joints3d is null); nothing to export as ${what}`);
    if (lifted.length > 1) throw new Error(`${file}: ${lifted.length} people were lifted (ids ${lifted.map((e) => e.id).join(', ')}); ${what} holds one skeleton: pass --person ID`);
    return lifted[0].id;
  }
  const e = ids.find((x) => x.id === person);
  if (!e) throw new Error(`${file}: no person with id ${person} (ids in the result: ${list}); pass one of them to --person`);
  if (e.lifted === 0) throw new Error(`${file}: person ${person} was never lifted (joints3d is null in all ${e.frames} frame(s) where it appears); nothing to export as ${what}`);
  return person;
}

/** Rotation taking the orthonormal frame of (a, b) at rest to that of (a', b') now. */
function frameMatrix(a: Vector3, b: Vector3): Matrix4 {
  const e1 = a.clone().normalize();
  const e2 = b.clone().addScaledVector(e1, -b.dot(e1)).normalize();
  const e3 = new Vector3().crossVectors(e1, e2);
  return new Matrix4().makeBasis(e1, e2, e3);
}

const fmt = (v: number, d: number) => {
  const s = v.toFixed(d);
  return s === (-0).toFixed(d) ? (0).toFixed(d) : s;
};

/** The BVH text of one person's track. */
export function toBvh(doc: PoseliftDoc, o: BvhOptions = {}): BvhResult {
  const file = o.file ?? 'result';
  const id = choosePerson(doc, o.person, file, 'BVH');
  const track = personTrack(doc, id);
  let idx = track.map((p, i) => (p?.joints3d ? i : -1)).filter((i) => i >= 0);
  if (o.frame !== undefined) {
    if (!Number.isInteger(o.frame) || o.frame < 0 || o.frame >= doc.frames.length) {
      throw new Error(`${file}: --frame ${o.frame} is not a frame index (0..${doc.frames.length - 1})`);
    }
    if (!track[o.frame]?.joints3d) throw new Error(`${file}: person ${id} is not lifted in frame ${o.frame} (lifted in frames ${idx.slice(0, 10).join(', ')}${idx.length > 10 ? ', ...' : ''}); pick one of those with --frame`);
    idx = [o.frame];
  }
  const first = idx[0];
  const last = idx[idx.length - 1];
  // every frame from the first to the last lifted one; gaps hold the previous pose
  const docFrames: number[] = [];
  const poses: Vector3[][] = [];
  let held = 0;
  let prev: Vector3[] | null = null;
  for (let i = first; i <= last; i++) {
    if (o.frame !== undefined && i !== o.frame) continue;
    const j3 = track[i]?.joints3d;
    if (j3) prev = j3.map(cameraToBvh);
    else held++;
    docFrames.push(i);
    poses.push(prev!);
  }
  const lifted = idx.map((i) => track[i]!.joints3d!.map(cameraToBvh));
  const boneLen = H36M17_PARENTS.map((p, j) => (p < 0 ? 0 : median(lifted.map((J) => J[j].distanceTo(J[p])))));
  // rest positions of the joints and offsets of the nodes
  const rest: Vector3[] = [];
  for (let j = 0; j < 17; j++) {
    const p = H36M17_PARENTS[j];
    rest.push(p < 0 ? new Vector3() : rest[p].clone().add(new Vector3(...REST_DIR[j]).multiplyScalar(boneLen[j])));
  }
  const offsets = BVH_NODES.map((n) => (n.parent < 0 ? new Vector3() : rest[n.at].clone().sub(rest[BVH_NODES[n.parent].at])));

  const lines: string[] = ['HIERARCHY'];
  const children = BVH_NODES.map((_, k) => BVH_NODES.map((n, c) => (n.parent === k ? c : -1)).filter((c) => c >= 0));
  const write = (k: number, depth: number) => {
    const n = BVH_NODES[k];
    const ind = '  '.repeat(depth);
    const off = offsets[k];
    lines.push(`${ind}${n.parent < 0 ? 'ROOT' : 'JOINT'} ${n.name}`, `${ind}{`);
    lines.push(`${ind}  OFFSET ${fmt(off.x, 4)} ${fmt(off.y, 4)} ${fmt(off.z, 4)}`);
    lines.push(`${ind}  CHANNELS ${n.parent < 0 ? '6 Xposition Yposition Zposition ' : '3 '}Zrotation Xrotation Yrotation`);
    for (const c of children[k]) write(c, depth + 1);
    if (children[k].length === 0) {
      // an end site continuing the incoming bone by 50 mm
      const e = new Vector3(...REST_DIR[n.at]).multiplyScalar(50);
      lines.push(`${ind}  End Site`, `${ind}  {`, `${ind}    OFFSET ${fmt(e.x, 4)} ${fmt(e.y, 4)} ${fmt(e.z, 4)}`, `${ind}  }`);
    }
    lines.push(`${ind}}`);
  };
  write(0, 0);
  lines.push('MOTION', `Frames: ${poses.length}`, `Frame Time: ${doc.fps > 0 ? (1 / doc.fps).toFixed(8) : '1.00000000'}`);

  const rest3 = (j: number) => new Vector3(...REST_DIR[j]);
  const restSide = (s: readonly [number, number]) => rest[s[0]].clone().sub(rest[s[1]]);
  let maxErr = 0;
  const euler = new Euler();
  const local = new Matrix4();
  for (const J of poses) {
    const G: Matrix4[] = [];
    const pos: Vector3[] = [];
    const vals: string[] = [];
    BVH_NODES.forEach((n, k) => {
      const parentG = n.parent < 0 ? new Matrix4() : G[n.parent];
      let g: Matrix4;
      if (n.side) {
        const restF = frameMatrix(rest3(n.aim!), restSide(n.side));
        const curF = frameMatrix(J[n.aim!].clone().sub(J[n.at]), J[n.side[0]].clone().sub(J[n.side[1]]));
        g = curF.multiply(restF.transpose());
      } else if (n.aim !== null) {
        const r = rest3(n.aim).applyMatrix4(parentG).normalize();
        const d = J[n.aim].clone().sub(J[n.at]).normalize();
        g = new Matrix4().makeRotationFromQuaternion(new Quaternion().setFromUnitVectors(r, d)).multiply(parentG);
      } else g = parentG.clone();
      G.push(g);
      pos.push(n.parent < 0 ? J[0].clone() : offsets[k].clone().applyMatrix4(G[n.parent]).add(pos[n.parent]));
      maxErr = Math.max(maxErr, pos[k].distanceTo(J[n.at]));
      local.copy(parentG).invert().multiply(g);
      euler.setFromRotationMatrix(local, 'ZXY');
      const deg = 180 / Math.PI;
      if (n.parent < 0) vals.push(fmt(J[0].x, 4), fmt(J[0].y, 4), fmt(J[0].z, 4));
      vals.push(fmt(euler.z * deg, 6), fmt(euler.x * deg, 6), fmt(euler.y * deg, 6));
    });
    lines.push(vals.join(' '));
  }
  if (maxErr > (o.maxErrorMm ?? BVH_REFUSE_MM)) {
    throw new Error(
      `${file}: person ${id}'s bone lengths vary too much across the ${lifted.length} lifted frames (forward kinematics off by ${maxErr.toFixed(1)} mm), ` +
        `so one BVH skeleton cannot hold them${doc.fps > 0 ? '' : ' (independent photos: the same id may be different people)'}; export one frame with --frame N`,
    );
  }
  let spread = 0;
  for (const J of lifted) for (let j = 1; j < 17; j++) spread = Math.max(spread, Math.abs(J[j].distanceTo(J[H36M17_PARENTS[j]]) - boneLen[j]));
  return { text: lines.join('\n') + '\n', person: id, frames: docFrames, held, maxErrorMm: maxErr, boneLengths: boneLen, boneSpreadMm: spread };
}
