import { imageSize } from 'image-size';
import { UndecodableImage, UnsupportedImage } from '../errors/errors';
import { ACCEPTED_IMAGE_FORMATS, type AcceptedImageFormat } from './limits';

/** What the header of an accepted image says, read without decoding any pixel. */
export interface ImageHeader {
  format: AcceptedImageFormat;
  /** Stored width and height (before any EXIF rotation, which does not change the pixel count). */
  width: number;
  height: number;
  /** JPEG only: the EXIF orientation (2-8) when the file carries one other than 1 (upright). */
  orientation?: number;
  /**
   * TIFF only: byte offset of the first IFD's "next IFD" pointer. The decoder zeroes it so that
   * only the first page (the one whose size was checked) is decoded.
   */
  tiffNextIfdPointer?: number;
}

const FORMAT_LABEL: Record<AcceptedImageFormat, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  bmp: 'BMP',
  gif: 'GIF',
  tiff: 'TIFF',
};

/** Thrown by the readers below when the header ends early; turned into `UndecodableImage`. */
class HeaderError extends Error {}

/**
 * Identifies the format from its magic bytes and reads the dimensions from the header only.
 * Empty input, text or any format outside `ACCEPTED_IMAGE_FORMATS` -> `UnsupportedImage` (415);
 * an accepted format whose header is cut short or inconsistent -> `UndecodableImage` (400).
 */
export function sniffImage(bytes: Uint8Array): ImageHeader {
  if (bytes.length === 0) throw unsupported('The upload is empty.');
  const format = acceptedFormatOf(bytes);
  if (format === undefined) throw unsupported(`The upload is ${describeUnaccepted(bytes)}.`);
  try {
    switch (format) {
      case 'png':
        return readPngHeader(bytes);
      case 'jpeg':
        return readJpegHeader(bytes);
      case 'gif':
        return readGifHeader(bytes);
      case 'bmp':
        return readBmpHeader(bytes);
      case 'tiff':
        return readTiffHeader(bytes);
    }
  } catch (err) {
    if (err instanceof HeaderError) {
      throw new UndecodableImage(`The ${FORMAT_LABEL[format]} header is truncated or corrupt: ${err.message}.`);
    }
    throw err;
  }
}

function unsupported(what: string): UnsupportedImage {
  return new UnsupportedImage(
    `${what} Accepted image formats: ${ACCEPTED_IMAGE_FORMATS.join(', ')}.`,
    ACCEPTED_IMAGE_FORMATS,
  );
}

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  return prefix.every((b, i) => bytes[at + i] === b);
}

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function acceptedFormatOf(bytes: Uint8Array): AcceptedImageFormat | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(bytes, ascii('BM')) && looksLikeBmp(bytes)) return 'bmp';
  return undefined;
}

const BMP_DIB_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

/** "BM" alone is too weak a signature (text can start with it): also require a known DIB header size. */
function looksLikeBmp(bytes: Uint8Array): boolean {
  return bytes.length < 18 || BMP_DIB_SIZES.has(u32le(bytes, 14));
}

/** Names what a rejected upload is, for the problem detail. */
function describeUnaccepted(bytes: Uint8Array): string {
  const own = ownSignature(bytes);
  if (own !== undefined) return `in ${own} format, which is not accepted`;
  let type: string | undefined;
  try {
    type = imageSize(bytes).type;
  } catch {
    type = undefined;
  }
  // image-size is laxer than acceptedFormatOf (e.g. any "BM..." is a BMP to it): ignore its accepted names.
  const accepted: readonly string[] = [...ACCEPTED_IMAGE_FORMATS, 'jpg'];
  if (type !== undefined && !accepted.includes(type)) return `in ${type.toUpperCase()} format, which is not accepted`;
  if (looksLikeText(bytes)) return 'text, not an image';
  return 'not in a recognised image format';
}

/** Signatures image-size does not name (or names vaguely). */
function ownSignature(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'WEBP';
  if (startsWith(bytes, ascii('ftyp'), 4)) {
    const brand = String.fromCharCode(...bytes.subarray(8, 12));
    if (/^avi[fs]$/.test(brand)) return 'AVIF';
    if (/^(heic|heix|hevc|hevx|heim|heis|mif1|msf1)$/.test(brand)) return 'HEIC/HEIF';
  }
  if (startsWith(bytes, ascii('%PDF'))) return 'PDF';
  if (startsWith(bytes, ascii('8BPS'))) return 'PSD';
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return 'ICO';
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) return 'BigTIFF';
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) return 'JPEG XL';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 1024)).toLowerCase();
  if (head.includes('<svg')) return 'SVG';
  return undefined;
}

function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4096);
  let control = 0;
  for (const b of sample) if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) control++;
  return control === 0 || control / sample.length < 0.01;
}

function need(bytes: Uint8Array, end: number, what = 'end of the header'): void {
  if (end > bytes.length) throw new HeaderError(`it ends at byte ${bytes.length}, before the ${what}`);
}

function u16le(b: Uint8Array, at: number): number {
  need(b, at + 2);
  return b[at]! | (b[at + 1]! << 8);
}

function u16be(b: Uint8Array, at: number): number {
  need(b, at + 2);
  return (b[at]! << 8) | b[at + 1]!;
}

function u32le(b: Uint8Array, at: number): number {
  need(b, at + 4);
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function u32be(b: Uint8Array, at: number): number {
  need(b, at + 4);
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function positive(width: number, height: number): void {
  if (width <= 0 || height <= 0) throw new HeaderError(`it declares a ${width}x${height} image`);
}

function readPngHeader(b: Uint8Array): ImageHeader {
  need(b, 33, 'IHDR chunk');
  if (u32be(b, 8) !== 13 || !startsWith(b, ascii('IHDR'), 12)) throw new HeaderError('the first chunk is not IHDR');
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  positive(width, height);
  return { format: 'png', width, height };
}

/** Walks the JPEG marker segments up to the first SOFn frame header, noting the EXIF orientation on the way. */
function readJpegHeader(b: Uint8Array): ImageHeader {
  let at = 2;
  let orientation = 1;
  for (;;) {
    need(b, at + 2, 'frame header (SOF)');
    if (b[at] !== 0xff) throw new HeaderError(`no marker at byte ${at}`);
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // standalone markers
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) throw new HeaderError('there is no frame header (SOF) before the image data');
    const length = u16be(b, at + 2);
    if (length < 2) throw new HeaderError(`segment length ${length} at byte ${at}`);
    if (marker === 0xe1 && orientation === 1) orientation = exifOrientation(b.subarray(at + 4, Math.min(b.length, at + 2 + length)));
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      const height = u16be(b, at + 5);
      const width = u16be(b, at + 7);
      positive(width, height);
      return { format: 'jpeg', width, height, ...(orientation === 1 ? {} : { orientation }) };
    }
    at += 2 + length;
  }
}

/**
 * The Orientation tag (0x0112) of IFD0 in an APP1 "Exif" payload; 1 when absent or unreadable
 * (a damaged EXIF block does not make the picture unusable).
 */
function exifOrientation(app1: Uint8Array): number {
  try {
    if (!startsWith(app1, [...ascii('Exif'), 0, 0])) return 1;
    const t = app1.subarray(6);
    const le = t[0] === 0x49 && t[1] === 0x49;
    if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return 1;
    const u16 = (at: number): number => (le ? u16le(t, at) : u16be(t, at));
    const u32 = (at: number): number => (le ? u32le(t, at) : u32be(t, at));
    const ifd = u32(4);
    const count = u16(ifd);
    for (let i = 0; i < count; i++) {
      const entry = ifd + 2 + i * 12;
      if (u16(entry) === 0x0112) {
        const value = u16(entry + 8);
        return value >= 1 && value <= 8 ? value : 1;
      }
    }
    return 1;
  } catch (err) {
    if (err instanceof HeaderError) return 1;
    throw err;
  }
}

/** The logical screen size: what the decoder allocates for the first frame. */
function readGifHeader(b: Uint8Array): ImageHeader {
  const width = u16le(b, 6);
  const height = u16le(b, 8);
  positive(width, height);
  return { format: 'gif', width, height };
}

function readBmpHeader(b: Uint8Array): ImageHeader {
  const dib = u32le(b, 14);
  if (dib === 12) {
    const width = u16le(b, 18);
    const height = u16le(b, 20);
    positive(width, height);
    return { format: 'bmp', width, height };
  }
  need(b, 26, 'DIB header');
  const width = u32le(b, 18) | 0;
  const height = Math.abs(u32le(b, 22) | 0); // negative = rows stored top-down
  positive(width, height);
  return { format: 'bmp', width, height };
}

const TIFF_SHORT = 3;
const TIFF_LONG = 4;

/**
 * Reads the first IFD: its dimensions, and checks that every strip (or tile) it points to lies
 * inside the file, which is how a truncated TIFF is caught (the TIFF decoder would silently
 * return zeros for the missing part).
 */
function readTiffHeader(b: Uint8Array): ImageHeader {
  const le = b[0] === 0x49;
  const u16 = (at: number): number => (le ? u16le(b, at) : u16be(b, at));
  const u32 = (at: number): number => (le ? u32le(b, at) : u32be(b, at));
  const ifd = u32(4);
  const count = u16(ifd);
  need(b, ifd + 2 + count * 12 + 4, 'end of the first IFD');
  const values = (entry: number): number[] => {
    const type = u16(entry + 2);
    const n = u32(entry + 4);
    const size = type === TIFF_SHORT ? 2 : type === TIFF_LONG ? 4 : 0;
    if (size === 0) throw new HeaderError(`tag ${u16(entry)} has type ${type}`);
    const base = n * size <= 4 ? entry + 8 : u32(entry + 8);
    need(b, base + n * size, `values of tag ${u16(entry)}`);
    return Array.from({ length: n }, (_, i) => (size === 2 ? u16(base + i * 2) : u32(base + i * 4)));
  };
  const tags = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    const tag = u16(entry);
    if ([256, 257, 273, 279, 324, 325].includes(tag)) tags.set(tag, values(entry));
  }
  const width = tags.get(256)?.[0] ?? 0;
  const height = tags.get(257)?.[0] ?? 0;
  positive(width, height);
  const offsets = tags.get(273) ?? tags.get(324) ?? [];
  const counts = tags.get(279) ?? tags.get(325) ?? [];
  if (offsets.length === 0 || offsets.length !== counts.length) throw new HeaderError('strip offsets and byte counts do not match');
  offsets.forEach((offset, i) => need(b, offset + counts[i]!, `end of strip ${i}`));
  return { format: 'tiff', width, height, tiffNextIfdPointer: ifd + 2 + count * 12 };
}
