import { DEFAULT_IMAGE_LIMITS, mnistDigitInput, prepareInput, rgbaToGray, type ImageLimits } from '../../images';
import type { RgbaImage } from '../../images/decode';
import { resizeInput } from '../../images/resize';
import { promises as fs } from 'node:fs';
import { UnusableImage } from '../../errors/errors';
import type { Random } from '../prng';
import type { DataSource, Example, SceneAugmenter, Signature } from './dataset';

/**
 * Training inputs are made by the server's own preprocessing, so a model sees in training exactly
 * what it will see when served:
 *  - image files (folder and CSV sources) go through `prepareInput` (decode + recipe), unchanged;
 *  - IDX pixels are already decoded, so they skip only the decoding step: `preparePixels` runs the
 *    same recipe functions `prepareInput` dispatches to (mnistDigitInput on the luma of the image,
 *    resizeInput on the RGBA image). A test checks that an IDX image gives the same input as a
 *    PNG of its pixels through prepareInput.
 */

/** The limits the server applies by default; training images are held to the same. */
export const TRAINING_IMAGE_LIMITS: ImageLimits = DEFAULT_IMAGE_LIMITS;

/** An image file's bytes -> the model input (throws the server's typed image errors). */
export function prepareFile(bytes: Uint8Array, signature: Signature): Promise<Float32Array> {
  return prepareInput(bytes, signature, TRAINING_IMAGE_LIMITS);
}

/**
 * The `loader` of a source whose examples are image files (folder and CSV sources): each example
 * is read from its file when its batch is made, and an error names the file.
 */
export function imageFileLoader(...sets: ({ examples: Example[]; files: string[] } | undefined)[]): DataSource['loader'] {
  const fileOf = new Map<Example, string>();
  for (const set of sets) set?.examples.forEach((e, i) => fileOf.set(e, set.files[i]!));
  return (signature) => async (example) => {
    const file = fileOf.get(example);
    if (!file) throw new Error(`no file for example ${example.id}`);
    try {
      return await prepareFile(await fs.readFile(file), signature);
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`);
    }
  };
}

/** Decoded RGBA pixels -> the model input, by the same recipe as prepareInput (see above). */
export function preparePixels(rgba: RgbaImage, { preprocessing, input }: Signature): Float32Array {
  switch (preprocessing.recipe) {
    case 'mnist-digit':
      return mnistDigitInput(rgbaToGray(rgba));
    case 'resize':
      return resizeInput(rgba, input.shape, preprocessing);
    default: {
      const unknown: never = preprocessing;
      throw new Error(`Unknown preprocessing recipe ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * preparePixels of the picture as `scene` redraws it (training batches of idx and mnist-package
 * sources). A redrawing the recipe finds no digit in (faint pencil under a deep shadow, say)
 * falls back to the picture as it was: training never stops on its own augmentation.
 */
export function prepareScene(picture: RgbaImage, signature: Signature, scene?: SceneAugmenter, random?: Random): Float32Array {
  if (!scene || !random) return preparePixels(picture, signature);
  try {
    return preparePixels(scene(picture, random), signature);
  } catch (e) {
    if (e instanceof UnusableImage) return preparePixels(picture, signature);
    throw e;
  }
}
