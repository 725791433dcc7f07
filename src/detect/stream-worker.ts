/** A detection thread for `detectFrames` (stream.ts): its own wasm backend and model, frames in order per chunk. */
import { parentPort, workerData } from 'node:worker_threads';
import { createDetector, type DetectorRuntime } from './detector.js';
import { detectChunked } from './stream.js';
import { toJsonPeople, type DetectorName } from './types.js';

const { detector, maxPeople, interval, runtime } = workerData as { detector: DetectorName; maxPeople?: number; interval: number; runtime?: DetectorRuntime };
const det = await createDetector(detector, { maxPoses: maxPeople, runtime });
let prev: number | undefined;
let queue = Promise.resolve();
let closing = false;

type Message = { index: number; width: number; height: number; data: Uint8Array } | { reset: true } | { close: true };

parentPort!.on('message', (m: Message) => {
  // asked to close (stream.ts endThread): the frames queued behind the current one are skipped, then the
  // detector is released and the thread exits (never stopped inside an onnxruntime call)
  if ('close' in m) closing = true;
  queue = queue.then(async () => {
    if ('close' in m) { try { det.dispose(); } finally { process.exit(0); } }
    if (closing) return;
    if ('reset' in m) { prev = undefined; return; } // a new stream: no state carries over
    try {
      const people = await detectChunked(det, { width: m.width, height: m.height, data: m.data }, m.index, prev, interval);
      prev = m.index;
      parentPort!.postMessage({ index: m.index, people: toJsonPeople(people) });
    } catch (e) {
      parentPort!.postMessage({ index: m.index, error: (e as Error).message });
    }
  });
});
