import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DEFAULT_IMAGE_LIMITS } from '../images';
import { type LocalServable, loadLocalServable } from '../inference/local-servable';
import { labelThresholds } from '../model-store/metadata';
import { renderComposite } from './composite-digits';
import { digitsFromName, fixtureSet } from './multilabel-fixtures';
import { LABELS, MULTILABEL_PREPROCESSING } from './train-multilabel';

/**
 * The committed multi-label model, end to end: the fixture composites of held-out digits
 * (test/fixtures/multilabel, made by multilabel-fixtures.ts) read from disk and scored as the
 * server does: image bytes into a Servable, which applies the model's own preprocessing. A file's
 * digits are in its name; the labels at or above their threshold must be exactly those digits.
 */

const ROOT = path.join(__dirname, '..', '..');
const MODEL_DIR = path.join(ROOT, 'model-store', 'mnist-multilabel', '1');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'multilabel');

const { abs, max } = Math; // module bindings: global lookups are slow in Jest's VM

let servable: LocalServable;

beforeAll(async () => {
  await tf.setBackend('wasm');
  servable = await loadLocalServable({ name: 'mnist-multilabel', version: 1, dir: MODEL_DIR }, DEFAULT_IMAGE_LIMITS);
});

afterAll(() => servable?.dispose());

describe('model-store/mnist-multilabel/1', () => {
  it('has the sigmoid signature, preprocessing and test metrics of its training, in under 2 MB', async () => {
    const m = servable.metadata;
    expect(m.input).toEqual({ name: 'image', shape: [56, 56, 1], dtype: 'float32' });
    expect(m.output).toEqual({ name: 'scores', kind: 'sigmoid', threshold: 0.5 });
    expect(m.labels).toEqual(LABELS);
    expect(m.preprocessing).toEqual(MULTILABEL_PREPROCESSING);
    const t = m.training as Record<string, unknown>;
    for (const key of ['data', 'split', 'test', 'epochs', 'seconds', 'msPerImage', 'backend', 'date', 'architecture', 'loss']) {
      expect(t).toHaveProperty(key);
    }
    const test = t.test as Record<string, unknown>;
    expect(Object.keys(test.perLabel as object)).toEqual(LABELS);
    expect(Object.values(test.thresholds as object)).toEqual(LABELS.map(() => 0.5));
    expect(test.exactMatchAccuracy).toBeGreaterThanOrEqual(0.85);
    expect(test.microF1).toBeGreaterThanOrEqual(0.95);
    let bytes = 0;
    for (const name of await fs.readdir(MODEL_DIR)) bytes += (await fs.stat(path.join(MODEL_DIR, name))).size;
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
  });

  it('finds exactly the digits of the file name in >= 90% of the fixture composites (held-out digits, some dark on white)', async () => {
    const files = (await fs.readdir(FIXTURES)).filter((f) => f.endsWith('.png')).sort();
    expect(files.length).toBeGreaterThanOrEqual(20);
    expect(files.some((f) => f.includes('inverted'))).toBe(true);
    const made = new Map(fixtureSet().map((f) => [f.file, f]));
    const thresholds = labelThresholds(servable.metadata);
    const images: Uint8Array[] = [];
    for (const file of files) {
      const image = await fs.readFile(path.join(FIXTURES, file));
      images.push(image);
      const input = await servable.prepare({ image });
      // The file is what multilabel-fixtures.ts makes, and the serving path gives back its composite.
      const fixture = made.get(file);
      expect(fixture).toBeDefined();
      const expected = renderComposite(fixture!.spec);
      let diff = 0;
      for (let i = 0; i < expected.length; i++) diff = max(diff, abs(input[i]! - expected[i]!));
      expect(diff).toBeLessThan(1e-6);
    }
    const rows = await servable.predict(images.map((image) => ({ image })));
    const results = files.map((file, i) => {
      const found = LABELS.flatMap((label, k) => (rows[i]![k]! >= thresholds[k]! ? [Number(label)] : []));
      return { file, found, right: found.join('-') === digitsFromName(file).join('-') };
    });
    const right = results.filter((r) => r.right).length;
    const wrong = results.filter((r) => !r.right).map((r) => `${r.file}: found [${r.found.join(', ')}]`);
    if (right < 0.9 * files.length) throw new Error(`${right} of ${files.length} fixtures right; wrong: ${wrong.join('; ')}`);
    expect(right).toBeGreaterThanOrEqual(Math.ceil(0.9 * files.length));
  });
});
