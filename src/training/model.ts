import * as tf from '@tensorflow/tfjs';

/** Names recorded in metadata.json; the server finds the input/output by them. */
export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'probs';
export const ARCHITECTURE =
  'Conv2D(32,3x3,relu) - Conv2D(64,3x3,relu) - MaxPool(2x2) - Dropout(0.25) - Flatten - Dense(128,relu) - Dropout(0.5) - Dense(10,softmax)';

/**
 * The seed Keras MNIST CNN (see ARCHITECTURE), with a named 28x28x1 input, fixed layer names
 * (so the topology does not depend on how many layers were created before) and seeded
 * Glorot-uniform initialisers: the same `seed` always gives the same initial weights. `name` is
 * the model's name in model.json (the Fashion-MNIST trainer uses the same network).
 */
export function buildModel(seed = 1, name = 'mnist_cnn'): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const input = tf.input({ shape: [28, 28, 1], name: INPUT_NAME, dtype: 'float32' });
  let x = tf.layers
    .conv2d({ name: 'conv1', filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ name: 'conv2', filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ name: 'dropout1', rate: 0.25, seed: seed * 100 + 3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .dense({ name: 'dense1', units: 128, activation: 'relu', kernelInitializer: init(4) })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ name: 'dropout2', rate: 0.5, seed: seed * 100 + 5 }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ name: OUTPUT_NAME, units: 10, activation: 'softmax', kernelInitializer: init(6) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ name, inputs: input, outputs: output });
}

/**
 * tfjs-layers' Dropout passes its fixed `seed` to tf.dropout on every call, and tf.dropout builds
 * a fresh generator from it, so a seeded Dropout would drop the SAME units in every batch (and an
 * unseeded one uses Math.random). The trainer therefore gives each Dropout layer a new seed from
 * its own seeded PRNG before every batch: different masks, still reproducible.
 */
export function reseedDropout(model: tf.LayersModel, nextSeed: () => number): void {
  for (const layer of model.layers) {
    if (layer.getClassName() === 'Dropout') {
      // `seed` is private readonly in the typings but read at every call().
      (layer as unknown as { seed?: number }).seed = nextSeed();
    }
  }
}
