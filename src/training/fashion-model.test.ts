import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Jimp, PNGFilterType } from 'jimp';
import { DEFAULT_IMAGE_LIMITS, prepareInput } from '../images';
import { type LocalServable, loadLocalServable } from '../inference/local-servable';
import { parseMetadata } from '../model-store/metadata';
import { augmentDigit, type AugmentOptions } from './augment';
import type { LabelledDigit } from './mnist-data';
import { mulberry32 } from './prng';
import {
  accuracyByClass,
  buildFashionMetadata,
  FASHION_AUGMENT,
  FASHION_LABELS,
  FASHION_PREPROCESSING,
  FASHION_TRAIN_OPTIONS,
  parseArgs,
  readLabelledImages,
  splitTrain,
} from './train-fashion';

/**
 * The committed Fashion-MNIST model, end to end: the first 200 images of the official test set
 * (test/fixtures/idx, cut from the Debian package's t10k files) written as PNG, put through the
 * server's prepareInput with the model's own metadata, and classified by a Servable.
 */

const ROOT = path.join(__dirname, '..', '..');
const MODEL_DIR = path.join(ROOT, 'model-store', 'fashion', '1');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'idx');

const { abs, max, round } = Math; // module bindings: global lookups are slow in Jest's VM

/** A 28x28 image as a (scale x) larger PNG, gray levels as written, optionally dark-on-white. */
async function png(pixels: Float32Array, scale = 1, invert = false): Promise<Uint8Array> {
  const side = 28 * scale;
  const img = new Jimp({ width: side, height: side });
  const out = img.bitmap.data;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = pixels[Math.floor(y / scale) * 28 + Math.floor(x / scale)]!;
      const level = round((invert ? 1 - v : v) * 255);
      out.set([level, level, level, 255], (y * side + x) * 4);
    }
  }
  // No PNG row filters: pngjs's filter search is slow inside Jest's VM and irrelevant here.
  return img.getBuffer('image/png', { filterType: PNGFilterType.NONE });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = max(m, abs(a[i]! - b[i]!));
  return m;
}

function argMax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

let servable: LocalServable;
let images: LabelledDigit[];

beforeAll(async () => {
  await tf.setBackend('wasm');
  servable = await loadLocalServable({ name: 'fashion', version: 1, dir: MODEL_DIR }, DEFAULT_IMAGE_LIMITS);
  images = readLabelledImages(
    path.join(FIXTURES, 'fashion-t10k-images-first200-idx3-ubyte.gz'),
    path.join(FIXTURES, 'fashion-t10k-labels-first200-idx1-ubyte.gz'),
  );
});

afterAll(() => servable?.dispose());

describe('model-store/fashion/1', () => {
  it('has the metadata the server needs and the provenance of its training', () => {
    const m = servable.metadata;
    expect(m.input).toEqual({ name: 'image', shape: [28, 28, 1], dtype: 'float32' });
    expect(m.output).toEqual({ name: 'probs', kind: 'softmax' });
    expect(m.labels).toEqual(FASHION_LABELS);
    expect(m.preprocessing).toEqual(FASHION_PREPROCESSING);
    const t = m.training as Record<string, unknown>;
    for (const key of ['data', 'split', 'testAccuracy', 'perClassAccuracy', 'epochs', 'seconds', 'msPerImage', 'backend', 'date', 'architecture', 'augmentation']) {
      expect(t).toHaveProperty(key);
    }
    expect(Object.keys(t.perClassAccuracy as object)).toEqual(FASHION_LABELS);
    // Recorded by the trainer on the official 10,000 test images (the goal for this model).
    expect(t.testAccuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('classifies the first 200 official test images from PNG bytes as from the raw tensors, >= 85% right', async () => {
    expect(images).toHaveLength(200);
    const prepared: Float32Array[] = [];
    for (const image of images) {
      const input = await prepareInput(await png(image.pixels), servable.metadata, DEFAULT_IMAGE_LIMITS);
      // A 28x28 Fashion-MNIST image passes the resize recipe unchanged: dark border, so no
      // inversion; same size, so resampling is the identity. PNG keeps the 8-bit levels exactly.
      expect(maxAbsDiff(input, image.pixels)).toBeLessThan(1e-5);
      prepared.push(input);
    }
    const fromPng = (await servable.run(prepared)).map(argMax);
    const fromRaw = (await servable.run(images.map((d) => d.pixels))).map(argMax);
    expect(fromPng).toEqual(fromRaw);
    const accuracy = fromPng.filter((p, i) => p === images[i]!.label).length / images.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
  });

  it('gives the same input and class for a garment drawn dark on white at 4x size (a photo on a light background)', async () => {
    const some = images.slice(0, 20);
    const prepared: Float32Array[] = [];
    for (const image of some) {
      const input = await prepareInput(await png(image.pixels, 4, true), servable.metadata, DEFAULT_IMAGE_LIMITS);
      // invert: 'auto' sees the light border and inverts; area-averaging 4x4 replicated pixels
      // gives each original pixel back; only 8-bit rounding of the inverted levels remains.
      expect(maxAbsDiff(input, image.pixels)).toBeLessThan(1.5 / 255);
      prepared.push(input);
    }
    const fromPng = (await servable.run(prepared)).map(argMax);
    const fromRaw = (await servable.run(some.map((d) => d.pixels))).map(argMax);
    expect(fromPng).toEqual(fromRaw);
  });
});

describe('the Fashion-MNIST trainer pieces', () => {
  it('flips garments left-right about half the time, drawing as without flips otherwise', () => {
    const src = images[0]!.pixels;
    const mirror = new Float32Array(784);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) mirror[y * 28 + x] = src[y * 28 + 27 - x]!;
    const identity: AugmentOptions = { maxShift: 0, maxRotationDeg: 0, minScale: 1, maxScale: 1, maxShear: 0, maxAspectChange: 0 };
    let flipped = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const out = augmentDigit(src, mulberry32(seed), { ...identity, horizontalFlip: true });
      if (maxAbsDiff(out, mirror) < 1e-6) flipped++;
      else expect(maxAbsDiff(out, src)).toBeLessThan(1e-6);
    }
    expect(flipped).toBeGreaterThan(10);
    expect(flipped).toBeLessThan(30);
    // The flip draw comes after the 6 distortion draws: an unflipped result is exactly the
    // no-flip result for the same seed (so MNIST's augmentation is unchanged).
    const noFlip = { ...FASHION_AUGMENT, horizontalFlip: false };
    for (let seed = 1; seed <= 10; seed++) {
      const a = augmentDigit(src, mulberry32(seed), FASHION_AUGMENT);
      const b = augmentDigit(src, mulberry32(seed), noFlip);
      const bMirror = new Float32Array(784);
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) bMirror[y * 28 + x] = b[y * 28 + 27 - x]!;
      expect(maxAbsDiff(a, b) < 1e-6 || maxAbsDiff(a, bMirror) < 1e-6).toBe(true);
    }
  });

  it('splits validation off the training images deterministically and disjointly', () => {
    const a = splitTrain(images);
    const b = splitTrain(images);
    expect(a.validation.length).toBe(16); // 200 / 12
    expect(a.fit.length).toBe(184);
    expect(b.validation).toEqual(a.validation);
    const val = new Set(a.validation);
    expect(a.fit.some((d) => val.has(d))).toBe(false);
    expect(splitTrain(images, 120).fit.length).toBe(110);
  });

  it('scores overall and per-class accuracy by label name', () => {
    const digits = [0, 0, 6, 9].map((label) => ({ pixels: new Float32Array(784), label }));
    const { accuracy, perClass } = accuracyByClass(digits, [0, 2, 6, 8]);
    expect(accuracy).toBe(0.5);
    expect(perClass['T-shirt/top']).toBe(0.5);
    expect(perClass['Shirt']).toBe(1);
    expect(perClass['Ankle boot']).toBe(0);
  });

  it('parses the CLI flags', () => {
    const o = parseArgs(['--data', '/tmp/x', '--epochs', '2', '--limit', '1000', '--out', '/tmp/out']);
    expect(o).toMatchObject({ data: '/tmp/x', epochs: 2, limit: 1000, out: '/tmp/out' });
    expect(parseArgs([]).out).toBe(MODEL_DIR);
    expect(() => parseArgs(['--epochs', '0'])).toThrow(/positive integer/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown argument/);
    const stage2 = parseArgs(['--init', '/tmp/m', '--no-augment', '--learning-rate', '3e-4,1e-4', '--epochs', '3']);
    expect(stage2).toMatchObject({ init: '/tmp/m', augment: false, initialLearningRate: 3e-4, finalLearningRate: 1e-4, epochs: 3 });
    expect(parseArgs([]).augment).toBe(true);
  });

  it('writes metadata that passes the schema and records the training run (second stage sums the first)', () => {
    const first = { epochs: 5, bestEpoch: 5, seconds: 600, images: 275_000, learningRate: [1e-3, 1e-4] as [number, number], augmentation: true, validationAccuracy: 0.9 };
    const metadata = buildFashionMetadata({
      backend: 'wasm',
      previousStages: [first],
      dataDir: '/tmp/fashion',
      sha256: {},
      options: { ...FASHION_TRAIN_OPTIONS, epochs: 2, augment: null },
      result: { history: [], bestEpoch: 2, seconds: 100.4, images: 110_000 },
      counts: { train: 55_000, validation: 5000, test: 10_000 },
      testAccuracy: 0.90812,
      perClassAccuracy: { Shirt: 0.69 },
      validationAccuracy: 0.91,
    });
    const meta = parseMetadata(JSON.parse(JSON.stringify(metadata)), 'metadata.json');
    expect(meta.labels).toEqual(FASHION_LABELS);
    expect(meta.training).toMatchObject({
      testAccuracy: 0.9081,
      perClassAccuracy: { Shirt: 0.69 },
      epochs: 7,
      seconds: 700,
      msPerImage: 1.8,
      backend: 'wasm',
      tfjs: tf.version.tfjs,
      optimizer: { name: 'adam', initialLearningRate: 1e-3, finalLearningRate: 1e-4, batchSize: 64 },
      loss: 'categoricalCrossentropy',
      seed: FASHION_TRAIN_OPTIONS.seed,
      augmentation: { stages: [true, false] },
    });
    expect(Date.parse(String(meta.training?.date))).not.toBeNaN();
  });
});
