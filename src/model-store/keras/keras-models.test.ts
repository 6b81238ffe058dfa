import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { decodeToGray, DEFAULT_IMAGE_LIMITS } from '../../images';
import { readLayersModelFiles, readModelFiles, readModelMetadata } from '../files';
import { kerasFixture } from '../../../test/support/keras-files';
import { kerasModelArtifacts, readKerasFile } from '.';

/**
 * The Keras fixtures read into TF.js: each classifies the MNIST test digits as its Keras original
 * does, and every Keras 3 re-save gives its Keras 2 original's probabilities within 1e-6. Then
 * as store versions (model.h5 / model.keras dropped in, with or without metadata.json).
 */
const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'specserve-keras-'));

/** A version folder holding `file` as model.<ext>. */
function versionWith(file: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmp, 'v-'));
  copyFileSync(file, path.join(dir, `model${path.extname(file)}`));
  for (const [name, text] of Object.entries(extra)) writeFileSync(path.join(dir, name), text);
  return dir;
}

let digits: Float32Array[];

/** Probabilities of the 10 digits (gray/255, flattened to the model's input) per image. */
async function probabilities(file: string): Promise<number[][]> {
  const artifacts = await kerasModelArtifacts(await readKerasFile(file, true), file);
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  try {
    const values = new Float32Array(digits.length * 784);
    digits.forEach((d, i) => values.set(d, i * 784));
    const input = tf.tensor(values, [digits.length, ...shape]);
    const output = model.predict(input) as tf.Tensor;
    const rows = (await output.array()) as number[][];
    tf.dispose([input, output]);
    return rows;
  } finally {
    model.dispose();
  }
}

const argmax = (row: number[]) => row.indexOf(Math.max(...row));
const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((p, j) => Math.abs(p - (b[i] as number[])[j]!))));

beforeAll(async () => {
  await tf.setBackend('wasm');
  digits = await Promise.all(
    Array.from({ length: 10 }, async (_, d) => (await decodeToGray(await readFile(path.join(FIXTURES, 'mnist', `${d}.png`)), DEFAULT_IMAGE_LIMITS)).data),
  );
});

describe('Keras 2 HDF5 (tf.keras 2.2.4-tf, 2.4.0)', () => {
  const results = new Map<string, number[][]>();
  beforeAll(async () => {
    for (const name of ['naonaorange-cnn_mnist', 'huyhoang17-mnist_all', 'naonaorange-mlp_mnist']) {
      results.set(name, await probabilities(kerasFixture('keras2', `${name}.h5`)));
    }
  });

  it('naonaorange-cnn and huyhoang17 classify all ten digits', () => {
    expect(results.get('naonaorange-cnn_mnist')!.map(argmax)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results.get('huyhoang17-mnist_all')!.map(argmax)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('naonaorange-mlp gets 9/10, answering 3 for 5.png as it does in Keras (p3 0.546, p5 0.453)', () => {
    const mlp = results.get('naonaorange-mlp_mnist')!;
    expect(mlp.map(argmax)).toEqual([0, 1, 2, 3, 4, 3, 6, 7, 8, 9]);
    // The reference decoded the PNG in Python; gray levels may differ by a rounding.
    expect(mlp[5]![3]).toBeCloseTo(0.546, 2);
    expect(mlp[5]![5]).toBeCloseTo(0.453, 2);
  });

  describe('Keras 3 re-saves give their originals\' probabilities within 1e-6', () => {
    it.each([
      ['keras3/naonaorange-cnn_mnist.keras', 'naonaorange-cnn_mnist'],
      ['keras3/cnn_functional.keras', 'naonaorange-cnn_mnist'],
      ['keras3/cnn_functional.h5', 'naonaorange-cnn_mnist'],
      ['keras3/naonaorange-mlp_mnist.keras', 'naonaorange-mlp_mnist'],
    ])('%s', async (file, original) => {
      const [folder, name] = file.split('/') as [string, string];
      const got = await probabilities(kerasFixture(folder, name));
      expect(maxDiff(got, results.get(original)!)).toBeLessThan(1e-6);
    });
  });
});

describe('metadata of a Keras version', () => {
  it('defaults from the Keras config without metadata.json: input shape, class indices as labels, softmax', async () => {
    const metadata = await readModelMetadata(versionWith(kerasFixture('keras2', 'naonaorange-cnn_mnist.h5')));
    expect(metadata).toEqual({
      input: { name: 'conv2d_input', shape: [28, 28, 1], dtype: 'float32' },
      output: { name: 'softmax', kind: 'softmax' },
      labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      preprocessing: { recipe: 'resize', resize: 'stretch', scale: 'unit', invert: 'auto' },
    });
  });

  it('a metadata.json beside the file adds labels and preprocessing over the defaults', async () => {
    const labels = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    const dir = versionWith(kerasFixture('keras3', 'cnn_functional.keras'), { 'metadata.json': JSON.stringify({ labels, preprocessing: { recipe: 'mnist-digit' } }) });
    const metadata = await readModelMetadata(dir);
    expect(metadata.labels).toEqual(labels);
    expect(metadata.preprocessing).toEqual({ recipe: 'mnist-digit' });
    expect(metadata.input).toEqual({ name: 'img', shape: [28, 28, 1], dtype: 'float32' });
  });

  it('a metadata.json that does not fit the model is refused naming the file and field', async () => {
    const dir = versionWith(kerasFixture('keras2', 'naonaorange-cnn_mnist.h5'), { 'metadata.json': '{"labels": "not a list"}' });
    await expect(readModelMetadata(dir)).rejects.toThrow(`${path.join(dir, 'metadata.json')}: /labels must be array`);
  });

  it('a version reads to the same artifacts the importer writes, and TF.js loads them', async () => {
    const { metadata, artifacts } = await readLayersModelFiles(versionWith(kerasFixture('keras3', 'naonaorange-cnn_mnist.keras')));
    expect(metadata.input.shape).toEqual([28, 28, 1]);
    expect(artifacts.weightSpecs?.map((w) => w.name)).toEqual(expect.arrayContaining(['conv2d/kernel', 'conv2d/bias', 'softmax/kernel']));
    expect(artifacts.weightData).toBeInstanceOf(ArrayBuffer);
  });

  it('a model whose input is not an image (the flat [784] MLP) is refused with what to do', async () => {
    const dir = versionWith(kerasFixture('keras2', 'naonaorange-mlp_mnist.h5'));
    await expect(readModelMetadata(dir)).rejects.toThrow(/model\.h5: its input \[784\] is not an image.*Flatten/);
  });

  it('a SavedModel folder is refused with what to do', async () => {
    const dir = mkdtempSync(path.join(tmp, 'saved-'));
    mkdirSync(path.join(dir, 'variables'));
    writeFileSync(path.join(dir, 'saved_model.pb'), 'x');
    await expect(readModelFiles(dir)).rejects.toThrow(/SavedModel \(saved_model\.pb\).*model\.save\("model\.keras"\).*ONNX/);
  });
});
