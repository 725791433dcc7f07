/**
 * Re-import of `poselift/1` result documents (what `poselift run` / `lift` and the queue write), validated
 * against schema/poselift-1.schema.json with ajv. One Error names the file, the first failing JSON path and
 * the fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { PACKAGE_ROOT } from '../util/paths.js';
import { checkSize } from '../contracts/limits.js';
import { oneLine } from '../util/json.js';
import type { PoseliftDoc } from '../contracts/document.js';

export type { PoseliftDoc };

export const RESULT_SCHEMA_PATH = path.join(PACKAGE_ROOT, 'schema', 'poselift-1.schema.json');

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(fs.readFileSync(RESULT_SCHEMA_PATH, 'utf8')) as object;
    // allErrors off: stop at the first problem (fast on large documents, and the one we report)
    validator = new Ajv({ allErrors: false, strict: false }).compile(schema);
  }
  return validator;
}

const FIX = 'pass a poselift/1 document as written by `poselift run` / `poselift lift` (schema/poselift-1.schema.json)';

/** `/frames/0/people/1/joints3d` -> `frames[0].people[1].joints3d` */
function jsonPath(pointer: string): string {
  if (!pointer) return '(top level)';
  let s = '';
  for (const raw of pointer.split('/').slice(1)) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    s += /^\d+$/.test(k) ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `${s ? '.' : ''}${k}` : `[${JSON.stringify(k)}]`;
  }
  return s;
}

/** The most specific error: the deepest path first (oneOf / anyOf report their branches and then themselves). */
function firstError(errors: ErrorObject[]): ErrorObject {
  let best = errors[0];
  for (const e of errors) if (e.instancePath.length > best.instancePath.length) best = e;
  return best;
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return `has an unknown field "${String(p.additionalProperty)}"`;
  if (e.keyword === 'required') return `is missing the field "${String(p.missingProperty)}"`;
  if (e.keyword === 'enum') return `must be one of ${JSON.stringify(p.allowedValues)}`;
  if (e.keyword === 'const') return `must be ${JSON.stringify(p.allowedValue)}`;
  return e.message ?? e.keyword;
}

/** Validate an already parsed document; `file` names it in the error. */
export function validateResult(doc: unknown, file: string): PoseliftDoc {
  const v = validate();
  if (!v(doc)) {
    const e = firstError(v.errors ?? []);
    throw new Error(`${file}: ${e ? `${jsonPath(e.instancePath)} ${describe(e)}` : 'is not a poselift/1 document'}; ${FIX}`);
  }
  return doc as PoseliftDoc;
}

/** Read and validate a poselift/1 result file. */
export function readResult(file: string): PoseliftDoc {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new Error(`${file}: is a folder; ${FIX}`);
    checkSize(file, st.size, 'json', 'result file');
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new Error(`${file}: does not exist; check the path`);
    if (code) throw new Error(`${file}: cannot read the result file (${(e as Error).message})`);
    throw e;
  }
  if (!text.trim()) throw new Error(`${file}: is empty (0 bytes of JSON); it was not written completely: ${FIX}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: is not valid JSON (${oneLine((e as Error).message)}); ${FIX}`);
  }
  return validateResult(raw, file);
}
