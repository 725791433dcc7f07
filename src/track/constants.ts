/** The track stage's defaults and their decision records (docs/decisions/). */

/** Decision: docs/decisions/track-windows.md. */
export const TRACK_WINDOW = 192;

/** Decision: docs/decisions/track-windows.md. */
export const TRACK_OVERLAP = 24;
