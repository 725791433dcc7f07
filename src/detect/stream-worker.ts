/** A detection thread for `detectFrames` (stream.ts): its own wasm backend and model, frames in order per chunk. */
import { parentPort, workerData } from 'node:worker_threads';
import { createDetector } from './detector.js';
import { detectChunked } from './stream.js';
import { toJsonPeople, type DetectorName } from './types.js';

const { detector, maxPeople, interval } = workerData as { detector: DetectorName; maxPeople?: number; interval: number };
const det = await createDetector(detector, { maxPoses: maxPeople });
let prev: number | undefined;
let queue = Promise.resolve();

parentPort!.on('message', (m: { index: number; width: number; height: number; data: Uint8Array } | { reset: true }) => {
  queue = queue.then(async () => {
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
