/**
 * Keypoint-definition adapter (pure geometry): moves a 2D detector's joints to where Human3.6M's motion
 * capture skeleton puts them, before lifting.
 *
 * COCO-style detectors (MoveNet, BlazePose) and Human3.6M do not mark the same anatomical points. On real
 * Human3.6M photos, MoveNet's hips sit lower and ~22 % closer together than H36M's hip joints, and the
 * shoulders' midpoint (our thorax) sits below H36M's thorax joint. The lifters are trained on H36M
 * definitions, so a detector's skeleton reads as a smaller, differently shaped person: the root lands
 * too far away. The adapter is four numbers, all relative to the person's own 2D torso, so it does not
 * depend on image size, distance or focal length:
 *
 *   t = shoulders' midpoint - hips' midpoint (the 2D torso vector)
 *   pelvis   <- hips' midpoint + pelvisShift * t
 *   hips     <- hips' midpoint + hipShift * t + hipWidth * (hip - hips' midpoint)
 *   thorax   <- shoulders' midpoint + thoraxShift * t
 *
 * Under weak perspective a 3D offset or scaling of these joints projects to the same 2D offset or
 * scaling, whatever the body's orientation. The numbers are measured per detector on photos with ground
 * truth (`poselift calibrate`, `measureAdapter`) and averaged; the other joints are left as detected.
 */

/** h36m17 indices used here */
const PELVIS = 0, RHIP = 1, LHIP = 4, THORAX = 8, LSHO = 11, RSHO = 14;

export interface DefinitionAdapter {
  /** pelvis = hips' midpoint + pelvisShift x torso */
  pelvisShift: number;
  /** both hips move by hipShift x torso */
  hipShift: number;
  /** hips spread about their (moved) midpoint by this factor */
  hipWidth: number;
  /** thorax = shoulders' midpoint + thoraxShift x torso */
  thoraxShift: number;
}

export const IDENTITY_ADAPTER: DefinitionAdapter = { pelvisShift: 0, hipShift: 0, hipWidth: 1, thoraxShift: 0 };

export const ADAPTER_KEYS = ['pelvisShift', 'hipShift', 'hipWidth', 'thoraxShift'] as const;

function ok(kp: ArrayLike<number>, j: number, stride: number): boolean {
  return Number.isFinite(kp[j * stride]) && Number.isFinite(kp[j * stride + 1]) && (stride < 3 || kp[j * stride + 2] > 0);
}

/** The 2D torso: hips' midpoint (hx, hy), shoulders' midpoint (sx, sy) and the vector between them (tx, ty). */
export interface Torso { hx: number; hy: number; sx: number; sy: number; tx: number; ty: number }

/** Hips' and shoulders' midpoints and the torso vector; null when a hip or a shoulder is missing or the torso has no length. */
export function torso(kp: ArrayLike<number>, stride: number): Torso | null {
  if (![RHIP, LHIP, RSHO, LSHO].every((j) => ok(kp, j, stride))) return null;
  const hx = 0.5 * kp[RHIP * stride] + 0.5 * kp[LHIP * stride];
  const hy = 0.5 * kp[RHIP * stride + 1] + 0.5 * kp[LHIP * stride + 1];
  const sx = 0.5 * kp[RSHO * stride] + 0.5 * kp[LSHO * stride];
  const sy = 0.5 * kp[RSHO * stride + 1] + 0.5 * kp[LSHO * stride + 1];
  const tx = sx - hx, ty = sy - hy;
  if (!(tx * tx + ty * ty > 0) || !Number.isFinite(tx * tx + ty * ty)) return null;
  return { hx, hy, sx, sy, tx, ty };
}

/**
 * Apply the adapter to h36m17 keypoints (17 x stride: x, y[, score]; any consistent 2D units). Returns a
 * new array; the input is returned unchanged (copied) when a hip or a shoulder is missing.
 */
export function applyAdapter(kp: ArrayLike<number>, a: DefinitionAdapter, stride = 3): Float64Array {
  const out = Float64Array.from(kp);
  const t = torso(kp, stride);
  if (!t) return out;
  const mx = t.hx + a.hipShift * t.tx, my = t.hy + a.hipShift * t.ty;
  for (const j of [RHIP, LHIP]) {
    out[j * stride] = mx + a.hipWidth * (kp[j * stride] - t.hx);
    out[j * stride + 1] = my + a.hipWidth * (kp[j * stride + 1] - t.hy);
  }
  out[PELVIS * stride] = t.hx + a.pelvisShift * t.tx;
  out[PELVIS * stride + 1] = t.hy + a.pelvisShift * t.ty;
  if (stride >= 3) out[PELVIS * stride + 2] = Math.min(kp[RHIP * stride + 2], kp[LHIP * stride + 2]);
  out[THORAX * stride] = t.sx + a.thoraxShift * t.tx;
  out[THORAX * stride + 1] = t.sy + a.thoraxShift * t.ty;
  if (stride >= 3) out[THORAX * stride + 2] = Math.min(kp[RSHO * stride + 2], kp[LSHO * stride + 2]);
  return out;
}

/**
 * The adapter that moves `detected` onto `truth` (both h36m17, 17 x stride, same 2D units), measured along
 * the detected torso: the exact inverse of `applyAdapter` for offsets along the torso and a hip spread.
 * Null when either lacks the hips, shoulders, pelvis or thorax.
 */
export function measureAdapter(detected: ArrayLike<number>, truth: ArrayLike<number>, stride = 3): DefinitionAdapter | null {
  const t = torso(detected, stride);
  if (!t || ![PELVIS, RHIP, LHIP, THORAX].every((j) => ok(truth, j, stride))) return null;
  const tt = t.tx * t.tx + t.ty * t.ty;
  const along = (x: number, y: number, ox: number, oy: number) => ((x - ox) * t.tx + (y - oy) * t.ty) / tt;
  const thx = 0.5 * truth[RHIP * stride] + 0.5 * truth[LHIP * stride];
  const thy = 0.5 * truth[RHIP * stride + 1] + 0.5 * truth[LHIP * stride + 1];
  const wd = Math.hypot(detected[RHIP * stride] - detected[LHIP * stride], detected[RHIP * stride + 1] - detected[LHIP * stride + 1]);
  const wt = Math.hypot(truth[RHIP * stride] - truth[LHIP * stride], truth[RHIP * stride + 1] - truth[LHIP * stride + 1]);
  if (!(wd > 0)) return null;
  return {
    pelvisShift: along(truth[PELVIS * stride], truth[PELVIS * stride + 1], t.hx, t.hy),
    hipShift: along(thx, thy, t.hx, t.hy),
    hipWidth: wt / wd,
    thoraxShift: along(truth[THORAX * stride], truth[THORAX * stride + 1], t.sx, t.sy),
  };
}

/**
 * The adapter that moves a detector's keypoints to a reference detector's definitions instead of Human3.6M's,
 * from the two adapters measured against Human3.6M (`det`, `ref`): the one whose result, adapted with `ref`,
 * puts the hips and the thorax exactly where `det` puts them (moving the hips by h shortens the torso vector
 * to (1 - h) of its length, hence the divisions); the pelvis is the moved hips' midpoint (a COCO-style
 * reference's pelvis).
 * The lifters are trained on the Stacked Hourglass detections given as COCO-style keypoints for the `coco`
 * kind, so a COCO-style detector is moved to those definitions, not to Human3.6M's joints.
 */
export function relativeAdapter(det: DefinitionAdapter, ref: DefinitionAdapter): DefinitionAdapter {
  const hipShift = (det.hipShift - ref.hipShift) / (1 - ref.hipShift);
  return { pelvisShift: hipShift, hipShift, hipWidth: det.hipWidth / ref.hipWidth, thoraxShift: det.thoraxShift - ref.thoraxShift * (1 - hipShift) };
}

/** Mean of several measured adapters (each parameter averaged). */
export function meanAdapter(list: readonly DefinitionAdapter[]): DefinitionAdapter {
  if (!list.length) throw new Error('meanAdapter: no measurements');
  const out = { ...IDENTITY_ADAPTER };
  for (const k of ADAPTER_KEYS) out[k] = list.reduce((s, a) => s + a[k], 0) / list.length;
  return out;
}
