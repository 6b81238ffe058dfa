import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeToGray, DEFAULT_IMAGE_LIMITS } from '../images';
import { readLayersModelFiles } from '../model-store/files';
import { kerasFixture } from '../../test/support/keras-files';
import type { CliIo } from './command';
import { IMPORT_USAGE } from './import';
import { main } from './main';

/** `specserve import`: a Keras file -> a complete version folder, written in one rename. */
const tmp = mkdtempSync(path.join(os.tmpdir(), 'specserve-import-'));
const store = path.join(tmp, 'store');
const CNN_H5 = kerasFixture('keras2', 'naonaorange-cnn_mnist.h5');
const DIGITS = path.join(__dirname, '..', '..', 'test', 'fixtures', 'mnist');

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { TFJS_BACKEND: 'wasm' } };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('specserve import', () => {
  const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

  it('writes model.json + shards, metadata.json and MODEL_CARD.md; the version classifies all ten digits', async () => {
    const labels = path.join(tmp, 'labels.txt');
    writeFileSync(labels, `${words.join('\n')}\n`);
    const result = await run('import', CNN_H5, '--name', 'digits', '--labels', labels, '--preprocess', 'mnist-digit', '--store', store);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const dir = path.join(store, 'digits', '1');
    expect(result.stdout).toBe(`imported ${CNN_H5} as ${dir} (93322 parameters)\n`);
    expect(readdirSync(path.join(store, 'digits'))).toEqual(['1']); // no partial folder left behind
    expect(readdirSync(dir).sort()).toEqual(['MODEL_CARD.md', 'group1-shard1of1.bin', 'metadata.json', 'model.json']);

    const card = readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8');
    const sha = createHash('sha256').update(readFileSync(CNN_H5)).digest('hex');
    expect(card).toContain(`\`naonaorange-cnn_mnist.h5\`, 1167816 bytes, sha256 \`${sha}\``);
    expect(card).toContain('Keras 2.4.0 (tensorflow backend)');
    expect(card).toContain('93,322 parameters');
    expect(card).toMatch(/Input: `conv2d_input` \[28, 28, 1\]/);
    expect(card).toContain('| 7 | dense | Dense | 36928 |');

    const { metadata, artifacts } = await readLayersModelFiles(dir);
    expect(metadata).toMatchObject({ labels: words, preprocessing: { recipe: 'mnist-digit' }, output: { name: 'softmax', kind: 'softmax' } });
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const values = new Float32Array(10 * 784);
    for (let d = 0; d < 10; d++) values.set((await decodeToGray(readFileSync(path.join(DIGITS, `${d}.png`)), DEFAULT_IMAGE_LIMITS)).data, d * 784);
    const predicted = tf.tidy(() => (model.predict(tf.tensor(values, [10, 28, 28, 1])) as tf.Tensor).argMax(1).arraySync());
    model.dispose();
    expect(predicted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a second import is the next version; an existing version is refused unless --overwrite', async () => {
    const keras = kerasFixture('keras3', 'cnn_functional.keras');
    expect(await run('import', keras, '--name', 'digits', '--store', store)).toMatchObject({ code: 0 });
    expect(readdirSync(path.join(store, 'digits')).sort()).toEqual(['1', '2']);
    const again = await run('import', keras, '--name', 'digits', '--version', '2', '--store', store);
    expect(again).toMatchObject({ code: 1, stderr: `specserve import: ${path.join(store, 'digits', '2')} exists; choose another --version or pass --overwrite\n` });
    expect(await run('import', keras, '--name', 'digits', '--version', '2', '--overwrite', '--store', store)).toMatchObject({ code: 0 });
  });

  it('a refused file writes nothing and says which file and why (exit 1)', async () => {
    const weightsOnly = kerasFixture('keras3', 'weights_only.h5');
    const result = await run('import', weightsOnly, '--name', 'broken', '--store', store);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^specserve import: ${weightsOnly.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: it holds weights only`));
    expect(readdirSync(store)).not.toContain('broken');
  });

  it('a SavedModel folder is refused with what to do', async () => {
    const saved = path.join(tmp, 'saved');
    mkdirSync(saved);
    writeFileSync(path.join(saved, 'saved_model.pb'), 'x');
    const result = await run('import', saved, '--name', 'sm', '--store', store);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('a TensorFlow SavedModel cannot be read without TensorFlow; in Python save the model as .keras');
  });

  it.each([
    [['import', '--name', 'm'], 'the Keras file to import is required'],
    [['import', 'm.h5'], '--name is required'],
    [['import', 'm.h5', '--name', '../x'], '--name "../x": expected letters'],
    [['import', 'm.h5', '--name', 'm', '--preprocess', 'imagenet'], '--preprocess "imagenet": expected one of mnist-digit, unit, symmetric, caffe, raw'],
    [['import', 'm.h5', '--name', 'm', '--version', 'x'], '--version "x": expected a whole number'],
  ])('%j: exit 2 with the reason and the usage', async (argv, message) => {
    const { code, stderr } = await run(...argv);
    expect(code).toBe(2);
    expect(stderr).toContain(`specserve import: ${message}`);
    expect(stderr).toContain(IMPORT_USAGE);
  });

  it('--labels must match the output', async () => {
    const labels = path.join(tmp, 'three.json');
    writeFileSync(labels, '["a", "b", "c"]');
    const result = await run('import', CNN_H5, '--name', 'three', '--labels', labels, '--store', store);
    expect(result).toMatchObject({ code: 1, stderr: "specserve import: --labels has 3 labels; the model's output has 10 classes\n" });
  });
});
