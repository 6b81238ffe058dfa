import * as tf from '@tensorflow/tfjs';
import { CANVAS, DIGIT_CLASSES } from './composite-digits';
import { INPUT_NAME } from './model';

/** Name of the sigmoid output in model.json and metadata.json. */
export const MULTILABEL_OUTPUT_NAME = 'scores';
export const MULTILABEL_ARCHITECTURE =
  'Conv2D(16,5x5,stride 2,same,relu) - Conv2D(32,3x3,same,relu) - MaxPool(2x2) - Conv2D(64,3x3,same,relu) - MaxPool(2x2) - ' +
  'Conv2D(64,3x3,same,relu) - GlobalMaxPool - Dense(10,sigmoid; bias initialised to the logit of the label prior)';

/**
 * The multi-label digit CNN (see MULTILABEL_ARCHITECTURE) for CANVAS x CANVAS x 1 inputs: one
 * independent sigmoid score per digit. Global max pooling over the last 7x7 feature map (whose
 * units each see 39x39 pixels, more than a digit) makes the scores independent of where a digit
 * sits. Named layers, seeded Glorot-uniform initialisers (same `seed`, same initial weights).
 *
 * The output bias starts at log(p / (1 - p)), p = `labelPrior` (the fraction of labels that are
 * 1): with zero bias a sigmoid + binary cross-entropy model spends its first few hundred steps
 * only learning that most labels are 0, then starts to learn digits.
 */
export function buildMultiLabelModel(labelPrior: number, seed = 1, name = 'mnist_multilabel_cnn'): tf.LayersModel {
  if (!(labelPrior > 0 && labelPrior < 1)) throw new Error(`labelPrior must be in (0, 1), got ${labelPrior}`);
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const input = tf.input({ shape: [CANVAS, CANVAS, 1], name: INPUT_NAME, dtype: 'float32' });
  const conv = (x: tf.SymbolicTensor, k: number, filters: number, kernelSize: number, strides = 1) =>
    tf.layers
      .conv2d({ name: `conv${k}`, filters, kernelSize, strides, padding: 'same', activation: 'relu', kernelInitializer: init(k) })
      .apply(x) as tf.SymbolicTensor;
  const pool = (x: tf.SymbolicTensor, k: number) => tf.layers.maxPooling2d({ name: `pool${k}`, poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  let x = conv(input, 1, 16, 5, 2); // 28x28
  x = pool(conv(x, 2, 32, 3), 1); // 14x14
  x = pool(conv(x, 3, 64, 3), 2); // 7x7
  x = conv(x, 4, 64, 3);
  x = tf.layers.globalMaxPooling2d({ name: 'global_max' }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({
      name: MULTILABEL_OUTPUT_NAME,
      units: DIGIT_CLASSES,
      activation: 'sigmoid',
      kernelInitializer: init(5),
      biasInitializer: tf.initializers.constant({ value: Math.log(labelPrior / (1 - labelPrior)) }),
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ name, inputs: input, outputs: output });
}
