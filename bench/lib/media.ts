/**
 * Test videos for the bench, generated with ffmpeg into a cache folder under the OS temp dir (never in
 * the repository): a real Human3.6M photo of one person (../shared/data/h36m-images, research-only data,
 * read in place) scaled to 720 px, padded to 1280 x 720 and moved by a slow zoom / pan, 25 fps, H.264.
 * Long clips are the 10 s clip looped with stream copy (seconds to make, not minutes).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { defaultDataDir } from '../../src/util/paths.js';

const run = promisify(execFile);

export const CLIP_FPS = 25;
export const CLIP_SIZE = [1280, 720] as const;
const VERSION = 'v1';

export function cacheDir(): string {
  const dir = path.join(os.tmpdir(), 'poselift-bench-media');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** The photo the clips are made from. */
export function sourcePhoto(): string {
  const dir = path.join(defaultDataDir('h36m-images'), 'images');
  const file = path.join(dir, 'S8_WalkDog_1.55011271_000026.jpg');
  if (!fs.existsSync(file)) {
    throw new Error(`${file}: missing; the bench needs ../shared/data/h36m-images beside the repository (or POSELIFT_DATA)`);
  }
  return file;
}

async function ffmpeg(args: string[], out: string): Promise<string> {
  const tmp = `${out}.${process.pid}.tmp.mp4`;
  try {
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, tmp], { maxBuffer: 1 << 24 });
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`bench: ffmpeg failed making ${out}: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}; is ffmpeg installed?`);
  }
  return out;
}

/** A `seconds`-long 1280 x 720, 25 fps clip of one person (cached). */
export async function personClip(seconds: number): Promise<string> {
  const out = path.join(cacheDir(), `person-720p-${seconds}s-${VERSION}.mp4`);
  if (fs.existsSync(out)) return out;
  if (seconds > 10) {
    const base = await personClip(10);
    return ffmpeg(['-stream_loop', String(Math.ceil(seconds / 10) - 1), '-i', base, '-t', String(seconds), '-c', 'copy'], out);
  }
  const n = seconds * CLIP_FPS;
  // zoom 1 -> 1.15 -> 1 and a sideways drift over the clip: the person moves in the frame
  const vf = [
    'scale=720:720', 'pad=1280:720:280:0',
    `zoompan=z='1+0.15*sin(PI*on/${n})':x='(iw-iw/zoom)/2+60*sin(2*PI*on/${n})':y='(ih-ih/zoom)/2':d=1:s=1280x720:fps=${CLIP_FPS}`,
    'format=yuv420p',
  ].join(',');
  return ffmpeg(['-loop', '1', '-framerate', String(CLIP_FPS), '-i', sourcePhoto(), '-frames:v', String(n), '-vf', vf,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-g', '50'], out);
}
