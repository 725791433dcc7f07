/**
 * Readers for 2D keypoint files made by other detectors (`poselift lift`, GitHub issue 8):
 *  - coco: a COCO keypoints results file (array of {image_id, keypoints, score, ...}) or an annotations
 *    file ({images, annotations}); layout coco17;
 *  - openpose: a folder of per-frame `*_keypoints.json` ({people: [{pose_keypoints_2d}]}), BODY_25 or COCO-18;
 *  - csv: `frame,person,joint,x,y[,score]` rows of one declared layout (README in this folder).
 * Every problem throws one Error naming the file and the entry, e.g.
 * `f.json: annotations[12].keypoints: expected 51 numbers, got 48`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LAYOUTS, isKnownLayout, unknownLayoutMessage } from '../contracts/layouts.js';
import { checkFileSize } from '../contracts/limits.js';
import { fieldPath, oneLine } from '../util/json.js';
import { keypointExtent } from '../util/box.js';

export type KeypointFormat = 'coco' | 'openpose' | 'csv';
export const KEYPOINT_FORMATS: readonly KeypointFormat[] = ['coco', 'openpose', 'csv'];

export interface FilePerson {
  /** person id given by the file (csv), else undefined */
  id?: number;
  score: number;
  /** [x, y, w, h] px: the file's box (coco) or the extent of the keypoints with score > 0 */
  bbox: [number, number, number, number];
  /** K x 3 (x px, y px, score); score 0 = missing */
  data: Float64Array;
}

export interface FileFrame {
  /** the frame's name: COCO file_name or image id, OpenPose file name, CSV frame number */
  file?: string;
  /** image size when the file gives it (COCO images entry) */
  width?: number;
  height?: number;
  people: FilePerson[];
}

export interface KeypointFile {
  format: KeypointFormat;
  layout: string;
  frames: FileFrame[];
}

const fail = (file: string, where: string, msg: string): never => {
  throw new Error(`${file}: ${where ? `${where}: ` : ''}${msg}`);
};

/** Why a keypoint file could not be read, and the fix. */
function readProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'does not exist; check the input path';
  if (code === 'EISDIR') return 'is a folder; pass a keypoint file (only --format openpose takes a folder of *_keypoints.json)';
  return `cannot read (${oneLine((e as Error).message)})`;
}

function readJson(file: string): unknown {
  let text: string;
  checkFileSize(file, 'json', 'keypoint file');
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return fail(file, '', readProblem(e));
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(file, '', `is not valid JSON (${oneLine((e as Error).message)})`);
  }
}

function parseWith<T>(file: string, schema: z.ZodType<T>, raw: unknown, base: string): T {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    fail(file, fieldPath(i.path, base), i.message);
  }
  return (r as { data: T }).data;
}

const num = z.number({ error: (i) => (i.input === undefined ? 'missing' : `must be a number, got ${JSON.stringify(i.input)}`) })
  .finite({ error: 'must be a finite number' });
const numArray = z.array(z.unknown(), { error: (i) => (i.input === undefined ? 'missing' : 'must be an array of numbers') });

/** Checks a flat [x, y, score]*K array: length and every value a finite number. */
function keypointArray(file: string, where: string, a: unknown[], k: number): Float64Array {
  if (a.length !== k * 3) fail(file, where, `expected ${k * 3} numbers (${k} keypoints x [x, y, score]), got ${a.length}`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, `${where}[${i}]`, `must be a finite number, got ${JSON.stringify(v)}`);
    out[i] = v as number;
  }
  return out;
}

/** The keypoints' tight box [x, y, w, h]; keypoints with score <= 0 (COCO v = 0, OpenPose c = 0) are missing. */
function tightBox(data: Float64Array): [number, number, number, number] {
  const { x0, y0, x1, y1 } = keypointExtent(data, 0);
  return x0 <= x1 ? [x0, y0, x1 - x0, y1 - y0] : [0, 0, 0, 0];
}

function meanScore(data: Float64Array): number {
  let s = 0, n = 0;
  for (let i = 0; i * 3 < data.length; i++) if (data[i * 3 + 2] > 0) { s += Math.min(1, data[i * 3 + 2]); n++; }
  return n ? s / n : 0;
}

// ---------------------------------------------------------------- COCO

const cocoEntry = z.object({
  image_id: z.union([z.number().int(), z.string()], { error: (i) => (i.input === undefined ? 'missing' : 'must be an integer or a string') }),
  keypoints: numArray,
  score: num.optional(),
  bbox: z.array(num, { error: 'must be [x, y, width, height]' }).length(4, { error: 'must be [x, y, width, height]' }).optional(),
  category_id: z.number().optional(),
});
const cocoImage = z.object({
  id: z.union([z.number().int(), z.string()], { error: (i) => (i.input === undefined ? 'missing' : 'must be an integer or a string') }),
  width: num.positive({ error: 'must be > 0 (pixels)' }).optional(),
  height: num.positive({ error: 'must be > 0 (pixels)' }).optional(),
  file_name: z.string({ error: 'must be a string' }).optional(),
});
const cocoDoc = z.object({
  images: z.array(z.unknown(), { error: 'must be an array of images' }).optional(),
  annotations: z.array(z.unknown(), { error: (i) => (i.input === undefined ? 'missing (a COCO annotations file has "annotations", a results file is an array)' : 'must be an array') }),
});

export function readCoco(file: string): KeypointFile {
  const raw = readJson(file);
  let entries: unknown[], base: string, imagesRaw: unknown[] | undefined;
  if (Array.isArray(raw)) { entries = raw; base = ''; } else {
    const d = parseWith(file, cocoDoc, raw, '');
    entries = d.annotations; base = 'annotations'; imagesRaw = d.images;
  }
  const images = new Map<string, { order: number; width?: number; height?: number; file_name?: string; id: number | string }>();
  imagesRaw?.forEach((im, i) => {
    const d = parseWith(file, cocoImage, im, `images[${i}]`);
    images.set(String(d.id), { order: i, width: d.width, height: d.height, file_name: d.file_name, id: d.id });
  });
  const byImage = new Map<string, { id: number | string; people: FilePerson[] }>();
  entries.forEach((en, i) => {
    const where = `${base}[${i}]`;
    const d = parseWith(file, cocoEntry, en, where);
    if (d.category_id !== undefined && d.category_id !== 1) return; // COCO person = 1
    const data = keypointArray(file, `${where}.keypoints`, d.keypoints, 17);
    const key = String(d.image_id);
    if (imagesRaw && !images.has(key)) fail(file, `${where}.image_id`, `${JSON.stringify(d.image_id)} is not in "images"`);
    const bbox = d.bbox ? [d.bbox[0], d.bbox[1], d.bbox[2], d.bbox[3]] as [number, number, number, number] : tightBox(data);
    let g = byImage.get(key);
    if (!g) { g = { id: d.image_id, people: [] }; byImage.set(key, g); }
    g.people.push({ score: Math.max(0, Math.min(1, d.score ?? meanScore(data))), bbox, data });
  });
  // frames: every image (also those without people) when "images" is given, in file_name order when
  // every image has one, else by id; otherwise the image ids of the results, sorted
  let keys: string[];
  if (imagesRaw) {
    const all = [...images.entries()];
    const named = all.every(([, v]) => v.file_name !== undefined);
    all.sort(([, a], [, b]) => (named ? a.file_name!.localeCompare(b.file_name!, 'en', { numeric: true }) : cmpId(a.id, b.id)));
    keys = all.map(([k]) => k);
  } else {
    keys = [...byImage.values()].sort((a, b) => cmpId(a.id, b.id)).map((g) => String(g.id));
  }
  if (!keys.length) fail(file, '', 'holds no person keypoints (category_id 1); nothing to lift');
  const frames = keys.map((k): FileFrame => {
    const im = images.get(k);
    return { file: im?.file_name ?? k, width: im?.width, height: im?.height, people: byImage.get(k)?.people ?? [] };
  });
  return { format: 'coco', layout: 'coco17', frames };
}

function cmpId(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}

// ---------------------------------------------------------------- OpenPose

const openposeDoc = z.object({
  people: z.array(z.object({ pose_keypoints_2d: numArray }, { error: 'must be an object with pose_keypoints_2d' }), {
    error: (i) => (i.input === undefined ? 'missing (an OpenPose file has {"people": [{"pose_keypoints_2d": [...]}]})' : 'must be an array'),
  }),
});

const OPENPOSE_LAYOUTS: Record<number, string> = { 25: 'body25', 18: 'coco18' };

/** The number in an OpenPose file name (`clip_000000000012_keypoints.json` -> 12): the last run of digits. */
function frameNumber(name: string): number {
  const m = name.replace(/_keypoints\.json$/i, '').match(/(\d+)(?!.*\d)/);
  return m ? Number(m[1]) : NaN;
}

export function readOpenpose(dir: string): KeypointFile {
  let st: fs.Stats;
  try { st = fs.statSync(dir); } catch { return fail(dir, '', 'does not exist; pass the folder of OpenPose *_keypoints.json files'); }
  const files = st.isDirectory()
    ? fs.readdirSync(dir).filter((f) => /_keypoints\.json$/i.test(f) && !f.startsWith('.'))
    : [path.basename(dir)];
  const root = st.isDirectory() ? dir : path.dirname(dir);
  if (!files.length) fail(dir, '', 'the folder has no OpenPose *_keypoints.json files');
  const nums = files.map(frameNumber);
  const bad = files.findIndex((_, i) => !Number.isFinite(nums[i]));
  if (bad >= 0 && files.length > 1) fail(path.join(root, files[bad]), '', 'no frame number in the file name (e.g. clip_000000000012_keypoints.json); frames are ordered by it');
  const order = files.map((_, i) => i).sort((a, b) => nums[a] - nums[b] || files[a].localeCompare(files[b]));
  let layout: string | undefined, layoutFrom = '';
  const frames: FileFrame[] = order.map((i) => {
    const f = path.join(root, files[i]);
    const d = parseWith(f, openposeDoc, readJson(f), '');
    const people = d.people.map((p, n): FilePerson => {
      const where = `people[${n}].pose_keypoints_2d`;
      const k = p.pose_keypoints_2d.length / 3;
      const name = OPENPOSE_LAYOUTS[k];
      if (!name) fail(f, where, `expected 75 numbers (BODY_25) or 54 (COCO-18), got ${p.pose_keypoints_2d.length}`);
      if (layout === undefined) { layout = name; layoutFrom = `${f}: ${where}`; } else if (layout !== name) {
        fail(f, where, `is ${name} (${p.pose_keypoints_2d.length} numbers) but ${layoutFrom} is ${layout}; one folder must hold one layout`);
      }
      const data = keypointArray(f, where, p.pose_keypoints_2d, k);
      return { score: meanScore(data), bbox: tightBox(data), data };
    });
    return { file: files[i], people };
  });
  return { format: 'openpose', layout: layout ?? 'body25', frames };
}

// ---------------------------------------------------------------- CSV

/** Columns of the CSV format (header required; any order; `score` optional, default 1). */
export const CSV_COLUMNS = ['frame', 'person', 'joint', 'x', 'y', 'score'] as const;

export function readCsv(file: string, layout: string | undefined): KeypointFile {
  if (!layout) fail(file, '', `--layout is required for csv input: the layout its joint names or indices refer to (${Object.keys(LAYOUTS).join(', ')})`);
  if (!isKnownLayout(layout!)) fail(file, '', unknownLayoutMessage(layout!, '--layout'));
  const names = LAYOUTS[layout!].names;
  const K = names.length;
  let text: string;
  checkFileSize(file, 'json', 'keypoint file');
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    return fail(file, '', readProblem(e));
  }
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const col: Record<string, number> = {};
  for (const c of CSV_COLUMNS) col[c] = header.indexOf(c);
  const missing = CSV_COLUMNS.filter((c) => c !== 'score' && col[c] < 0);
  if (missing.length) fail(file, 'line 1 (header)', `missing column(s) ${missing.join(', ')}; expected ${CSV_COLUMNS.join(',')} (score optional)`);
  const idx = new Map<string, number>(names.map((n, i) => [n, i]));
  const frames = new Map<number, Map<number, Float64Array>>();
  const seen = new Set<string>();
  const intCell = (v: string, where: string, what: string, min: number): number => {
    const n = Number(v);
    if (v === '' || !Number.isInteger(n) || n < min) fail(file, where, `${what} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l];
    if (!line.trim()) continue;
    const cells = line.split(',').map((c) => c.trim());
    const where = `line ${l + 1}`;
    if (cells.length !== header.length) fail(file, where, `expected ${header.length} values (${header.join(',')}), got ${cells.length}`);
    const frame = intCell(cells[col.frame], where, 'frame', 0);
    const person = intCell(cells[col.person], where, 'person', 1);
    const jc = cells[col.joint];
    let j = idx.get(jc.toLowerCase());
    if (j === undefined) {
      const n = Number(jc);
      if (jc !== '' && Number.isInteger(n) && n >= 0 && n < K) j = n;
      else fail(file, where, `joint ${JSON.stringify(jc)} is neither a ${layout} joint name (${names.join(', ')}) nor an index 0..${K - 1}`);
    }
    const val = (c: string, what: string): number => {
      const v = Number(c);
      if (c === '' || !Number.isFinite(v)) fail(file, where, `${what} must be a number, got ${JSON.stringify(c)}`);
      return v;
    };
    const x = val(cells[col.x], 'x'), y = val(cells[col.y], 'y');
    const s = col.score >= 0 ? val(cells[col.score], 'score') : 1;
    let f = frames.get(frame);
    if (!f) { f = new Map(); frames.set(frame, f); }
    let p = f.get(person);
    if (!p) { p = new Float64Array(K * 3); f.set(person, p); } // joints without a row: 0, 0, score 0 = missing
    const key = `${frame}/${person}/${j}`;
    if (seen.has(key)) fail(file, where, `frame ${frame}, person ${person}, joint ${names[j!]} is given twice`);
    seen.add(key);
    p[j! * 3] = x; p[j! * 3 + 1] = y; p[j! * 3 + 2] = s;
  }
  if (!frames.size) fail(file, '', 'has no data rows after the header');
  const out = [...frames.entries()].sort((a, b) => a[0] - b[0]).map(([n, ps]): FileFrame => ({
    file: String(n),
    people: [...ps.entries()].sort((a, b) => a[0] - b[0]).map(([id, data]) => ({ id, score: meanScore(data), bbox: tightBox(data), data })),
  }));
  return { format: 'csv', layout: layout!, frames: out };
}

export function readKeypointFile(input: string, format: KeypointFormat, layout?: string): KeypointFile {
  if (format === 'coco') return readCoco(input);
  if (format === 'openpose') return readOpenpose(input);
  if (format === 'csv') return readCsv(input, layout);
  return fail(input, '', `unknown --format "${String(format)}"; use ${KEYPOINT_FORMATS.join(', ')}`);
}
