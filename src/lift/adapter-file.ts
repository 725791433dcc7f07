/**
 * `models/keypoint-adapter.json`: the calibrated definition adapters, one per detector
 * (format "poselift-keypoint-adapter/1", written by `poselift calibrate`).
 */
import fs from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic.js';
import { fieldPath, oneLine } from '../util/json.js';
import { relativeAdapter, type DefinitionAdapter } from './adapter.js';

export const ADAPTER_FILE = 'keypoint-adapter.json';
export const ADAPTER_FORMAT = 'poselift-keypoint-adapter/1';

const num = z.number().finite();
const adapterSchema = z.object({
  pelvisShift: num.min(-0.5).max(0.5),
  hipShift: num.min(-0.5).max(0.5),
  hipWidth: num.min(0.5).max(2),
  thoraxShift: num.min(-0.5).max(0.5),
}).strict();

/** one photo's measurement: wider bounds (a sitting person's hips can look very different) */
const measuredSchema = z.object({ pelvisShift: num, hipShift: num, hipWidth: num.positive(), thoraxShift: num }).strict();

const scoreSchema = z.object({ mpjpe: num, root: num }).strict();

const entrySchema = z.object({
  adapter: adapterSchema,
  /** what it was measured on */
  dataset: z.string(),
  photos: z.array(z.object({ id: z.string(), adapter: measuredSchema }).strict()),
  calibrated: z.string(),
  command: z.string(),
  /** leave-one-out: each photo lifted with the adapter measured on the others (mm) */
  leave_one_out: z.object({
    without: z.array(scoreSchema),
    with: z.array(scoreSchema),
  }).strict(),
}).strict();

/**
 * The keypoint definitions the lifters were trained with for COCO-style keypoints: the Stacked Hourglass
 * detections of the training subjects given as COCO-style keypoints (src/train/augment.ts cocoFromMpii),
 * measured against Human3.6M like a detector (`poselift calibrate DATASET --reference`). When present,
 * each detector's adapter is applied relative to it (`relativeAdapter`).
 */
const referenceSchema = z.object({
  adapter: adapterSchema,
  dataset: z.string(),
  subjects: z.array(z.string()),
  /** person-views measured */
  samples: z.number().int().positive(),
  calibrated: z.string(),
  command: z.string(),
}).strict();

const fileSchema = z.object({
  format: z.literal(ADAPTER_FORMAT),
  description: z.string(),
  reference: referenceSchema.optional(),
  detectors: z.record(z.string(), entrySchema),
}).strict();

export type AdapterEntry = z.infer<typeof entrySchema>;
export type AdapterReference = z.infer<typeof referenceSchema>;
export type AdapterFile = z.infer<typeof fileSchema>;

export const ADAPTER_DESCRIPTION =
  'Per 2D detector: where its hips, pelvis and thorax sit relative to Human3.6M joints, measured along the 2D torso on photos with ground truth (src/lift/adapter.ts). The reference: the same for the Stacked Hourglass detections of the training subjects given as COCO-style keypoints, the definitions the lifters learned for COCO-style input. Applied to the detector keypoints before lifting, relative to the reference (relativeAdapter).';

/** Read and validate an adapter file; one clear error naming the file on any problem. */
export function readAdapterFile(file: string): AdapterFile {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read the keypoint adapter file (${oneLine((e as Error).message)}); re-create it with \`poselift calibrate\` or delete it to lift without adapters`);
  }
  const r = fileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${file}: not a valid ${ADAPTER_FORMAT} file (${fieldPath(i.path)}: ${oneLine(i.message)}); re-create it with \`poselift calibrate\``);
  }
  return r.data;
}

/**
 * Adapters by detector name from a file, or none when the file does not exist: each detector's measured
 * adapter (to Human3.6M's joints, for the models trained on the projected truth), or with `relative`, made
 * relative to the file's reference when it has one (for the models trained on detections).
 */
export function loadAdapters(file: string, relative = false): Map<string, { adapter: DefinitionAdapter; version: string }> {
  const out = new Map<string, { adapter: DefinitionAdapter; version: string }>();
  if (!fs.existsSync(file)) return out;
  const f = readAdapterFile(file);
  const ref = relative ? f.reference : undefined;
  for (const [name, e] of Object.entries(f.detectors)) {
    out.set(name, {
      adapter: ref ? relativeAdapter(e.adapter, ref.adapter) : e.adapter,
      version: `${name} calibrated ${e.calibrated} on ${e.dataset} (${e.photos.length} photos)` +
        (ref ? `, relative to ${ref.dataset} ${ref.subjects.join(',')} detections (${ref.calibrated})` : ''),
    });
  }
  return out;
}

/** The file's reference adapter, or undefined (no file, or no reference in it). */
export function loadReference(file: string): DefinitionAdapter | undefined {
  return fs.existsSync(file) ? readAdapterFile(file).reference?.adapter : undefined;
}

/**
 * Change an adapter file (created when missing) with one validated part, atomically: `what` names the part in
 * the error when `schema` refuses `value`; the file is then left as it was. Written in the schema's key order.
 */
function updateAdapterFile<T>(file: string, what: string, schema: z.ZodType<T>, value: unknown, hint: string, apply: (f: AdapterFile, v: T) => void): void {
  const f: AdapterFile = fs.existsSync(file)
    ? readAdapterFile(file)
    : { format: ADAPTER_FORMAT, description: ADAPTER_DESCRIPTION, detectors: {} };
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${what}: the measured adapter is out of range (${fieldPath(i.path)}: ${oneLine(i.message)}); ${hint}; ${file} was not changed`);
  }
  apply(f, r.data);
  const out = { format: f.format, description: f.description, ...(f.reference ? { reference: f.reference } : {}), detectors: f.detectors };
  writeFileAtomic(file, `${JSON.stringify(out, null, 1)}\n`);
}

/** Set the file's reference (created when missing), atomically. */
export function writeAdapterReference(file: string, reference: AdapterReference): void {
  updateAdapterFile(file, 'reference', referenceSchema, reference, 'check the data set\'s detections', (f, r) => {
    f.reference = r;
    f.description = ADAPTER_DESCRIPTION;
  });
}

/** Set one detector's entry in the file (created when missing), atomically. */
export function writeAdapterEntry(file: string, detector: string, entry: AdapterEntry): void {
  updateAdapterFile(file, detector, entrySchema, entry, 'check the data set\'s photos and ground truth', (f, e) => { f.detectors[detector] = e; });
}
