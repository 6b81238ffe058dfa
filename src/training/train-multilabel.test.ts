import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_IMAGE_LIMITS, prepareInput } from '../images';
import { readLayersModelFiles } from '../model-store/files';
import { parseMetadata, type ModelMetadata } from '../model-store/metadata';
import { selectTrainingBackend } from './backend';
import { CANVAS, labelVector, makeCompositeSpecs, renderComposite } from './composite-digits';
import { loadMnistSplit } from './mnist-data';
import { compositePng } from './multilabel-fixtures';
import { buildMultiLabelModel } from './multilabel-model';
import { saveModel } from './save-model';
import { splitValidation } from './train-mnist';
import {
  buildMultiLabelMetadata,
  compositeTask,
  compositeTensors,
  labelPrior,
  makeMultiLabelData,
  meanBinaryCrossEntropy,
  MULTILABEL_PREPROCESSING,
  MULTILABEL_TRAIN_OPTIONS,
  multiLabelMetrics,
  parseArgs,
  predictScores,
} from './train-multilabel';
import { trainModel, type TrainResult } from './train-loop';

const { abs, max } = Math; // module bindings: global lookups are slow in Jest's VM

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = max(m, abs(a[i]! - b[i]!));
  return m;
}

const SIGNATURE: Pick<ModelMetadata, 'input' | 'preprocessing'> = {
  input: { name: 'image', shape: [CANVAS, CANVAS, 1], dtype: 'float32' },
  preprocessing: MULTILABEL_PREPROCESSING,
};

beforeAll(async () => {
  expect(await selectTrainingBackend('wasm')).toBe('wasm');
});

describe('the serving path sees what training sees', () => {
  const { heldOut } = loadMnistSplit();
  const specs = makeCompositeSpecs(heldOut, 6, 99);
  /** Each composite's slice of the batch tensor training feeds the model (compositeTensors). */
  const trainingInputs = (): Float32Array[] => {
    const { x, y } = compositeTensors(specs);
    const data = x.dataSync() as Float32Array;
    tf.dispose([x, y]);
    const size = CANVAS * CANVAS;
    return specs.map((_, i) => data.slice(i * size, (i + 1) * size));
  };

  it('a 56x56 composite PNG through prepareInput (resize stretch, unit, invert auto) is the training tensor', async () => {
    const expected = trainingInputs();
    for (const [i, spec] of specs.entries()) {
      const input = await prepareInput(await compositePng(renderComposite(spec)), SIGNATURE, DEFAULT_IMAGE_LIMITS);
      // Same size, dark border: no inversion, resampling is the identity, PNG holds the 8-bit levels.
      expect(maxAbsDiff(input, expected[i]!)).toBeLessThan(1e-6);
    }
  });

  it('so does the composite drawn dark on white at 112x112', async () => {
    const expected = trainingInputs();
    for (const [i, spec] of specs.entries()) {
      const pixels = expected[i]!;
      const input = await prepareInput(await compositePng(renderComposite(spec), 2, true), SIGNATURE, DEFAULT_IMAGE_LIMITS);
      // invert: auto sees the white border and inverts; area-averaging 2x2 equal pixels gives each one back.
      expect(maxAbsDiff(input, pixels)).toBeLessThan(1e-6);
    }
  });
});

describe('multi-label metrics', () => {
  const row = (...v: number[]) => Float32Array.from(v);
  const truth = (...digits: number[]) => {
    const t = new Float32Array(10);
    digits.forEach((d) => (t[d] = 1));
    return t;
  };

  it('counts exact matches, per-label precision/recall/F1 and micro/macro F1 at the threshold', () => {
    const scores = [
      row(0.9, 0.1, 0, 0, 0, 0, 0, 0, 0, 0.6), // {0, 9}: right
      row(0.4, 0.8, 0, 0, 0, 0, 0, 0, 0, 0), // {1}, truth {0, 1}: misses 0
      row(0, 0, 0.7, 0, 0, 0, 0, 0, 0, 0.5), // {2, 9} (0.5 counts), truth {2}: false 9
    ];
    const truths = [truth(0, 9), truth(0, 1), truth(2)];
    const m = multiLabelMetrics(scores, truths);
    expect(m.exactMatch).toBeCloseTo(1 / 3, 10);
    expect(m.perLabel['0']).toEqual({ precision: 1, recall: 0.5, f1: 0.6667, support: 2 });
    expect(m.perLabel['9']).toEqual({ precision: 0.5, recall: 1, f1: 0.6667, support: 1 });
    expect(m.perLabel['1']).toEqual({ precision: 1, recall: 1, f1: 1, support: 1 });
    expect(m.perLabel['5']).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    // 4 true positives, 1 false positive, 1 false negative.
    expect(m.microPrecision).toBeCloseTo(0.8, 10);
    expect(m.microRecall).toBeCloseTo(0.8, 10);
    expect(m.microF1).toBeCloseTo(0.8, 10);
    expect(m.macroF1).toBeCloseTo((2 / 3 + 1 + 1 + 2 / 3) / 10, 10); // labels 0, 1, 2, 9; the others (no support) count 0
    expect(m.hammingAccuracy).toBeCloseTo(28 / 30, 10);
    expect(multiLabelMetrics(scores, truths, [0.3, ...new Array<number>(8).fill(0.5), 0.55]).exactMatch).toBe(1);
    expect(meanBinaryCrossEntropy([row(1, 0, 0, 0, 0, 0, 0, 0, 0, 0)], [truth(0)])).toBeLessThan(1e-6);
  });
});

describe('multi-label data and CLI', () => {
  it('builds train/validation composites from training digits only and test composites from held-out digits only', () => {
    const { train, heldOut } = loadMnistSplit();
    const { fit, validation } = splitValidation(train);
    const data = makeMultiLabelData({ train: 300, validation: 100, test: 100 });
    const inSet = (set: Set<unknown>, specs: typeof data.train) => specs.every((s) => s.placements.every((p) => set.has(p.digit)));
    expect(inSet(new Set(fit), data.train)).toBe(true);
    expect(inSet(new Set(validation), data.validation)).toBe(true);
    expect(inSet(new Set(heldOut), data.test)).toBe(true);
    expect(data.digits).toEqual({ train: fit.length, validation: validation.length, heldOut: heldOut.length });
  });

  it('parses the CLI flags', () => {
    expect(parseArgs(['--epochs', '2', '--composites', '500', '--out', '/tmp/ml'])).toMatchObject({ epochs: 2, composites: 500, out: '/tmp/ml' });
    expect(parseArgs([]).out).toBe(path.join(__dirname, '..', '..', 'model-store', 'mnist-multilabel', '1'));
    expect(() => parseArgs(['--composites', '0'])).toThrow(/positive integer/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown argument/);
  });
});

describe('training a tiny multi-label model', () => {
  let model: tf.LayersModel;
  let result: TrainResult;
  let before: number;
  let after: number;
  let tmp: string;
  const { train } = loadMnistSplit();
  const fit = makeCompositeSpecs(train.slice(0, 2000), 48, 5);
  const validation = makeCompositeSpecs(train.slice(2000, 2500), 16, 6);
  const task = compositeTask(true);

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'specserve-multilabel-'));
    model = buildMultiLabelModel(labelPrior());
    before = task.evaluate(model, fit).loss;
    result = await trainModel(model, fit, validation, { ...MULTILABEL_TRAIN_OPTIONS, epochs: 1, batchSize: 16, log: () => undefined }, task);
    after = task.evaluate(model, fit).loss;
  });

  afterAll(async () => {
    model?.dispose();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('reduces the binary cross-entropy in one epoch', () => {
    expect(result.history).toHaveLength(1);
    expect(result.images).toBe(48);
    expect(before).toBeGreaterThan(0.45); // ~ the entropy of the label prior 0.2 (0.50)
    expect(after).toBeLessThan(before);
  });

  it('saves a version folder with model.json, one small shard and valid sigmoid metadata', async () => {
    const dir = path.join(tmp, 'mnist-multilabel', '1');
    const scores = predictScores(model, validation);
    const test = multiLabelMetrics(scores, validation.map((s) => labelVector(s)));
    const metadata = buildMultiLabelMetadata({
      backend: 'wasm',
      options: { ...MULTILABEL_TRAIN_OPTIONS, epochs: 1 },
      result,
      data: { digits: { train: 2000, validation: 500, heldOut: 0 }, counts: { train: 48, validation: 16, test: 16 } },
      test,
      validationExactMatch: result.history[0]!.validationAccuracy,
    });
    await saveModel(model, dir, metadata);

    const names = (await fs.readdir(dir)).sort();
    expect(names).toEqual(['group1-shard1of1.bin', 'metadata.json', 'model.json']);
    expect(await fs.readdir(path.dirname(dir))).toEqual(['1']); // no temp folders left
    let bytes = 0;
    for (const name of names) bytes += (await fs.stat(path.join(dir, name))).size;
    expect(bytes).toBeLessThan(2 * 1024 * 1024);

    const meta = parseMetadata(JSON.parse(await fs.readFile(path.join(dir, 'metadata.json'), 'utf8')), 'metadata.json');
    expect(meta.input).toEqual({ name: 'image', shape: [56, 56, 1], dtype: 'float32' });
    expect(meta.output).toEqual({ name: 'scores', kind: 'sigmoid', threshold: 0.5 });
    expect(meta.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(meta.preprocessing).toEqual({ recipe: 'resize', resize: 'stretch', scale: 'unit', invert: 'auto' });
    expect(meta.training).toMatchObject({ loss: 'binaryCrossentropy', backend: 'wasm', epochs: 1, test: { images: 16 } });

    const loaded = await tf.loadLayersModel(tf.io.fromMemory((await readLayersModelFiles(dir)).artifacts));
    expect(loaded.inputNames).toEqual(['image']);
    expect(loaded.outputNames).toEqual(['scores']);
    expect(loaded.outputs[0]!.shape).toEqual([null, 10]);
    const reloaded = predictScores(loaded, validation);
    reloaded.forEach((r, i) => expect(maxAbsDiff(r, scores[i]!)).toBeLessThan(1e-6));
    loaded.dispose();
  });
});
