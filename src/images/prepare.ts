import type { ModelMetadata } from '../model-store/metadata';
import { decodeToGray, decodeToRgba } from './decode';
import { mnistDigitInput } from './digit';
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
      return mnistDigitInput(await decodeToGray(bytes, limits));
    case 'resize':
      return resizeInput(await decodeToRgba(bytes, limits), input.shape, preprocessing);
    default: {
      // A new recipe gets a case here; `never` keeps the switch exhaustive.
      const unknown: never = preprocessing;
      throw new Error(`Unknown preprocessing recipe ${JSON.stringify(unknown)}`);
    }
  }
}
