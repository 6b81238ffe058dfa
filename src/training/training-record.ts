import * as tf from '@tensorflow/tfjs';
import type { ModelMetadata } from '../model-store/metadata';
import { ARCHITECTURE, INPUT_NAME, OUTPUT_NAME } from './model';
import type { TrainOptions } from './train-loop';

/**
 * The parts of metadata.json that every training CLI (train-mnist, train-fashion) writes the same
 * way: the signature of model.ts's network and the how-it-was-trained fields of `training`.
 * Each CLI adds its own labels, preprocessing, data, split, accuracies and augmentation.
 */

/** metadata.input / metadata.output of the network built by model.ts. */
export function modelSignature(): Pick<ModelMetadata, 'input' | 'output'> {
  return {
    input: { name: INPUT_NAME, shape: [28, 28, 1], dtype: 'float32' },
    output: { name: OUTPUT_NAME, kind: 'softmax' },
  };
}

/** Training time per image in ms, to 0.1 ms (0 images count as 1). */
export function msPerImage(seconds: number, images: number): number {
  return Number(((seconds * 1000) / Math.max(1, images)).toFixed(1));
}

/** The network a run trained: model.ts's (the default) or another trainer's. */
export interface NetworkRecord {
  architecture: string;
  loss: string;
}

/**
 * training.backend, tfjs, date (now), architecture, optimizer, loss and seed, in that order
 * (spread into `training` after its msPerImage / stages and before its augmentation).
 */
export function runRecord(
  backend: string,
  options: TrainOptions,
  network: NetworkRecord = { architecture: ARCHITECTURE, loss: 'categoricalCrossentropy' },
): Record<string, unknown> {
  return {
    backend,
    tfjs: tf.version.tfjs,
    date: new Date().toISOString(),
    architecture: network.architecture,
    optimizer: {
      name: 'adam',
      initialLearningRate: options.initialLearningRate,
      finalLearningRate: options.finalLearningRate,
      schedule: 'exponential decay per epoch',
      batchSize: options.batchSize,
    },
    loss: network.loss,
    seed: options.seed,
  };
}
