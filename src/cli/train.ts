import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../config';
import { configureLogging } from '../log';
import { MODEL_NAME } from '../model-store/repository';
import { selectTrainingBackend } from '../training/backend';
import { loadDataConfig, loadRunConfig, loadTrainConfig, type DataConfig, type TrainConfig } from '../training/data/config';
import { summaryOf } from '../training/evaluation';
import { Progress } from '../training/progress';
import { runTraining, type TrainRunOptions, type TrainRunResult } from '../training/run-training';
import { versionsIn } from '../training/transfer';
import { type CliIo, type Command, parseCommandArgs, UsageError } from './command';

/**
 * `specserve train`: a data config + a training config -> a new version of a model in the store
 * (see src/training/run-training.ts and docs/training.md). Progress goes to stderr, the result
 * to stdout. Ctrl-C stops after the current batch, saves the best model so far and exits 130.
 */

export const TRAIN_USAGE = `usage: specserve train CONFIG [--name MODEL] [--store DIR] [--version N] [--overwrite]
       specserve train --data-config FILE --train-config FILE [--name MODEL] [--store DIR] [--version N] [--overwrite]

  Trains a classifier and writes it as a new version <store>/<MODEL>/<N>/ (model.json, weight
  shards, metadata.json, MODEL_CARD.md, confusion-matrix.png), atomically: a running server
  picks it up complete.
  CONFIG          YAML with two sections, data: and train:, holding the keys of the two files
                  below (training/*.yaml made the shipped models; docs/training.md)
  --data-config   YAML: where the labelled images are (IDX files, a folder per class, a CSV
                  of 0/1 targets, the project's MNIST package) and how they become inputs
  --train-config  YAML: epochs, batch size, learning rate and decay, early stopping,
                  augmentation, network, base_model for transfer learning
  --name          model folder name (letters, digits, _ . -); default: the last part of
                  the training config's model_path
  --store         model store (default: the folder of model_path, else MODEL_STORE, else
                  ./model-store); base_model names are looked up here, then in MODEL_STORE
  --version       version folder to write (default: the next free one); an existing one is
                  refused unless --overwrite

  TFJS_BACKEND may force the backend (wasm, cpu, tensorflow). Ctrl-C saves the best model so
  far (exit 130); a second Ctrl-C quits without saving.
`;

export interface TrainArgs {
  data: DataConfig;
  train: TrainConfig;
  name: string;
  store: string;
  /** Second place to look for base_model names (MODEL_STORE / ./model-store). */
  defaultStore: string;
  version?: number;
  overwrite: boolean;
  notes: string[];
}

/** Reads train's arguments and both configs; UsageError for bad arguments, ConfigError for bad configs. */
export function parseTrainArgs(args: string[], env: CliIo['env']): TrainArgs {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      'data-config': { type: 'string' },
      'train-config': { type: 'string' },
      name: { type: 'string' },
      store: { type: 'string' },
      version: { type: 'string' },
      overwrite: { type: 'boolean' },
    },
  });
  const separate = values['data-config'] !== undefined || values['train-config'] !== undefined;
  if (positionals.length > 1) throw new UsageError(`one CONFIG expected, got ${positionals.length} (${positionals.join(' ')})`);
  if (positionals.length === 1 && separate) throw new UsageError('give CONFIG or --data-config and --train-config, not both');
  if (positionals.length === 0) {
    if (!separate) throw new UsageError('CONFIG is required (e.g. training/mnist.yaml), or --data-config and --train-config');
    if (values['data-config'] === undefined) throw new UsageError('--data-config is required with --train-config (the data YAML)');
    if (values['train-config'] === undefined) throw new UsageError('--train-config is required with --data-config (the training YAML)');
  }
  if (values.version !== undefined && !/^[1-9][0-9]{0,8}$/.test(values.version)) {
    throw new UsageError(`--version ${JSON.stringify(values.version)}: expected a whole number from 1 to 999999999`);
  }
  let defaultStore: string;
  try {
    defaultStore = loadConfig(env).modelStore;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { data, train } = positionals.length === 1
    ? loadRunConfig(positionals[0]!)
    : { data: loadDataConfig(values['data-config']!), train: loadTrainConfig(values['train-config']!) };
  const notes: string[] = [];
  let name = values.name;
  let store = values.store === undefined ? undefined : path.resolve(values.store);
  if (train.model_path !== undefined) {
    if (name === undefined) name = path.basename(train.model_path);
    else notes.push(`--name ${name} given: model_path ${train.model_path} of ${train.file} is not used`);
    store ??= name === path.basename(train.model_path) ? path.dirname(train.model_path) : undefined;
  }
  if (name === undefined) throw new UsageError('--name is required (or model_path in the training config)');
  if (!MODEL_NAME.test(name)) throw new UsageError(`--name ${JSON.stringify(name)}: expected letters, digits, _ . - (not starting with . _ -)`);
  return {
    data,
    train,
    name,
    store: store ?? defaultStore,
    defaultStore,
    ...(values.version !== undefined ? { version: Number(values.version) } : {}),
    overwrite: values.overwrite ?? false,
    notes,
  };
}

/** A base_model name found in the output store is used from there, else from the default store. */
function baseStore(a: TrainArgs): string {
  const ref = a.train.base_model;
  if (!ref || ref.includes('/')) return a.store;
  return versionsIn(path.join(a.store, ref.split(':')[0]!)).length > 0 ? a.store : a.defaultStore;
}

/** Runs a training with the process's Ctrl-C wired to `signal` (the CLI) or a caller's signal (tests). */
export async function train(a: TrainArgs, io: CliIo, extra: Pick<TrainRunOptions, 'signal' | 'onEpoch'> = {}): Promise<TrainRunResult> {
  const progress = new Progress(io.stderr, Boolean(process.stderr.isTTY) && io.env.CI === undefined);
  for (const note of a.notes) progress.line(`note: ${note}`);
  // The server's info log line about the backend would interleave with the progress; we print our own.
  if (io.env.LOG_LEVEL === undefined) configureLogging({ level: 'warn' });
  const backend = await selectTrainingBackend(io.env.TFJS_BACKEND);
  progress.line(`backend: ${backend} (tfjs ${tf.version.tfjs})`);
  return runTraining({
    data: a.data,
    train: a.train,
    modelDir: path.join(a.store, a.name),
    name: a.name,
    store: baseStore(a),
    ...(a.version !== undefined ? { version: a.version } : {}),
    overwrite: a.overwrite,
    backend,
    progress,
    ...extra,
  });
}

export const trainCommand: Command = {
  summary: 'train a model from a training config (data + training) into a new store version',
  usage: TRAIN_USAGE,
  async run(args, io) {
    const a = parseTrainArgs(args, io.env);
    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) {
        io.stderr('\nsecond Ctrl-C: quitting without saving\n');
        process.exit(130);
      }
      controller.abort();
      io.stderr('\nCtrl-C: stopping after this batch, then saving the best model so far (Ctrl-C again to quit without saving)\n');
    };
    process.on('SIGINT', onSigint);
    try {
      const result = await train(a, io, { signal: controller.signal });
      if (!result.saved) {
        io.stdout(`${a.name}: interrupted before the first epoch ended; nothing saved\n`);
        return 130;
      }
      io.stdout(`${a.name}/${result.version}: saved ${result.dir}${result.interrupted ? ' (interrupted: best weights so far)' : ''}\n`);
      io.stdout(`  validation: ${summaryOf(result.validation!)}\n`);
      if (result.test) io.stdout(`  test: ${summaryOf(result.test)}\n`);
      io.stdout(`  model card: ${path.join(result.dir!, 'MODEL_CARD.md')}\n`);
      return result.interrupted ? 130 : 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
