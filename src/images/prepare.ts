import type { ModelMetadata } from '../model-store/metadata';
import { decodeToGray, decodeToRgba } from './decode';
import { WORK_SIDE, mnistDigitInput } from './digit';
import type { ImageLimits } from './limits';
import { resizeInput } from './resize';

export type Preprocessing = ModelMetadata['preprocessing'];

/**
 * Uploaded bytes -> the model's input tensor data (without the batch axis), following the
 * model's `preprocessing.recipe`. Errors are the typed errors of `decodeToGray` and of the recipe.
 */
export async function prepareInput(
  bytes: Uint8Array,
  { preprocessing, input }: Pick<ModelMetadata, 'preprocessing' | 'input'>,
  limits: ImageLimits,
): Promise<Float32Array> {
  switch (preprocessing.recipe) {
    case 'mnist-digit':
      // The digit recipe first reduces the picture to WORK_SIDE (area averaging): the decoder may
      // hand it at most twice that.
      return mnistDigitInput(await decodeToGray(bytes, limits, { shrink: { width: 2 * WORK_SIDE, height: 2 * WORK_SIDE, fit: 'inside' } }));
    case 'resize': {
      // The resize recipe samples an [h, w] grid by area averaging: the decoder may hand it an image
      // down to twice that on both axes (libvips: shrink-on-load + Lanczos-3; the recipe's kernel
      // then stays the box filter it always was).
      const [outH = 1, outW = 1] = input.shape;
      const rgba = await decodeToRgba(bytes, limits, { shrink: { width: 2 * outW, height: 2 * outH, fit: 'outside' } });
      return resizeInput(rgba, input.shape, preprocessing);
    }
    default: {
      // A new recipe gets a case here; `never` keeps the switch exhaustive.
      const unknown: never = preprocessing;
      throw new Error(`Unknown preprocessing recipe ${JSON.stringify(unknown)}`);
    }
  }
}
