import { ImageTooLarge, UnusableImage } from '../errors/errors';
import type { ImageDecoderName } from './formats';

/** Bounds an uploaded image must respect before (and to be worth) decoding it. */
export interface ImageLimits {
  /** Most pixels (width * height) a header may declare; above it the upload is refused undecoded. */
  maxPixels: number;
  /** Shortest side, in pixels, worth classifying. */
  minSide: number;
  /**
   * Which decoder family reads uploads (IMAGE_DECODER); undefined: sharp where it loads, else jimp.
   * It travels with the limits because both are what a worker thread needs to know about images.
   */
  decoder?: ImageDecoderName;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = Object.freeze({ maxPixels: 40_000_000, minSide: 8 });

/**
 * Checks the dimensions a header declares: too many pixels -> 413 `ImageTooLarge` (nothing has
 * been allocated yet), a side under `minSide` -> 422 `UnusableImage`.
 */
export function checkDimensions(width: number, height: number, limits: ImageLimits): void {
  if (width * height > limits.maxPixels) throw new ImageTooLarge(width, height, limits.maxPixels);
  if (width < limits.minSide || height < limits.minSide) {
    throw new UnusableImage(
      `The image is ${width}x${height}; both sides must be at least ${limits.minSide} pixels to be classified.`,
    );
  }
}
