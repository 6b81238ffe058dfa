import { imageSize } from 'image-size';
import { UnsupportedImage } from '../errors/errors';
import { ascii, startsWith, u32be } from './binary';
import { ACCEPTED_IMAGE_FORMATS, FORMAT_LABEL, acceptedFormatsText, type AcceptedImageFormat } from './formats';

/**
 * A 415 whose detail says what was seen and what to send instead, e.g. "WEBP is not supported; send
 * one of: PNG, JPEG, BMP, GIF, TIFF." The list comes from `ACCEPTED_IMAGE_FORMATS`, as does the
 * `acceptedFormats` extension.
 */
export function unsupported(clause: string): UnsupportedImage {
  return new UnsupportedImage(`${clause}; send one of: ${acceptedFormatsText()}.`, ACCEPTED_IMAGE_FORMATS);
}

/** A 415 for an accepted format in a variant no decoder here reads, e.g. "JPEG with arithmetic coding (SOF9)". */
export function unsupportedVariant(format: AcceptedImageFormat, variant: string): UnsupportedImage {
  return unsupported(`${FORMAT_LABEL[format]} with ${variant} is not supported`);
}

/** The 415 for a non-empty upload in no accepted format, naming what it is when that can be told. */
export function unaccepted(bytes: Uint8Array): UnsupportedImage {
  const kind = formatName(bytes);
  if (kind !== undefined) return unsupported(`${kind} is not supported`);
  if (looksLikeText(bytes)) return unsupported('The upload is text, not an image');
  return unsupported('The upload is not in a recognised image format');
}

function formatName(bytes: Uint8Array): string | undefined {
  const own = ownSignature(bytes);
  if (own !== undefined) return own;
  let type: string | undefined;
  try {
    type = imageSize(bytes).type;
  } catch {
    type = undefined;
  }
  // image-size is laxer than the sniffer (e.g. any "BM..." is a BMP to it): ignore its accepted names.
  const accepted: readonly string[] = [...ACCEPTED_IMAGE_FORMATS, 'jpg'];
  return type !== undefined && !accepted.includes(type) ? type.toUpperCase() : undefined;
}

const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/** Signatures image-size does not name, or names vaguely. */
function ownSignature(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'WEBP';
  if (startsWith(bytes, ascii('ftyp'), 4)) return isoMediaKind(bytes);
  if (startsWith(bytes, ascii('%PDF'))) return 'PDF';
  if (startsWith(bytes, ascii('%!PS'))) return 'PostScript';
  if (startsWith(bytes, ascii('8BPS'))) return 'PSD';
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return 'ICO';
  if (startsWith(bytes, [0x00, 0x00, 0x02, 0x00])) return 'CUR';
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) return 'BigTIFF';
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) return 'JPEG XL';
  if (startsWith(bytes, [0x1f, 0x8b])) return 'Gzip-compressed data (e.g. SVGZ)';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 4096)).replace(/^\ufeff/, '').toLowerCase();
  if (head.includes('<svg')) return 'SVG';
  if (/^\s*(<!doctype html|<html)/.test(head)) return 'HTML (a web page, not an image)';
  if (/^\s*<\?xml/.test(head)) return 'XML';
  return undefined;
}

/**
 * ISO base media files ("ftyp" box): HEIF/HEIC and AVIF images, or a video (a phone's Live Photo
 * sends one). The major brand and the compatible brands both count: some AVIF files have major brand
 * "mif1" and list "avif" only as compatible.
 */
function isoMediaKind(bytes: Uint8Array): string {
  const boxEnd = Math.min(bytes.length, Math.max(16, bytes.length >= 4 ? u32be(bytes, 0) : 16), 256);
  const brands: string[] = [];
  for (let at = 8; at + 4 <= boxEnd; at += at === 8 ? 8 : 4) brands.push(String.fromCharCode(...bytes.subarray(at, at + 4)));
  if (brands.some((b) => b === 'avif' || b === 'avis')) return 'AVIF';
  if (brands.some((b) => HEIF_BRANDS.has(b))) return 'HEIC/HEIF';
  return 'A video (MP4/QuickTime)';
}

function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4096);
  let control = 0;
  for (const b of sample) if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) control++;
  return control === 0 || control / sample.length < 0.01;
}
