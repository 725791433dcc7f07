/**
 * What an uploaded file is, from its first bytes (never from its name or the client's content type): the
 * image and video containers poselift reads, or JSON / CSV text for keypoint files and cameras.
 */
export type Sniffed =
  | { kind: 'image'; ext: string; mime: string }
  | { kind: 'video'; ext: string; mime: string }
  | { kind: 'json'; ext: '.json'; mime: 'application/json' }
  | { kind: 'csv'; ext: '.csv'; mime: 'text/csv' };

/** Bytes `sniff` looks at. */
export const SNIFF_BYTES = 4096;

const ascii = (b: Buffer, at: number, n: number) => b.subarray(at, at + n).toString('latin1');

/** ISO-BMFF (`....ftyp<brand>`): the major brand tells HEIF / AVIF photos from MP4 / MOV videos. */
function isoBmff(b: Buffer): Sniffed | null {
  if (b.length < 12 || ascii(b, 4, 4) !== 'ftyp') return null;
  const brand = ascii(b, 8, 4);
  if (brand === 'avif' || brand === 'avis') return { kind: 'image', ext: '.avif', mime: 'image/avif' };
  if (['heic', 'heix', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return { kind: 'image', ext: '.heic', mime: 'image/heic' };
  if (brand === 'qt  ') return { kind: 'video', ext: '.mov', mime: 'video/quicktime' };
  if (brand.startsWith('3g')) return { kind: 'video', ext: '.3gp', mime: 'video/3gpp' };
  if (brand === 'M4V ' || brand === 'M4VH' || brand === 'M4VP') return { kind: 'video', ext: '.m4v', mime: 'video/mp4' };
  return { kind: 'video', ext: '.mp4', mime: 'video/mp4' };
}

/** Text: valid UTF-8 without NUL or other control bytes (tabs, line ends allowed). */
function isText(b: Buffer): boolean {
  // a multi-byte character cut at the end of the sniffed bytes is not an error
  const s = b.toString('utf8');
  const cut = s.endsWith('\uFFFD') ? s.slice(0, -1) : s;
  if (cut.includes('\uFFFD')) return false;
  return !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(cut);
}

export function sniff(head: Buffer): Sniffed | null {
  const b = head.subarray(0, SNIFF_BYTES);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: 'image', ext: '.jpg', mime: 'image/jpeg' };
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { kind: 'image', ext: '.png', mime: 'image/png' };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return { kind: 'image', ext: '.webp', mime: 'image/webp' };
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return { kind: 'image', ext: '.gif', mime: 'image/gif' };
  if (ascii(b, 0, 4) === 'II*\u0000' || ascii(b, 0, 4) === 'MM\u0000*') return { kind: 'image', ext: '.tif', mime: 'image/tiff' };
  const iso = isoBmff(b);
  if (iso) return iso;
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) {
    // Matroska; WebM names its doctype in the EBML header
    return b.includes(Buffer.from('webm')) ? { kind: 'video', ext: '.webm', mime: 'video/webm' } : { kind: 'video', ext: '.mkv', mime: 'video/x-matroska' };
  }
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'AVI ') return { kind: 'video', ext: '.avi', mime: 'video/x-msvideo' };
  if (ascii(b, 0, 4) === 'OggS') return { kind: 'video', ext: '.ogv', mime: 'video/ogg' };
  if (b.length >= 4 && b[0] === 0x00 && b[1] === 0x00 && b[2] === 0x01 && b[3] === 0xba) return { kind: 'video', ext: '.mpg', mime: 'video/mpeg' };
  if (b.length >= 189 && b[0] === 0x47 && b[188] === 0x47) return { kind: 'video', ext: '.ts', mime: 'video/mp2t' };
  if (b.length && isText(b)) {
    const t = b.toString('utf8').replace(/^\uFEFF/, '').trimStart();
    if (t.startsWith('{') || t.startsWith('[')) return { kind: 'json', ext: '.json', mime: 'application/json' };
    const first = t.split(/\r?\n/, 1)[0];
    if (first.includes(',')) return { kind: 'csv', ext: '.csv', mime: 'text/csv' };
  }
  return null;
}

export const SNIFFABLE = 'JPEG, PNG, WebP, GIF, TIFF, HEIC / AVIF photos; MP4, MOV, M4V, 3GP, WebM, MKV, AVI, Ogg, MPEG-PS / TS videos; JSON or CSV keypoint files';
