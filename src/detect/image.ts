/**
 * Decode a photo into an RgbFrame with sharp: auto-rotated by its EXIF orientation, alpha dropped,
 * grey / CMYK / 16-bit converted to 8-bit sRGB. EXIF focal lengths are returned when present (a camera
 * intrinsics guess for photos without calibration: fx ≈ focalLength35mm / 36 * max(width, height)).
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import exifReader from 'exif-reader';
import type { ImageExif } from '../contracts/types.js';
import type { RgbFrame } from './types.js';
import { LimitError, checkPixels, checkSize, sharpPixelLimit } from '../contracts/limits.js';

export type { ImageExif };

export interface DecodedImage extends RgbFrame {
  exif?: ImageExif;
}

/** Image formats sharp decodes here (for error messages). */
const FORMATS = 'JPEG, PNG, WebP, TIFF, GIF, AVIF/HEIF';

/** Parse the focal lengths out of a raw EXIF block (as sharp gives it); undefined when it has neither. */
export function parseExifFocal(raw: Buffer | undefined): ImageExif | undefined {
  if (!raw || raw.length < 8) return undefined;
  let tags: ReturnType<typeof exifReader>;
  try {
    tags = exifReader(raw);
  } catch {
    return undefined; // a malformed EXIF block is not worth failing the image for
  }
  const photo = (tags.Photo ?? {}) as Record<string, unknown>;
  const out: ImageExif = {};
  const f35 = photo.FocalLengthIn35mmFilm;
  if (typeof f35 === 'number' && f35 > 0 && Number.isFinite(f35)) out.focalLength35mm = f35;
  const f = photo.FocalLength;
  if (typeof f === 'number' && f > 0 && Number.isFinite(f)) out.focalLength = f;
  return out.focalLength35mm !== undefined || out.focalLength !== undefined ? out : undefined;
}

/**
 * Read an image file into RGB bytes. Throws one Error naming the file and the fix when it is missing,
 * a folder, or not a decodable image (wrong format, truncated or corrupt).
 */
export async function readImage(file: string): Promise<DecodedImage> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new Error(`readImage: ${file} does not exist; check the path (an image file: ${FORMATS})`);
    }
    throw new Error(`readImage: cannot access ${file}: ${(e as Error).message}`);
  }
  if (st.isDirectory()) {
    throw new Error(`readImage: ${file} is a folder, not an image; pass an image file inside it (${FORMATS})`);
  }
  if (!st.isFile()) throw new Error(`readImage: ${file} is not a regular file; pass an image file (${FORMATS})`);
  if (st.size === 0) throw new Error(`readImage: ${file} is empty (0 bytes); pass a complete image file (${FORMATS})`);
  checkSize(`readImage: ${file}`, st.size, 'media', 'image file');
  try {
    // failOn 'warning' (sharp's default, made explicit): a truncated / corrupt file is an error, not grey.
    // The pixel limit is checked on the header (metadata) before anything is decoded.
    const head = await sharp(file, { failOn: 'warning', limitInputPixels: false }).metadata(); // header only
    if (head.width && head.height) checkPixels(`readImage: ${file}`, head.width, head.height);
    const { data, info } = await sharp(file, { failOn: 'warning', limitInputPixels: sharpPixelLimit() })
      .rotate() // auto-orient by EXIF Orientation
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`decoded to ${info.channels} channels, expected 3`);
    }
    const frame: DecodedImage = {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
    const exif = parseExifFocal(head.exif);
    if (exif) frame.exif = exif;
    return frame;
  } catch (e) {
    if (e instanceof LimitError) throw e;
    const msg = (e as Error).message.replace(/\s+/g, ' ').trim();
    throw new Error(
      `readImage: ${file} is not a readable image (${msg}); pass an uncorrupted image file (${FORMATS})`,
    );
  }
}
