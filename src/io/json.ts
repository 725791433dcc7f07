/** Helpers for readers of JSON files. */

/**
 * An error message on one line: JSON.parse quotes the offending input, which may hold newlines and control
 * characters (`Unexpected token '\u0000', "\n\u0000" is not valid JSON`).
 */
export function oneLine(msg: string): string {
  // eslint-disable-next-line no-control-regex
  return msg.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
}
