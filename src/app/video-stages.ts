/**
 * The video path in two stages, so that the expensive one can be split across processes and machines:
 *
 * 1. `detectVideo`: decode (ffmpeg) + 2D detection (worker threads, `src/detect/stream.ts`) of a frame
 *    range -> `VideoDetections` (JSON-serialisable, global frame indices).
 * 2. `liftVideoDetections` / `VideoAssembler`: tracking (Hungarian) + the windowed temporal lift of each
 *    track -> the poselift/1 document. About 1 ms per frame.
 *
 * `poselift run` streams stage 1 into stage 2 (nothing but detections is kept per frame). Queue workers
 * detect frame-aligned segments (`videoSegments`) in parallel and join them with stage 2: because a
 * frame's detection depends only on the frames of its own key-frame chunk and segments start on chunk
 * boundaries, the joined result equals the single-process one exactly, with the same person ids and no
 * seam.
 */
import type { Keypoints2D } from '../contracts/types.js';
import { Lifter } from '../lift/lifter.js';
import { normalisedH36m } from '../lift/normalise.js';
import type { DefinitionAdapter } from '../lift/adapter.js';
import { DEFAULT_VIDEO_DETECTOR, fromJsonPeople, toJsonPeople, type DetectedPersonJson, type DetectorName } from '../detect/types.js';
import type { VideoInfo } from '../detect/video.js';
import { scaledSize, videoSpan } from '../detect/video.js';
import { KEYFRAME_INTERVAL, type DetectedFrame } from '../detect/stream.js';
import { loadCameraFile, resolveCamera, type RunCamera } from '../camera/resolve.js';
import { Tracker } from '../track/tracker.js';
import { WindowedTrackLifter } from '../track/track-lift.js';
import { kindOfLayout } from '../lift/posenet/features.js';
import { liftedOut, personOut, r4, videoHead, type FrameOut, type PersonOut, type PoseliftDoc } from './output.js';
import { DETECT_SIZE } from '../detect/constants.js';
export { DETECT_SIZE };

export { fromJsonPeople, toJsonPeople, type DetectedPersonJson };

export interface DetectedVideoFrame { index: number; time_s: number; people: DetectedPersonJson[] }
export interface VideoDetections {
  input: string;
  width: number;
  height: number;
  source_fps: number;
  /** sampling rate of `frames` */
  fps: number;
  start: number;
  duration: number | null;
  detector: DetectorName;
  frames: DetectedVideoFrame[];
}

interface TrackState {
  lifter: WindowedTrackLifter<PersonOut | null>;
  lastFrame: number;
}

/**
 * Stage 2, incremental: push detected frames in index order, then `finish()`. Tracks are lifted in
 * overlapping windows as frames arrive, so memory is the output plus O(window) per live track.
 */
export class VideoAssembler {
  readonly frames: FrameOut[] = [];
  private readonly tracker = new Tracker();
  private readonly tracks = new Map<number, TrackState>();

  /** `adapter`: the detector's keypoint-definition adapter (`Lifter.adapterFor`), if any */
  constructor(
    private readonly lifter: Lifter, private readonly cam: RunCamera, private readonly fps: number,
    private readonly adapter?: DefinitionAdapter,
  ) {}

  async push(f: DetectedFrame): Promise<void> {
    const dets = f.people;
    const ids = this.tracker.update(dets.map((d) => ({ bbox: d.bbox, keypoints: d.keypoints.data })));
    const frame: FrameOut = { index: f.index, time_s: r4(f.timeS), people: [] };
    this.frames.push(frame);
    for (let i = 0; i < dets.length; i++) {
      const id = ids[i];
      const p = personOut(id, dets[i], null);
      frame.people.push(p);
      let t = this.tracks.get(id);
      if (!t) {
        const lifter = new WindowedTrackLifter<PersonOut | null>(this.lifter, this.cam, this.fps, (key, res) => {
          if (key) Object.assign(key, liftedOut(res));
        }, { kind: kindOfLayout(dets[i].keypoints.layout) });
        t = { lifter, lastFrame: f.index };
        this.tracks.set(id, t);
      }
      // frames this track missed in between: gaps (no keypoints) keep the window aligned in time
      for (let g = t.lastFrame + 1; g < f.index; g++) await t.lifter.push(null, null);
      t.lastFrame = f.index;
      await t.lifter.push(p, normalisedH36m(dets[i].keypoints as Keypoints2D, this.cam, 0, this.adapter));
    }
    const live = new Set(this.tracker.live());
    for (const id of [...this.tracks.keys()]) if (!live.has(id)) await this.endTrack(id);
  }

  async finish(): Promise<FrameOut[]> {
    for (const id of [...this.tracks.keys()]) await this.endTrack(id);
    return this.frames;
  }

  private async endTrack(id: number): Promise<void> {
    const t = this.tracks.get(id);
    if (t) { await t.lifter.finish(); this.tracks.delete(id); }
  }
}

/**
 * Frame-aligned segments of [start, start + duration) for parallel detection: each starts on a multiple
 * of KEYFRAME_INTERVAL frames (counted from `start`), about `segmentSeconds` long; the last takes the rest.
 * Returns one segment when the range is not longer than `segmentSeconds` (or segmentSeconds is 0).
 */
export function videoSegments(
  info: { duration: number; fps: number; frames?: number },
  o: { fps?: number; start?: number; duration?: number; segmentSeconds: number },
): { start: number; duration: number; firstFrame: number; frames: number }[] {
  const fps = o.fps ?? info.fps;
  const start = o.start ?? 0;
  const span = videoSpan(info, start, o.duration);
  const n = Math.round(span * fps);
  const per = o.segmentSeconds > 0
    ? Math.max(KEYFRAME_INTERVAL, Math.round((o.segmentSeconds * fps) / KEYFRAME_INTERVAL) * KEYFRAME_INTERVAL)
    : n;
  const out: { start: number; duration: number; firstFrame: number; frames: number }[] = [];
  for (let f0 = 0; f0 < n || (n === 0 && out.length === 0); f0 += per) {
    const last = f0 + per >= n;
    const frames = last ? n - f0 : per;
    // the last segment reads to the end of the range (the frame count is an estimate from the duration)
    out.push({ start: start + f0 / fps, duration: last ? span - f0 / fps : frames / fps, firstFrame: f0, frames });
    if (last) break;
  }
  return out;
}

/** The decode size for detection and the factors that bring detections back to the video's pixels. */
export function detectScale(info: { width: number; height: number }, detectSize = DETECT_SIZE): { maxSide: number | undefined; scale: { x: number; y: number } } {
  const maxSide = detectSize > 0 ? detectSize : undefined;
  const s = scaledSize(info.width, info.height, maxSide);
  return { maxSide, scale: { x: info.width / s.width, y: info.height / s.height } };
}

/** Frames a range of a video should give (an estimate when the container has no exact count). */
export function expectedFrames(info: VideoInfo, fps: number, start: number, duration?: number): number {
  return Math.round(videoSpan(info, start, duration) * fps);
}

export interface DetectVideoOptions {
  detector?: DetectorName;
  /** sampling rate (default: the video's) */
  fps?: number;
  start?: number;
  duration?: number;
  /** time of global frame 0 (default `start`): frame indices are round((t - origin) * fps) */
  origin?: number;
  maxPeople?: number;
  threads?: number;
  /** as RunOptions.detectSize */
  detectSize?: number;
  /** stop at the next frame when aborted (the reason is thrown) */
  signal?: AbortSignal;
  progress?: (done: number, total: number) => void;
}

/**
 * Stage 1 as a stream: decode [start, start + duration) of a probed video at `fps` (frames scaled for
 * detection, `detectScale`) and detect each frame; frame indices are global, round((t - origin) * fps).
 */
export async function* detectVideoFrames(
  input: string, info: VideoInfo, o: Omit<DetectVideoOptions, 'progress' | 'signal'> & { fps: number; start: number },
): AsyncGenerator<DetectedFrame> {
  const { readVideoFrames } = await import('../detect/video.js');
  const { detectFrames } = await import('../detect/stream.js');
  const origin = o.origin ?? o.start;
  const base = Math.round((o.start - origin) * o.fps);
  const { maxSide, scale } = detectScale(info, o.detectSize);
  async function* frames() {
    for await (const vf of readVideoFrames(input, { fps: o.fps, start: o.start, duration: o.duration, maxSide, info })) {
      const index = base + vf.index;
      yield { index, timeS: origin + index / o.fps, frame: vf.frame };
    }
  }
  yield* detectFrames(frames(), { detector: o.detector ?? DEFAULT_VIDEO_DETECTOR, maxPeople: o.maxPeople, threads: o.threads, scale });
}

/** Stage 1 on [start, start + duration): decoded and detected, frames with global indices. */
export async function detectVideo(input: string, o: DetectVideoOptions = {}): Promise<VideoDetections> {
  const { probeVideo } = await import('../detect/video.js');
  const info = await probeVideo(input);
  const fps = o.fps ?? info.fps;
  const start = o.start ?? 0;
  const detector = o.detector ?? DEFAULT_VIDEO_DETECTOR;
  const total = expectedFrames(info, fps, start, o.duration);
  const out: DetectedVideoFrame[] = [];
  for await (const f of detectVideoFrames(input, info, { ...o, fps, start, detector })) {
    o.signal?.throwIfAborted();
    out.push({ index: f.index, time_s: f.timeS, people: toJsonPeople(f.people) });
    o.progress?.(out.length, Math.max(total, out.length));
  }
  return {
    input, width: info.width, height: info.height, source_fps: info.fps, fps, start, duration: o.duration ?? null,
    detector, frames: out,
  };
}

/**
 * Stage 2 on stored detections (frames sorted by index; e.g. segments concatenated): the same poselift/1
 * document `poselift run` writes for the range. `start`/`duration` of `d` describe the whole range.
 */
export async function liftVideoDetections(
  d: VideoDetections, o: { camera?: string; models: string; input?: string; lifter?: Lifter },
): Promise<PoseliftDoc> {
  const input = o.input ?? d.input;
  const fileCam = o.camera ? loadCameraFile(o.camera) : undefined;
  const cam = resolveCamera(d.width, d.height, fileCam, undefined, o.camera, input);
  const lifter = o.lifter ?? await Lifter.load(o.models);
  const head = videoHead(input, { fps: d.source_fps }, cam, d.detector, lifter.versionsFor(d.detector), d.fps, d.start, d.duration);
  const asm = new VideoAssembler(lifter, cam, d.fps, lifter.adapterFor(d.detector));
  const frames = [...d.frames].sort((a, b) => a.index - b.index);
  for (const f of frames) await asm.push({ index: f.index, timeS: f.time_s, people: fromJsonPeople(f.people) });
  const out = await asm.finish();
  head.input.frames = out.length;
  return { ...head, frames: out };
}
