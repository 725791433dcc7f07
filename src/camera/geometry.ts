/**
 * Camera geometry: world -> camera frame, projection with Human3.6M lens distortion, and its inverse.
 *
 * Conventions (see src/contracts/types.ts):
 * - Xc = R (Xw - C), millimetres, camera frame x right, y down, z forward.
 * - `normalised` coordinates are undistorted pinhole coordinates (X/Z, Y/Z).
 * - Pixels are coordinates in the distorted image: u = fx * xd + cx, v = fy * yd + cy.
 * - Point arrays are flat, joint-major typed arrays (J x 3 for 3D, J x 2 or J x stride for 2D); NaN marks
 *   a missing joint and passes through every function here as NaN.
 *
 * Distortion model: the one of the Human3.6M release code (`ProjectPointRadial.m`), as reproduced by
 * Martinez et al.'s 3d-pose-baseline (`src/cameras.py`, `project_point_radial`), which produced the 2D
 * ground truth used throughout the field. With (x, y) = normalised point, r2 = x² + y²,
 * radial = 1 + k1 r2 + k2 r2² + k3 r2³ and (p1, p2) = p[0], p[1] as stored in the H36M calibration:
 *
 *     t  = p1 y + p2 x
 *     xd = x (radial + t) + p2 r2   =  x radial + p1 x y + p2 (r2 + x²)
 *     yd = y (radial + t) + p1 r2   =  y radial + p2 x y + p1 (r2 + y²)
 *
 * OpenCV's Brown–Conrady model with the same (p1, p2) instead reads
 *
 *     xd = x radial + 2 p1 x y + p2 (r2 + 2 x²)
 *     yd = y radial + 2 p2 x y + p1 (r2 + 2 y²)
 *
 * i.e. H36M's code has HALF of OpenCV's x y and x² / y² tangential terms (the r2 terms agree). With the
 * H36M coefficients (|p| ~ 1e-3) the two differ by up to ~0.5 px at the image corners. We follow H36M.
 * (VideoPose3D stores the two H36M tangential coefficients in swapped order and uses the matching swapped
 * formula, which is the same model.)
 */
import type { Camera, Intrinsics } from '../contracts/types.js';

/** A flat array of points; float32 (as read from blobs) or float64. */
export type PointArray = Float64Array | Float32Array;

/** Default tolerance of the undistortion iteration, in normalised units (1e-10 ~ 1e-7 px at f ~ 1000). */
const UNDISTORT_TOL = 1e-12;
const UNDISTORT_MAX_ITER = 30;
/** If the inversion residual stays above this (normalised units), the pixel has no inverse: NaN. */
const UNDISTORT_FAIL = 1e-9;

/** True when the camera has any non-zero distortion coefficient. */
export function hasDistortion(cam: Intrinsics): boolean {
  const k = cam.k, p = cam.p;
  return !!((k && (k[0] !== 0 || k[1] !== 0 || k[2] !== 0)) || (p && (p[0] !== 0 || p[1] !== 0)));
}

function checkCount(len: number, stride: number, what: string): number {
  if (!Number.isInteger(stride) || stride < 2) throw new Error(`${what}: stride must be an integer >= 2, got ${stride}`);
  if (len % stride !== 0) {
    throw new Error(`${what}: array length ${len} is not a multiple of the stride ${stride} (expected J x ${stride} values)`);
  }
  return len / stride;
}

function outArray(out: Float64Array | undefined, n: number, what: string): Float64Array {
  if (!out) return new Float64Array(n);
  if (out.length < n) throw new Error(`${what}: output array has ${out.length} values, needs ${n}`);
  return out;
}

/**
 * World -> camera frame: Xc = R (Xw - C) for J x 3 points (mm). `out` may alias `world` when it is a
 * Float64Array. Returns J x 3 (Float64Array).
 */
export function worldToCamera(cam: Camera, world: PointArray, out?: Float64Array): Float64Array {
  const n = checkCount(world.length, 3, 'worldToCamera');
  const o = outArray(out, n * 3, 'worldToCamera');
  const R = cam.R, C = cam.C;
  const r00 = R[0][0], r01 = R[0][1], r02 = R[0][2];
  const r10 = R[1][0], r11 = R[1][1], r12 = R[1][2];
  const r20 = R[2][0], r21 = R[2][1], r22 = R[2][2];
  const c0 = C[0], c1 = C[1], c2 = C[2];
  for (let j = 0, b = 0; j < n; j++, b += 3) {
    const x = world[b] - c0, y = world[b + 1] - c1, z = world[b + 2] - c2;
    o[b] = r00 * x + r01 * y + r02 * z;
    o[b + 1] = r10 * x + r11 * y + r12 * z;
    o[b + 2] = r20 * x + r21 * y + r22 * z;
  }
  return o;
}

/** Camera frame -> world: Xw = Rᵀ Xc + C (inverse of worldToCamera). */
export function cameraToWorld(cam: Camera, camPts: PointArray, out?: Float64Array): Float64Array {
  const n = checkCount(camPts.length, 3, 'cameraToWorld');
  const o = outArray(out, n * 3, 'cameraToWorld');
  const R = cam.R, C = cam.C;
  for (let j = 0, b = 0; j < n; j++, b += 3) {
    const x = camPts[b], y = camPts[b + 1], z = camPts[b + 2];
    o[b] = R[0][0] * x + R[1][0] * y + R[2][0] * z + C[0];
    o[b + 1] = R[0][1] * x + R[1][1] * y + R[2][1] * z + C[1];
    o[b + 2] = R[0][2] * x + R[1][2] * y + R[2][2] * z + C[2];
  }
  return o;
}

/** Distortion coefficients with absent terms as 0. */
interface Coeffs { k1: number; k2: number; k3: number; p1: number; p2: number }

function coeffs(cam: Intrinsics): Coeffs {
  const k = cam.k, p = cam.p;
  return { k1: k ? k[0] : 0, k2: k ? k[1] : 0, k3: k ? k[2] : 0, p1: p ? p[0] : 0, p2: p ? p[1] : 0 };
}

/** The Human3.6M distortion of one normalised point, then the intrinsics: pixels into o[i], o[i + 1]. */
function toPixel(cam: Intrinsics, c: Coeffs, x: number, y: number, o: Float64Array, i: number): void {
  const r2 = x * x + y * y;
  const radial = 1 + r2 * (c.k1 + r2 * (c.k2 + r2 * c.k3));
  const t = c.p1 * y + c.p2 * x;
  o[i] = cam.fx * (x * (radial + t) + c.p2 * r2) + cam.cx;
  o[i + 1] = cam.fy * (y * (radial + t) + c.p1 * r2) + cam.cy;
}

/**
 * Apply the Human3.6M lens distortion (see the file comment) to one normalised point.
 * Returns the distorted normalised point [xd, yd].
 */
export function distortNormalized(cam: Intrinsics, xn: number, yn: number): [number, number] {
  const k = cam.k, p = cam.p;
  const k1 = k ? k[0] : 0, k2 = k ? k[1] : 0, k3 = k ? k[2] : 0;
  const p1 = p ? p[0] : 0, p2 = p ? p[1] : 0;
  const r2 = xn * xn + yn * yn;
  const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
  const t = p1 * yn + p2 * xn;
  return [xn * (radial + t) + p2 * r2, yn * (radial + t) + p1 * r2];
}

/**
 * Invert the distortion for one distorted normalised point (Newton's method on the 2D map, at most
 * 30 iterations, stopping when the step is < 1e-12). Returns [NaN, NaN] when it does not converge (a
 * point far outside the field of view, where the polynomial has no inverse).
 */
export function undistortNormalized(cam: Intrinsics, xd: number, yd: number): [number, number] {
  const k = cam.k, p = cam.p;
  const k1 = k ? k[0] : 0, k2 = k ? k[1] : 0, k3 = k ? k[2] : 0;
  const p1 = p ? p[0] : 0, p2 = p ? p[1] : 0;
  return undistortOne(k1, k2, k3, p1, p2, xd, yd);
}

function undistortOne(
  k1: number, k2: number, k3: number, p1: number, p2: number, xd: number, yd: number,
): [number, number] {
  if (!(Number.isFinite(xd) && Number.isFinite(yd))) return [NaN, NaN];
  let x = xd, y = yd;
  for (let it = 0; it < UNDISTORT_MAX_ITER; it++) {
    const r2 = x * x + y * y;
    const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
    const dRad = k1 + r2 * (2 * k2 + r2 * 3 * k3); // d radial / d r2
    const t = p1 * y + p2 * x;
    const fx = x * (radial + t) + p2 * r2 - xd;
    const fy = y * (radial + t) + p1 * r2 - yd;
    // Jacobian of (xd, yd) with respect to (x, y)
    const a = radial + t + x * (2 * x * dRad + p2) + 2 * p2 * x;
    const b = x * (2 * y * dRad + p1) + 2 * p2 * y;
    const c = y * (2 * x * dRad + p2) + 2 * p1 * x;
    const d = radial + t + y * (2 * y * dRad + p1) + 2 * p1 * y;
    const det = a * d - b * c;
    if (!(Math.abs(det) > 1e-12)) break;
    const dx = (d * fx - b * fy) / det;
    const dy = (a * fy - c * fx) / det;
    x -= dx; y -= dy;
    if (Math.abs(dx) < UNDISTORT_TOL && Math.abs(dy) < UNDISTORT_TOL) break;
  }
  // verify: the answer must map back onto the input
  const r2 = x * x + y * y;
  const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
  const t = p1 * y + p2 * x;
  const ex = x * (radial + t) + p2 * r2 - xd, ey = y * (radial + t) + p1 * r2 - yd;
  if (!(Math.abs(ex) <= UNDISTORT_FAIL && Math.abs(ey) <= UNDISTORT_FAIL)) return [NaN, NaN];
  return [x, y];
}

/**
 * Project camera-frame points (J x 3, mm) to pixels (J x 2), with distortion when k/p are present.
 * NaN in gives NaN out; points with z <= 0 (behind the camera) give NaN.
 *
 * Note: the radial polynomial can fold back far outside the field of view (for three of the four H36M
 * lenses beyond a normalised radius of ~4 to ~8.6, i.e. > 75 degrees off axis), so such a point can land
 * back inside the image; check the undistorted normalised coordinates if that matters.
 */
export function projectCameraPoints(cam: Intrinsics, camPts: PointArray, out?: Float64Array): Float64Array {
  const n = checkCount(camPts.length, 3, 'projectCameraPoints');
  const o = outArray(out, n * 2, 'projectCameraPoints');
  const c = coeffs(cam);
  for (let j = 0; j < n; j++) {
    const X = camPts[j * 3], Y = camPts[j * 3 + 1], Z = camPts[j * 3 + 2];
    if (!(Z > 0) || !Number.isFinite(X) || !Number.isFinite(Y) || !Number.isFinite(Z)) {
      o[j * 2] = NaN; o[j * 2 + 1] = NaN;
      continue;
    }
    toPixel(cam, c, X / Z, Y / Z, o, j * 2);
  }
  return o;
}

/** World points (J x 3, mm) -> pixels (J x 2): worldToCamera then projectCameraPoints. */
export function projectWorldPoints(cam: Camera, world: PointArray, out?: Float64Array): Float64Array {
  return projectCameraPoints(cam, worldToCamera(cam, world), out);
}

/**
 * Pixels (J x stride, x and y first; e.g. stride 3 for x, y, score) -> undistorted normalised
 * coordinates (J x 2: X/Z, Y/Z). Inverts the distortion with Newton's method (converges to < 1e-12 in
 * normalised units, at most 30 iterations). NaN passes through; a pixel with no inverse gives NaN.
 */
export function undistortPixels(cam: Intrinsics, px: PointArray, stride = 2, out?: Float64Array): Float64Array {
  const n = checkCount(px.length, stride, 'undistortPixels');
  const o = outArray(out, n * 2, 'undistortPixels');
  const { fx, fy, cx, cy } = cam;
  const ifx = 1 / fx, ify = 1 / fy;
  const distorted = hasDistortion(cam);
  const k = cam.k, p = cam.p;
  const k1 = k ? k[0] : 0, k2 = k ? k[1] : 0, k3 = k ? k[2] : 0;
  const p1 = p ? p[0] : 0, p2 = p ? p[1] : 0;
  for (let j = 0; j < n; j++) {
    const xd = (px[j * stride] - cx) * ifx, yd = (px[j * stride + 1] - cy) * ify;
    if (!distorted) { o[j * 2] = xd; o[j * 2 + 1] = yd; continue; }
    const r = undistortOne(k1, k2, k3, p1, p2, xd, yd);
    o[j * 2] = r[0]; o[j * 2 + 1] = r[1];
  }
  return o;
}

/**
 * Undistorted normalised coordinates (J x stride, x and y first) -> pixels (J x 2): applies the
 * distortion and the intrinsics. Inverse of undistortPixels. NaN passes through.
 */
export function pixelsFromNormalized(cam: Intrinsics, norm: PointArray, stride = 2, out?: Float64Array): Float64Array {
  const n = checkCount(norm.length, stride, 'pixelsFromNormalized');
  const o = outArray(out, n * 2, 'pixelsFromNormalized');
  const c = coeffs(cam);
  for (let j = 0; j < n; j++) toPixel(cam, c, norm[j * stride], norm[j * stride + 1], o, j * 2);
  return o;
}

/**
 * Check intrinsics; throws one Error naming `where`, the field and the fix. Checks fx, fy finite and
 * > 0; cx, cy finite; k of length 3 and p of length 2 with finite values (when present); width/height
 * finite and > 0 (when present).
 */
export function validateIntrinsics(i: Intrinsics, where: string): void {
  const fail = (field: string, problem: string, fix: string): never => {
    throw new Error(`${where}: ${field} ${problem}; ${fix}`);
  };
  // any value to text without throwing (BigInt, cycles, null-prototype objects: JSON / String would throw)
  const show = (v: unknown): string => {
    if (typeof v === 'bigint') return `${v}n (a BigInt)`;
    try { return typeof v === 'object' && v !== null ? JSON.stringify(v).slice(0, 200) : String(v); } catch { return `a ${typeof v}`; }
  };
  if (i === null || typeof i !== 'object') fail('intrinsics', `must be an object, got ${show(i)}`, 'pass {fx, fy, cx, cy[, k, p]}');
  for (const f of ['fx', 'fy'] as const) {
    const v = i[f];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      fail(f, `must be a finite number > 0 (focal length in pixels), got ${show(v)}`,
        'set it from the calibration (roughly the image width for a normal lens)');
    }
  }
  for (const f of ['cx', 'cy'] as const) {
    const v = i[f];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      fail(f, `must be a finite number (principal point in pixels), got ${show(v)}`,
        'set it from the calibration (roughly half the image size)');
    }
  }
  const checkVec = (name: 'k' | 'p', v: unknown, len: number, what: string) => {
    if (v === undefined) return;
    if (!Array.isArray(v) || v.length !== len) {
      fail(name, `must be an array of ${len} numbers (${what}), got ${show(v)}`,
        `give all ${len} coefficients (use 0 for unused ones) or leave ${name} out`);
    }
    const arr = v as unknown[];
    for (let n = 0; n < len; n++) {
      if (typeof arr[n] !== 'number' || !Number.isFinite(arr[n] as number)) {
        fail(`${name}[${n}]`, `must be a finite number, got ${show(arr[n])}`, `fix the ${what} coefficient`);
      }
    }
  };
  checkVec('k', i.k, 3, 'radial k1, k2, k3');
  checkVec('p', i.p, 2, 'tangential p1, p2');
  for (const f of ['width', 'height'] as const) {
    const v = i[f];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      fail(f, `must be a finite number > 0 (image size in pixels), got ${show(v)}`, `set the image ${f} or leave it out`);
    }
  }
  // a frozen object (with frozen k, p) cannot change: it need not be checked again (`checkIntrinsics`)
  if (Object.isFrozen(i) && (i.k === undefined || Object.isFrozen(i.k)) && (i.p === undefined || Object.isFrozen(i.p))) VALIDATED.add(i);
}

const VALIDATED = new WeakSet<object>();

/**
 * `validateIntrinsics` unless these very (frozen) intrinsics passed it before: intrinsics are validated once
 * per input, where they are resolved (`resolveCamera`), and the lift stage, which also takes intrinsics from
 * library callers, checks only those it has not seen.
 */
export function checkIntrinsics(i: Intrinsics, where: string): void {
  if (i !== null && typeof i === 'object' && VALIDATED.has(i)) return;
  validateIntrinsics(i, where);
}
