import { ProblemError, UndecodableImage } from '../errors/errors';
import { log } from '../log';
import { DataError } from './binary';
import { activeDecoder, codecFor, type Codec } from './codec-rule';
import { DecodeTimeout, decodeBoundMs, decodeInThread } from './decode-thread';
import { FORMAT_LABEL, type ImageDecoderName } from './formats';
import { type GrayImage, rgbaToGray } from './gray';
import { decodeWithLibvips, reduceWithLibvips, type ShrinkHint } from './libvips';
import { checkDimensions, type ImageLimits } from './limits';
import { applyOrientation, type RgbaImage } from './orientation';
import type { ImageHeader, Probe } from './probe';
import { checkProbeData, probeImage } from './sniff';

export type { RgbaImage } from './orientation';
export type { ShrinkHint } from './libvips';

export interface DecodeOptions {
  /** How far the decoder may reduce the image while decoding it (see `ShrinkHint`); none: full size. */
  shrink?: ShrinkHint;
}

/**
 * Sniffs, checks the limits from the header (before any decoding), decodes with the codec
 * `codecFor` picks (PNG, JPEG, WebP, AVIF, HEIC, GIF first frame, TIFF first page, BMP) and turns
 * JPEGs and TIFFs upright per their orientation tag. The result may be smaller than the stored image
 * when `options.shrink` allows it.
 * Errors: `UnsupportedImage` 415, `ImageTooLarge` 413, `UnusableImage` 422 (a side < minSide),
 * `UndecodableImage` 400 (recognised format, corrupt or truncated data, or a decode over its time bound).
 */
export async function decodeToRgba(bytes: Uint8Array, limits: ImageLimits, options: DecodeOptions = {}): Promise<RgbaImage> {
  const decoder = activeDecoder(limits);
  const probe = probeImage(bytes, decoder);
  const { header } = probe;
  checkDimensions(header.width, header.height, limits);
  checkProbeData(probe, decoder);
  const codec = codecFor(header.format, header.width * header.height, decoder, header);
  const label = FORMAT_LABEL[header.format];
  let rgba: RgbaImage;
  try {
    rgba = await runCodec(codec, bytes, probe, limits, storedHint(options.shrink, header), decoder);
  } catch (err) {
    if (err instanceof ProblemError) throw err;
    if (err instanceof DecodeTimeout || err instanceof DataError) throw new UndecodableImage(`The ${label} data could not be decoded: ${err.message}.`);
    // The codec's own words ("There are some read requests waitng on finished stream", libvips
    // internals) mean nothing to a client and describe the decoder: logged, not answered.
    // utif2 throws strings and numbers, not Errors.
    log.debug('image decode failed', { format: header.format, codec, reason: err instanceof Error ? err.message : String(err) });
    throw new UndecodableImage(`The ${label} data could not be decoded: the file is truncated or corrupt.`);
  }
  const { width, height, data } = rgba;
  if (width < 1 || height < 1 || data.length !== width * height * 4 || width * height > limits.maxPixels) {
    throw new UndecodableImage(`The ${label} header declares ${header.width}x${header.height} but ${width}x${height} pixels were decoded.`);
  }
  return header.orientation === undefined ? rgba : applyOrientation(rgba, header.orientation);
}

/** Decodes to grayscale 0..1 (0 = black), alpha flattened onto white. Same errors as `decodeToRgba`. */
export async function decodeToGray(bytes: Uint8Array, limits: ImageLimits, options: DecodeOptions = {}): Promise<GrayImage> {
  return rgbaToGray(await decodeToRgba(bytes, limits, options));
}

async function runCodec(
  codec: Codec,
  bytes: Uint8Array,
  probe: Probe,
  limits: ImageLimits,
  shrink: ShrinkHint | undefined,
  decoder: ImageDecoderName,
): Promise<RgbaImage> {
  const { format, width, height } = probe.header;
  switch (codec) {
    case 'libvips':
      return decodeWithLibvips(bytes, limits, shrink);
    case 'libheif': {
      const image = await decodeInThread('heic', bytes, decodeBoundMs(width * height));
      // libheif cannot shrink on load; where sharp loads, reduce before the recipes see 12 MP.
      return shrink === undefined || decoder === 'jimp' ? image : reduceWithLibvips(image, shrink);
    }
    case 'jimp-thread':
      if (format !== 'gif' && format !== 'tiff') throw new Error(`jimp's codecs in a thread do not read ${format}`);
      return decodeInThread(format, bytes, decodeBoundMs(width * height));
    case 'pngjs':
    case 'jpeg-js':
    case 'bmp':
      if (probe.decodeJs === undefined) throw new Error(`No JavaScript decoder for ${format}`);
      return probe.decodeJs(limits);
  }
}

/**
 * The hint in stored orientation: a JPEG or TIFF stored on its side (orientation 5-8) is turned
 * after decoding, so its stored width is the upright height. A hint that asks for an exact grid
 * ('fill', 'cover') or for both sides at least a size ('outside') is dropped when the image is not
 * larger than that on both axes: libvips would leave such an image partly unscaled (it never
 * enlarges), so the recipe samples the whole decoded image onto its grid instead.
 */
function storedHint(hint: ShrinkHint | undefined, header: ImageHeader): ShrinkHint | undefined {
  if (hint === undefined) return undefined;
  const turned = header.orientation !== undefined && header.orientation >= 5;
  const stored = turned ? { ...hint, width: hint.height, height: hint.width } : hint;
  if (stored.fit !== 'inside' && (header.width <= stored.width || header.height <= stored.height)) return undefined;
  return stored;
}
