import type { ModelMetadata } from '../model-store/metadata';
import { logResult, runCli, saveAndLog, startBackend } from './cli-run';
import { defaultOutDir, parseCliArgs, type CommonCliOptions } from './cli-options';
import { HELD_OUT_FRACTION, loadMnistSplit, MNIST_SOURCE, SPLIT_SEED, type LabelledDigit } from './mnist-data';
import { buildModel } from './model';
import { DEFAULT_TRAIN_OPTIONS, evaluate, trainModel, type TrainOptions, type TrainResult } from './train-loop';
import { modelSignature, msPerImage, runRecord } from './training-record';

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
export { projectRoot } from './cli-options';

/** Digits taken from the (already shuffled) training portion for best-epoch selection. */
export const VALIDATION_SIZE = 500;

export interface CliOptions extends CommonCliOptions {
  /** Do not save (exit code 2) if the held-out accuracy ends up below this, e.g. 0.98. */
  minHeldOutAccuracy?: number;
}

export function parseArgs(argv: string[]): CliOptions {
  const defaults: CliOptions = {
    epochs: DEFAULT_TRAIN_OPTIONS.epochs,
    out: defaultOutDir('mnist'),
    batchSize: DEFAULT_TRAIN_OPTIONS.batchSize,
  };
  const usage = '--epochs N, --out DIR, --limit N, --batch-size N, --min-held-out-accuracy A';
  return parseCliArgs(argv, defaults, usage, (flag, value, options) => {
    if (flag !== '--min-held-out-accuracy') return undefined;
    const a = Number(value);
    if (!(a >= 0 && a <= 1)) throw new Error(`${flag} needs a number in 0..1, got "${value ?? ''}"`);
    options.minHeldOutAccuracy = a;
    return 'value';
  });
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
    ...modelSignature(),
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
      msPerImage: msPerImage(m.result.seconds, m.result.images),
      ...runRecord(m.backend, m.options),
      augmentation: m.options.augment
        ? { kind: 'random affine, bilinear, fresh per epoch, no flips', ...m.options.augment }
        : null,
    },
  };
}

export async function main(argv: string[]): Promise<void> {
  const cli = parseArgs(argv);
  const backend = await startBackend();

  const { train, heldOut } = loadMnistSplit();
  const { fit, validation } = splitValidation(train, cli.limit);
  console.log(`data: ${fit.length} train, ${validation.length} validation, ${heldOut.length} held out (seed ${SPLIT_SEED})`);

  const options: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, epochs: cli.epochs, batchSize: cli.batchSize };
  const model = buildModel();
  const result = await trainModel(model, fit, validation, options);
  const best = result.history[result.bestEpoch - 1];
  const held = evaluate(model, heldOut);
  logResult(result, `held-out accuracy ${held.accuracy.toFixed(4)} on ${heldOut.length} digits`);

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
  await saveAndLog(model, cli.out, metadata);
}

if (require.main === module) runCli(main);
