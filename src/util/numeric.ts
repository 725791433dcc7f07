/** Small numeric helpers shared by every stage. */

/** The median of `a` (the mean of the two middle values for an even count); NaN for an empty array. */
export function median(a: readonly number[]): number {
  if (a.length === 0) return NaN;
  const s = [...a].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

/** `v` rounded to `decimals` decimal places (output documents: 0.1 mm, 0.01 px, 0.001 score, 1e-4 of a second). */
export function roundTo(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}
