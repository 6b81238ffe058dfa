import { ProblemError, UndecodableImage } from '../errors/errors';
import { FORMAT_LABEL } from './formats';
import { type GrayImage, rgbaToGray } from './gray';
import { checkDimensions, type ImageLimits } from './limits';
import { applyOrientation, type RgbaImage } from './orientation';
import { probeImage } from './sniff';

export type { RgbaImage } from './orientation';

/**
 * Sniffs, checks the limits from the header, decodes (PNG, JPEG, BMP, GIF first frame, TIFF first
 * page; see each format's module for the variants) and turns JPEGs and TIFFs upright per their
 * orientation tag.
 * Errors: `UnsupportedImage` 415, `ImageTooLarge` 413, `UnusableImage` 422 (a side < minSide),
 * `UndecodableImage` 400 (recognised format, corrupt or truncated data).
 */
export async function decodeToRgba(bytes: Uint8Array, limits: ImageLimits): Promise<RgbaImage> {
  const { header, decode } = probeImage(bytes);
  checkDimensions(header.width, header.height, limits);
  const label = FORMAT_LABEL[header.format];
  let rgba: RgbaImage;
  try {
    rgba = await decode(limits);
  } catch (err) {
    if (err instanceof ProblemError) throw err;
    // utif2 throws strings and numbers, not Errors.
    const reason = err instanceof Error ? err.message : String(err);
    throw new UndecodableImage(`The ${label} data could not be decoded (${reason}); the file may be truncated or corrupt.`);
  }
  const { width, height, data } = rgba;
  if (width !== header.width || height !== header.height || data.length !== width * height * 4) {
    throw new UndecodableImage(`The ${label} header declares ${header.width}x${header.height} but ${width}x${height} pixels were decoded.`);
  }
  return header.orientation === undefined ? rgba : applyOrientation(rgba, header.orientation);
}

/** Decodes to grayscale 0..1 (0 = black), alpha flattened onto white. Same errors as `decodeToRgba`. */
export async function decodeToGray(bytes: Uint8Array, limits: ImageLimits): Promise<GrayImage> {
  return rgbaToGray(await decodeToRgba(bytes, limits));
}
