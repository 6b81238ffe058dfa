import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readLayersModelFiles } from '../model-store/files';
import type { ModelMetadata } from '../model-store/metadata';
import type { AugmentOptions } from './augment';
import { logResult, runCli, saveAndLog, startBackend } from './cli-run';
import { defaultOutDir, directoryArg, parseCliArgs, type CommonCliOptions } from './cli-options';
import { readIdxFile } from './idx';
import type { LabelledDigit } from './mnist-data';
import { buildModel } from './model';
import { mulberry32, shuffleInPlace } from './prng';
import { DEFAULT_TRAIN_OPTIONS, toTensors, trainModel, type TrainOptions, type TrainResult } from './train-loop';
import { modelSignature, msPerImage, runRecord } from './training-record';

/**
 * CLI: `npm run train:fashion -- [--data DIR] [--epochs N] [--out DIR] [--limit N] [--batch-size N]
 * [--init DIR] [--no-augment] [--learning-rate A[,B]]`.
 * Trains the project's CNN (model.ts, the same network as MNIST) on the 60,000 Fashion-MNIST
 * training images minus a seeded validation slice (used only to pick the best epoch), reports the
 * accuracy on the official 10,000-image test set once at the end, and saves model + metadata.json
 * atomically into DIR (default <project root>/model-store/fashion/1).
 *
 * `--init DIR` continues from a model saved by this CLI (a second stage, e.g. a few epochs without
 * augmentation at a lower rate); the metadata then lists both stages and sums epochs and time.
 */

/** Where the Debian package dataset-fashion-mnist puts the four IDX files. */
export const DEBIAN_DATA_DIR = '/usr/share/datasets/fashion-mnist';
export const DEBIAN_PACKAGE = 'dataset-fashion-mnist';
export const FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;

/** Output order of the model (the dataset's label ids 0..9). */
export const FASHION_LABELS = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Seeds the train/validation split (training itself is seeded by TrainOptions.seed). */
export const SPLIT_SEED = 20250611;
/** Training images held back for best-epoch selection (the official test set is never used for it). */
export const VALIDATION_SIZE = 5000;

/**
 * Clothes may be mirrored (a left-facing shoe is still a shoe); the distortions are milder than
 * for digits because the garments are centred and size-normalised in the dataset and only a few
 * epochs are run.
 */
export const FASHION_AUGMENT: AugmentOptions = {
  maxShift: 1.5,
  maxRotationDeg: 5,
  minScale: 0.95,
  maxScale: 1.05,
  maxShear: 0,
  maxAspectChange: 0.05,
  horizontalFlip: true,
};

export const FASHION_TRAIN_OPTIONS: TrainOptions = {
  ...DEFAULT_TRAIN_OPTIONS,
  epochs: 5,
  initialLearningRate: 1e-3,
  finalLearningRate: 1e-4,
  augment: FASHION_AUGMENT,
};

export interface CliOptions extends CommonCliOptions {
  data: string;
  /** Start from this saved model (and its metadata's training record) instead of fresh weights. */
  init?: string;
  augment: boolean;
  initialLearningRate: number;
  finalLearningRate: number;
}

export function parseArgs(argv: string[]): CliOptions {
  const defaults: CliOptions = {
    data: DEBIAN_DATA_DIR,
    epochs: FASHION_TRAIN_OPTIONS.epochs,
    out: defaultOutDir('fashion'),
    batchSize: FASHION_TRAIN_OPTIONS.batchSize,
    augment: true,
    initialLearningRate: FASHION_TRAIN_OPTIONS.initialLearningRate,
    finalLearningRate: FASHION_TRAIN_OPTIONS.finalLearningRate,
  };
  const usage = '--data DIR, --epochs N, --out DIR, --limit N, --batch-size N, --init DIR, --no-augment, --learning-rate A[,B]';
  return parseCliArgs(argv, defaults, usage, (flag, value, options) => {
    switch (flag) {
      case '--data':
        options.data = directoryArg(flag, value);
        return 'value';
      case '--init':
        options.init = directoryArg(flag, value, 'model directory');
        return 'value';
      case '--no-augment':
        options.augment = false;
        return 'flag'; // a flag without a value
      case '--learning-rate': {
        const [a, b = a] = (value ?? '').split(',').map(Number);
        if (!(a > 0 && b > 0)) throw new Error(`${flag} needs INITIAL[,FINAL] > 0, got "${value ?? ''}"`);
        options.initialLearningRate = a;
        options.finalLearningRate = b;
        return 'value';
      }
      default:
        return undefined;
    }
  });
}

/**
 * Pairs an IDX image file ([n, 28, 28] uint8) with its label file ([n] uint8, 0..9) as
 * LabelledDigits (pixels 0..1, light garment on black as in the files). Throws if the files do not
 * belong together.
 */
export function readLabelledImages(imagesFile: string, labelsFile: string): LabelledDigit[] {
  const images = readIdxFile(imagesFile);
  const labels = readIdxFile(labelsFile);
  const [n, h, w] = images.dims;
  if (images.dtype !== 'uint8' || images.dims.length !== 3 || h !== 28 || w !== 28) {
    throw new Error(`${imagesFile}: expected uint8 images [n, 28, 28], got ${images.dtype} [${images.dims.join(', ')}]`);
  }
  if (labels.dtype !== 'uint8' || labels.dims.length !== 1 || labels.dims[0] !== n) {
    throw new Error(`${labelsFile}: expected ${n} uint8 labels, got ${labels.dtype} [${labels.dims.join(', ')}]`);
  }
  const out: LabelledDigit[] = [];
  for (let i = 0; i < n; i++) {
    const label = labels.data[i];
    if (label > 9) throw new Error(`${labelsFile}: label ${label} at index ${i} is not 0..9`);
    const pixels = new Float32Array(784);
    for (let p = 0; p < 784; p++) pixels[p] = images.data[i * 784 + p] / 255;
    out.push({ pixels, label });
  }
  return out;
}

export interface FashionData {
  train: LabelledDigit[];
  test: LabelledDigit[];
  /** sha256 of each IDX file as read, by file name. */
  sha256: Record<string, string>;
}

export function loadFashion(dir: string): FashionData {
  const sha256: Record<string, string> = {};
  for (const name of Object.values(FILES)) {
    sha256[name] = createHash('sha256').update(readFileSync(path.join(dir, name))).digest('hex');
  }
  const file = (name: string) => path.join(dir, name);
  return {
    train: readLabelledImages(file(FILES.trainImages), file(FILES.trainLabels)),
    test: readLabelledImages(file(FILES.testImages), file(FILES.testLabels)),
    sha256,
  };
}

/**
 * Seeded shuffle of the training images, then: validation = the first VALIDATION_SIZE (or 1/12 of
 * a --limit'ed pool), fit = the rest of the pool. The test set is separate and untouched.
 */
export function splitTrain(train: LabelledDigit[], limit?: number): { fit: LabelledDigit[]; validation: LabelledDigit[] } {
  const shuffled = shuffleInPlace([...train], mulberry32(SPLIT_SEED));
  const pool = limit ? shuffled.slice(0, limit) : shuffled;
  const nVal = Math.min(VALIDATION_SIZE, Math.floor(pool.length / 12) || 1);
  return { fit: pool.slice(nVal), validation: pool.slice(0, nVal) };
}

/** Arg-max prediction for each image, in order. */
export function predictLabels(model: tf.LayersModel, digits: LabelledDigit[], batchSize = 250): Int32Array {
  const out = new Int32Array(digits.length);
  for (let start = 0; start < digits.length; start += batchSize) {
    const batch = digits.slice(start, start + batchSize);
    const predicted = tf.tidy(() => (model.predict(toTensors(batch).x) as tf.Tensor2D).argMax(1).dataSync());
    out.set(predicted, start);
  }
  return out;
}

/** Overall and per-label accuracy of `predicted` against the labels of `digits`. */
export function accuracyByClass(digits: LabelledDigit[], predicted: ArrayLike<number>): { accuracy: number; perClass: Record<string, number> } {
  const hits = new Array<number>(10).fill(0);
  const totals = new Array<number>(10).fill(0);
  digits.forEach((d, i) => {
    totals[d.label]++;
    if (predicted[i] === d.label) hits[d.label]++;
  });
  const perClass: Record<string, number> = {};
  FASHION_LABELS.forEach((label, k) => {
    perClass[label] = totals[k] ? Number((hits[k] / totals[k]).toFixed(4)) : 0;
  });
  return { accuracy: hits.reduce((a, b) => a + b, 0) / Math.max(1, digits.length), perClass };
}

/** Version of the installed Debian package, or 'unknown' (not installed, no dpkg, other data dir). */
function debianVersion(dataDir: string): string {
  if (path.resolve(dataDir) !== DEBIAN_DATA_DIR) return 'unknown (not the Debian package path)';
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', DEBIAN_PACKAGE], { encoding: 'utf8' }).trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The metadata.json of the fashion model; preprocessing is the plain `resize` recipe (see resize.ts). */
export const FASHION_PREPROCESSING: ModelMetadata['preprocessing'] = { recipe: 'resize', resize: 'letterbox', scale: 'unit', invert: 'auto' };

/** What one training run (stage) did; metadata.training.stages lists them in order. */
export interface TrainingStage {
  epochs: number;
  bestEpoch: number;
  seconds: number;
  images: number;
  learningRate: [number, number];
  augmentation: boolean;
  validationAccuracy: number;
}

export interface FashionMetadataInput {
  backend: string;
  /** Stages before this run (from --init's metadata), oldest first; empty for a fresh model. */
  previousStages: TrainingStage[];
  dataDir: string;
  sha256: Record<string, string>;
  options: TrainOptions;
  result: TrainResult;
  counts: { train: number; validation: number; test: number };
  testAccuracy: number;
  perClassAccuracy: Record<string, number>;
  validationAccuracy: number;
}

export function buildFashionMetadata(m: FashionMetadataInput): ModelMetadata {
  const stage: TrainingStage = {
    epochs: m.options.epochs,
    bestEpoch: m.result.bestEpoch,
    seconds: Math.round(m.result.seconds),
    images: m.result.images,
    learningRate: [m.options.initialLearningRate, m.options.finalLearningRate],
    augmentation: m.options.augment !== null,
    validationAccuracy: Number(m.validationAccuracy.toFixed(4)),
  };
  const stages = [...m.previousStages, stage];
  const sum = (f: (s: TrainingStage) => number) => stages.reduce((n, s) => n + f(s), 0);
  const augmented = stages.some((s) => s.augmentation) ? FASHION_AUGMENT : null;
  return {
    ...modelSignature(),
    labels: [...FASHION_LABELS],
    preprocessing: FASHION_PREPROCESSING,
    training: {
      data: {
        name: 'Fashion-MNIST (Zalando Research, MIT licence)',
        package: DEBIAN_PACKAGE,
        version: debianVersion(m.dataDir),
        dir: m.dataDir,
        sha256: m.sha256,
      },
      split: {
        seed: SPLIT_SEED,
        train: m.counts.train,
        validation: m.counts.validation,
        test: m.counts.test,
        note: 'validation = seeded random slice of the 60,000 training images, used only to pick the best epoch; test = the official 10,000-image t10k set, evaluated once after training',
      },
      testAccuracy: Number(m.testAccuracy.toFixed(4)),
      perClassAccuracy: m.perClassAccuracy,
      validationAccuracy: Number(m.validationAccuracy.toFixed(4)),
      // Totals over all stages; `stages` has each run (bestEpoch counts within the last one).
      epochs: sum((s) => s.epochs),
      bestEpoch: m.result.bestEpoch,
      seconds: sum((s) => s.seconds),
      msPerImage: msPerImage(sum((s) => s.seconds), sum((s) => s.images)),
      stages,
      ...runRecord(m.backend, m.options),
      augmentation: augmented
        ? {
            kind: 'random affine, bilinear, fresh per epoch, horizontal flips',
            stages: stages.map((s) => s.augmentation),
            ...augmented,
          }
        : null,
    },
  };
}

/** The stages recorded in a saved model's metadata (a model from before `stages` counts as one). */
function stagesOf(metadata: ModelMetadata): TrainingStage[] {
  const t = metadata.training ?? {};
  if (Array.isArray(t.stages)) return t.stages as TrainingStage[];
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const optimizer = (t.optimizer ?? {}) as Record<string, unknown>;
  const split = (t.split ?? {}) as Record<string, unknown>;
  return [
    {
      epochs: num(t.epochs),
      bestEpoch: num(t.bestEpoch),
      seconds: num(t.seconds),
      images: num(split.train) * num(t.epochs),
      learningRate: [num(optimizer.initialLearningRate), num(optimizer.finalLearningRate)],
      augmentation: t.augmentation != null,
      validationAccuracy: num(t.validationAccuracy),
    },
  ];
}

export async function main(argv: string[]): Promise<void> {
  const cli = parseArgs(argv);
  const backend = await startBackend();

  const { train, test, sha256 } = loadFashion(cli.data);
  const { fit, validation } = splitTrain(train, cli.limit);
  console.log(`data: ${cli.data}: ${fit.length} train, ${validation.length} validation, ${test.length} test (split seed ${SPLIT_SEED})`);

  const options: TrainOptions = {
    ...FASHION_TRAIN_OPTIONS,
    epochs: cli.epochs,
    batchSize: cli.batchSize,
    augment: cli.augment ? FASHION_AUGMENT : null,
    initialLearningRate: cli.initialLearningRate,
    finalLearningRate: cli.finalLearningRate,
  };
  let model: tf.LayersModel;
  let previousStages: TrainingStage[] = [];
  if (cli.init) {
    const { artifacts, metadata } = await readLayersModelFiles(cli.init);
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    previousStages = stagesOf(metadata);
    console.log(`continuing from ${cli.init} (${previousStages.length} earlier stage(s))`);
  } else {
    model = buildModel(1, 'fashion_cnn');
  }
  const result = await trainModel(model, fit, validation, options);
  const best = result.history[result.bestEpoch - 1];
  const { accuracy, perClass } = accuracyByClass(test, predictLabels(model, test));
  logResult(result, `test accuracy ${accuracy.toFixed(4)} on ${test.length} images`);
  console.log(`per class: ${JSON.stringify(perClass)}`);

  const metadata = buildFashionMetadata({
    backend,
    previousStages,
    dataDir: cli.data,
    sha256,
    options,
    result,
    counts: { train: fit.length, validation: validation.length, test: test.length },
    testAccuracy: accuracy,
    perClassAccuracy: perClass,
    validationAccuracy: best.validationAccuracy,
  });
  await saveAndLog(model, cli.out, metadata);
}

if (require.main === module) runCli(main);
