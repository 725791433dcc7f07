/**
 * The poselift job queue (GitHub issue 4, first slice): BullMQ queue `poselift` on the Redis at $REDIS_URL
 * (default redis://127.0.0.1:6379). Job kinds: `video`, `images` (a folder or a list of photos),
 * `keypoints` (a keypoint file + format) and `dataset` (a pose-dataset/1 folder, eval report). A video
 * longer than `--segment-seconds` is a BullMQ flow: `video-segment` children (2D detection of frame-aligned
 * segments, on any workers) under a `video` parent that tracks and lifts the joined detections.
 *
 * Failure policy (see `errors.ts`): input errors fail at once (UnrecoverableError, no retry); any other
 * error is retried with exponential backoff, 3 attempts in all.
 */
import path from 'node:path';
import { Redis } from 'ioredis';
import type { JobsOptions } from 'bullmq';
import type { KeypointFormat } from '../src/formats/keypoints.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const redisUrl = (): string => process.env.REDIS_URL || DEFAULT_REDIS_URL;
/** $POSELIFT_QUEUE overrides the queue name (tests use a unique one per run). */
export const queueName = (): string => process.env.POSELIFT_QUEUE || 'poselift';
/** Where workers write `<jobId>.poselift.json` (and `<jobId>.eval.json`): $POSELIFT_RESULTS or ./poselift-results. */
export const resultsDir = (): string => path.resolve(process.env.POSELIFT_RESULTS || 'poselift-results');

interface Common { camera?: string; models?: string }
/** `temporal: false` (videos, keypoint files with a rate): every frame's pose from single-frame PoseNet instead of the temporal lifter (`run --no-temporal`) */
interface TemporalChoice { temporal?: boolean }
/** A frame-aligned part of a video's range (`videoSegments`): a `video-segment` child job detects it. */
export interface SegmentSpec { start: number; duration: number; firstFrame: number; frames: number }
export interface VideoJob extends Common, TemporalChoice {
  kind: 'video'; input: string; detector?: string; fps?: number; start?: number; duration?: number; maxPeople?: number;
  /** set on the parent of a segment flow: its children detect these, the parent tracks + lifts the whole range */
  segments?: SegmentSpec[];
}
/** Child of a segmented `video` job: 2D detection of one segment -> `<jobId>.detections.json`. */
export interface VideoSegmentJob {
  kind: 'video-segment'; input: string; detector?: string; fps?: number; maxPeople?: number;
  start: number; duration: number;
  /** time of global frame 0 (the parent's range start) */
  origin: number;
  /** this segment's number, the flow's segment count and frame total, and the common prefix of the siblings' job ids (`<group>-<k>`) */
  segment: number; segments: number; total: number; group: string;
}
export interface ImagesJob extends Common { kind: 'images'; inputs: string[]; detector?: string; maxPeople?: number }
export interface KeypointsJob extends Common, TemporalChoice { kind: 'keypoints'; input: string; format: KeypointFormat; layout?: string; width?: number; height?: number; fps?: number; adapter?: string }
export interface DatasetJob { kind: 'dataset'; input: string; mode: 'gt2d' | 'points2d'; stride?: number; subjects?: string[]; models?: string }
export type PoseliftJobData = VideoJob | VideoSegmentJob | ImagesJob | KeypointsJob | DatasetJob;
export type JobKind = PoseliftJobData['kind'];

export interface PoseliftJobResult {
  /** the result file, or for an `images` job with several photos the folder of one document each */
  result: string;
  files: string[];
  /** `video-segment` jobs: frames detected */
  frames?: number;
}

export interface PoseliftProgress { percent: number; frames: number; total: number }

/** Retry policy for every job: 3 attempts, exponential backoff from 2 s; finished jobs kept for `status`. */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 1000 },
};

/** Worker connection: BullMQ needs maxRetriesPerRequest null for its blocking commands. */
export function workerConnection(url = redisUrl()) {
  return { url, maxRetriesPerRequest: null };
}

/**
 * For the short-lived CLI commands: check that Redis answers within 2 s, else one error line naming the
 * URL and the fix (no endless reconnecting).
 */
export async function checkRedis(url = redisUrl()): Promise<void> {
  const c = new Redis(url, {
    lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let cause = '';
  c.on('error', (e: Error) => { cause ||= e.message; });
  try {
    await c.connect();
    await c.ping();
  } catch (e) {
    throw new Error(`cannot reach Redis at ${url} (${cause || (e as Error).message || 'no answer'}); start redis-server or set REDIS_URL to a running Redis`);
  } finally {
    c.disconnect();
  }
}

/** CLI connection (after checkRedis): fail requests quickly instead of queueing them while Redis is away. */
export function cliConnection(url = redisUrl()) {
  return { url, maxRetriesPerRequest: 1, connectTimeout: 2000, enableOfflineQueue: true };
}
