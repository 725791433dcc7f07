/**
 * Renders samples/person.png: a synthetic person (capsule limbs, torso, head with a face) drawn with
 * sharp from an SVG, projected from a known 3D h36m17 skeleton through samples/camera.json. Made by
 * this project (no third-party image), so it ships under the project's MIT licence. Re-run:
 *   node --import tsx samples/make-sample.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const here = path.dirname(fileURLToPath(import.meta.url));
const cam = { fx: 1000, fy: 1000, cx: 400, cy: 500 };
const W = 800, H = 1000;
const root = [150, 80, 4000]; // pelvis, camera frame, mm
// h36m17 root-relative (x right, y down, z forward), a person facing the camera (their right = image left)
const rel: number[][] = [
  [0, 0, 0], [-120, 0, 0], [-135, 440, 30], [-140, 870, 60], [120, 0, 0], [140, 440, 0], [155, 870, 40],
  [0, -230, 0], [0, -480, 0], [0, -585, -70], [0, -740, 0], [185, -470, 0], [255, -210, 10], [290, 30, -50],
  [-185, -470, 0], [-275, -230, 20], [-330, 5, -40],
];
const P = rel.map(([x, y, z]) => {
  const X = x + root[0], Y = y + root[1], Z = z + root[2];
  return [cam.fx * X / Z + cam.cx, cam.fy * Y / Z + cam.cy];
});
const s = cam.fx / root[2]; // px per mm at the body
const seg = (a: number, b: number, w: number, c: string) =>
  `<line x1="${P[a][0]}" y1="${P[a][1]}" x2="${P[b][0]}" y2="${P[b][1]}" stroke="${c}" stroke-width="${w * s}" stroke-linecap="round"/>`;
const skin = '#d9a273', shirt = '#2f6db5', trousers = '#3b3b46', shoe = '#151515';
const [lsh, rsh, lhp, rhp] = [P[11], P[14], P[4], P[1]];
const torso = `<polygon points="${rsh[0] - 20},${rsh[1] - 5} ${lsh[0] + 20},${lsh[1] - 5} ${lhp[0] + 22},${lhp[1] + 15} ${rhp[0] - 22},${rhp[1] + 15}" fill="${shirt}"/>`;
const head = P[10], nose = P[9];
const hc = [(head[0] + nose[0]) / 2, head[1] * 0.45 + nose[1] * 0.55];
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
<defs><linearGradient id="wall" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#e8e4dc"/><stop offset="1" stop-color="#cfc8bb"/></linearGradient></defs>
<rect width="${W}" height="${H * 0.72}" fill="url(#wall)"/><rect y="${H * 0.72}" width="${W}" height="${H * 0.28}" fill="#8a6d4e"/>
${seg(1, 2, 150, trousers)}${seg(2, 3, 115, trousers)}${seg(4, 5, 150, trousers)}${seg(5, 6, 115, trousers)}
${seg(3, 3, 120, shoe)}${seg(6, 6, 120, shoe)}
${torso}${seg(8, 9, 110, skin)}
${seg(14, 15, 105, shirt)}${seg(15, 16, 80, skin)}${seg(11, 12, 105, shirt)}${seg(12, 13, 80, skin)}
<circle cx="${P[16][0]}" cy="${P[16][1] + 8}" r="${55 * s}" fill="${skin}"/><circle cx="${P[13][0]}" cy="${P[13][1] + 8}" r="${55 * s}" fill="${skin}"/>
<ellipse cx="${hc[0]}" cy="${hc[1]}" rx="${85 * s}" ry="${110 * s}" fill="${skin}"/>
<path d="M ${hc[0] - 88 * s} ${hc[1] - 20 * s} Q ${hc[0]} ${hc[1] - 175 * s} ${hc[0] + 88 * s} ${hc[1] - 20 * s} Z" fill="#3a2618"/>
<circle cx="${hc[0] - 32 * s}" cy="${hc[1] - 5 * s}" r="${11 * s}" fill="#222"/><circle cx="${hc[0] + 32 * s}" cy="${hc[1] - 5 * s}" r="${11 * s}" fill="#222"/>
<path d="M ${hc[0]} ${hc[1]} L ${hc[0] - 9 * s} ${hc[1] + 35 * s} L ${hc[0] + 9 * s} ${hc[1] + 35 * s}" fill="#b57f55"/>
<path d="M ${hc[0] - 28 * s} ${hc[1] + 62 * s} Q ${hc[0]} ${hc[1] + 78 * s} ${hc[0] + 28 * s} ${hc[1] + 62 * s}" stroke="#7a3b2e" stroke-width="${6 * s}" fill="none"/>
</svg>`;
await sharp(Buffer.from(svg)).jpeg({ quality: 92 }).toFile(path.join(here, 'person.jpg'));
fs.writeFileSync(path.join(here, 'camera.json'), JSON.stringify({ ...cam, width: W, height: H }, null, 1) + '\n');
fs.writeFileSync(path.join(here, 'person.truth.json'), JSON.stringify({
  joints: 'h36m17', units: 'mm', frame: 'camera (x right, y down, z forward)',
  joints3d: rel.map(([x, y, z]) => [x + root[0], y + root[1], z + root[2]]),
}) + '\n');
console.log('wrote samples/person.jpg, camera.json, person.truth.json');
