import type { ImageLimits } from './limits';
import type { RgbaImage } from './orientation';
import { loadSharp } from './sharp-loader';

/**
 * How far a decoder may reduce an image while decoding it, by `fit`:
 *  - 'inside': aspect kept, the longer side down to exactly that (the digit recipe's working copy,
 *    the letterbox grid's inner image);
 *  - 'outside': aspect kept, both sides at least that;
 *  - 'fill': exactly `width` x `height`, stretched (the resize recipe's stretch grid);
 *  - 'cover': exactly `width` x `height`, the centre cut from an image whose short side fits
 *    (the resize recipe's centre-crop grid).
 * Never enlarged: an image already smaller on an axis comes back as it is, and the recipes sample
 * whatever arrives onto their grid. Sizes are of the stored image (before EXIF rotation).
 */
export interface ShrinkHint {
  width: number;
  height: number;
  fit: 'inside' | 'outside' | 'fill' | 'cover';
}

/**
 * Decodes with libvips (sharp): JPEG, PNG, WebP, AVIF, GIF (first frame), TIFF (first page), in any
 * bit depth and colour model (16-bit, CMYK, grey), converted to 8-bit sRGB, alpha flattened onto
 * white. With a hint, the image is reduced on load: JPEG by libjpeg's DCT scaling (1/2, 1/4, 1/8),
 * WebP by libwebp's scaled decoding, then libvips' resize to the hinted size (box shrink by the
 * integer part of the factor, then a Lanczos-3 reduction of the rest). Never enlarged.
 * The stored orientation is kept (decode.ts turns every format upright by one rule).
 *
 * `failOn: 'none'`: what can be decoded is decoded, so a photo whose last part is missing (an upload
 * cut short) still classifies, as browsers show such a file; bytes that are not an image at all fail
 * the header check before this, or fail here. `limitInputPixels` repeats MAX_IMAGE_PIXELS, which the
 * header check has already applied, as libvips' own guard.
 */
export async function decodeWithLibvips(bytes: Uint8Array, limits: ImageLimits, shrink?: ShrinkHint): Promise<RgbaImage> {
  const sharp = loadSharp();
  if (sharp === undefined) throw new Error('sharp (libvips) does not load on this platform; set IMAGE_DECODER=jimp');
  let pipeline = sharp(bytes, { failOn: 'none', limitInputPixels: limits.maxPixels, sequentialRead: true });
  if (shrink !== undefined) {
    pipeline = pipeline.resize({ width: shrink.width, height: shrink.height, fit: shrink.fit, withoutEnlargement: true, kernel: 'lanczos3' });
  }
  const { data, info } = await pipeline
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .ensureAlpha(1)
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Reduces decoded RGBA pixels with libvips to the hinted size (Lanczos-3), for a codec that cannot
 * shrink on load (libheif's 12 MP HEIC comes out at full size): the recipes then work on a
 * small image instead of 48 MB of pixels. Returns the image unchanged when sharp does not load or
 * the image is already small enough.
 */
export async function reduceWithLibvips(image: RgbaImage, shrink: ShrinkHint): Promise<RgbaImage> {
  const sharp = loadSharp();
  const smaller = shrink.fit === 'inside'
    ? image.width > shrink.width || image.height > shrink.height
    : image.width > shrink.width && image.height > shrink.height;
  if (sharp === undefined || !smaller) return image;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } })
    .resize({ width: shrink.width, height: shrink.height, fit: shrink.fit, withoutEnlargement: true, kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
