/**
 * `--overlay DIR`: a PNG per frame with the detector's 2D keypoints (dots, coloured by score) and the
 * 3D skeleton reprojected through the camera (lines), drawn with sharp from an SVG layer.
 */
import sharp from 'sharp';
import { H36M17_PARENTS } from '../contracts/layouts.js';
import type { Intrinsics } from '../contracts/types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { projectCameraPoints } from '../camera/geometry.js';
import type { RgbFrame } from '../detect/types.js';

export interface OverlayPerson {
  id: number;
  /** K x 3 pixels + score */
  keypoints2d: Float64Array;
  /** 17 x 3 camera-frame mm, or null */
  joints3d: Float64Array | null;
}

const COLOURS = ['#ff3b30', '#34c759', '#007aff', '#ff9500', '#af52de', '#5ac8fa'];

export function overlaySvg(width: number, height: number, people: OverlayPerson[], cam: Intrinsics): string {
  const s = Math.max(width, height) / 1000;
  const parts: string[] = [];
  for (const p of people) {
    const col = COLOURS[(p.id - 1) % COLOURS.length];
    if (p.joints3d) {
      const px = projectCameraPoints(cam, p.joints3d);
      for (let j = 1; j < 17; j++) {
        const q = H36M17_PARENTS[j];
        const [x0, y0, x1, y1] = [px[q * 2], px[q * 2 + 1], px[j * 2], px[j * 2 + 1]];
        if (![x0, y0, x1, y1].every(Number.isFinite)) continue;
        parts.push(`<line x1="${x0.toFixed(1)}" y1="${y0.toFixed(1)}" x2="${x1.toFixed(1)}" y2="${y1.toFixed(1)}" stroke="${col}" stroke-width="${(4 * s).toFixed(1)}" stroke-linecap="round" opacity="0.85"/>`);
      }
    }
    const k = p.keypoints2d;
    for (let i = 0; i * 3 < k.length; i++) {
      const sc = k[i * 3 + 2];
      const fill = sc >= 0.5 ? '#ffffff' : sc >= 0.2 ? '#ffcc00' : '#888888';
      parts.push(`<circle cx="${k[i * 3].toFixed(1)}" cy="${k[i * 3 + 1].toFixed(1)}" r="${(4 * s).toFixed(1)}" fill="${fill}" stroke="#000" stroke-width="${(1 * s).toFixed(1)}"/>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

export async function writeOverlay(file: string, frame: RgbFrame, people: OverlayPerson[], cam: Intrinsics): Promise<void> {
  const svg = overlaySvg(frame.width, frame.height, people, cam);
  const png = await sharp(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), {
    raw: { width: frame.width, height: frame.height, channels: 3 },
  }).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]).png().toBuffer();
  writeFileAtomic(file, png);
}
