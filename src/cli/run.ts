/** `poselift run INPUT..`: the CLI side (options, progress bar on a TTY, summary lines on stderr). */
import type { DetectorName } from '../detect/types.js';
import { DETECTOR_NAMES } from '../detect/types.js';
import { runInputs, type RunOptions } from '../app/run.js';

/** The command's options: RunOptions as commander gives them (the detector not yet checked). */
export type RunCliOptions = Pick<RunOptions, 'camera' | 'fps' | 'start' | 'duration' | 'out' | 'overlay' | 'models' | 'maxPeople' | 'threads' | 'detectSize' | 'detectorRuntime' | 'adapter' | 'flipTest' | 'temporal' | 'cocoPosenet'> & {
  /** absent: the default of each input's kind (photos DEFAULT_DETECTOR, videos DEFAULT_VIDEO_DETECTOR) */
  detector?: string;
};

export async function runCommand(inputs: string[], o: RunCliOptions): Promise<void> {
  if (o.detector !== undefined && !(DETECTOR_NAMES as readonly string[]).includes(o.detector)) {
    throw new Error(`run: unknown --detector "${o.detector}"; use one of ${DETECTOR_NAMES.join(', ')}`);
  }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const opts: RunOptions = {
    camera: o.camera, detector: o.detector as DetectorName, fps: o.fps, start: o.start, duration: o.duration,
    out: o.out, overlay: o.overlay, models: o.models, maxPeople: o.maxPeople, threads: o.threads, detectSize: o.detectSize, detectorRuntime: o.detectorRuntime, adapter: o.adapter, flipTest: o.flipTest, temporal: o.temporal, cocoPosenet: o.cocoPosenet, warn: (m) => log(`poselift: warning: ${m}`),
    // documents are streamed to their files, never held whole (docs/decisions/streamed-documents.md)
    keepDocuments: false,
  };
  if (process.stderr.isTTY) {
    const { SingleBar, Presets } = (await import('cli-progress')).default;
    let bar: InstanceType<typeof SingleBar> | undefined;
    const t0 = { t: 0 };
    opts.progressStart = (total, label) => {
      t0.t = Date.now();
      bar = new SingleBar({
        format: `${label.length > 30 ? '…' + label.slice(-29) : label} [{bar}] {value}/{total} frames | {rate} fps | ETA {eta_formatted}`,
        stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 30,
      }, Presets.shades_classic);
      bar.start(Math.max(1, total), 0, { rate: '0.0' });
    };
    opts.progress = (done, total) => {
      const dt = (Date.now() - t0.t) / 1000;
      bar?.setTotal(Math.max(1, total));
      bar?.update(done, { rate: dt > 0 ? (done / dt).toFixed(1) : '0.0' });
    };
    opts.progressStop = () => { bar?.stop(); bar = undefined; };
  }
  const results = await runInputs(inputs, opts);
  for (const r of results) {
    const c = r.camera;
    log(`${r.input}: ${r.frames} frame(s), ${r.personFrames} person-frame(s), camera ${c.source} (fx ${c.fx.toFixed(1)} px), ` +
      `${(r.frames / Math.max(1e-9, r.seconds)).toFixed(2)} frames/s -> ${r.out}`);
  }
}
