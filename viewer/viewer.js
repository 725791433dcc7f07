// poselift viewer: the 3D skeletons of a poselift/1 result in camera space (three.js), a timeline, the
// camera frustum, and beside it the photo / video frame with the 2D keypoints and the reprojected 3D.
// Data comes from <script id="poselift-data" type="application/json">: { doc, media, title }.
// Axes: three.js coordinates = camera frame turned 180 degrees about x: (x, -y, -z), i.e. y up and the
// camera at the origin looking down -z (the BVH export uses the same frame).
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const PARENTS = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15];
const PALETTE = [0x4fc3f7, 0xffb74d, 0x81c784, 0xe57373, 0xba68c8, 0xfff176, 0x4db6ac, 0xf06292];
const COCO17_EDGES = [[5, 7], [7, 9], [6, 8], [8, 10], [5, 6], [5, 11], [6, 12], [11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [0, 1], [0, 2], [1, 3], [2, 4]];

const data = JSON.parse(document.getElementById('poselift-data').textContent);
const doc = data.doc;
const media = data.media ?? { kind: 'none' };
const nFrames = doc.frames.length;
const colorOf = (id) => PALETTE[(id - 1 + PALETTE.length) % PALETTE.length];
const css = (c) => '#' + c.toString(16).padStart(6, '0');
const toThree = (p) => new THREE.Vector3(p[0], -p[1], -p[2]);

// ---------- 3D ----------
const host = document.getElementById('view3d');
const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
host.appendChild(renderer.domElement);
const scene = new THREE.Scene();
scene.background = new THREE.Color(0x15181d);
const camera = new THREE.PerspectiveCamera(50, 1, 10, 200000);

// extent of the result: roots, deepest joint, floor (largest camera y = lowest point)
const roots = [];
let maxZ = 0;
let floorY = -Infinity;
for (const f of doc.frames) for (const p of f.people) if (p.joints3d) {
  roots.push(toThree(p.joints3d[0]));
  for (const j of p.joints3d) { maxZ = Math.max(maxZ, j[2]); floorY = Math.max(floorY, j[1]); }
}
const target = new THREE.Vector3(0, 0, -3000);
if (roots.length) { target.set(0, 0, 0); for (const r of roots) target.add(r); target.divideScalar(roots.length); }
if (!(maxZ > 0)) maxZ = 3000;
const dist = Math.max(1500, target.length());

// camera frustum out to a bit beyond the deepest joint, and the image rectangle there
const cam = doc.camera;
const depth = maxZ * 1.15;
const corners = [[0, 0], [cam.width, 0], [cam.width, cam.height], [0, cam.height]].map(([u, v]) =>
  toThree([((u - cam.cx) / cam.fx) * depth, ((v - cam.cy) / cam.fy) * depth, depth]));
const fr = [];
for (let i = 0; i < 4; i++) fr.push(new THREE.Vector3(), corners[i], corners[i], corners[(i + 1) % 4]);
scene.add(new THREE.LineSegments(new THREE.BufferGeometry().setFromPoints(fr), new THREE.LineBasicMaterial({ color: 0x7f8794 })));
scene.add(new THREE.AxesHelper(300));
if (Number.isFinite(floorY)) {
  const grid = new THREE.GridHelper(Math.max(4000, dist * 1.5), 16, 0x3a414d, 0x2a2f38);
  grid.position.set(target.x, -floorY, target.z);
  scene.add(grid);
}

scene.add(new THREE.HemisphereLight(0xffffff, 0x404050, 2.2));
const sun = new THREE.DirectionalLight(0xffffff, 1.5);
sun.position.set(1, 2, 1.5);
scene.add(sun);

// one skeleton per person: cylinders for the bones, spheres for the joints (left side lighter)
const LEFT = new Set([4, 5, 6, 11, 12, 13]);
const UP = new THREE.Vector3(0, 1, 0);
const boneGeo = new THREE.CylinderGeometry(1, 1, 1, 10);
const jointGeo = new THREE.SphereGeometry(1, 12, 8);
const people = new Map(); // id -> { group, bones: Mesh[16], joints: Mesh[17] }
function personObjects(id) {
  let o = people.get(id);
  if (!o) {
    const base = new THREE.Color(colorOf(id));
    const light = base.clone().lerp(new THREE.Color(0xffffff), 0.45);
    const mat = new THREE.MeshLambertMaterial({ color: base });
    const matL = new THREE.MeshLambertMaterial({ color: light });
    const group = new THREE.Group();
    const bones = [];
    const joints = [];
    for (let j = 0; j < 17; j++) {
      const s = new THREE.Mesh(jointGeo, LEFT.has(j) ? matL : mat);
      s.scale.setScalar(j === 10 ? 45 : 28);
      joints.push(s); group.add(s);
      if (j > 0) { const b = new THREE.Mesh(boneGeo, LEFT.has(j) ? matL : mat); bones.push(b); group.add(b); }
    }
    scene.add(group);
    o = { group, bones, joints };
    people.set(id, o);
  }
  return o;
}
const tmpDir = new THREE.Vector3();
function placeSkeleton(o, J) {
  for (let j = 0; j < 17; j++) o.joints[j].position.copy(J[j]);
  for (let j = 1; j < 17; j++) {
    const a = J[PARENTS[j]], b = J[j], m = o.bones[j - 1];
    tmpDir.subVectors(b, a);
    const len = tmpDir.length();
    m.position.addVectors(a, b).multiplyScalar(0.5);
    m.scale.set(16, Math.max(len, 1e-3), 16);
    m.quaternion.setFromUnitVectors(UP, len > 0 ? tmpDir.divideScalar(len) : UP);
  }
}

// first view: from above and to the side, framing both the camera (origin) and the people
const look = target.clone().multiplyScalar(0.6);
camera.position.copy(look).add(new THREE.Vector3(0.75 * dist, 0.5 * dist, 0.95 * dist));
const controls = new OrbitControls(camera, renderer.domElement);
controls.target.copy(look);
controls.update();
controls.addEventListener('change', () => render());

function resize() {
  const w = host.clientWidth || 640;
  const h = host.clientHeight || 480;
  renderer.setSize(w, h, false);
  camera.aspect = w / h;
  camera.updateProjectionMatrix();
  render();
}
function render() { renderer.render(scene, camera); }

// ---------- 2D ----------
const stage = document.getElementById('stage');
let base;
if (media.kind === 'video') {
  base = document.createElement('video');
  base.muted = true; base.playsInline = true; base.preload = 'auto'; base.src = media.url;
} else if (media.kind === 'image' || media.kind === 'images') {
  base = document.createElement('img');
  base.alt = 'input frame';
} else {
  base = document.createElement('canvas');
  base.width = cam.width; base.height = cam.height;
  const g = base.getContext('2d'); g.fillStyle = '#000'; g.fillRect(0, 0, cam.width, cam.height);
}
const overlay = document.createElement('canvas');
overlay.className = 'overlay';
stage.append(base, overlay);

function draw2d(frame) {
  const c = frame.camera ?? cam;
  overlay.width = c.width; overlay.height = c.height;
  const g = overlay.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  const s = Math.max(2, c.width / 250);
  for (const p of frame.people) {
    const col = css(colorOf(p.id));
    // reprojected 3D skeleton (pinhole, no distortion)
    if (p.joints3d) {
      const uv = p.joints3d.map(([x, y, z]) => [c.fx * x / z + c.cx, c.fy * y / z + c.cy]);
      g.strokeStyle = col; g.lineWidth = s * 0.6; g.globalAlpha = 0.9;
      g.beginPath();
      for (let j = 1; j < 17; j++) { g.moveTo(...uv[PARENTS[j]]); g.lineTo(...uv[j]); }
      g.stroke();
    }
    // detected 2D keypoints
    const kp = p.keypoints2d ?? [];
    g.globalAlpha = 1;
    if (p.layout2d === 'coco17') {
      g.strokeStyle = '#ffffff'; g.lineWidth = s * 0.3; g.beginPath();
      for (const [a, b] of COCO17_EDGES) if (kp[a]?.[2] > 0.2 && kp[b]?.[2] > 0.2) { g.moveTo(kp[a][0], kp[a][1]); g.lineTo(kp[b][0], kp[b][1]); }
      g.stroke();
    }
    for (const [x, y, sc] of kp) {
      if (!(sc > 0.2) || !Number.isFinite(x)) continue;
      g.fillStyle = '#ffffff'; g.beginPath(); g.arc(x, y, s, 0, 2 * Math.PI); g.fill();
      g.fillStyle = col; g.beginPath(); g.arc(x, y, s * 0.6, 0, 2 * Math.PI); g.fill();
    }
    if (p.bbox?.length === 4) { g.strokeStyle = col; g.lineWidth = s * 0.3; g.strokeRect(p.bbox[0], p.bbox[1], p.bbox[2], p.bbox[3]); } // bbox: [x, y, width, height]
  }
}

// ---------- timeline ----------
const slider = document.getElementById('timeline');
const label = document.getElementById('frameLabel');
const info = document.getElementById('info');
slider.max = String(Math.max(0, nFrames - 1));
document.getElementById('title').textContent = data.title ?? '';
const ids = [...new Set(doc.frames.flatMap((f) => f.people.map((p) => p.id)))].sort((a, b) => a - b);
document.getElementById('legend').innerHTML = ids.map((id) => `<span style="color:${css(colorOf(id))}">&#9632; person ${id}</span>`).join('');

let current = -1;
function setFrame(i) {
  if (nFrames === 0) { label.textContent = 'the result has no frames'; render(); return; }
  i = Math.max(0, Math.min(nFrames - 1, Math.round(i)));
  current = i;
  slider.value = String(i);
  const frame = doc.frames[i];
  for (const o of people.values()) o.group.visible = false;
  for (const p of frame.people) {
    if (!p.joints3d) continue;
    const o = personObjects(p.id);
    placeSkeleton(o, p.joints3d.map(toThree));
    o.group.visible = true;
  }
  const t = frame.time_s;
  label.textContent = `frame ${frame.index} / ${nFrames - 1}${t !== null && t !== undefined ? `  t = ${t.toFixed(3)} s` : ''}`;
  info.textContent = frame.people.map((p) => `person ${p.id}: ` + (p.joints3d
    ? `pelvis (${p.joints3d[0].map((v) => v.toFixed(0)).join(', ')}) mm, reprojection ${p.reprojection_px ?? '-'} px`
    : 'not lifted')).join('\n') || 'nobody in this frame';
  if (media.kind === 'video' && t !== null && t !== undefined) { if (Math.abs(base.currentTime - t) > 1e-3) base.currentTime = t; }
  else if (media.kind === 'images') base.src = media.urls[i];
  else if (media.kind === 'image') { if (!base.getAttribute('src')) base.src = media.url; }
  draw2d(frame);
  render();
  window.poselift.frame = i;
}

let timer = null;
document.getElementById('play').addEventListener('click', (e) => {
  if (timer) { clearInterval(timer); timer = null; e.target.textContent = 'play'; return; }
  e.target.textContent = 'pause';
  timer = setInterval(() => setFrame((current + 1) % Math.max(1, nFrames)), 1000 / (doc.fps > 0 ? doc.fps : 1));
});
slider.addEventListener('input', () => setFrame(Number(slider.value)));

window.poselift = { frames: nFrames, frame: 0, setFrame, ready: false };
window.addEventListener('resize', resize);
resize();
setFrame(0);
window.poselift.ready = true;
document.body.dataset.ready = '1';
