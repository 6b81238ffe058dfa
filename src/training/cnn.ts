import * as tf from '@tensorflow/tfjs';
import type { CnnConfig, HeadConfig } from './data/config';
import { INPUT_NAME } from './model';

/**
 * Networks `specserve train` builds: a small CNN trained from scratch (training config `model:`)
 * and the classification head put on a base model (`head:`). Layer names are fixed and the
 * Glorot-uniform initialisers seeded, so the same config and seed give the same initial weights.
 */

/** softmax: one unit per label; sigmoid: one independent unit per label; binary-sigmoid: two labels, one unit p = P(labels[1]). */
export type OutputActivation = 'softmax' | 'sigmoid' | 'binary-sigmoid';

/** Output layer names in model.json / metadata.json, as the shipped models. */
export const OUTPUT_NAMES: Record<OutputActivation, string> = { softmax: 'probs', sigmoid: 'scores', 'binary-sigmoid': 'score' };

/** logit(p): the sigmoid output bias that makes the initial score the label's prior. */
function logit(p: number): number {
  const q = Math.min(0.99, Math.max(0.01, p));
  return Math.log(q / (1 - q));
}

/** The output Dense: softmax, sigmoid, or a single sigmoid unit for binary-sigmoid. */
function outputLayer(labels: number, activation: OutputActivation, init: ReturnType<typeof tf.initializers.glorotUniform>): tf.layers.Layer {
  const units = activation === 'binary-sigmoid' ? 1 : labels;
  return tf.layers.dense({ name: OUTPUT_NAMES[activation], units, activation: activation === 'softmax' ? 'softmax' : 'sigmoid', kernelInitializer: init });
}

/**
 * Sets a sigmoid output's bias to the logit of each label's prior (fraction of positives), so the
 * initial scores are the priors: with zero bias a sigmoid + binary cross-entropy model spends its
 * first steps only learning that most labels are 0 (see multilabel-model.ts).
 */
function applyPriors(model: tf.LayersModel, activation: OutputActivation, priors?: number[]): void {
  if (activation === 'softmax' || !priors) return;
  const layer = model.getLayer(OUTPUT_NAMES[activation]);
  // getWeights returns the layer's own variables: keep them, dispose only the new value (setWeights copies it).
  const [kernel] = layer.getWeights();
  const bias = tf.tensor1d(priors.map(logit));
  layer.setWeights([kernel!, bias]);
  bias.dispose();
}

const outputPart = (outputs: number, activation: OutputActivation) =>
  activation === 'binary-sigmoid' ? `Dense(1,sigmoid: P(second label))` : `Dense(${outputs},${activation})`;

/** Human-readable architecture of buildCnn, recorded in metadata.json and the model card. */
export function cnnArchitecture(c: CnnConfig, outputs: number, activation: OutputActivation): string {
  const parts: string[] = [];
  for (const b of c.blocks) {
    for (const f of b.filters) parts.push(`Conv2D(${f},${b.kernel}x${b.kernel}${b.stride > 1 ? `,stride ${b.stride}` : ''},${b.padding},relu)`);
    if (b.pool) parts.push('MaxPool(2x2)');
    if (b.dropout > 0) parts.push(`Dropout(${b.dropout})`);
  }
  parts.push(c.global_pool === 'none' ? 'Flatten' : c.global_pool === 'avg' ? 'GlobalAvgPool' : 'GlobalMaxPool');
  if (c.dense_units > 0) parts.push(`Dense(${c.dense_units},relu)`);
  if (c.dropout > 0) parts.push(`Dropout(${c.dropout})`);
  parts.push(outputPart(outputs, activation));
  return parts.join(' - ');
}

/**
 * A CNN for `inputShape`: per block its ReLU convolutions (kernel, stride, padding of the block),
 * then a 2x2 max-pool (unless `pool: false`, and skipped once the map is 1 pixel) and the block's
 * dropout; then Flatten / global pooling, an optional Dense ReLU layer, Dropout and the output.
 * Convolutions are named conv1, conv2, ... across blocks, pools pool1, ... per block (the seed
 * CNN of model-store/mnist is `blocks: [{filters: [32, 64], padding: valid, dropout: 0.25}]`,
 * whose conv1, conv2, dense1 and probs weights the Python bench peer reads by name).
 */
export function buildCnn(inputShape: number[], outputs: number, activation: OutputActivation, c: CnnConfig, seed: number, priors?: number[]): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const input = tf.input({ shape: inputShape, name: INPUT_NAME, dtype: 'float32' });
  let x: tf.SymbolicTensor = input;
  let side = Math.min(inputShape[0]!, inputShape[1]!);
  let conv = 0;
  c.blocks.forEach((b, i) => {
    for (const filters of b.filters) {
      conv++;
      x = tf.layers
        .conv2d({ name: `conv${conv}`, filters, kernelSize: b.kernel, strides: b.stride, padding: b.padding, activation: 'relu', kernelInitializer: init(conv) })
        .apply(x) as tf.SymbolicTensor;
      side = b.padding === 'same' ? Math.ceil(side / b.stride) : Math.floor((side - b.kernel) / b.stride) + 1;
    }
    if (b.pool && side >= 2) {
      x = tf.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: 2 }).apply(x) as tf.SymbolicTensor;
      side = Math.floor(side / 2);
    }
    if (b.dropout > 0) x = tf.layers.dropout({ name: `block_dropout${i + 1}`, rate: b.dropout }).apply(x) as tf.SymbolicTensor;
  });
  if (c.global_pool === 'avg') x = tf.layers.globalAveragePooling2d({ name: 'global_pool' }).apply(x) as tf.SymbolicTensor;
  else if (c.global_pool === 'max') x = tf.layers.globalMaxPooling2d({ name: 'global_pool' }).apply(x) as tf.SymbolicTensor;
  else x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  if (c.dense_units > 0) {
    x = tf.layers.dense({ name: 'dense1', units: c.dense_units, activation: 'relu', kernelInitializer: init(50) }).apply(x) as tf.SymbolicTensor;
  }
  if (c.dropout > 0) x = tf.layers.dropout({ name: 'dropout', rate: c.dropout }).apply(x) as tf.SymbolicTensor;
  const output = outputLayer(outputs, activation, init(60)).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ name: 'specserve_cnn', inputs: input, outputs: output });
  applyPriors(model, activation, priors);
  return model;
}

/** Names of the head's layers (prefixed so they never clash with a base model's). */
export const HEAD_PREFIX = 'head_';

export function headArchitecture(h: HeadConfig, featureShape: readonly number[], outputs: number, activation: OutputActivation): string {
  const parts: string[] = [];
  if (featureShape.length > 1) parts.push('GlobalAvgPool');
  if (h.hidden_units > 0) parts.push(`Dense(${h.hidden_units},relu)`);
  if (h.dropout > 0) parts.push(`Dropout(${h.dropout})`);
  parts.push(outputPart(outputs, activation));
  return parts.join(' - ');
}

/**
 * Applies a new head to `features` (a base model's cut tensor, or a standalone features input):
 * global average pooling if the features are still a map, optional Dense ReLU, Dropout, output.
 * Called twice with the same seed (features model, then base + head), it makes identical layers,
 * so weights trained on precomputed features carry over by layer name.
 */
export function applyHead(
  features: tf.SymbolicTensor,
  h: HeadConfig,
  outputs: number,
  activation: OutputActivation,
  seed: number,
  priors?: number[],
): { output: tf.SymbolicTensor; finish: (model: tf.LayersModel) => void } {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  let x = features;
  if (features.shape.length > 2) x = tf.layers.globalAveragePooling2d({ name: `${HEAD_PREFIX}pool` }).apply(x) as tf.SymbolicTensor;
  if (h.hidden_units > 0) x = tf.layers.dense({ name: `${HEAD_PREFIX}dense`, units: h.hidden_units, activation: 'relu', kernelInitializer: init(70) }).apply(x) as tf.SymbolicTensor;
  if (h.dropout > 0) x = tf.layers.dropout({ name: `${HEAD_PREFIX}dropout`, rate: h.dropout }).apply(x) as tf.SymbolicTensor;
  const output = outputLayer(outputs, activation, init(80)).apply(x) as tf.SymbolicTensor;
  return { output, finish: (model) => applyPriors(model, activation, priors) };
}
