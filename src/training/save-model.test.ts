import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelMetadata } from '../model-store/metadata';
import { parseMetadata } from '../model-store/metadata';
import { readLayersModelFiles } from '../model-store/files';
import { selectTrainingBackend } from './backend';
import { buildCnn } from './cnn';
import { DEFAULT_CNN, type CnnConfig } from './data/config';
import { loadMnistSplit } from './mnist-data';
import { artifactsToFiles, MAX_SHARD_BYTES, saveModel } from './save-model';

/** The seed CNN of model-store/mnist (training/mnist.yaml's model). */
const SEED_CNN: CnnConfig = {
  ...DEFAULT_CNN,
  blocks: [{ filters: [32, 64], kernel: 3, stride: 1, padding: 'valid', pool: true, dropout: 0.25 }],
  dense_units: 128,
  dropout: 0.5,
};

const METADATA: ModelMetadata = {
  input: { name: 'image', shape: [28, 28, 1], dtype: 'float32' },
  output: { name: 'probs', kind: 'softmax' },
  labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  preprocessing: { recipe: 'mnist-digit' },
};

describe('saving a model version', () => {
  let model: tf.LayersModel;
  let tmp: string;
  const validation = loadMnistSplit().train.slice(0, 15);

  beforeAll(async () => {
    expect(await selectTrainingBackend('wasm')).toBe('wasm');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'specserve-train-'));
    model = buildCnn([28, 28, 1], 10, 'softmax', SEED_CNN, 7);
  });

  afterAll(async () => {
    model?.dispose();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('same seed, same initial weights; the seed CNN has the layer names the Python bench peer reads', () => {
    const a = buildCnn([28, 28, 1], 10, 'softmax', SEED_CNN, 3);
    const b = buildCnn([28, 28, 1], 10, 'softmax', SEED_CNN, 3);
    expect(a.getWeights()[0]!.dataSync()).toEqual(b.getWeights()[0]!.dataSync());
    expect(a.layers.filter((l) => l.weights.length > 0).map((l) => l.name)).toEqual(['conv1', 'conv2', 'dense1', 'probs']);
    expect(a.getLayer('dense1').getWeights()[0]!.shape).toEqual([12 * 12 * 64, 128]);
    a.dispose();
    b.dispose();
  });

  it('saves a loadable layers-model with valid metadata, atomically', async () => {
    const dir = path.join(tmp, 'mnist', '1');
    const metadata = METADATA;
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'stale.txt'), 'from a previous version');
    await saveModel(model, dir, metadata);

    const names = (await fs.readdir(dir)).sort();
    expect(names).toEqual(['group1-shard1of2.bin', 'group1-shard2of2.bin', 'metadata.json', 'model.json']);
    expect(await fs.readdir(path.dirname(dir))).toEqual(['1']); // no temp/old folders left behind
    for (const name of names) expect((await fs.stat(path.join(dir, name))).size).toBeLessThanOrEqual(MAX_SHARD_BYTES);

    const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    expect(json.format).toBe('layers-model');
    expect(json.convertedBy).toBeNull();
    expect(json.weightsManifest[0].paths).toEqual(['group1-shard1of2.bin', 'group1-shard2of2.bin']);

    const meta = parseMetadata(JSON.parse(await fs.readFile(path.join(dir, 'metadata.json'), 'utf8')), 'metadata.json');
    expect(meta.input).toEqual({ name: 'image', shape: [28, 28, 1], dtype: 'float32' });
    expect(meta.labels).toHaveLength(10);

    const loaded = await tf.loadLayersModel(tf.io.fromMemory((await readLayersModelFiles(dir)).artifacts));
    // Layer names are kept; SymbolicTensor names (loaded.inputs[0].name) get a _N suffix when
    // the same name was already used in this process, so consumers should match on these.
    expect(loaded.inputNames).toEqual([meta.input.name]);
    expect(loaded.outputNames).toEqual([meta.output.name]);
    expect(loaded.outputs[0].shape).toEqual([null, 10]);
    const x = tf.tensor4d(validation.flatMap((d) => Array.from(d.pixels)), [validation.length, 28, 28, 1]);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    const actual = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(actual)).toEqual(Array.from(expected));
    tf.dispose(x);
    loaded.dispose();
  });

  it('refuses invalid metadata before touching the target folder', async () => {
    const dir = path.join(tmp, 'bad', '1');
    const bad = { ...METADATA, labels: [] };
    await expect(saveModel(model, dir, bad)).rejects.toThrow(/labels/);
    await expect(fs.stat(dir)).rejects.toThrow();
  });

  it('shards at the byte limit, splitting weights across shards', () => {
    const files = artifactsToFiles({ modelTopology: {}, weightSpecs: [], weightData: new ArrayBuffer(10) }, 4);
    expect([...files.keys()]).toEqual(['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin', 'model.json']);
    expect((files.get('group1-shard3of3.bin') as Uint8Array).byteLength).toBe(2);
  });
});
