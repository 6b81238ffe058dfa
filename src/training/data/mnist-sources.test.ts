import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_IMAGE_LIMITS, mnistDigitInput, prepareInput, rgbaToGray } from '../../images';
import type { RgbaImage } from '../../images/decode';
import { CANVAS } from '../composite-digits';
import { loadMnistSplit } from '../mnist-data';
import { compositePng } from '../multilabel-fixtures';
import { mulberry32 } from '../prng';
import { digitPng } from '../tiny-datasets';
import { DEFAULT_SCENE, loadDataConfig, loadRunConfig, type SceneAugmentationConfig } from './config';
import type { Signature } from './dataset';
import { openDataSource } from './open';
import { sceneAugmenter } from './scene-augment';
import { splitExamples } from './split';
import { ConfigError } from './yaml-config';

/**
 * The data sources of the shipped digit models (mnist-package, mnist-composites), the scene
 * augmentation their training uses, and the one-file training config (`specserve train CONFIG`).
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'specserve-mnist-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function yaml(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const DIGIT: Signature = { input: { name: 'image', shape: [28, 28, 1], dtype: 'float32' }, preprocessing: { recipe: 'mnist-digit' } };
const COMPOSITE: Signature = {
  input: { name: 'image', shape: [CANVAS, CANVAS, 1], dtype: 'float32' },
  preprocessing: { recipe: 'resize', resize: 'stretch', scale: 'unit', invert: 'auto' },
};

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
  });});

describe('source mnist-package', () => {
  const source = openDataSource(loadDataConfig(yaml('digits.yaml', 'source: mnist-package\npreprocessing: {recipe: mnist-digit}\n')));

  it('gives the training digits to split and the fixed held-out digits as the test set', () => {
    const { train, heldOut } = loadMnistSplit();
    expect(source.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(source.examples).toHaveLength(train.length);
    expect(source.testExamples).toHaveLength(heldOut.length);
    expect(source.examples.map((e) => e.label)).toEqual(train.map((d) => d.label));
    const split = splitExamples(source, { validation_split: 0.0625, test_split: 0, seed: 7 });
    expect(split.testFrom).toBe('separate');
    expect(split.test).toHaveLength(heldOut.length);
    expect(split.train.length + split.validation.length).toBe(train.length);
  });

  it('makes the input a PNG of the digit makes through the server, and redraws it only for training batches', async () => {
    const load = source.loader(DIGIT);
    const digit = loadMnistSplit().heldOut[3]!;
    const example = source.testExamples![3]!;
    const served = await prepareInput(await digitPng(digit.pixels), DIGIT, DEFAULT_IMAGE_LIMITS);
    expect(Array.from(await load(example))).toEqual(Array.from(served));

    const scene = sceneAugmenter({ ...DEFAULT_SCENE, elastic: 2, paper: 1, small: 0.5 });
    const loadTrain = source.loader(DIGIT, scene);
    expect(Array.from(await loadTrain(example))).toEqual(Array.from(served)); // no random: validation and test
    const a = await loadTrain(example, mulberry32(11));
    const b = await loadTrain(example, mulberry32(11));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(served));
  });
});

describe('source mnist-composites', () => {
  it('makes training composites of training digits only and test composites of held-out digits only, as PNGs of them serve', async () => {
    const config = loadDataConfig(yaml('composites.yaml', 'source: mnist-composites\ncomposites: {train: 40, test: 12}\n'));
    expect(config.composites).toEqual({ train: 40, test: 12, min_digits: 1, max_digits: 3, max_jitter: 3 });
    const source = openDataSource(config);
    expect(source.task).toBe('multi');
    expect(source.examples).toHaveLength(40);
    expect(source.testExamples).toHaveLength(12);
    for (const e of [...source.examples, ...source.testExamples!]) {
      const n = e.targets!.reduce((a, b) => a + b, 0);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(3);
    }
    // The same config makes the same composites.
    const again = openDataSource(config);
    expect(again.examples.map((e) => Array.from(e.targets!))).toEqual(source.examples.map((e) => Array.from(e.targets!)));
    // A composite's input is what the server makes of its PNG, also drawn dark on white at twice the size.
    const load = source.loader(COMPOSITE);
    const input = await load(source.testExamples![0]!);
    const pixels = input.slice(); // the composite itself: stretch 56 -> 56 is the identity
    const fromPng = await prepareInput(await compositePng(pixels), COMPOSITE, DEFAULT_IMAGE_LIMITS);
    expect(Array.from(fromPng)).toEqual(Array.from(input));
    const inverted = await prepareInput(await compositePng(pixels, 2, true), COMPOSITE, DEFAULT_IMAGE_LIMITS);
    let diff = 0;
    for (let i = 0; i < input.length; i++) diff = Math.max(diff, Math.abs(inverted[i]! - input[i]!));
    expect(diff).toBeLessThan(2 / 255);
  });

  it('refuses keys of other sources and a test_split beside its own test set', () => {
    expect(() => loadDataConfig(yaml('c1.yaml', 'source: mnist-composites\ncomposites: {train: 10, test: 2}\nidx: {train_images: a, train_labels: b}\n'))).toThrow(
      'idx: is not used by source mnist-composites (it takes composites)',
    );
    expect(() => loadDataConfig(yaml('c2.yaml', 'source: mnist-package\ntest_split: 0.2\n'))).toThrow('test_split: must be 0 or absent');
    expect(() => loadDataConfig(yaml('c3.yaml', 'source: mnist-composites\ncomposites: {train: 10, test: 2, min_digits: 3, max_digits: 2}\n'))).toThrow(
      'composites.min_digits: is 3, more than max_digits 2',
    );
  });
});

/** Height of the rows holding ink (luma far from the corner pixel's) of a picture. */
function inkHeight(p: RgbaImage): number {
  const luma = (i: number) => 0.299 * p.data[i * 4]! + 0.587 * p.data[i * 4 + 1]! + 0.114 * p.data[i * 4 + 2]!;
  const bg = luma(0);
  let top = -1;
  let bottom = -1;
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      if (Math.abs(luma(y * p.width + x) - bg) > 100) {
        if (top < 0) top = y;
        bottom = y;
      }
    }
  }
  return top < 0 ? 0 : bottom - top + 1;
}

describe('scene augmentation', () => {
  const digits = loadMnistSplit().train.slice(0, 200);
  const pictureOf = (pixels: Float32Array): RgbaImage => {
    const data = new Uint8Array(28 * 28 * 4);
    pixels.forEach((v, i) => data.set([Math.round(v * 255), Math.round(v * 255), Math.round(v * 255), 255], i * 4));
    return { width: 28, height: 28, data };
  };
  const all: SceneAugmentationConfig = { elastic: 2, shear: 0.3, stroke: 0.5, small: 0.3, paper: 0.6, blur: 0.3, jpeg: 0.3 };

  it('is reproducible from its random source and keeps a digit the recipe finds in almost every picture', () => {
    const scene = sceneAugmenter(all);
    const once = scene(pictureOf(digits[0]!.pixels), mulberry32(5));
    expect(scene(pictureOf(digits[0]!.pixels), mulberry32(5))).toEqual(once);
    let found = 0;
    const random = mulberry32(9);
    for (const d of digits) {
      const p = scene(pictureOf(d.pixels), random);
      expect(p.width).toBe(p.height);
      expect(p.width).toBeGreaterThanOrEqual(28);
      expect(p.width).toBeLessThanOrEqual(64);
      try {
        mnistDigitInput(rgbaToGray(p));
        found++;
      } catch {
        // a faint redrawing: training falls back to the plain digit (prepareScene)
      }
    }
    expect(found).toBeGreaterThanOrEqual(0.97 * digits.length);
  });

  it('draws small glyphs 10-18 px tall in a 28x28 frame when asked to', () => {
    const scene = sceneAugmenter({ ...DEFAULT_SCENE, small: 1 });
    const random = mulberry32(3);
    for (const d of digits.slice(0, 40)) {
      const p = scene(pictureOf(d.pixels), random);
      expect(p.width).toBe(28);
      expect(inkHeight(p)).toBeLessThanOrEqual(19);
    }
  });

  it('puts the digit on paper: a light background with dark ink, or a dark board with light chalk', () => {
    const scene = sceneAugmenter({ ...DEFAULT_SCENE, paper: 1 });
    const random = mulberry32(4);
    let boards = 0;
    for (const d of digits.slice(0, 80)) {
      const p = scene(pictureOf(d.pixels), random);
      const corner = (p.data[0]! + p.data[1]! + p.data[2]!) / 3;
      if (corner < 128) boards++;
      expect(corner < 90 || corner > 120).toBe(true);
    }
    expect(boards).toBeGreaterThan(0);
    expect(boards).toBeLessThan(30);
  });

  it('is refused for sources of image files (only raw pixels can be redrawn)', async () => {
    const { runTraining } = await import('../run-training');
    const folder = path.join(dir, 'empty-folder');
    mkdirSync(path.join(folder, 'a'), { recursive: true });
    mkdirSync(path.join(folder, 'b'), { recursive: true });
    for (let i = 0; i < 4; i++) {
      writeFileSync(path.join(folder, 'a', `${i}.png`), await digitPng(digits[i]!.pixels));
      writeFileSync(path.join(folder, 'b', `${i}.png`), await digitPng(digits[i + 4]!.pixels));
    }
    const config = loadRunConfig(
      yaml('scene-folder.yaml', `data:\n  source: folder\n  images_base_path: ${folder}\n  preprocessing: {recipe: mnist-digit}\n  validation_split: 0.25\n  test_split: 0\ntrain:\n  epochs: 1\n  use_augmentation: true\n  augmentation: {scene: {paper: 0.5}}\n`),
    );
    const { Progress } = await import('../progress');
    await expect(
      runTraining({ ...config, modelDir: path.join(dir, 'store', 'x'), name: 'x', store: path.join(dir, 'store'), backend: 'wasm', progress: new Progress(() => undefined, false) }),
    ).rejects.toThrow('augmentation.scene: needs a source of raw pixels (idx, mnist-package); source folder gives image files');
  });
});

describe('one training config file (specserve train CONFIG)', () => {
  it('reads the data and train sections with paths relative to the file', () => {
    const { data, train } = loadRunConfig(yaml('run.yaml', 'data:\n  source: mnist-package\ntrain:\n  epochs: 2\n  model_path: models/digits\n'));
    expect(data.source).toBe('mnist-package');
    expect(train.epochs).toBe(2);
    expect(train.model_path).toBe(path.join(dir, 'models', 'digits'));
    expect(data.file).toBe(train.file);
  });

  it('names the section of a bad key, and refuses keys outside the two sections', () => {
    expect(() => loadRunConfig(yaml('r1.yaml', 'data:\n  source: mnist-package\ntrain:\n  epoch: 2\n'))).toThrow(/r1\.yaml: train: epochs: is required|r1\.yaml: train\.epoch: unknown key/);
    expect(() => loadRunConfig(yaml('r2.yaml', 'data:\n  source: nope\ntrain:\n  epochs: 2\n'))).toThrow('r2.yaml: data.source: must be one of');
    expect(() => loadRunConfig(yaml('r3.yaml', 'data:\n  source: mnist-package\ntrain:\n  epochs: 2\nepochs: 3\n'))).toThrow('r3.yaml: epochs: unknown key (a training config has two sections: data and train)');
    expect(() => loadRunConfig(yaml('r4.yaml', 'data:\n  source: mnist-package\n'))).toThrow(ConfigError);
  });

  it('reads every shipped model\'s config (training/*.yaml)', () => {
    const root = path.join(__dirname, '..', '..', '..', 'training');
    for (const name of ['mnist', 'mnist-multilabel']) {
      const { data, train } = loadRunConfig(path.join(root, `${name}.yaml`));
      expect(path.basename(train.model_path!)).toBe(name);
      expect(data.seed).toBeGreaterThan(0);
    }
  });
});
