/** Helpers for readers of JSON files. */

/**
 * An error message on one line: JSON.parse quotes the offending input, which may hold newlines and control
 * characters (`Unexpected token '\u0000', "\n\u0000" is not valid JSON`).
 */
export function oneLine(msg: string): string {
  // eslint-disable-next-line no-control-regex
  return msg.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
}

/**
 * `cameras["S1/1"].f[0]`-style path of a zod issue (or any list of keys), appended to `base` (a path already
 * rendered this way, e.g. `images[3]`); `(top level)` when both are empty.
 */
export function fieldPath(parts: ReadonlyArray<PropertyKey>, base = ''): string {
  let s = base;
  for (const p of parts) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) s += s ? `.${p}` : p;
    else s += `[${JSON.stringify(String(p))}]`;
  }
  return s || '(top level)';
}
