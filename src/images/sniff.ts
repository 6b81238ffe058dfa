import { UndecodableImage } from '../errors/errors';
import { HeaderError, UnsupportedVariant, ascii, startsWith, u32le } from './binary';
import { BMP_HEADER_SIZES, probeBmp } from './bmp';
import { isoBrands, isoImageFormat, probeContainer } from './container';
import { FORMAT_LABEL, acceptedFormats, type AcceptedImageFormat, type ImageDecoderName } from './formats';
import { probeGif } from './gif';
import { probeJpeg } from './jpeg';
import { PNG_SIGNATURE, probePng } from './png';
import type { ImageHeader, Probe } from './probe';
import { probeTiff } from './tiff';
import { unaccepted, unsupported, unsupportedVariant } from './unaccepted';

export type { ImageHeader } from './probe';

/** The header reader of each accepted format. */
const PROBES: Record<AcceptedImageFormat, (bytes: Uint8Array) => Probe> = {
  png: probePng,
  jpeg: probeJpeg,
  webp: (b) => probeContainer('webp', b),
  avif: (b) => probeContainer('avif', b),
  heic: (b) => probeContainer('heic', b),
  gif: probeGif,
  tiff: probeTiff,
  bmp: probeBmp,
};

/**
 * Identifies the format from its magic bytes and reads the dimensions from the header only.
 * Empty input, text, any format the decoder in use does not read (`acceptedFormats`) or a variant
 * of one that is not decoded -> `UnsupportedImage` (415); an accepted format whose header is cut
 * short or inconsistent -> `UndecodableImage` (400).
 */
export function sniffImage(bytes: Uint8Array, decoder: ImageDecoderName): ImageHeader {
  return probeImage(bytes, decoder).header;
}

/** `sniffImage`, plus how a JavaScript codec would decode the image (see `Probe`). Same errors. */
export function probeImage(bytes: Uint8Array, decoder: ImageDecoderName): Probe {
  if (bytes.length === 0) throw unsupported('The upload is empty', decoder);
  const format = acceptedFormatOf(bytes);
  if (format === undefined) throw unaccepted(bytes, decoder);
  if (!acceptedFormats(decoder).includes(format)) {
    throw unsupported(`${FORMAT_LABEL[format]} is not supported by this server's image decoder (${decoder}; IMAGE_DECODER=sharp reads it)`, decoder);
  }
  return headerErrors(format, decoder, () => PROBES[format](bytes));
}

/** `probe.checkData`, with the same errors as `probeImage`: to be called once the size passed the limits. */
export function checkProbeData(probe: Probe, decoder: ImageDecoderName): void {
  headerErrors(probe.header.format, decoder, () => probe.checkData?.());
}

function headerErrors<T>(format: AcceptedImageFormat, decoder: ImageDecoderName, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof HeaderError) {
      throw new UndecodableImage(`The ${FORMAT_LABEL[format]} header is truncated or corrupt: ${err.message}.`);
    }
    if (err instanceof UnsupportedVariant) throw unsupportedVariant(format, err.message, decoder);
    throw err;
  }
}

function acceptedFormatOf(bytes: Uint8Array): AcceptedImageFormat | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  const brands = isoBrands(bytes);
  if (brands !== undefined) return isoImageFormat(brands);
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(bytes, ascii('BM')) && looksLikeBmp(bytes)) return 'bmp';
  return undefined;
}

/** "BM" alone is too weak a signature (text can start with it): also require a known DIB header size. */
function looksLikeBmp(bytes: Uint8Array): boolean {
  return bytes.length < 18 || BMP_HEADER_SIZES.has(u32le(bytes, 14));
}
