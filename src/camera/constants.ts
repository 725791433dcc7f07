/** The camera stage's defaults. */

/**
 * Default horizontal (longer-side) field of view, degrees. 60° = a 31 mm (35 mm-equivalent) lens:
 * between a phone's main camera (24-28 mm, 65-74°) and webcams / surveillance / studio cameras
 * (Human3.6M's are ~47°). Root depth scales about linearly with the focal length (see README: a focal
 * length 15 % off moves the root ~15 % in depth and changes the root-relative pose little), so a middle
 * value bounds the error for both phone photos and the usual fixed cameras.
 */
export const DEFAULT_HFOV_DEG = 60;
