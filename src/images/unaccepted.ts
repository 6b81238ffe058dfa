import { imageSize } from 'image-size';
import { UnsupportedImage } from '../errors/errors';
import { ascii, startsWith } from './binary';
import { isoBrands } from './container';
import { ACCEPTED_IMAGE_FORMATS, FORMAT_LABEL, acceptedFormats, acceptedFormatsText, type AcceptedImageFormat, type ImageDecoderName } from './formats';

/**
 * A 415 whose detail says what was seen and what to send instead, e.g. "SVG is not supported; send
 * one of: PNG, JPEG, ...". The list is what the decoder in use reads (`acceptedFormats`), as is the
 * `acceptedFormats` extension.
 */
export function unsupported(clause: string, decoder: ImageDecoderName): UnsupportedImage {
  return new UnsupportedImage(`${clause}; send one of: ${acceptedFormatsText(decoder)}.`, acceptedFormats(decoder));
}

/** A 415 for an accepted format in a variant no decoder here reads, e.g. "JPEG with arithmetic coding (SOF9)". */
export function unsupportedVariant(format: AcceptedImageFormat, variant: string, decoder: ImageDecoderName): UnsupportedImage {
  return unsupported(`${FORMAT_LABEL[format]} with ${variant} is not supported`, decoder);
}

/** The 415 for a non-empty upload in no accepted format, naming what it is when that can be told. */
export function unaccepted(bytes: Uint8Array, decoder: ImageDecoderName): UnsupportedImage {
  const kind = formatName(bytes);
  if (kind !== undefined) return unsupported(`${kind} is not supported`, decoder);
  if (looksLikeText(bytes)) return unsupported('The upload is text, not an image', decoder);
  return unsupported('The upload is not in a recognised image format', decoder);
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
  const accepted: readonly string[] = [...ACCEPTED_IMAGE_FORMATS, 'jpg', 'heif'];
  return type !== undefined && !accepted.includes(type) ? type.toUpperCase() : undefined;
}

/** Signatures image-size does not name, or names vaguely. */
function ownSignature(bytes: Uint8Array): string | undefined {
  // An ftyp box without an AVIF or HEIF brand (accepted files never get here): a video, e.g. a Live Photo's.
  if (isoBrands(bytes) !== undefined) return 'A video (MP4/QuickTime)';
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

function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4096);
  let control = 0;
  for (const b of sample) if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) control++;
  return control === 0 || control / sample.length < 0.01;
}
