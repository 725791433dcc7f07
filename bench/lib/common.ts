/** Shared bench plumbing: timing (warm-up, then runs), medians with min / max, and the report model. */
import { DETECTOR_NAMES, type DetectorName } from '../../src/detect/types.js';
import { performance } from 'node:perf_hooks';
import { median } from '../../src/util/numeric.js';

export interface Stats { median: number; min: number; max: number; n: number }

export function stats(xs: number[]): Stats {
  if (!xs.length) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const s = [...xs].sort((a, b) => a - b);
  return { median: median(s), min: s[0], max: s[s.length - 1], n: s.length };
}

/** Scale a Stats (e.g. ms per batch -> ms per item). */
export function scale(s: Stats, k: number): Stats {
  return k >= 0 ? { median: s.median * k, min: s.min * k, max: s.max * k, n: s.n } : { median: s.median * k, min: s.max * k, max: s.min * k, n: s.n };
}

/** Reciprocal rate (e.g. ms per item -> items per second): min and max swap. */
export function perSecond(msPerItem: Stats): Stats {
  return { median: 1000 / msPerItem.median, min: 1000 / msPerItem.max, max: 1000 / msPerItem.min, n: msPerItem.n };
}

/**
 * Milliseconds per call of `fn`: `warmup` untimed calls, then `runs` runs of `reps` calls each; one
 * number per run (mean over its reps).
 */
export async function timeRuns(fn: () => unknown, runs: number, reps = 1, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await fn();
    out.push((performance.now() - t0) / reps);
  }
  return out;
}

export function num(v: number, d = 2): string {
  if (!Number.isFinite(v)) return '–';
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(d);
}

/** "12.3 (11.9–13.0)": median (min–max); only the median with one run. */
export function fmt(s: Stats, d = 2): string {
  if (s.n <= 1 || s.min === s.max) return num(s.median, d);
  return `${num(s.median, d)} (${num(s.min, d)}–${num(s.max, d)})`;
}

export function ratio(a: number, b: number, d = 2): string {
  return Number.isFinite(a / b) ? `${(a / b).toFixed(d)}x` : '–';
}

export interface Table { title?: string; head: string[]; rows: string[][] }

export interface Target {
  target: string;
  measured: string;
  /** null = not measured in this run */
  met: boolean | null;
}

export interface PartResult {
  name: string;
  title: string;
  tables: Table[];
  notes: string[];
  targets: Target[];
  /** the part could not run (e.g. not built); its reason */
  skipped?: string;
}

export interface BenchContext {
  runs: number;
  /** --runs was given on the command line (else the default: 1 quick, 5 full) */
  runsGiven: boolean;
  quick: boolean;
  long: boolean;
  /** scratch folder for this bench run (removed at the end) */
  tmp: string;
  models: string;
  log: (msg: string) => void;
}

export function markdownTable(t: Table): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${t.head.map(esc).join(' | ')} |`,
    `|${t.head.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** A bench's `--detector` value, checked against the detectors poselift has (one clear error otherwise). */
export function detectorArg(value: string): DetectorName {
  if (!(DETECTOR_NAMES as readonly string[]).includes(value)) throw new Error(`--detector ${value}: use one of ${DETECTOR_NAMES.join(', ')}`);
  return value as DetectorName;
}
