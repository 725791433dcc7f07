/**
 * Video input through the ffmpeg / ffprobe command-line tools (Debian: `apt-get install -y ffmpeg`).
 * `$POSELIFT_FFMPEG` / `$POSELIFT_FFPROBE` override the binaries (default: `ffmpeg` / `ffprobe` on PATH).
 *
 * `readVideoFrames` streams raw rgb24 frames out of an ffmpeg child process through a pipe: at most one
 * frame plus the pipe buffer is in memory, and ffmpeg blocks while the consumer is busy (backpressure).
 * Output is always constant-rate (ffmpeg's `fps` filter at the requested rate, or at the video's own
 * rate), so frame `i` is at `start + i / fps` seconds. Frames come out upright (ffmpeg applies the
 * rotation metadata of phone videos). Leaving the loop early kills ffmpeg.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { RgbFrame } from './types.js';
import { checkPixels, checkSize, framesLimitError, limits } from '../contracts/limits.js';

export interface VideoInfo {
  /** frame size in pixels as decoded (after the rotation metadata is applied) */
  width: number;
  height: number;
  /** frames per second (the stream's average rate, else its base rate) */
  fps: number;
  /** duration in seconds (0 when unknown) */
  duration: number;
  /** number of frames: the container's count when it has one, else round(duration * fps) */
  frames: number;
  /** true when `frames` is the container's count rather than an estimate */
  framesExact: boolean;
  /** codec of the video stream, e.g. h264 */
  codec: string;
  /** clockwise rotation applied on decoding (0, 90, 180, 270) */
  rotation: number;
}

export interface ReadVideoOptions {
  /** output frame rate (frames are dropped / repeated to reach it); default: the video's own rate */
  fps?: number;
  /** start time in seconds (default 0) */
  start?: number;
  /** seconds to read from `start` (default: to the end) */
  duration?: number;
  /** yield the frames up to a decoding error instead of throwing at the end (default false) */
  tolerateErrors?: boolean;
  /**
   * Scale frames down (never up) so that their longer side is at most this many pixels, keeping the
   * aspect ratio (even sizes; ffmpeg's area-averaging scaler). Default: the decoded size.
   */
  maxSide?: number;
  /** the video's `probeVideo` result, when the caller has it (saves a second ffprobe run) */
  info?: VideoInfo;
}

/**
 * Seconds of video in [start, start + duration): clipped to the video's length (its duration, else
 * frames / fps). 0 when `start` is past the end.
 */
export function videoSpan(info: { duration: number; fps: number; frames?: number }, start: number, duration?: number): number {
  const total = info.duration > 0 ? info.duration : (info.frames ?? 0) / info.fps;
  return Math.max(0, Math.min(duration ?? Infinity, total - start));
}

/** The frame size `readVideoFrames` yields for a video of `width` x `height` with `maxSide`. */
export function scaledSize(width: number, height: number, maxSide?: number): { width: number; height: number } {
  if (!(maxSide !== undefined && maxSide > 0) || Math.max(width, height) <= maxSide) return { width, height };
  const k = maxSide / Math.max(width, height);
  const even = (v: number) => Math.max(2, 2 * Math.round((v * k) / 2));
  return { width: even(width), height: even(height) };
}

export interface VideoFrame {
  /** 0-based index of this frame in the output sequence */
  index: number;
  /** time of the frame in the video, seconds: start + index / fps */
  timeS: number;
  frame: RgbFrame;
}

export function ffmpegPath(): string {
  return process.env.POSELIFT_FFMPEG || 'ffmpeg';
}

export function ffprobePath(): string {
  return process.env.POSELIFT_FFPROBE || 'ffprobe';
}

function missingTool(tool: string, env: string): Error {
  return new Error(
    `${tool} was not found: install ffmpeg (Debian/Ubuntu: apt-get install -y ffmpeg, which includes ffprobe) ` +
      `or set ${env} to its path`,
  );
}

/** Throws a clear Error unless `file` exists and is a regular file. */
async function checkInputFile(file: string, where: string): Promise<void> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new Error(`${where}: ${file} does not exist; check the path`);
    throw new Error(`${where}: cannot access ${file}: ${(e as Error).message}`);
  }
  if (st.isDirectory()) throw new Error(`${where}: ${file} is a folder, not a video; pass a video file inside it`);
  if (!st.isFile()) throw new Error(`${where}: ${file} is not a regular file; pass a video file`);
  if (st.size === 0) throw new Error(`${where}: ${file} is empty (0 bytes); pass a complete video file`);
  checkSize(`${where}: ${file}`, st.size, 'media', 'video file');
}

/** Run a command to completion, collecting stdout and (the tail of) stderr. */
function runTool(cmd: string, args: string[], env: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => { err = (err + c.toString()).slice(-8192); });
    p.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? missingTool(cmd, env) : e));
    p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: err }));
  });
}

function parseRate(r: unknown): number {
  if (typeof r !== 'string') return NaN;
  const [a, b] = r.split('/').map(Number);
  const v = b === undefined ? a : a / b;
  return Number.isFinite(v) && v > 0 ? v : NaN;
}

function firstLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines[0] ?? '').replace(/^\[[^\]]*\]\s*/, '').slice(0, 300);
}

/** Still-image "formats" of ffmpeg: a photo probes as a 1-frame video; we refuse those. */
const IMAGE_FORMATS = /^(image2|image2pipe|\w+_pipe|gif|apng|webp_pipe)$/;

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
  disposition?: { attached_pic?: number };
}

/**
 * Probe a video with ffprobe. Throws an Error naming the file for a missing file, a folder, a file that
 * is not a video (text, corrupt, a still image) or one without a video stream.
 */
export async function probeVideo(file: string): Promise<VideoInfo> {
  await checkInputFile(file, 'probeVideo');
  const { code, stdout, stderr } = await runTool(
    ffprobePath(),
    ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file],
    'POSELIFT_FFPROBE',
  );
  if (code !== 0) {
    throw new Error(
      `probeVideo: ${file} is not a readable video (ffprobe: ${firstLine(stderr) || `exit code ${code}`}); ` +
        'pass an uncorrupted video file (mp4, mov, mkv, webm, avi, ...)',
    );
  }
  let json: { streams?: ProbeStream[]; format?: { format_name?: string; duration?: string } };
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(`probeVideo: ffprobe gave unreadable output for ${file}`);
  }
  const formatName = json.format?.format_name ?? '';
  const v = (json.streams ?? []).find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!v) {
    throw new Error(`probeVideo: ${file} has no video stream (format ${formatName || 'unknown'}); pass a video file`);
  }
  if (IMAGE_FORMATS.test(formatName)) {
    throw new Error(`probeVideo: ${file} is a still image (${formatName}), not a video; read it with readImage`);
  }
  const fps = parseRate(v.avg_frame_rate) || parseRate(v.r_frame_rate);
  if (!(fps > 0) || !(Number(v.width) > 0) || !(Number(v.height) > 0)) {
    throw new Error(`probeVideo: ${file} has a video stream without a usable size / frame rate; it may be corrupt`);
  }
  let rotation = 0;
  const sd = v.side_data_list?.find((d) => typeof d.rotation === 'number');
  if (sd) rotation = sd.rotation as number;
  else if (v.tags?.rotate) rotation = -Number(v.tags.rotate); // old-style tag is counter-clockwise-negative
  rotation = ((Math.round(-rotation / 90) * 90) % 360 + 360) % 360; // clockwise display rotation
  const swap = rotation === 90 || rotation === 270;
  const duration = Number(v.duration) > 0 ? Number(v.duration) : Number(json.format?.duration) > 0 ? Number(json.format?.duration) : 0;
  const nb = Number(v.nb_frames);
  const framesExact = Number.isInteger(nb) && nb > 0;
  return {
    width: swap ? Number(v.height) : Number(v.width),
    height: swap ? Number(v.width) : Number(v.height),
    fps,
    duration,
    frames: framesExact ? nb : Math.round(duration * fps),
    framesExact,
    codec: v.codec_name ?? '',
    rotation,
  };
}

/** stderr lines from ffmpeg (-v error) that mean the input is damaged */
const DAMAGE = /(partial file|ended prematurely|truncat|Invalid data|corrupt|Error while decoding|invalid NAL|moov atom not found)/i;

function checkPositive(v: number | undefined, name: string, allowZero: boolean): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    const unit = name === 'fps' ? 'frames per second' : 'seconds';
    throw new Error(`readVideoFrames: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number (${unit}), got ${v}`);
  }
}

/**
 * Stream the frames of a video as RGB, optionally resampled to `fps` and cut to [start, start+duration).
 * Each yielded frame owns its bytes. Throws (after the good frames) when ffmpeg fails or reports a
 * truncated / corrupt input, unless `tolerateErrors`.
 */
export async function* readVideoFrames(file: string, opts: ReadVideoOptions = {}): AsyncGenerator<VideoFrame> {
  checkPositive(opts.fps, 'fps', false);
  checkPositive(opts.start, 'start', true);
  checkPositive(opts.duration, 'duration', false);
  const info = opts.info ?? await probeVideo(file);
  const start = opts.start ?? 0;
  const fps = opts.fps ?? info.fps;
  const { width, height } = scaledSize(info.width, info.height, opts.maxSide);
  checkPixels(`readVideoFrames: ${file}`, info.width, info.height, 'video frame');
  // frame limit: refuse at once when the probed length already says so, else stop when the count passes it
  const maxFrames = limits().maxFrames;
  const estimate = Math.round(videoSpan(info, start, opts.duration) * fps);
  if (Number.isFinite(estimate) && estimate > maxFrames + 1) throw framesLimitError(`readVideoFrames: ${file}`, estimate, true);
  // a healthy video gives its probed span's frames (+-1 at the ends); far more means timestamps that
  // contradict the header (a damaged sample table), which the fps filter would fill with repeated frames
  const overrun = estimate > 0 ? estimate + Math.max(2, Math.ceil(estimate * 0.05)) : Infinity;
  const frameBytes = width * height * 3;
  const args = ['-hide_banner', '-nostdin', '-v', 'error'];
  if (start > 0) args.push('-ss', String(start)); // input seeking: fast, and frame-accurate when decoding
  args.push('-i', file);
  if (opts.duration !== undefined) args.push('-t', String(opts.duration));
  args.push(
    '-map', '0:v:0', '-an', '-sn', '-dn',
    '-vf', width === info.width && height === info.height ? `fps=${fps}` : `fps=${fps},scale=${width}:${height}:flags=area`,
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  );

  const proc: ChildProcess = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-16384); });
  let spawnError: Error | null = null;
  const exited = new Promise<number | null>((resolve) => {
    proc.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code === 'ENOENT' ? missingTool(ffmpegPath(), 'POSELIFT_FFMPEG') : e;
      resolve(null);
    });
    proc.on('close', (code, signal) => resolve(code ?? (signal ? -1 : null)));
  });

  let index = 0;
  let done = false;
  try {
    let buf = new Uint8Array(frameBytes);
    let fill = 0;
    // async iteration reads on demand: while the consumer is busy, the pipe fills and ffmpeg waits
    for await (const chunk of proc.stdout! as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(frameBytes - fill, chunk.length - off);
        buf.set(chunk.subarray(off, off + n), fill);
        fill += n; off += n;
        if (fill === frameBytes) {
          if (index >= maxFrames) throw framesLimitError(`readVideoFrames: ${file}`, maxFrames, false);
          if (index >= overrun) {
            if (opts.tolerateErrors) return;
            throw new Error(
              `readVideoFrames: ${file} is corrupt: decoding gives more than ${overrun} frames where its header's ` +
                `length allows ${estimate} at ${fps} frames/s (damaged timestamps); ${index} frames were decoded. ` +
                'Re-export or re-download it',
            );
          }
          const frame: RgbFrame = { width, height, data: buf };
          yield { index, timeS: start + index / fps, frame };
          index++;
          buf = new Uint8Array(frameBytes);
          fill = 0;
        }
      }
    }
    const code = await exited;
    done = true;
    if (spawnError) throw spawnError;
    const damaged = stderr.split('\n').find((l) => DAMAGE.test(l));
    const where = `readVideoFrames: ${file}`;
    if (code !== 0) {
      throw new Error(
        `${where}: ffmpeg failed after ${index} frames (${firstLine(stderr) || `exit code ${code}`}); ` +
          'the file may be truncated or corrupt: re-export or re-download it',
      );
    }
    if (fill !== 0 && !opts.tolerateErrors) {
      throw new Error(`${where}: the last frame is incomplete (${fill} of ${frameBytes} bytes); the file may be truncated`);
    }
    if (damaged && !opts.tolerateErrors) {
      throw new Error(
        `${where} is truncated or corrupt (ffmpeg: ${firstLine(damaged)}); ${index} frames were decoded. ` +
          'Re-export or re-download it, or pass tolerateErrors to keep the frames before the damage',
      );
    }
  } finally {
    if (!done) {
      // early exit (break / throw in the consumer): stop ffmpeg now, don't wait for it to finish
      proc.stdout?.destroy();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    }
  }
}
