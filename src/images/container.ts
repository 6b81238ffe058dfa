import { imageSize } from 'image-size';
import { HeaderError, ascii, positive, startsWith, u32be } from './binary';
import type { Probe } from './probe';

/** HEIF brands of still images (HEVC-coded: HEIC; `mif1`/`msf1`: any HEIF, decoded by libheif too). */
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/**
 * The brands of an ISO base media file ("ftyp" box): its major brand and compatible brands.
 * Undefined when there is no ftyp box at the start.
 */
export function isoBrands(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < 12 || !startsWith(bytes, ascii('ftyp'), 4)) return undefined;
  const boxEnd = Math.min(bytes.length, Math.max(16, u32be(bytes, 0)), 256);
  const brands: string[] = [];
  for (let at = 8; at + 4 <= boxEnd; at += at === 8 ? 8 : 4) brands.push(String.fromCharCode(...bytes.subarray(at, at + 4)));
  return brands;
}

/**
 * AVIF or HEIC by brand. The major brand and the compatible brands both count: some AVIF files have
 * major brand "mif1" and list "avif" only as compatible. Anything else in an ftyp box (a video, a
 * phone's Live Photo) is not accepted.
 */
export function isoImageFormat(brands: readonly string[]): 'avif' | 'heic' | undefined {
  if (brands.some((b) => b === 'avif' || b === 'avis')) return 'avif';
  if (brands.some((b) => HEIF_BRANDS.has(b))) return 'heic';
  return undefined;
}

/**
 * WebP, AVIF and HEIC headers, read by image-size (pure JS, no pixel decoded): the VP8/VP8L/VP8X
 * header, or the `ispe` property of every image in a HEIF container. For HEIF the largest image
 * counts (a HEIC holds a grid image, its tiles and a thumbnail), so no image in the file can be larger
 * than what the limits saw. Decoding: libvips (WebP, AVIF) or libheif (HEIC), see codec-rule.ts.
 */
export function probeContainer(format: 'webp' | 'avif' | 'heic', b: Uint8Array): Probe {
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(b);
  } catch (err) {
    throw new HeaderError((err as Error).message.replace(/\.$/, ''));
  }
  const images = size.images && size.images.length > 0 ? size.images : [size];
  const largest = images.reduce((a, i) => (i.width * i.height > a.width * a.height ? i : a));
  positive(largest.width, largest.height);
  return { header: { format, width: largest.width, height: largest.height } };
}
