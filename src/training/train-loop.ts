import * as tf from '@tensorflow/tfjs';
import { augmentDigit, DEFAULT_AUGMENT, type AugmentOptions } from './augment';
import type { LabelledDigit } from './mnist-data';
import { reseedDropout } from './model';
import { mulberry32, shuffleInPlace, type Random } from './prng';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** Seeds shuffling, augmentation and dropout masks (initial weights are seeded by buildModel). */
  seed: number;
  /**
   * Adam learning rate of the first and the last epoch, decayed exponentially in between
   * (per epoch), so the schedule fits any --epochs.
   */
  initialLearningRate: number;
  finalLearningRate: number;
  /** Fresh random distortions of every training digit in every epoch; null = none (digit task only). */
  augment: AugmentOptions | null;
  /** One line per epoch; defaults to console.log. */
  log?: (line: string) => void;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  epochs: 30,
  batchSize: 64,
  seed: 7,
  initialLearningRate: 1e-3,
  finalLearningRate: 5e-5,
  augment: DEFAULT_AUGMENT,
};

export interface EpochStats {
  epoch: number;
  learningRate: number;
  /**
   * Mean training loss / accuracy over the epoch's batches (with dropout, augmented); accuracy is
   * Keras' 'accuracy' metric: arg-max for categorical cross-entropy, per label for binary.
   */
  loss: number;
  accuracy: number;
  validationAccuracy: number;
  validationLoss: number;
  seconds: number;
}

export interface TrainResult {
  history: EpochStats[];
  /** 1-based epoch whose weights the model holds after training (best validation accuracy). */
  bestEpoch: number;
  seconds: number;
  /** Training images processed (epochs x training examples). */
  images: number;
}

/** [n, 28, 28, 1] pixels and [n, 10] one-hot labels. */
export function toTensors(digits: LabelledDigit[], pixels?: Float32Array[]): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const n = digits.length;
  const xs = new Float32Array(n * 784);
  const ys = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) {
    xs.set(pixels ? pixels[i] : digits[i].pixels, i * 784);
    ys[i * 10 + digits[i].label] = 1;
  }
  return { x: tf.tensor4d(xs, [n, 28, 28, 1]), y: tf.tensor2d(ys, [n, 10]) };
}

/** Fraction of `digits` whose arg-max prediction equals the label, and the mean cross-entropy. */
export function evaluate(model: tf.LayersModel, digits: LabelledDigit[], batchSize = 250): { accuracy: number; loss: number } {
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < digits.length; start += batchSize) {
    const batch = digits.slice(start, start + batchSize);
    const [hits, loss] = tf.tidy(() => {
      const { x, y } = toTensors(batch);
      const p = model.predict(x) as tf.Tensor2D;
      const hit = tf.equal(p.argMax(1), y.argMax(1)).sum();
      const ce = tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1)))));
      return [hit.dataSync()[0], ce.dataSync()[0]];
    });
    correct += hits;
    lossSum += loss;
  }
  return { accuracy: correct / digits.length, loss: lossSum / digits.length };
}

/**
 * What trainModel trains on, for examples of any type T: the loss the model is compiled with, how
 * a batch of examples becomes tensors (any augmentation drawn from the loop's seeded `random`),
 * and how the model is scored on the validation examples after each epoch (the epoch with the
 * best `accuracy` is kept, ties broken by the lower `loss`).
 */
export interface TrainingTask<T> {
  loss: 'categoricalCrossentropy' | 'binaryCrossentropy';
  toBatch(examples: T[], random: Random): { x: tf.Tensor; y: tf.Tensor };
  evaluate(model: tf.LayersModel, examples: T[]): { accuracy: number; loss: number };
}

/**
 * The task of the MNIST and Fashion trainers: 28x28 single-label images, one-hot labels,
 * categorical cross-entropy, `augment` distortions drawn per digit (none if null).
 */
export function digitTask(augment: AugmentOptions | null): TrainingTask<LabelledDigit> {
  return {
    loss: 'categoricalCrossentropy',
    toBatch: (batch, random) => toTensors(batch, augment ? batch.map((d) => augmentDigit(d.pixels, random, augment)) : undefined),
    evaluate: (model, digits) => evaluate(model, digits),
  };
}

/** Exponential decay from initialLearningRate (epoch 1) to finalLearningRate (last epoch). */
export function learningRateAt(epoch: number, o: Pick<TrainOptions, 'epochs' | 'initialLearningRate' | 'finalLearningRate'>): number {
  if (o.epochs <= 1) return o.initialLearningRate;
  return o.initialLearningRate * (o.finalLearningRate / o.initialLearningRate) ** ((epoch - 1) / (o.epochs - 1));
}

function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  // AdamOptimizer keeps the rate in a protected field that it reads at every step.
  (optimizer as unknown as { learningRate: number }).learningRate = rate;
}

/**
 * Trains `model` (compiled here with Adam + the task's loss) on `train`, evaluates on
 * `validation` after each epoch, and finally restores the weights of the epoch with the best
 * validation accuracy (ties: lower validation loss). Deterministic for a given backend, seed and
 * data. The caller owns any held-out set; this function never sees it.
 *
 * Without `task` the examples are LabelledDigits of digitTask(options.augment).
 */
export async function trainModel(model: tf.LayersModel, train: LabelledDigit[], validation: LabelledDigit[], options: TrainOptions): Promise<TrainResult>;
export async function trainModel<T>(model: tf.LayersModel, train: T[], validation: T[], options: TrainOptions, task: TrainingTask<T>): Promise<TrainResult>;
export async function trainModel<T>(
  model: tf.LayersModel,
  train: T[],
  validation: T[],
  options: TrainOptions,
  task: TrainingTask<T> = digitTask(options.augment) as unknown as TrainingTask<T>,
): Promise<TrainResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const random = mulberry32(options.seed);
  const nextSeed = () => 1 + Math.floor(random() * 2 ** 31);
  const optimizer = tf.train.adam(options.initialLearningRate);
  model.compile({ optimizer, loss: task.loss, metrics: ['accuracy'] });

  const order = [...train];
  const history: EpochStats[] = [];
  let best: { epoch: number; accuracy: number; loss: number; weights: tf.Tensor[] } | undefined;
  const started = Date.now();
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const epochStart = Date.now();
    const learningRate = learningRateAt(epoch, options);
    setLearningRate(optimizer, learningRate);
    shuffleInPlace(order, random);
    let lossSum = 0;
    let accSum = 0;
    for (let start = 0; start < order.length; start += options.batchSize) {
      const batch = order.slice(start, start + options.batchSize);
      const { x, y } = task.toBatch(batch, random);
      reseedDropout(model, nextSeed);
      const [loss, acc] = (await model.trainOnBatch(x, y)) as number[];
      tf.dispose([x, y]);
      lossSum += loss * batch.length;
      accSum += acc * batch.length;
    }
    const val = task.evaluate(model, validation);
    const stats: EpochStats = {
      epoch,
      learningRate,
      loss: lossSum / order.length,
      accuracy: accSum / order.length,
      validationAccuracy: val.accuracy,
      validationLoss: val.loss,
      seconds: (Date.now() - epochStart) / 1000,
    };
    history.push(stats);
    const improved = !best || val.accuracy > best.accuracy || (val.accuracy === best.accuracy && val.loss < best.loss);
    if (improved) {
      if (best) tf.dispose(best.weights);
      best = { epoch, accuracy: val.accuracy, loss: val.loss, weights: model.getWeights().map((w) => w.clone()) };
    }
    log(
      `epoch ${epoch}/${options.epochs}  lr ${learningRate.toExponential(2)}  loss ${stats.loss.toFixed(4)}  ` +
        `acc ${stats.accuracy.toFixed(4)}  val_loss ${val.loss.toFixed(4)}  val_acc ${val.accuracy.toFixed(4)}  ` +
        `${stats.seconds.toFixed(1)} s  (${((stats.seconds * 1000) / order.length).toFixed(1)} ms/image)${improved ? '  *best' : ''}`,
    );
  }
  if (best) {
    model.setWeights(best.weights);
    tf.dispose(best.weights);
  }
  return {
    history,
    bestEpoch: best?.epoch ?? 0,
    seconds: (Date.now() - started) / 1000,
    images: options.epochs * order.length,
  };
}
