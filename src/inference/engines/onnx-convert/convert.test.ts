import * as tf from '@tensorflow/tfjs';
import { loadOnnx } from '../onnx';
import { maxAbsDiff } from '../plan';
import { TfjsModel } from '../tfjs';
import { convertLayersModel, UnsupportedModel } from './convert';

beforeAll(() => tf.setBackend('cpu'));

/** Inputs -1..1 from a fixed seed: negative values exercise the activations' lower branches. */
function seeded(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s >>> 8) / 2 ** 23 - 1;
  }
  return out;
}

/** Non-trivial weights everywhere (BatchNorm's defaults would be an identity). */
function randomiseWeights(model: tf.LayersModel): void {
  let seed = 11;
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    layer.setWeights(weights.map((w, i) => {
      const values = seeded(w.size, seed++);
      // Variances must be positive.
      const isVariance = layer.getClassName() === 'BatchNormalization' && i === weights.length - 1;
      return tf.tensor(isVariance ? values.map((v) => 0.5 + Math.abs(v)) : values, w.shape);
    }));
  }
}

/** Converts `model`, runs both on a batch of 3, and returns the largest difference. */
async function parity(model: tf.LayersModel): Promise<number> {
  randomiseWeights(model);
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  const size = inputShape.reduce((a, b) => a * b, 1);
  const batch = seeded(3 * size, 5);
  const converted = convertLayersModel(model);
  const onnx = await loadOnnx({ model: converted.onnx, inputName: converted.inputName, outputName: converted.outputName, layout: 'NHWC', fixedBatch: false }, inputShape, { threads: 1 });
  try {
    return maxAbsDiff(await onnx.run(batch, 3), await new TfjsModel(model, inputShape).run(batch, 3));
  } finally {
    onnx.dispose();
  }
}

const seq = (inputShape: number[], layers: tf.layers.Layer[]): tf.LayersModel => {
  const model = tf.sequential();
  layers.forEach((layer, i) => {
    if (i === 0) model.add(tf.layers.inputLayer({ inputShape }));
    model.add(layer);
  });
  return model;
};

describe('TF.js layers -> ONNX, each layer against TF.js (max |diff| <= 1e-4)', () => {
  const cases: [string, () => tf.LayersModel][] = [
    ['Conv2D valid, relu', () => seq([9, 9, 2], [tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' })])],
    ['Conv2D same, stride 2, no bias', () => seq([9, 8, 3], [tf.layers.conv2d({ filters: 5, kernelSize: [3, 2], strides: 2, padding: 'same', useBias: false })])],
    ['Conv2D same, dilation 2', () => seq([10, 10, 2], [tf.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same' })])],
    ['DepthwiseConv2D same, stride 2, multiplier 2, relu6', () => seq([9, 9, 3], [tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2, padding: 'same', activation: 'relu6' })])],
    ['SeparableConv2D', () => seq([8, 8, 3], [tf.layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same' })])],
    ['Dense on a flat input, sigmoid', () => seq([6], [tf.layers.dense({ units: 4, activation: 'sigmoid' })])],
    ['Dense on a 4-D input (last axis)', () => seq([3, 3, 2], [tf.layers.dense({ units: 4 }), tf.layers.flatten()])],
    ['BatchNormalization after Conv2D, and on a flat input', () => seq([6, 6, 2], [tf.layers.conv2d({ filters: 3, kernelSize: 3 }), tf.layers.batchNormalization({ epsilon: 0.001 }), tf.layers.flatten(), tf.layers.batchNormalization({ scale: false })])],
    ['Activation relu, relu6, tanh, elu, softplus, softmax', () => seq([5], [tf.layers.activation({ activation: 'relu6' }), tf.layers.dense({ units: 4 }), tf.layers.activation({ activation: 'tanh' }), tf.layers.activation({ activation: 'elu' }), tf.layers.activation({ activation: 'softplus' }), tf.layers.activation({ activation: 'softmax' })])],
    ['ReLU (max 6), LeakyReLU, Softmax on 4-D (channel axis)', () => seq([4, 4, 3], [tf.layers.reLU({ maxValue: 6 }), tf.layers.leakyReLU({ alpha: 0.2 }), tf.layers.conv2d({ filters: 3, kernelSize: 1 }), tf.layers.softmax({ axis: -1 })])],
    ['MaxPooling2D same, AveragePooling2D same (odd sizes: padding left out of the mean)', () => seq([7, 7, 2], [tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' })])],
    ['GlobalAveragePooling2D', () => seq([5, 5, 3], [tf.layers.conv2d({ filters: 4, kernelSize: 1 }), tf.layers.globalAveragePooling2d({})])],
    ['GlobalMaxPooling2D', () => seq([5, 5, 3], [tf.layers.conv2d({ filters: 4, kernelSize: 1 }), tf.layers.globalMaxPooling2d({})])],
    ['Flatten after Conv2D keeps Keras H, W, C order', () => seq([5, 4, 2], [tf.layers.conv2d({ filters: 3, kernelSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 2 })])],
    ['Reshape to 4-D and back (MobileNet head)', () => seq([4, 4, 2], [tf.layers.globalAveragePooling2d({}), tf.layers.reshape({ targetShape: [1, 1, 2] }), tf.layers.conv2d({ filters: 5, kernelSize: 1 }), tf.layers.reshape({ targetShape: [5] })])],
    ['Dropout (identity at inference)', () => seq([6], [tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 3 })])],
    ['ZeroPadding2D', () => seq([4, 4, 1], [tf.layers.zeroPadding2d({ padding: [[1, 2], [0, 3]] }), tf.layers.conv2d({ filters: 2, kernelSize: 3 })])],
    ['Rescaling', () => seq([3, 3, 1], [tf.layers.rescaling({ scale: 1 / 127.5, offset: -1 }), tf.layers.flatten()])],
  ];
  it.each(cases)('%s', async (_, build) => {
    expect(await parity(build())).toBeLessThanOrEqual(1e-4);
  });

  it('Functional: Add (residual) and Concatenate on the channel axis', async () => {
    const input = tf.input({ shape: [6, 6, 3] });
    const a = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([input, a]) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const joined = tf.layers.concatenate().apply([sum, b]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 4, activation: 'softmax' }).apply(tf.layers.flatten().apply(joined)) as tf.SymbolicTensor;
    expect(await parity(tf.model({ inputs: input, outputs: out }))).toBeLessThanOrEqual(1e-4);
  });

  it('an unsupported layer is named in an UnsupportedModel error', () => {
    const model = seq([8, 2], [tf.layers.conv1d({ filters: 2, kernelSize: 3 })]);
    expect(() => convertLayersModel(model)).toThrow(UnsupportedModel);
    expect(() => convertLayersModel(model)).toThrow(/Conv1D layers are not supported/);
    const gru = seq([4, 3], [tf.layers.gru({ units: 2 })]);
    expect(() => convertLayersModel(gru)).toThrow(/GRU/);
  });
});
