/** A number for the command line's tables: `d` decimals, '-' when missing or not finite. */
export function fmt(v: number | null | undefined, d = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d);
}
