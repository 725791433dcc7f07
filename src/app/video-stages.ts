/**
 * The video path in two stages, so that the expensive one can be split across processes and machines:
 *
 * 1. `detectVideo`: decode (ffmpeg) + 2D detection (worker threads, `src/detect/stream.ts`) of a frame
 *    range -> `VideoDetections` (JSON-serialisable, global frame indices).
 * 2. `liftVideoDetections` / `VideoAssembler`: tracking (Hungarian) + the windowed temporal lift of each
 *    track -> the poselift/1 document. About 1 ms per frame.
 *
 * `poselift run` streams stage 1 into stage 2 (`liftVideoFrames`, one loop for both paths), and each frame
 * leaves stage 2 as soon as it is final (written to the document's temporary file by `DocumentWriter`), so
 * a video's memory does not grow with its length. Queue workers
 * detect frame-aligned segments (`videoSegments`) in parallel and join them with stage 2: because a
 * frame's detection depends only on the frames of its own key-frame chunk and segments start on chunk
 * boundaries, the joined result equals the single-process one exactly, with the same person ids and no
 * seam.
 */
import type { Intrinsics, Keypoints2D } from '../contracts/types.js';
import { Lifter } from '../lift/lifter.js';
import { normalisedH36m } from '../lift/normalise.js';
import type { DefinitionAdapter } from '../lift/adapter.js';
import { DEFAULT_VIDEO_DETECTOR, fromJsonPeople, toJsonPeople, type DetectedPersonJson, type DetectorName, type DetectorRuntime } from '../detect/types.js';
import type { VideoInfo } from '../detect/video.js';
import { scaledSize, videoSpan } from '../detect/video.js';
import { KEYFRAME_INTERVAL, type DetectedFrame } from '../detect/stream.js';
import { loadCameraFile, resolveCamera } from '../camera/resolve.js';
import { Tracker } from '../track/tracker.js';
import { WindowedTrackLifter } from '../track/track-lift.js';
import { kindOfLayout } from '../lift/posenet/features.js';
import { DocumentWriter, liftedOut, personOut, r4, videoHead, type FrameOut, type PersonOut, type PoseliftDoc } from './output.js';
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

/** A person of a frame waiting for its track's lifted result; `slot` counts its frame's waiting people. */
interface Waiting { person: PersonOut; slot: Slot }
interface Slot { frame: FrameOut; waiting: number }

interface TrackState {
  lifter: WindowedTrackLifter<Waiting | null>;
  lastFrame: number;
}

/** What lifting a video's tracks needs: resolved once per video. */
export interface VideoLift {
  lifter: Lifter;
  cam: Intrinsics;
  /** sampling rate of the frames */
  fps: number;
  /** the detector's keypoint-definition adapter (`Lifter.adapterFor`), if any */
  adapter?: DefinitionAdapter;
}

/**
 * Stage 2, incremental: push detected frames in index order, then `finish()`. Tracks are lifted in
 * overlapping windows as frames arrive, and each frame goes to `sink` (in index order) as soon as every
 * person in it has its final lifted result, so memory is O(window) per live track, never the video:
 * `held` frames wait (at most about one track window, TRACK_WINDOW), `peakHeld` is the most at once.
 */
export class VideoAssembler {
  private readonly tracker = new Tracker();
  private readonly tracks = new Map<number, TrackState>();
  private readonly queue: Slot[] = [];
  private last = -Infinity;
  /** the most frames held at once (`held`) */
  peakHeld = 0;

  constructor(private readonly v: VideoLift, private readonly sink: (f: FrameOut) => void) {}

  /** frames pushed and not yet given to the sink */
  get held(): number {
    return this.queue.length;
  }

  async push(f: DetectedFrame): Promise<void> {
    if (!(f.index > this.last)) throw new Error(`video frames out of order: frame ${f.index} after frame ${this.last}; frames must be given by increasing index`);
    this.last = f.index;
    const dets = f.people;
    const ids = this.tracker.update(dets.map((d) => ({ bbox: d.bbox, keypoints: d.keypoints.data })));
    const slot: Slot = { frame: { index: f.index, time_s: r4(f.timeS), people: [] }, waiting: dets.length };
    this.queue.push(slot);
    this.peakHeld = Math.max(this.peakHeld, this.held);
    for (let i = 0; i < dets.length; i++) {
      const id = ids[i];
      const person = personOut(id, dets[i], null);
      slot.frame.people.push(person);
      let t = this.tracks.get(id);
      if (!t) {
        const lifter = new WindowedTrackLifter<Waiting | null>(this.v.lifter, this.v.cam, this.v.fps, (key, res) => {
          if (!key) return;
          Object.assign(key.person, liftedOut(res));
          key.slot.waiting--;
        }, { kind: kindOfLayout(dets[i].keypoints.layout), adapted: this.v.adapter !== undefined });
        t = { lifter, lastFrame: f.index };
        this.tracks.set(id, t);
      }
      // frames this track missed in between: gaps (no keypoints) keep the window aligned in time
      for (let g = t.lastFrame + 1; g < f.index; g++) await t.lifter.push(null, null);
      t.lastFrame = f.index;
      await t.lifter.push({ person, slot }, normalisedH36m(dets[i].keypoints as Keypoints2D, this.v.cam, 0, this.v.adapter));
    }
    const live = new Set(this.tracker.live());
    for (const id of [...this.tracks.keys()]) if (!live.has(id)) await this.endTrack(id);
    this.drain();
  }

  /** End every track: the remaining frames go to the sink. */
  async finish(): Promise<void> {
    for (const id of [...this.tracks.keys()]) await this.endTrack(id);
    this.drain();
    if (this.queue.length) throw new Error(`video: ${this.queue.length} frame(s) still waiting for lifted people after the last track ended`);
  }

  private drain(): void {
    while (this.queue.length && this.queue[0].waiting === 0) this.sink(this.queue.shift()!.frame);
  }

  private async endTrack(id: number): Promise<void> {
    const t = this.tracks.get(id);
    if (t) { await t.lifter.finish(); this.tracks.delete(id); }
  }
}

/**
 * Stage 2, the one video loop (`poselift run`, the queue's joined segments): track and lift `frames`
 * (index order), each final frame to `sink` in order. Stops at the next frame when `o.signal` is aborted;
 * `o.each` after each frame is pushed (progress). Returns the assembler (its `peakHeld`).
 */
export async function liftVideoFrames(
  frames: AsyncIterable<DetectedFrame> | Iterable<DetectedFrame>, v: VideoLift, sink: (f: FrameOut) => void,
  o: { signal?: AbortSignal; each?: (f: DetectedFrame) => void } = {},
): Promise<VideoAssembler> {
  const asm = new VideoAssembler(v, sink);
  for await (const f of frames) {
    o.signal?.throwIfAborted();
    await asm.push(f);
    o.each?.(f);
  }
  await asm.finish();
  return asm;
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
  /** as RunOptions.detectorRuntime */
  detectorRuntime?: DetectorRuntime;
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
  yield* detectFrames(frames(), { detector: o.detector ?? DEFAULT_VIDEO_DETECTOR, maxPeople: o.maxPeople, threads: o.threads, scale, runtime: o.detectorRuntime });
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

/** The detections' frames as the assembler takes them. */
function* storedFrames(frames: Iterable<DetectedVideoFrame>): Generator<DetectedFrame> {
  for (const f of frames) yield { index: f.index, timeS: f.time_s, people: fromJsonPeople(f.people) };
}

export interface LiftDetectionsOptions { camera?: string; models: string; input?: string; lifter?: Lifter }

/** The document head and what lifting needs, for stored detections (the camera file read once). */
async function detectionsLift(d: Omit<VideoDetections, 'frames'>, o: LiftDetectionsOptions): Promise<{ head: Omit<PoseliftDoc, 'frames'>; v: VideoLift }> {
  const input = o.input ?? d.input;
  const fileCam = o.camera ? loadCameraFile(o.camera) : undefined;
  const cam = resolveCamera(d.width, d.height, fileCam, undefined, o.camera, input);
  const lifter = o.lifter ?? await Lifter.load(o.models);
  const head = videoHead(input, { fps: d.source_fps }, cam, d.detector, lifter.versionsFor(d.detector, 'coco', { track: true, fps: d.fps }), d.fps, d.start, d.duration);
  return { head, v: { lifter, cam, fps: d.fps, adapter: lifter.adapterFor(d.detector) } };
}

/**
 * Stage 2 on stored detections (frames sorted by index; e.g. segments concatenated): the same poselift/1
 * document `poselift run` writes for the range. `start`/`duration` of `d` describe the whole range.
 */
export async function liftVideoDetections(d: VideoDetections, o: LiftDetectionsOptions): Promise<PoseliftDoc> {
  const { head, v } = await detectionsLift(d, o);
  const frames: FrameOut[] = [];
  await liftVideoFrames(storedFrames([...d.frames].sort((a, b) => a.index - b.index)), v, (f) => frames.push(f));
  head.input.frames = frames.length;
  return { ...head, frames };
}

/**
 * `liftVideoDetections` streamed to a file: `frames` (increasing index; e.g. segment files read one at a
 * time) are tracked and lifted and the document is written to `out` as frames become final, then renamed
 * into place (the same bytes as `JSON.stringify(liftVideoDetections(...)) + '\n'`); on failure nothing is
 * left. `d` is the range's head (no frames). Returns the counts.
 */
export async function writeVideoDetections(
  d: Omit<VideoDetections, 'frames'>, frames: Iterable<DetectedVideoFrame>, out: string, o: LiftDetectionsOptions,
): Promise<{ frames: number; personFrames: number }> {
  const w = new DocumentWriter(o.input ?? d.input, out, false);
  try {
    const { head, v } = await detectionsLift(d, o);
    await liftVideoFrames(storedFrames(frames), v, (f) => w.frame(f));
    w.commit(head);
  } catch (err) {
    w.abort();
    throw err;
  }
  return { frames: w.frames, personFrames: w.personFrames };
}
