import { type ModelMetadata, parseMetadata } from '../metadata';
import { isObject, KerasRefused, type ModelSignature } from './config';

/**
 * metadata.json for a Keras version, from its config: the input's name and shape, the output's
 * kind from its activation (softmax; sigmoid, one unit: binary-sigmoid; linear logits rank like
 * softmax scores), labels "0".."n-1" (the class indices), and the `resize` recipe at 0..1 (x/255,
 * as Keras tutorials scale their inputs), inverting light backgrounds for one-channel models
 * (MNIST-style models are trained light on dark). A metadata.json beside the file overrides any
 * of its top-level fields (labels, preprocessing, output, input, training).
 */
export function defaultMetadata(signature: ModelSignature, where: string): ModelMetadata {
  const shape = signature.inputShape;
  if (shape.some((d) => d === null)) {
    throw new KerasRefused(`its input shape [${shape.map((d) => d ?? 'None')}] has open dimensions; save the model with a fixed Input(shape=(height, width, channels))`);
  }
  const fixed = shape as number[];
  if (fixed.length !== 3 || (fixed[2] !== 1 && fixed[2] !== 3)) {
    throw new KerasRefused(
      `its input [${fixed}] is not an image (height, width, 1 or 3 channels), and this server feeds images; start the model with Input(shape=(height, width, channels)) followed by a Flatten layer if it wants a flat vector, and save again`,
    );
  }
  if (signature.outputUnits === undefined) {
    throw new KerasRefused(`the size of its output cannot be read from the config; add ${where}/metadata.json with labels (one per output unit)`);
  }
  const units = signature.outputUnits;
  const activation = signature.outputActivation ?? 'linear';
  const binary = activation === 'sigmoid' && units === 1;
  const kind = binary ? 'binary-sigmoid' : activation === 'sigmoid' ? 'sigmoid' : 'softmax';
  const labels = binary ? ['0', '1'] : Array.from({ length: units }, (_, i) => String(i));
  const channels = fixed[2];
  return {
    input: { name: signature.inputName, shape: fixed, dtype: 'float32' },
    output: { name: signature.outputName, kind },
    labels,
    preprocessing: { recipe: 'resize', resize: 'stretch', scale: 'unit', invert: channels === 1 ? 'auto' : 'never' },
  };
}

/** The defaults with a (partial) metadata.json laid over them, checked as any metadata.json. */
export function mergeMetadata(defaults: ModelMetadata, given: unknown, file: string): ModelMetadata {
  if (given === undefined) return parseMetadata(defaults, `${file} (defaults from the Keras config)`);
  if (!isObject(given)) throw new Error(`${file}: not a JSON object`);
  return parseMetadata({ ...defaults, ...given }, file);
}
