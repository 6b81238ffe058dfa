import type { ModelMetadata } from '../model-store/metadata';
import { type ShrinkHint, decodeToGray, decodeToRgba } from './decode';
import { WORK_SIDE, mnistDigitInput } from './digit';
import type { ImageLimits } from './limits';
import { type ResizePreprocessing, resizeInput } from './resize';

export type Preprocessing = ModelMetadata['preprocessing'];

/** The decoder's fit for each resize mode: what the recipe's grid (resize.ts) looks at. */
const GRID_FIT = { stretch: 'fill', 'center-crop': 'cover', letterbox: 'inside' } as const satisfies Record<ResizePreprocessing['resize'], ShrinkHint['fit']>;

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
      // libvips codecs deliver the recipe's grid itself (shrink-on-load, box shrink, Lanczos-3:
      // an anti-aliased reduction at a fraction of the JS cost); the JS codecs deliver the whole
      // image and the recipe's area averaging samples it. Either way resizeInput places it.
      const [outH = 1, outW = 1] = input.shape;
      const rgba = await decodeToRgba(bytes, limits, { shrink: { width: outW, height: outH, fit: GRID_FIT[preprocessing.resize] } });
      return resizeInput(rgba, input.shape, preprocessing);
    }
    default: {
      // A new recipe gets a case here; `never` keeps the switch exhaustive.
      const unknown: never = preprocessing;
      throw new Error(`Unknown preprocessing recipe ${JSON.stringify(unknown)}`);
    }
  }
}
