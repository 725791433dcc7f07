/**
 * Camera intrinsics for `poselift run`, in order of preference:
 *  1. `--camera cam.json`: `{fx, fy, cx, cy, k?, p?, width?, height?}` or a pose-dataset/1 camera object
 *     `{f: [fx, fy], c: [cx, cy], size?: [w, h], k?, p?}` (extra fields such as R, C are ignored);
 *  2. the photo's EXIF `FocalLengthIn35mmFilm`: f_px = f35 / 36 * max(width, height) (the 35 mm frame is
 *     36 mm wide, and the 35 mm-equivalent is taken along the image's longer side), principal point at
 *     the image centre, no distortion;
 *  3. a default field of view: DEFAULT_HFOV_DEG across the longer image side, centred, no distortion.
 */
import fs from 'node:fs';
import { z } from 'zod';
import type { CameraSource, ImageExif, Intrinsics, ResolvedIntrinsics } from '../contracts/types.js';
import { validateIntrinsics } from './geometry.js';
import { checkFileSize } from '../contracts/limits.js';
import { fieldPath, oneLine } from '../util/json.js';
import { DEFAULT_HFOV_DEG } from './constants.js';
export { DEFAULT_HFOV_DEG };

export type { CameraSource, ResolvedIntrinsics };

const num = z.number().finite();
const flatSchema = z.object({
  fx: num, fy: num, cx: num, cy: num,
  k: z.array(num).length(3).optional(),
  p: z.array(num).length(2).optional(),
  width: num.optional(), height: num.optional(),
});
const datasetSchema = z.object({
  f: z.array(num).length(2),
  c: z.array(num).length(2),
  size: z.array(num).length(2).optional(),
  k: z.array(num).length(3).optional(),
  p: z.array(num).length(2).optional(),
});

const FIX = 'give {"fx","fy","cx","cy"[,"k":[k1,k2,k3],"p":[p1,p2]]} in pixels, or a pose-dataset/1 camera {"f":[fx,fy],"c":[cx,cy][,"size":[w,h]]}';

/**
 * A calibrated camera read from a file (width and height = the calibration's image size, when the file gives
 * one); throws one line naming the file, the field and the fix.
 */
export function loadCameraFile(file: string): Intrinsics {
  let text: string;
  checkFileSize(file, 'json', 'camera file');
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT'
      ? `${file}: camera file does not exist; check the --camera path`
      : code === 'EISDIR' ? `${file}: is a folder; --camera takes a JSON file (${FIX})`
        : `${file}: cannot read the camera file (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: camera file is not valid JSON (${oneLine((e as Error).message)}); ${FIX}`);
  }
  let cam: Intrinsics;
  const a = flatSchema.safeParse(raw);
  if (a.success) {
    const d = a.data;
    cam = { fx: d.fx, fy: d.fy, cx: d.cx, cy: d.cy };
    if (d.width !== undefined && d.height !== undefined) { cam.width = d.width; cam.height = d.height; }
    if (d.k) cam.k = [d.k[0], d.k[1], d.k[2]];
    if (d.p) cam.p = [d.p[0], d.p[1]];
  } else {
    const b = datasetSchema.safeParse(raw);
    if (!b.success) {
      // report against the shape the file seems to aim for
      const looksDataset = raw !== null && typeof raw === 'object' && ('f' in raw || 'c' in raw);
      const issue = (looksDataset ? b.error : a.error).issues[0];
      throw new Error(`${file}: camera field ${fieldPath(issue.path)}: ${issue.message}; ${FIX}`);
    }
    const d = b.data;
    cam = { fx: d.f[0], fy: d.f[1], cx: d.c[0], cy: d.c[1] };
    if (d.size) { cam.width = d.size[0]; cam.height = d.size[1]; }
    if (d.k) cam.k = [d.k[0], d.k[1], d.k[2]];
    if (d.p) cam.p = [d.p[0], d.p[1]];
  }
  // an image is at least 1 x 1 px (the frames it is compared with are whole pixels)
  if (cam.width !== undefined && cam.height !== undefined && !(cam.width >= 1 && cam.height >= 1)) {
    throw new Error(`${file}: camera size must be two numbers >= 1 [width, height] in pixels, got [${cam.width}, ${cam.height}]`);
  }
  validateIntrinsics(cam, `${file}: camera`);
  return cam;
}

/** fx = fy for a pinhole with `hfovDeg` across the longer side of a width x height image. */
export function focalFromFov(width: number, height: number, hfovDeg = DEFAULT_HFOV_DEG): number {
  return Math.max(width, height) / 2 / Math.tan((hfovDeg * Math.PI) / 360);
}

/** fx = fy from a 35 mm-equivalent focal length: f35 / 36 * max(width, height). */
export function focalFrom35mm(f35: number, width: number, height: number): number {
  return (f35 / 36) * Math.max(width, height);
}

/**
 * The intrinsics of one input (a photo, a video, a keypoint file's frame size), validated once here and
 * frozen. `fileCam` (from --camera, `loadCameraFile`) wins; its calibration size, when given, must match the
 * frame (a scaled image would need scaled intrinsics).
 */
export function resolveCamera(
  width: number, height: number, fileCam: Intrinsics | undefined, exif: ImageExif | undefined,
  cameraFile?: string, input?: string,
): Readonly<ResolvedIntrinsics> {
  const where = `${cameraFile ?? 'camera'} for ${input ?? 'the input'}`;
  if (fileCam) {
    if (fileCam.width !== undefined && fileCam.height !== undefined && (Math.round(fileCam.width) !== width || Math.round(fileCam.height) !== height)) {
      throw new Error(
        `${cameraFile ?? 'camera'}: calibrated for ${fileCam.width} x ${fileCam.height} px but ${input ?? 'the input'} is ` +
          `${width} x ${height}; pass the camera file of that image size (or scale fx, fy, cx, cy and drop "size")`,
      );
    }
    return resolved({ ...fileCam, width, height, source: 'file' }, where);
  }
  const f35 = exif?.focalLength35mm;
  // a plausible 35 mm-equivalent focal length (fisheye ~8 mm to super-telephoto); else the default field of view
  if (f35 !== undefined && f35 >= 1 && f35 <= 10000) {
    const f = focalFrom35mm(f35, width, height);
    return resolved({ fx: f, fy: f, cx: width / 2, cy: height / 2, width, height, source: 'exif' }, where);
  }
  const f = focalFromFov(width, height);
  return resolved({ fx: f, fy: f, cx: width / 2, cy: height / 2, width, height, source: 'default' }, where);
}

/** Frozen (k and p too) and validated: the lift stage does not check these intrinsics again. */
function resolved(c: ResolvedIntrinsics, where: string): Readonly<ResolvedIntrinsics> {
  if (c.k) c.k = Object.freeze([...c.k]) as [number, number, number];
  if (c.p) c.p = Object.freeze([...c.p]) as [number, number];
  Object.freeze(c);
  validateIntrinsics(c, where);
  return c;
}
