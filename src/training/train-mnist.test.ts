import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseMetadata } from '../model-store/metadata';
import { augmentDigit } from './augment';
import { loadMnistSplit } from './mnist-data';
import { mulberry32 } from './prng';
import { readLayersModelFiles } from '../model-store/files';
import { artifactsToFiles, MAX_SHARD_BYTES, saveModel } from './save-model';
import {
  buildMetadata,
  buildModel,
  DEFAULT_TRAIN_OPTIONS,
  evaluate,
  selectTrainingBackend,
  splitValidation,
  trainModel,
  type TrainResult,
} from './train-mnist';

describe('mnist data', () => {
  it('splits 10,000 digits deterministically and stratified, held-out disjoint from train', () => {
    const a = loadMnistSplit();
    const b = loadMnistSplit();
    expect(a.train.length + a.heldOut.length).toBe(10_000);
    expect(a.heldOut.length).toBeGreaterThan(1900);
    expect(a.heldOut.length).toBeLessThan(2100);
    expect(b.heldOut.map((d) => d.label)).toEqual(a.heldOut.map((d) => d.label));
    const heldPixels = new Set(a.heldOut);
    expect(a.train.some((d) => heldPixels.has(d))).toBe(false);
    for (let label = 0; label < 10; label++) {
      const n = a.heldOut.filter((d) => d.label === label).length;
      expect(n).toBeGreaterThan(150); // every class represented ~20%
    }
    const d = a.heldOut[0];
    expect(d.pixels).toBeInstanceOf(Float32Array);
    expect(d.pixels.length).toBe(784);
    expect(Math.max(...d.pixels)).toBeLessThanOrEqual(1);
    expect(Math.min(...d.pixels)).toBeGreaterThanOrEqual(0);
  });

  it('augments reproducibly, keeping values in 0..1 and most of the ink', () => {
    const digit = loadMnistSplit().train[0].pixels;
    const one = augmentDigit(digit, mulberry32(5));
    const two = augmentDigit(digit, mulberry32(5));
    expect(two).toEqual(one);
    expect(augmentDigit(digit, mulberry32(6))).not.toEqual(one);
    const ink = (p: Float32Array) => p.reduce((s, v) => s + v, 0);
    expect(ink(one) / ink(digit)).toBeGreaterThan(0.7);
    expect(ink(one) / ink(digit)).toBeLessThan(1.3);
    expect(Math.max(...one)).toBeLessThanOrEqual(1 + 1e-6);
    expect(Math.min(...one)).toBeGreaterThanOrEqual(0);
  });
});

describe('training and saving', () => {
  let model: tf.LayersModel;
  let result: TrainResult;
  let lossBefore: number;
  let lossAfter: number;
  let tmp: string;
  const { train } = loadMnistSplit();
  const { fit, validation } = splitValidation(train, 240); // 225 train, 15 validation

  beforeAll(async () => {
    expect(await selectTrainingBackend('wasm')).toBe('wasm');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'specserve-train-'));
    model = buildModel();
    lossBefore = evaluate(model, fit).loss;
    result = await trainModel(model, fit, validation, {
      ...DEFAULT_TRAIN_OPTIONS,
      epochs: 2,
      batchSize: 32,
      log: () => undefined,
    });
    lossAfter = evaluate(model, fit).loss;
  });

  afterAll(async () => {
    model?.dispose();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('reduces the loss on tiny data', () => {
    expect(result.history).toHaveLength(2);
    expect(lossAfter).toBeLessThan(lossBefore * 0.9);
    expect(result.bestEpoch).toBeGreaterThanOrEqual(1);
  });

  it('same seed, same initial weights', () => {
    const a = buildModel(3);
    const b = buildModel(3);
    expect(a.getWeights()[0].dataSync()).toEqual(b.getWeights()[0].dataSync());
    a.dispose();
    b.dispose();
  });

  it('saves a loadable layers-model with valid metadata, atomically', async () => {
    const dir = path.join(tmp, 'mnist', '1');
    const metadata = buildMetadata({
      backend: 'wasm',
      options: { ...DEFAULT_TRAIN_OPTIONS, epochs: 2 },
      result,
      counts: { train: fit.length, validation: validation.length, heldOut: 0 },
      heldOutAccuracy: 0.5,
      validationAccuracy: 0.5,
    });
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
    const bad = { ...buildMetadata({
      backend: 'wasm',
      options: DEFAULT_TRAIN_OPTIONS,
      result,
      counts: { train: 1, validation: 1, heldOut: 1 },
      heldOutAccuracy: 0,
      validationAccuracy: 0,
    }), labels: [] };
    await expect(saveModel(model, dir, bad)).rejects.toThrow(/labels/);
    await expect(fs.stat(dir)).rejects.toThrow();
  });

  it('shards at the byte limit, splitting weights across shards', () => {
    const files = artifactsToFiles({ modelTopology: {}, weightSpecs: [], weightData: new ArrayBuffer(10) }, 4);
    expect([...files.keys()]).toEqual(['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin', 'model.json']);
    expect((files.get('group1-shard3of3.bin') as Uint8Array).byteLength).toBe(2);
  });
});
