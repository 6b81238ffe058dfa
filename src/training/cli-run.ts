import * as tf from '@tensorflow/tfjs';
import type { ModelMetadata } from '../model-store/metadata';
import { selectTrainingBackend, type TrainingBackend } from './backend';
import { saveModel } from './save-model';
import type { TrainResult } from './train-loop';

/**
 * The steps every training CLI's main() (train-mnist, train-fashion) takes the same way: start
 * the backend, print the one-line result, save, and run main() as a script.
 */

/** Selects the training backend (TFJS_BACKEND may force one) and logs which one runs. */
export async function startBackend(): Promise<TrainingBackend> {
  const backend = await selectTrainingBackend(process.env.TFJS_BACKEND);
  console.log(`backend: ${backend} (tfjs ${tf.version.tfjs})`);
  return backend;
}

/** Logs `best epoch N (val_acc A); <evaluation>; S s, M ms/image` for a finished run. */
export function logResult(result: TrainResult, evaluation: string): void {
  const best = result.history[result.bestEpoch - 1];
  console.log(
    `best epoch ${result.bestEpoch} (val_acc ${best.validationAccuracy.toFixed(4)}); ${evaluation}; ` +
      `${result.seconds.toFixed(0)} s, ${((result.seconds * 1000) / result.images).toFixed(1)} ms/image`,
  );
}

/** Saves model + metadata.json atomically into `out` and logs it. */
export async function saveAndLog(model: tf.LayersModel, out: string, metadata: ModelMetadata): Promise<void> {
  await saveModel(model, out, metadata);
  console.log(`saved ${out}`);
}

/** Runs a CLI's main() on the process arguments; an error prints its stack and exits 1. */
export function runCli(main: (argv: string[]) => Promise<void>): void {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
