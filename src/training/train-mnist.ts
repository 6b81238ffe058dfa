import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelMetadata } from '../model-store/metadata';
import { selectTrainingBackend } from './backend';
import { HELD_OUT_FRACTION, loadMnistSplit, MNIST_SOURCE, SPLIT_SEED, type LabelledDigit } from './mnist-data';
import { ARCHITECTURE, buildModel, INPUT_NAME, OUTPUT_NAME } from './model';
import { saveModel } from './save-model';
import { DEFAULT_TRAIN_OPTIONS, evaluate, trainModel, type TrainOptions, type TrainResult } from './train-loop';

/**
 * CLI: `npm run train:mnist -- [--epochs N] [--out DIR] [--limit N] [--batch-size N]
 * [--min-held-out-accuracy A]` (the last one keeps an existing model unless the new one reaches A).
 * Trains the seed CNN on the training part of loadMnistSplit() (minus a validation slice used
 * only to pick the best epoch), reports the held-out accuracy once at the end and saves the
 * model + metadata.json atomically into DIR (default <project root>/model-store/mnist/1).
 */

export { buildModel } from './model';
export { trainModel, evaluate, DEFAULT_TRAIN_OPTIONS } from './train-loop';
export type { TrainOptions, TrainResult, EpochStats } from './train-loop';
export { selectTrainingBackend } from './backend';

/** Digits taken from the (already shuffled) training portion for best-epoch selection. */
export const VALIDATION_SIZE = 500;

export interface CliOptions {
  epochs: number;
  out: string;
  limit?: number;
  batchSize: number;
  /** Do not save (exit code 2) if the held-out accuracy ends up below this, e.g. 0.98. */
  minHeldOutAccuracy?: number;
}

/** The folder holding package.json, searched upwards from this file (src/ or dist/src/). */
export function projectRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

export function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = {
    epochs: DEFAULT_TRAIN_OPTIONS.epochs,
    out: path.join(projectRoot(), 'model-store', 'mnist', '1'),
    batchSize: DEFAULT_TRAIN_OPTIONS.batchSize,
  };
  const positive = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got "${value ?? ''}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--epochs':
        options.epochs = positive(flag, value);
        break;
      case '--limit':
        options.limit = positive(flag, value);
        break;
      case '--batch-size':
        options.batchSize = positive(flag, value);
        break;
      case '--min-held-out-accuracy': {
        const a = Number(value);
        if (!(a >= 0 && a <= 1)) throw new Error(`${flag} needs a number in 0..1, got "${value ?? ''}"`);
        options.minHeldOutAccuracy = a;
        break;
      }
      case '--out':
        if (!value) throw new Error('--out needs a directory');
        options.out = path.resolve(value);
        break;
      default:
        throw new Error(`unknown argument "${flag}" (use --epochs N, --out DIR, --limit N, --batch-size N, --min-held-out-accuracy A)`);
    }
    i++;
  }
  return options;
}

/** Splits the trainer's digits into what it trains on and the validation slice (at most ~6%). */
export function splitValidation(train: LabelledDigit[], limit?: number): { fit: LabelledDigit[]; validation: LabelledDigit[] } {
  const pool = limit ? train.slice(0, limit) : train;
  const nVal = Math.min(VALIDATION_SIZE, Math.floor(pool.length / 16) || 1);
  return { fit: pool.slice(nVal), validation: pool.slice(0, nVal) };
}

export interface MetadataInput {
  backend: string;
  options: TrainOptions;
  result: TrainResult;
  counts: { train: number; validation: number; heldOut: number };
  heldOutAccuracy: number;
  validationAccuracy: number;
}

export function buildMetadata(m: MetadataInput): ModelMetadata {
  return {
    input: { name: INPUT_NAME, shape: [28, 28, 1], dtype: 'float32' },
    output: { name: OUTPUT_NAME, kind: 'softmax' },
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    preprocessing: { recipe: 'mnist-digit' },
    training: {
      data: MNIST_SOURCE,
      split: {
        seed: SPLIT_SEED,
        heldOutFraction: HELD_OUT_FRACTION,
        stratified: true,
        train: m.counts.train,
        validation: m.counts.validation,
        heldOut: m.counts.heldOut,
        note: 'validation = first digits of the training portion, used only to pick the best epoch; held-out never used in training or selection',
      },
      heldOutAccuracy: Number(m.heldOutAccuracy.toFixed(4)),
      validationAccuracy: Number(m.validationAccuracy.toFixed(4)),
      epochs: m.options.epochs,
      bestEpoch: m.result.bestEpoch,
      seconds: Math.round(m.result.seconds),
      msPerImage: Number(((m.result.seconds * 1000) / Math.max(1, m.result.images)).toFixed(1)),
      backend: m.backend,
      tfjs: tf.version.tfjs,
      date: new Date().toISOString(),
      architecture: ARCHITECTURE,
      optimizer: {
        name: 'adam',
        initialLearningRate: m.options.initialLearningRate,
        finalLearningRate: m.options.finalLearningRate,
        schedule: 'exponential decay per epoch',
        batchSize: m.options.batchSize,
      },
      loss: 'categoricalCrossentropy',
      seed: m.options.seed,
      augmentation: m.options.augment
        ? { kind: 'random affine, bilinear, fresh per epoch, no flips', ...m.options.augment }
        : null,
    },
  };
}

export async function main(argv: string[]): Promise<void> {
  const cli = parseArgs(argv);
  const backend = await selectTrainingBackend(process.env.TFJS_BACKEND);
  console.log(`backend: ${backend} (tfjs ${tf.version.tfjs})`);

  const { train, heldOut } = loadMnistSplit();
  const { fit, validation } = splitValidation(train, cli.limit);
  console.log(`data: ${fit.length} train, ${validation.length} validation, ${heldOut.length} held out (seed ${SPLIT_SEED})`);

  const options: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, epochs: cli.epochs, batchSize: cli.batchSize };
  const model = buildModel();
  const result = await trainModel(model, fit, validation, options);
  const best = result.history[result.bestEpoch - 1];
  const held = evaluate(model, heldOut);
  console.log(
    `best epoch ${result.bestEpoch} (val_acc ${best.validationAccuracy.toFixed(4)}); held-out accuracy ` +
      `${held.accuracy.toFixed(4)} on ${heldOut.length} digits; ${result.seconds.toFixed(0)} s, ` +
      `${((result.seconds * 1000) / result.images).toFixed(1)} ms/image`,
  );

  if (cli.minHeldOutAccuracy !== undefined && held.accuracy < cli.minHeldOutAccuracy) {
    console.error(`held-out accuracy below ${cli.minHeldOutAccuracy}: not saving, ${cli.out} left as it was`);
    process.exitCode = 2;
    return;
  }
  const metadata = buildMetadata({
    backend,
    options,
    result,
    counts: { train: fit.length, validation: validation.length, heldOut: heldOut.length },
    heldOutAccuracy: held.accuracy,
    validationAccuracy: best.validationAccuracy,
  });
  await saveModel(model, cli.out, metadata);
  console.log(`saved ${cli.out}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
