/**
 * Resource limits on inputs and jobs, with safe defaults and environment overrides (read at each call,
 * so a worker picks up its own environment). `0` in an environment variable means "no limit".
 *
 * | limit | env | default | enforced in |
 * |---|---|---|---|
 * | media file size | POSELIFT_MAX_INPUT_MB | 4096 MB | classify (run), readImage, probeVideo / readVideoFrames |
 * | JSON / CSV file size (read whole) | POSELIFT_MAX_JSON_MB | 256 MB | camera file, keypoint files, dataset index.json, readResult |
 * | image pixels (width x height) | POSELIFT_MAX_PIXELS | 134217728 (2^27, 134 MP) | readImage (sharp's limitInputPixels), readVideoFrames (frame size) |
 * | video frames decoded | POSELIFT_MAX_FRAMES | 108000 (1 h at 30 fps) | readVideoFrames |
 * | job wall time | POSELIFT_JOB_TIMEOUT_S | 7200 s | withJobTimeout (queue workers) |
 *
 * Every refusal throws a `LimitError` whose message names the input, the limit and the variable to raise.
 */
import fs from 'node:fs';

export interface Limits {
  /** largest media file (photo, video) in bytes */
  maxInputBytes: number;
  /** largest JSON / CSV file that is read whole into memory, in bytes */
  maxJsonBytes: number;
  /** largest image (or video frame) in pixels, width x height */
  maxPixels: number;
  /** most video frames decoded for one input */
  maxFrames: number;
  /** longest job, seconds */
  jobTimeoutS: number;
}

const MB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxInputBytes: 4096 * MB,
  maxJsonBytes: 256 * MB,
  maxPixels: 2 ** 27,
  maxFrames: 108_000,
  jobTimeoutS: 7200,
});

/** The environment variable of each limit (for messages and docs). */
export const LIMIT_ENV: Readonly<Record<keyof Limits, string>> = Object.freeze({
  maxInputBytes: 'POSELIFT_MAX_INPUT_MB',
  maxJsonBytes: 'POSELIFT_MAX_JSON_MB',
  maxPixels: 'POSELIFT_MAX_PIXELS',
  maxFrames: 'POSELIFT_MAX_FRAMES',
  jobTimeoutS: 'POSELIFT_JOB_TIMEOUT_S',
});

/** A refusal by one of the limits; `limit` names it, `env` the variable that raises it. */
export class LimitError extends Error {
  override name = 'LimitError';
  constructor(message: string, readonly limit: keyof Limits, readonly env: string) {
    super(message);
  }
}

function envNumber(name: string, def: number, scale: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) {
    throw new Error(`${name}=${JSON.stringify(raw)}: must be a number >= 0 (0 = no limit); fix or unset the environment variable`);
  }
  return v === 0 ? Infinity : v * scale;
}

/** The limits in force: the defaults, overridden by the environment. Throws on a malformed variable. */
export function limits(): Limits {
  return {
    maxInputBytes: envNumber(LIMIT_ENV.maxInputBytes, DEFAULT_LIMITS.maxInputBytes, MB),
    maxJsonBytes: envNumber(LIMIT_ENV.maxJsonBytes, DEFAULT_LIMITS.maxJsonBytes, MB),
    maxPixels: envNumber(LIMIT_ENV.maxPixels, DEFAULT_LIMITS.maxPixels, 1),
    maxFrames: envNumber(LIMIT_ENV.maxFrames, DEFAULT_LIMITS.maxFrames, 1),
    jobTimeoutS: envNumber(LIMIT_ENV.jobTimeoutS, DEFAULT_LIMITS.jobTimeoutS, 1),
  };
}

function mb(bytes: number): string {
  return bytes >= MB ? `${(bytes / MB).toFixed(1)} MB` : `${Math.floor(bytes)} bytes`;
}

/** Throws a LimitError when a file of `size` bytes is over the media (or JSON) size limit. */
export function checkSize(file: string, size: number, kind: 'media' | 'json', what = kind === 'media' ? 'input' : 'file'): void {
  const key = kind === 'media' ? 'maxInputBytes' : 'maxJsonBytes';
  const max = limits()[key];
  if (size > max) {
    throw new LimitError(
      `${file}: the ${what} is ${mb(size)}, over the limit of ${mb(max)}; ` +
        `pass a smaller file, or raise the limit with ${LIMIT_ENV[key]}=<MB> (0 = no limit)`,
      key, LIMIT_ENV[key]);
  }
}

/** statSync + checkSize; a file that cannot be stat'ed is left to the reader to report. */
export function checkFileSize(file: string, kind: 'media' | 'json', what?: string): void {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return;
    size = st.size;
  } catch {
    return;
  }
  checkSize(file, size, kind, what);
}

/** Throws a LimitError when width x height is over the pixel limit. */
export function checkPixels(file: string, width: number, height: number, what = 'image'): void {
  const max = limits().maxPixels;
  const px = width * height;
  if (px > max) {
    throw new LimitError(
      `${file}: the ${what} is ${width} x ${height} = ${px} pixels, over the limit of ${max}; ` +
        `pass a smaller (downscaled) file, or raise the limit with ${LIMIT_ENV.maxPixels}=<pixels> (0 = no limit)`,
      'maxPixels', LIMIT_ENV.maxPixels);
  }
}

/** sharp's `limitInputPixels` for the pixel limit (false = no limit). */
export function sharpPixelLimit(): number | false {
  const max = limits().maxPixels;
  return Number.isFinite(max) ? Math.max(1, Math.floor(max)) : false;
}

/** The error for a video with more frames than the frame limit. */
export function framesLimitError(file: string, frames: number, estimated: boolean): LimitError {
  const max = limits().maxFrames;
  return new LimitError(
    `${file}: the video has ${estimated ? 'about ' : 'more than '}${frames} frames to decode, over the limit of ${max}; ` +
      `cut it (--start / --duration), lower --fps, or raise the limit with ${LIMIT_ENV.maxFrames}=<frames> (0 = no limit)`,
    'maxFrames', LIMIT_ENV.maxFrames);
}

/**
 * Rejects with a LimitError when `p` has not settled after `seconds` (default: the job time limit).
 * `label` should name the job's input (e.g. its path) so that the error names it. The timer does not keep
 * the process alive once `p` settles (it is cleared then). `onTimeout` runs at the deadline: use it to stop the
 * work (e.g. abort an AbortController the work listens to) since a promise cannot be cancelled.
 */
export function withJobTimeout<T>(
  p: Promise<T>, label: string, seconds = limits().jobTimeoutS, onTimeout?: () => void,
): Promise<T> {
  if (!Number.isFinite(seconds)) return p;
  if (!(seconds > 0)) return Promise.reject(new Error(`withJobTimeout: seconds must be > 0, got ${seconds}`));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      try { onTimeout?.(); } catch { /* the timeout is reported below */ }
      reject(new LimitError(
        `${label}: the job ran longer than the time limit of ${seconds} s and was stopped; ` +
          `split the input (e.g. --start / --duration for videos) or raise the limit with ${LIMIT_ENV.jobTimeoutS}=<seconds> (0 = no limit)`,
        'jobTimeoutS', LIMIT_ENV.jobTimeoutS));
    }, Math.min(seconds * 1000, 2 ** 31 - 1));
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}
