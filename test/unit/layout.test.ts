/**
 * The source layout (docs/architecture.md): one folder per stage, and no module imports from a later stage.
 * Reads every import of src/ and workers/ (static and dynamic) and checks it against the stage order.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from '../helpers.js';

/** The stages, earliest first: a module may import its own stage or an earlier one. */
const ORDER = [
  'contracts', 'util', 'nn', 'camera', 'data', 'detect', 'lift', 'track', 'formats', 'app', 'train', 'eval',
  'workers', 'view', 'serve', 'cli',
];

function stageOf(rel: string): string | null {
  const parts = rel.split('/');
  if (parts[0] === 'workers') return 'workers';
  if (parts[0] === 'src' && parts.length > 2) return parts[1];
  return null;
}

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(REPO, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(REPO, path.join(e.parentPath, e.name)));
}

const IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"\s]+?)\.js['"]/g;

test('every src/ file is in a known stage folder, and no module imports from a later stage', () => {
  const files = [...sources('src'), ...sources('workers')];
  assert.ok(files.length > 50, `found ${files.length} source files`);
  const unknown: string[] = [], violations: string[] = [];
  for (const f of files) {
    const stage = stageOf(f);
    if (stage === null) { if (f !== 'src/index.ts') unknown.push(f); continue; }
    if (!ORDER.includes(stage)) { unknown.push(f); continue; }
    for (const m of fs.readFileSync(path.join(REPO, f), 'utf8').matchAll(IMPORT)) {
      const target = path.normalize(path.join(path.dirname(f), m[1] + '.ts'));
      const ts = stageOf(target);
      if (ts && ORDER.indexOf(ts) > ORDER.indexOf(stage)) violations.push(`${f} (${stage}) imports ${target} (${ts})`);
    }
  }
  assert.deepEqual(unknown, [], 'files outside the stage folders');
  assert.deepEqual(violations, [], 'imports from a later stage');
});

test('the stage check catches a violation (a known bad import is reported)', () => {
  const f = 'src/lift/lifter.ts', target = path.normalize(path.join(path.dirname(f), '../app/run.ts'));
  assert.ok(ORDER.indexOf(stageOf(target)!) > ORDER.indexOf(stageOf(f)!));
});
