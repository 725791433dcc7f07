/**
 * Which failures are the input's fault (fail now, no retry) and which may pass on a retry.
 *
 * The pipeline throws plain `Error`s whose message is one line naming the offending file first
 * (`<file>: does not exist ...`, `readImage: <file> ...`, `probeVideo: <file> has no video stream`,
 * `<camera.json>: camera field fx: ...`, `<kp.json>: annotations[3].keypoints: ...`), and `DatasetError`
 * for pose-dataset/1 folders. The rule, in order:
 *   1. `JobInputError` (the worker's own check of the job data / paths) and `DatasetError` -> input error;
 *   2. errors carrying a system error `code` (EMFILE, ECONNRESET, ...) or naming a resource error in the
 *      message (EMFILE, ENFILE, ENOMEM, ENOSPC, EAGAIN, EBUSY, ETIMEDOUT, ECONNRESET) -> transient;
 *   3. an Error whose message names one of the job's paths (its inputs, camera file; as given or resolved)
 *      -> input error (missing file, corrupt video, bad camera file, malformed keypoints, empty folder);
 *   4. anything else (models missing, ffmpeg missing, out of memory, Redis trouble, bugs) -> retried.
 */
import path from 'node:path';
import { DatasetError } from '../src/data/dataset.js';

export class JobInputError extends Error {
  override name = 'JobInputError';
}

const TRANSIENT = /\b(EMFILE|ENFILE|ENOMEM|ENOSPC|EAGAIN|EBUSY|ETIMEDOUT|ECONNRESET|ECONNREFUSED|EPIPE)\b/;

export function isInputError(err: unknown, jobPaths: string[]): boolean {
  if (err instanceof JobInputError || err instanceof DatasetError) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return false;
  const msg = err.message;
  if (TRANSIENT.test(msg)) return false;
  const names = new Set<string>();
  for (const p of jobPaths) if (p) { names.add(p); names.add(path.resolve(p)); }
  for (const n of names) if (msg.includes(n)) return true;
  return false;
}
