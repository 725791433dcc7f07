/**
 * Path inputs of `POST /v1/jobs` (`{"path": ...}`): confined to the input root ($POSELIFT_INPUT_ROOT). A path is
 * taken relative to the root (or absolute, inside it), must not contain a `..` segment, and its real path (every
 * symbolic link resolved) must still be inside the root's real path, so a link cannot lead out of it.
 */
import fs from 'node:fs';
import path from 'node:path';

/** A refusal the API answers with `status` and `{error: code, message}`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export function confinePath(root: string | undefined, p: unknown, field = 'path'): string {
  if (!root) throw new ApiError(403, 'path_inputs_disabled', `${field}: path inputs are off on this server (start it with POSELIFT_INPUT_ROOT=<folder>); upload the file instead`);
  if (typeof p !== 'string' || !p.trim()) throw new ApiError(400, 'bad_path', `${field}: expected a non-empty string, a path under the input root`);
  if (p.includes('\0')) throw new ApiError(400, 'bad_path', `${field}: contains a NUL byte`);
  if (p.split(/[\\/]+/).includes('..')) throw new ApiError(403, 'outside_input_root', `${field}: "${p}" contains "..": paths must stay under the input root`);
  let rootReal: string;
  try {
    rootReal = fs.realpathSync(root);
  } catch {
    throw new ApiError(500, 'input_root_missing', 'the server\'s input root does not exist; ask its operator to fix POSELIFT_INPUT_ROOT');
  }
  const abs = path.isAbsolute(p) ? path.resolve(p) : path.resolve(rootReal, p);
  const inside = (q: string, r: string) => q === r || q.startsWith(r.endsWith(path.sep) ? r : r + path.sep);
  if (!inside(abs, path.resolve(root)) && !inside(abs, rootReal)) {
    throw new ApiError(403, 'outside_input_root', `${field}: "${p}" is outside the input root; pass a path under it`);
  }
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch {
    throw new ApiError(400, 'not_found', `${field}: "${p}" does not exist under the input root`);
  }
  if (!inside(real, rootReal)) throw new ApiError(403, 'outside_input_root', `${field}: "${p}" leads outside the input root (a symbolic link); pass a path under it`);
  return real;
}

/** How a job's input is shown to API clients: relative to the input root or the upload folder, never a server path. */
export function displayName(p: string, roots: (string | undefined)[]): string {
  for (const r of roots) {
    if (!r) continue;
    for (const base of [path.resolve(r), (() => { try { return fs.realpathSync(r); } catch { return ''; } })()]) {
      if (base && p.startsWith(base + path.sep)) {
        const rel = path.relative(base, p);
        // uploads: <uploads>/<uuid>/<name>
        return rel.split(path.sep).length === 2 && /^[0-9a-f-]{36}$/.test(rel.split(path.sep)[0]) ? rel.split(path.sep)[1] : rel;
      }
    }
  }
  return path.basename(p);
}
