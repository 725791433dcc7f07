/**
 * 2D detection over a stream of video frames, in parallel on worker threads (each with its own single-
 * threaded tfjs wasm backend and model), results in frame order.
 *
 * Determinism: frames are cut into chunks of `keyframeInterval` frames (by global frame index). The first
 * frame of a chunk is a key frame: the detector's state is reset and the frame is detected from scratch
 * (MoveNet: two passes, the second on the crop the first found). The other frames of the chunk are
 * tracked: one pass on the crop / region of interest of the previous frame, falling back to a key-frame
 * detection when the tracked pose is weak (score < TRACK_MIN_SCORE: a cut, a fast move, the person left).
 * A frame's result therefore depends only on the frames of its own chunk, so chunks can go to different
 * threads, and a video split into segments on chunk boundaries (the queue's segment jobs) gives exactly
 * the result of one run over the whole video.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Detector, DetectorRuntime } from './detector.js';
import { fromJsonPeople, type DetectedPerson, type DetectedPersonJson, type DetectorName, type RgbFrame } from './types.js';
import { KEYFRAME_INTERVAL, TRACK_MIN_SCORE } from './constants.js';
export { KEYFRAME_INTERVAL, TRACK_MIN_SCORE };

export interface StreamFrame {
  index: number;
  timeS: number;
  frame: RgbFrame;
}

export interface DetectedFrame {
  index: number;
  timeS: number;
  people: DetectedPerson[];
}

export interface DetectStreamOptions {
  detector: DetectorName;
  maxPeople?: number;
  /** worker threads (default: one per core, at most 4; 1 = detect on this thread) */
  threads?: number;
  keyframeInterval?: number;
  /** where MoveNet's network runs (DetectorOptions.runtime; default 'onnx') */
  runtime?: DetectorRuntime;
  /** multiply the detections' x / y (keypoints and boxes) by these: frames decoded smaller than the video */
  scale?: { x: number; y: number };
}

/** Keypoints and box of `p` in the video's own pixels, for frames decoded at 1 / s of its size. */
export function rescalePeople(p: DetectedPerson[], s: { x: number; y: number } | undefined): DetectedPerson[] {
  if (!s || (s.x === 1 && s.y === 1)) return p;
  return p.map((d) => {
    const k = Float64Array.from(d.keypoints.data);
    for (let i = 0; i < k.length; i += 3) { k[i] *= s.x; k[i + 1] *= s.y; }
    const [x, y, w, h] = d.bbox;
    return { score: d.score, bbox: [x * s.x, y * s.y, w * s.x, h * s.y], keypoints: { layout: d.keypoints.layout, data: k } };
  });
}

export function defaultDetectThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
}

/**
 * Detect one frame under the chunk policy. `prev` is the index of the frame this detector saw last
 * (state carries over only from index - 1 of the same chunk).
 */
export async function detectChunked(
  det: Detector, f: RgbFrame, index: number, prev: number | undefined, interval: number,
): Promise<DetectedPerson[]> {
  const key = index % interval === 0 || prev !== index - 1 || det.name === 'movenet-multipose';
  if (!key) {
    const tracked = await det.detect(f, { track: true });
    if (tracked.length && tracked[0].score >= TRACK_MIN_SCORE) return tracked;
  }
  return det.detect(f);
}

interface WorkerReply { index: number; people?: DetectedPersonJson[]; error?: string }

/**
 * A detection thread's V8 young generation, MB: its new space stays at the 16 MB it starts with. Left to
 * V8, a busy thread's new space doubles to 32 MB after 10-20 s of video, so a long video's threads held
 * ~16 MB more each than a short one's (docs/decisions/streamed-documents.md, where the frames/s with and
 * without the cap are the same within the noise).
 */
export const DETECT_THREAD_YOUNG_MB = 24;

/** Every detection thread of this process that has not exited (idle or busy). */
const liveThreads = new Set<Worker>();

/** The thread's entry: the compiled .js, or under tsx (tests, bench) the .ts with tsx's loader registered. */
function startThread(workerData: unknown): Worker {
  const resourceLimits = { maxYoungGenerationSizeMb: DETECT_THREAD_YOUNG_MB };
  let w: Worker;
  if (!import.meta.url.endsWith('.ts')) {
    w = new Worker(new URL('./stream-worker.js', import.meta.url), { workerData, resourceLimits });
  } else {
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./stream-worker.ts', import.meta.url).href;
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    w = new Worker(boot, { eval: true, workerData, resourceLimits });
  }
  liveThreads.add(w);
  w.once('exit', () => liveThreads.delete(w));
  return w;
}

// ---------------------------------------------------------------------------------------------------
// Thread pool: a process that detects several videos (a queue worker, a folder of clips) keeps one idle
// set of detection threads per configuration, so each video does not start threads and load the model
// again (~1-2 s). Idle threads are unref'd: they never keep the process alive, but they are closed before
// the process exits on its own (beforeExit), never left for Node to tear down: a thread torn down with its
// onnxruntime sessions still open can abort the process after its work is done (`terminate called after
// throwing an instance of 'Napi::Error'`, exit 134; seen once in `npm run bench -- --quick` under load).

// (Only the listeners added here are ever removed: Node's Worker keeps internal 'newListener' /
// 'removeListener' handlers that ref its message port, and removing those breaks later runs.)

interface IdleSet { workers: Worker[]; onExit: () => void }
const idleThreads = new Map<string, IdleSet>();

function acquireThreads(key: string, n: number, workerData: unknown): Worker[] {
  const pooled = idleThreads.get(key);
  if (pooled) {
    idleThreads.delete(key);
    for (const w of pooled.workers) { w.off('exit', pooled.onExit); w.ref(); w.postMessage({ reset: true }); }
    return pooled.workers;
  }
  return Array.from({ length: n }, () => startThread(workerData));
}

/** How long a detection thread asked to close may take to finish its frame before it is terminated. */
const CLOSE_GRACE_MS = 10_000;

/**
 * End a detection thread: it finishes the frame it is on, skips the frames queued behind it, releases its
 * detector and exits. Not `terminate()` at once: a thread stopped inside an onnxruntime call takes the whole
 * process down (onnxruntime-node throws from its native code into a closing thread); terminated only if it
 * has not exited after CLOSE_GRACE_MS.
 */
async function endThread(w: Worker): Promise<void> {
  if (w.threadId < 0) return; // already exited
  const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
  w.ref(); // an idle pooled thread is unref'd: keep the process up until it has exited
  w.postMessage({ close: true });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS); timer.unref(); });
  if ((await Promise.race([exited, late])) === 'late') await w.terminate();
  clearTimeout(timer);
}

/**
 * Back to the pool after a clean run (one idle set per configuration); otherwise ended. `detach` removes
 * the run's own listeners (after termination, so a dying thread's events still have a listener).
 */
async function releaseThreads(key: string, workers: Worker[], clean: boolean, detach: () => void): Promise<void> {
  if (!clean || idleThreads.has(key)) {
    await Promise.all(workers.map(endThread));
    detach();
    return;
  }
  detach();
  // an idle thread that dies (out of memory, killed) takes its set out of the pool
  const set: IdleSet = {
    workers,
    onExit: () => {
      if (idleThreads.get(key) !== set) return;
      idleThreads.delete(key);
      for (const w of workers) { w.off('exit', set.onExit); void endThread(w); }
    },
  };
  for (const w of workers) { w.on('exit', set.onExit); w.unref(); }
  idleThreads.set(key, set);
  closeBeforeExit();
}

let exitHook = false;
/** Once per time the pool fills: close the idle threads when the event loop is about to empty (not on process.exit). */
function closeBeforeExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('beforeExit', () => { exitHook = false; void closeDetectThreads(); });
}

/** End every idle detection thread (a worker process shutting down; tests). */
export async function closeDetectThreads(): Promise<void> {
  const sets = [...idleThreads.values()];
  idleThreads.clear();
  await Promise.all(sets.flatMap((s) => s.workers.map((w) => { w.off('exit', s.onExit); return endThread(w); })));
}

/**
 * End every detection thread of the process, the busy ones too, each after the frame it is on (a queue worker
 * about to `process.exit` while a job still runs: exiting with a thread inside onnxruntime aborts the process).
 * A stream whose threads are ended this way does not finish; call it only on the way out.
 */
export async function endAllDetectThreads(): Promise<void> {
  await closeDetectThreads();
  await Promise.all([...liveThreads].map(endThread));
}

/** Idle pooled thread sets (tests). */
export function idleDetectThreadSets(): number {
  return idleThreads.size;
}

/**
 * Detect every frame of `frames`, yielding results in index order. At most `threads * interval` frames
 * are in flight (frames are handed to the threads without copying).
 */
export async function* detectFrames(
  frames: AsyncIterable<StreamFrame>, o: DetectStreamOptions,
): AsyncGenerator<DetectedFrame> {
  const interval = o.keyframeInterval ?? KEYFRAME_INTERVAL;
  const threads = o.threads ?? defaultDetectThreads();
  const limit = (p: DetectedPerson[]) => rescalePeople(o.maxPeople !== undefined ? p.slice(0, o.maxPeople) : p, o.scale);
  if (threads <= 1) {
    // tfjs is loaded only here and in the threads (importing this module stays cheap)
    const { createDetector } = await import('./detector.js');
    const det = await createDetector(o.detector, { maxPoses: o.maxPeople, runtime: o.runtime });
    try {
      let prev: number | undefined;
      for await (const f of frames) {
        const people = limit(await detectChunked(det, f.frame, f.index, prev, interval));
        prev = f.index;
        yield { index: f.index, timeS: f.timeS, people };
      }
    } finally {
      det.dispose();
    }
    return;
  }

  const key = JSON.stringify([o.detector, o.maxPeople ?? null, interval, threads, o.runtime ?? null]);
  const workers = acquireThreads(key, threads, { detector: o.detector, maxPeople: o.maxPeople, interval, runtime: o.runtime });
  let clean = false;
  const inFlight = new Array<number>(threads).fill(0);
  const times = new Map<number, number>();
  const ready = new Map<number, DetectedFrame>();
  let failure: Error | null = null;
  // producer and consumer both wait for 'something changed'; every change wakes all waiters
  let waiters: (() => void)[] = [];
  const signal = () => { const w = waiters; waiters = []; for (const f of w) f(); };
  const waitSignal = () => new Promise<void>((r) => { waiters.push(r); });
  const handlers = workers.map((w, wi) => {
    const h = {
      message: (m: WorkerReply) => {
        inFlight[wi]--;
        if (m.error) failure ??= new Error(m.error);
        else ready.set(m.index, { index: m.index, timeS: times.get(m.index) ?? 0, people: limit(fromJsonPeople(m.people ?? [])) });
        times.delete(m.index);
        signal();
      },
      error: (e: Error) => { failure ??= e; signal(); },
      exit: (code: number) => { if (code !== 0) failure ??= new Error(`detect: a detection thread exited with code ${code}`); signal(); },
    };
    w.on('message', h.message).on('error', h.error).on('exit', h.exit);
    return h;
  });

  // producer: read frames and hand each chunk to its thread; bounded by `interval` frames per thread
  const order: number[] = [];
  let produced = false;
  const producer = (async () => {
    try {
      for await (const f of frames) {
        const wi = Math.floor(f.index / interval) % threads;
        while (inFlight[wi] >= interval && !failure) await waitSignal();
        if (failure) break;
        inFlight[wi]++;
        times.set(f.index, f.timeS);
        order.push(f.index);
        const buf = f.frame.data;
        // hand over the frame's own buffer (no copy) when it owns the whole ArrayBuffer
        const owned = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
        const data = owned ? buf : buf.slice();
        workers[wi].postMessage({ index: f.index, width: f.frame.width, height: f.frame.height, data }, [data.buffer as ArrayBuffer]);
        signal();
      }
    } catch (e) {
      failure ??= e as Error;
    } finally {
      produced = true;
      signal();
    }
  })();

  try {
    let next = 0;
    for (;;) {
      if (failure) throw failure;
      if (next < order.length && ready.has(order[next])) {
        const r = ready.get(order[next])!;
        ready.delete(order[next]);
        next++;
        yield r;
        continue;
      }
      if (produced && next >= order.length) break;
      await waitSignal();
    }
    await producer;
    if (failure) throw failure;
    clean = inFlight.every((n) => n === 0);
  } finally {
    failure ??= new Error('detect: stopped');
    signal();
    await producer.catch(() => {});
    // a stream stopped early (abort, error, consumer break) may leave frames in the threads: end them
    await releaseThreads(key, workers, clean, () => workers.forEach((w, wi) => {
      w.off('message', handlers[wi].message).off('error', handlers[wi].error).off('exit', handlers[wi].exit);
    }));
  }
}
