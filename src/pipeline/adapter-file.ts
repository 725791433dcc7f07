/**
 * `models/keypoint-adapter.json`: the calibrated definition adapters, one per detector
 * (format "poselift-keypoint-adapter/1", written by `poselift calibrate`).
 */
import fs from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomic.js';
import { fieldPath, oneLine } from '../io/json.js';
import type { DefinitionAdapter } from './adapter.js';

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

const fileSchema = z.object({
  format: z.literal(ADAPTER_FORMAT),
  description: z.string(),
  detectors: z.record(z.string(), entrySchema),
}).strict();

export type AdapterEntry = z.infer<typeof entrySchema>;
export type AdapterFile = z.infer<typeof fileSchema>;

export const ADAPTER_DESCRIPTION =
  'Per 2D detector: where its hips, pelvis and thorax sit relative to Human3.6M joints, measured along the 2D torso on photos with ground truth (src/pipeline/adapter.ts). Applied to the detector keypoints before lifting.';

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

/** Adapters by detector name from a file, or none when the file does not exist. */
export function loadAdapters(file: string): Map<string, { adapter: DefinitionAdapter; version: string }> {
  const out = new Map<string, { adapter: DefinitionAdapter; version: string }>();
  if (!fs.existsSync(file)) return out;
  const f = readAdapterFile(file);
  for (const [name, e] of Object.entries(f.detectors)) {
    out.set(name, { adapter: e.adapter, version: `${name} calibrated ${e.calibrated} on ${e.dataset} (${e.photos.length} photos)` });
  }
  return out;
}

/** Set one detector's entry in the file (created when missing), atomically. */
export function writeAdapterEntry(file: string, detector: string, entry: AdapterEntry): void {
  const f: AdapterFile = fs.existsSync(file)
    ? readAdapterFile(file)
    : { format: ADAPTER_FORMAT, description: ADAPTER_DESCRIPTION, detectors: {} };
  const r = entrySchema.safeParse(entry);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${detector}: the measured adapter is out of range (${fieldPath(i.path)}: ${oneLine(i.message)}); check the data set's photos and ground truth; ${file} was not changed`);
  }
  f.detectors[detector] = r.data;
  writeFileAtomic(file, `${JSON.stringify(f, null, 1)}\n`);
}
