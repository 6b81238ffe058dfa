import * as tf from '@tensorflow/tfjs';
import type { ModelMetadata } from '../model-store/metadata';
import { logResult, runCli, saveAndLog, startBackend } from './cli-run';
import { defaultOutDir, parseCliArgs, positiveInteger, type CommonCliOptions } from './cli-options';
import {
  CANVAS,
  CANVAS_PIXELS,
  DEFAULT_COMPOSITE_OPTIONS,
  DIGIT_CLASSES,
  labelVector,
  makeCompositeSpecs,
  placeDigits,
  renderComposite,
  type CompositeOptions,
  type CompositeSpec,
} from './composite-digits';
import { HELD_OUT_FRACTION, loadMnistSplit, MNIST_SOURCE, SPLIT_SEED } from './mnist-data';
import { INPUT_NAME } from './model';
import { buildMultiLabelModel, MULTILABEL_ARCHITECTURE, MULTILABEL_OUTPUT_NAME } from './multilabel-model';
import type { Random } from './prng';
import { splitValidation } from './train-mnist';
import { DEFAULT_TRAIN_OPTIONS, trainModel, type TrainingTask, type TrainOptions, type TrainResult } from './train-loop';
import { msPerImage, runRecord } from './training-record';

/**
 * CLI: `npm run train:multilabel -- [--epochs N] [--out DIR] [--limit N] [--batch-size N]
 * [--composites N]`.
 * Trains a small multi-label CNN (multilabel-model.ts) on 56x56 composites of 1-3 distinct MNIST
 * digits (composite-digits.ts). Training composites are made only of the training part of
 * loadMnistSplit() minus its validation digits, validation composites only of those validation
 * digits (used only to pick the best epoch), and test composites only of the held-out digits,
 * scored once at the end. Saves model + metadata.json atomically into DIR (default
 * <project root>/model-store/mnist-multilabel/1).
 */

export const LABELS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** Every label applies at a score >= 0.5 (the same threshold for all; not tuned per label). */
export const THRESHOLD = 0.5;
/** The serving path: a 56x56 light-on-dark PNG passes it unchanged (x / 255); a light background is inverted. */
export const MULTILABEL_PREPROCESSING: ModelMetadata['preprocessing'] = { recipe: 'resize', resize: 'stretch', scale: 'unit', invert: 'auto' };

/** Seeds of the three composite sets (the digit split is SPLIT_SEED's). */
export const COMPOSITE_SEEDS = { train: 20250701, validation: 20250702, test: 20250703 } as const;
export const DEFAULT_COMPOSITES = { train: 15_000, validation: 1000, test: 5000 } as const;

export const MULTILABEL_TRAIN_OPTIONS: TrainOptions = {
  ...DEFAULT_TRAIN_OPTIONS,
  epochs: 4,
  batchSize: 64,
  initialLearningRate: 3e-3,
  finalLearningRate: 3e-4,
  augment: null, // the composites are re-placed instead (compositeTask)
};

/** Fraction of labels that are 1 with `options` (digits per image uniform in [min, max]). */
export function labelPrior(options: CompositeOptions = DEFAULT_COMPOSITE_OPTIONS): number {
  return (options.minDigits + options.maxDigits) / 2 / DIGIT_CLASSES;
}

/** [n, 56, 56, 1] rendered composites and [n, 10] label vectors. */
export function compositeTensors(specs: CompositeSpec[]): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const n = specs.length;
  const xs = new Float32Array(n * CANVAS_PIXELS);
  const ys = new Float32Array(n * DIGIT_CLASSES);
  specs.forEach((spec, i) => {
    renderComposite(spec, xs.subarray(i * CANVAS_PIXELS, (i + 1) * CANVAS_PIXELS));
    labelVector(spec, ys.subarray(i * DIGIT_CLASSES, (i + 1) * DIGIT_CLASSES));
  });
  return { x: tf.tensor4d(xs, [n, CANVAS, CANVAS, 1]), y: tf.tensor2d(ys, [n, DIGIT_CLASSES]) };
}

/** Sigmoid scores, one row of 10 per composite, in order. */
export function predictScores(model: tf.LayersModel, specs: CompositeSpec[], batchSize = 250): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let start = 0; start < specs.length; start += batchSize) {
    const values = tf.tidy(() => (model.predict(compositeTensors(specs.slice(start, start + batchSize)).x) as tf.Tensor2D).dataSync());
    for (let i = 0; i < values.length; i += DIGIT_CLASSES) rows.push(Float32Array.from(values.subarray(i, i + DIGIT_CLASSES)));
  }
  return rows;
}

/**
 * Binary cross-entropy + exact-match task for trainModel. With `replace` every training batch
 * puts its composites' digits into fresh random cells with fresh jitter (drawn from the loop's
 * seeded generator): the same digits and labels, new images in every epoch.
 */
export function compositeTask(replace: boolean, options: CompositeOptions = DEFAULT_COMPOSITE_OPTIONS): TrainingTask<CompositeSpec> {
  const replaced = (specs: CompositeSpec[], random: Random) =>
    specs.map((s) => ({ placements: placeDigits(s.placements.map((p) => p.digit), random, options.maxJitter) }));
  return {
    loss: 'binaryCrossentropy',
    toBatch: (specs, random) => compositeTensors(replace ? replaced(specs, random) : specs),
    evaluate: (model, specs) => {
      const scores = predictScores(model, specs);
      const truths = specs.map((s) => labelVector(s));
      return { accuracy: multiLabelMetrics(scores, truths).exactMatch, loss: meanBinaryCrossEntropy(scores, truths) };
    },
  };
}

/** Mean over images and labels of -[y log p + (1 - y) log(1 - p)], p clipped to [1e-7, 1 - 1e-7] (as Keras). */
export function meanBinaryCrossEntropy(scores: Float32Array[], truths: Float32Array[]): number {
  let sum = 0;
  let n = 0;
  scores.forEach((row, i) => {
    row.forEach((p, k) => {
      const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
      sum -= truths[i]![k]! > 0.5 ? Math.log(q) : Math.log(1 - q);
      n++;
    });
  });
  return sum / Math.max(1, n);
}

export interface LabelMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Test images holding this digit. */
  support: number;
}

export interface MultiLabelMetrics {
  /** Images whose predicted label set (score >= threshold) equals the true set. */
  exactMatch: number;
  /** Fraction of the (image, label) decisions that are right. */
  hammingAccuracy: number;
  microPrecision: number;
  microRecall: number;
  microF1: number;
  macroF1: number;
  perLabel: Record<string, LabelMetrics>;
  images: number;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
const f1 = (tp: number, fp: number, fn: number) => ratio(2 * tp, 2 * tp + fp + fn);
const round4 = (v: number) => Number(v.toFixed(4));

/** Scores against 0/1 truths at `thresholds` (one per label, default THRESHOLD for all). */
export function multiLabelMetrics(
  scores: Float32Array[],
  truths: Float32Array[],
  thresholds: number[] = LABELS.map(() => THRESHOLD),
): MultiLabelMetrics {
  const tp = new Array<number>(DIGIT_CLASSES).fill(0);
  const fp = new Array<number>(DIGIT_CLASSES).fill(0);
  const fn = new Array<number>(DIGIT_CLASSES).fill(0);
  let exact = 0;
  let right = 0;
  scores.forEach((row, i) => {
    let all = true;
    for (let k = 0; k < DIGIT_CLASSES; k++) {
      const predicted = row[k]! >= thresholds[k]!;
      const actual = truths[i]![k]! > 0.5;
      if (predicted && actual) tp[k]++;
      else if (predicted) fp[k]++;
      else if (actual) fn[k]++;
      if (predicted === actual) right++;
      else all = false;
    }
    if (all) exact++;
  });
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  const perLabel: Record<string, LabelMetrics> = {};
  LABELS.forEach((label, k) => {
    perLabel[label] = {
      precision: round4(ratio(tp[k]!, tp[k]! + fp[k]!)),
      recall: round4(ratio(tp[k]!, tp[k]! + fn[k]!)),
      f1: round4(f1(tp[k]!, fp[k]!, fn[k]!)),
      support: tp[k]! + fn[k]!,
    };
  });
  const [TP, FP, FN] = [sum(tp), sum(fp), sum(fn)];
  return {
    exactMatch: ratio(exact, scores.length),
    hammingAccuracy: ratio(right, scores.length * DIGIT_CLASSES),
    microPrecision: ratio(TP, TP + FP),
    microRecall: ratio(TP, TP + FN),
    microF1: f1(TP, FP, FN),
    macroF1: sum(LABELS.map((_, k) => f1(tp[k]!, fp[k]!, fn[k]!))) / DIGIT_CLASSES,
    perLabel,
    images: scores.length,
  };
}

export interface CliOptions extends CommonCliOptions {
  /** Training composites (re-placed every epoch); --limit caps it for quick runs. */
  composites: number;
}

export function parseArgs(argv: string[]): CliOptions {
  const defaults: CliOptions = {
    epochs: MULTILABEL_TRAIN_OPTIONS.epochs,
    out: defaultOutDir('mnist-multilabel'),
    batchSize: MULTILABEL_TRAIN_OPTIONS.batchSize,
    composites: DEFAULT_COMPOSITES.train,
  };
  const usage = '--epochs N, --out DIR, --limit N, --batch-size N, --composites N';
  return parseCliArgs(argv, defaults, usage, (flag, value, options) => {
    if (flag !== '--composites') return undefined;
    options.composites = positiveInteger(flag, value);
    return 'value';
  });
}

export interface MultiLabelData {
  train: CompositeSpec[];
  validation: CompositeSpec[];
  test: CompositeSpec[];
  /** How many source digits each set was made of. */
  digits: { train: number; validation: number; heldOut: number };
}

/**
 * The three composite sets: train from the training digits minus the validation digits
 * (splitValidation, as train:mnist), validation from those validation digits, test from the
 * held-out digits only.
 */
export function makeMultiLabelData(counts: { train: number; validation: number; test: number } = DEFAULT_COMPOSITES): MultiLabelData {
  const { train, heldOut } = loadMnistSplit();
  const { fit, validation } = splitValidation(train);
  return {
    train: makeCompositeSpecs(fit, counts.train, COMPOSITE_SEEDS.train),
    validation: makeCompositeSpecs(validation, counts.validation, COMPOSITE_SEEDS.validation),
    test: makeCompositeSpecs(heldOut, counts.test, COMPOSITE_SEEDS.test),
    digits: { train: fit.length, validation: validation.length, heldOut: heldOut.length },
  };
}

export interface MultiLabelMetadataInput {
  backend: string;
  options: TrainOptions;
  result: TrainResult;
  data: Pick<MultiLabelData, 'digits'> & { counts: { train: number; validation: number; test: number } };
  test: MultiLabelMetrics;
  validationExactMatch: number;
}

export function buildMultiLabelMetadata(m: MultiLabelMetadataInput): ModelMetadata {
  const t = m.test;
  return {
    input: { name: INPUT_NAME, shape: [CANVAS, CANVAS, 1], dtype: 'float32' },
    output: { name: MULTILABEL_OUTPUT_NAME, kind: 'sigmoid', threshold: THRESHOLD },
    labels: [...LABELS],
    preprocessing: MULTILABEL_PREPROCESSING,
    training: {
      data: {
        source: MNIST_SOURCE,
        composites:
          `${CANVAS}x${CANVAS} black canvas, 2x2 grid of 28x28 cells, ${DEFAULT_COMPOSITE_OPTIONS.minDigits}-${DEFAULT_COMPOSITE_OPTIONS.maxDigits} ` +
          `distinct digits in random distinct cells, jitter up to ${DEFAULT_COMPOSITE_OPTIONS.maxJitter} px keeping the ink on the canvas, ` +
          'overlaps keep the brighter pixel, quantised to 8-bit levels (src/training/composite-digits.ts)',
        options: DEFAULT_COMPOSITE_OPTIONS,
        seeds: COMPOSITE_SEEDS,
      },
      split: {
        seed: SPLIT_SEED,
        heldOutFraction: HELD_OUT_FRACTION,
        stratified: true,
        digits: m.data.digits,
        composites: m.data.counts,
        note:
          'train composites only from the training digits minus the validation digits; validation composites only from those ' +
          'validation digits (best-epoch selection); test composites only from the held-out digits, scored once after training',
      },
      test: {
        images: t.images,
        thresholds: Object.fromEntries(LABELS.map((label) => [label, THRESHOLD])),
        exactMatchAccuracy: round4(t.exactMatch),
        hammingAccuracy: round4(t.hammingAccuracy),
        microPrecision: round4(t.microPrecision),
        microRecall: round4(t.microRecall),
        microF1: round4(t.microF1),
        macroF1: round4(t.macroF1),
        perLabel: t.perLabel,
      },
      validationExactMatchAccuracy: round4(m.validationExactMatch),
      epochs: m.options.epochs,
      bestEpoch: m.result.bestEpoch,
      seconds: Math.round(m.result.seconds),
      msPerImage: msPerImage(m.result.seconds, m.result.images),
      ...runRecord(m.backend, m.options, { architecture: MULTILABEL_ARCHITECTURE, loss: 'binaryCrossentropy' }),
      augmentation: { kind: 'every epoch each training composite\'s digits are placed in fresh random cells with fresh jitter' },
    },
  };
}

function formatMetrics(t: MultiLabelMetrics): string {
  const perLabel = LABELS.map((l) => `${l}:${t.perLabel[l]!.f1.toFixed(3)}`).join(' ');
  return `exact match ${t.exactMatch.toFixed(4)}, micro F1 ${t.microF1.toFixed(4)}, macro F1 ${t.macroF1.toFixed(4)} on ${t.images} test composites; per-label F1 ${perLabel}`;
}

export async function main(argv: string[]): Promise<void> {
  const cli = parseArgs(argv);
  const backend = await startBackend();

  const counts = { ...DEFAULT_COMPOSITES, train: Math.min(cli.composites, cli.limit ?? Infinity) };
  const data = makeMultiLabelData(counts);
  console.log(
    `data: ${counts.train} train / ${counts.validation} validation / ${counts.test} test composites from ` +
      `${data.digits.train} / ${data.digits.validation} / ${data.digits.heldOut} digits (split seed ${SPLIT_SEED})`,
  );

  const options: TrainOptions = { ...MULTILABEL_TRAIN_OPTIONS, epochs: cli.epochs, batchSize: cli.batchSize };
  const model = buildMultiLabelModel(labelPrior());
  const result = await trainModel(model, data.train, data.validation, options, compositeTask(true));
  const best = result.history[result.bestEpoch - 1]!;
  const test = multiLabelMetrics(
    predictScores(model, data.test),
    data.test.map((s) => labelVector(s)),
  );
  logResult(result, formatMetrics(test));

  const metadata = buildMultiLabelMetadata({
    backend,
    options,
    result,
    data: { digits: data.digits, counts },
    test,
    validationExactMatch: best.validationAccuracy,
  });
  await saveAndLog(model, cli.out, metadata);
}

if (require.main === module) runCli(main);
