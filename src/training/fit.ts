import * as tf from '@tensorflow/tfjs';
import type { Feed } from './data/batches';
import { predictRows, targetsOf, yieldToEventLoop } from './data/batches';
import type { LrDecay, Monitor } from './data/config';
import type { Example, Task } from './data/dataset';
import { quickScores } from './evaluation';
import { reseedDropout } from './model';
import { mulberry32, shuffleInPlace } from './prng';

/**
 * The training loop of `specserve train`: Adam on the trainable weights of `model`, batches
 * streamed from a Feed, validation after every epoch, early stopping on validation loss with the
 * best weights restored, learning-rate decay, and a stop signal (Ctrl-C) that ends the run after
 * the current batch with the best weights so far.
 *
 * It steps with optimizer.minimize over model.apply(x, {training: true}) instead of
 * model.fit/trainOnBatch so that the caller decides what "training mode" means per layer (a
 * frozen base's BatchNormalization stays in inference mode, see transfer.ts) and the loop can
 * stop between any two batches.
 */

export interface EpochRecord {
  phase: string;
  epoch: number;
  learningRate: number;
  /** Mean training loss / accuracy over the epoch's batches (augmented, dropout on). */
  loss: number;
  accuracy: number;
  validationLoss: number;
  /** Top-1 (single-label) or per-label at 0.5 (multi-label). */
  validationAccuracy: number;
  /** Multi-label only: every label right at 0.5. */
  validationExactMatch?: number;
  seconds: number;
  /** This epoch has the lowest validation loss so far (its weights are kept). */
  best: boolean;
}

export interface BatchProgress {
  phase: string;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  seconds: number;
}

export interface FitOptions {
  phase: string;
  model: tf.LayersModel;
  /** Training inputs (may augment). */
  feed: Feed;
  /** Validation inputs (never augment). */
  validationFeed: Feed;
  train: Example[];
  validation: Example[];
  task: Task;
  labels: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  lrDecay: LrDecay;
  /** Stop after this many epochs without a better validation score; 0 never stops early. */
  patience: number;
  /** What "better" means for the kept epoch and early stopping (default val_loss). */
  monitor?: Monitor;
  seed: number;
  /**
   * Score the starting weights first and keep them unless an epoch beats them (fine-tuning: an
   * epoch that makes phase 1's model worse is not kept; bestEpoch 0 then means the start).
   */
  keepStart?: boolean;
  signal?: AbortSignal;
  onBatch?: (p: BatchProgress) => void;
  onEpoch?: (r: EpochRecord) => void;
}

interface Score {
  loss: number;
  accuracy: number;
}

/** Whether `next` beats `best` under `monitor`. */
export function isBetter(monitor: Monitor, next: Score, best: Score | undefined): boolean {
  if (!best) return true;
  if (monitor === 'val_loss') return next.loss < best.loss;
  return next.accuracy > best.accuracy || (next.accuracy === best.accuracy && next.loss < best.loss);
}

export interface FitResult {
  history: EpochRecord[];
  /** 1-based epoch whose weights the model holds (best under the monitor); 0 if no epoch ended. */
  bestEpoch: number;
  monitor: Monitor;
  stoppedEarly: boolean;
  interrupted: boolean;
  seconds: number;
  /** Training examples processed. */
  images: number;
}

const EPS = 1e-7;

function lossOf(task: Task, y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  const q = tf.clipByValue(p, EPS, 1 - EPS);
  if (task === 'single') return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(q)), -1))) as tf.Scalar;
  return tf.neg(tf.mean(tf.add(tf.mul(y, tf.log(q)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, q)))))) as tf.Scalar;
}

function accuracyOf(task: Task, y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  if (task === 'single') return tf.mean(tf.cast(tf.equal(tf.argMax(p, -1), tf.argMax(y, -1)), 'float32'));
  return tf.mean(tf.cast(tf.equal(tf.greaterEqual(p, 0.5), tf.greater(y, 0.5)), 'float32'));
}

function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  // AdamOptimizer keeps the rate in a protected field that it reads at every step.
  (optimizer as unknown as { learningRate: number }).learningRate = rate;
}

/** Learning rate of the next epoch under `decay` (plateau counts epochs since the best). */
export function nextLearningRate(decay: LrDecay, rate: number, epochsSinceBest: number): number {
  switch (decay.schedule) {
    case 'none':
      return rate;
    case 'exponential':
      return rate * decay.factor;
    case 'plateau':
      return epochsSinceBest > 0 && epochsSinceBest % decay.patience === 0 ? Math.max(decay.min_learning_rate, rate * decay.factor) : rate;
  }
}

export async function fit(o: FitOptions): Promise<FitResult> {
  const random = mulberry32(o.seed);
  const nextSeed = () => 1 + Math.floor(random() * 2 ** 31);
  const optimizer = tf.train.adam(o.learningRate);
  const variables = o.model.trainableWeights.map((w) => w.read() as tf.Variable);
  if (variables.length === 0) throw new Error(`${o.phase}: the model has no trainable weights`);
  const order = [...o.train];
  const batches = Math.ceil(order.length / o.batchSize);
  const history: EpochRecord[] = [];
  let best: { epoch: number; loss: number; accuracy: number; weights: tf.Tensor[] } | undefined;
  const monitor = o.monitor ?? 'val_loss';
  let rate = o.learningRate;
  let stoppedEarly = false;
  let interrupted = false;
  let images = 0;
  const started = Date.now();
  try {
    if (o.keepStart) {
      const start = quickScores(await predictRows(o.model, o.validationFeed, o.validation, Math.max(o.batchSize, 128)), o.validation, o.task);
      best = { epoch: 0, loss: start.loss, accuracy: start.accuracy, weights: o.model.getWeights().map((w) => w.clone()) };
    }
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      if (o.signal?.aborted) {
        interrupted = true;
        break;
      }
      const epochStart = Date.now();
      setLearningRate(optimizer, rate);
      shuffleInPlace(order, random);
      let lossSum = 0;
      let accSum = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        const slice = order.slice(b * o.batchSize, (b + 1) * o.batchSize);
        const x = await o.feed.batch(slice, random);
        const xs = tf.tensor(x, [slice.length, ...o.feed.shape]);
        const ys = tf.tensor2d(targetsOf(slice, o.labels), [slice.length, o.labels]);
        reseedDropout(o.model, nextSeed);
        let prediction: tf.Tensor | undefined;
        const cost = optimizer.minimize(
          () => {
            const p = o.model.apply(xs, { training: true }) as tf.Tensor;
            prediction = tf.keep(p);
            return lossOf(o.task, ys, p);
          },
          true,
          variables,
        )!;
        const acc = accuracyOf(o.task, ys, prediction!);
        const [lossValue, accValue] = [(await cost.data())[0]!, (await acc.data())[0]!];
        tf.dispose([xs, ys, cost, acc, prediction!]);
        if (!Number.isFinite(lossValue)) throw new Error(`${o.phase}: the training loss became ${lossValue} in epoch ${epoch}, batch ${b + 1}; lower initial_learning_rate`);
        lossSum += lossValue * slice.length;
        accSum += accValue * slice.length;
        seen += slice.length;
        images += slice.length;
        o.onBatch?.({ phase: o.phase, epoch, epochs: o.epochs, batch: b + 1, batches, loss: lossSum / seen, accuracy: accSum / seen, seconds: (Date.now() - epochStart) / 1000 });
        // Lets a Ctrl-C handler run (and abort the signal) between any two batches.
        await yieldToEventLoop();
        if (o.signal?.aborted) break;
      }
      if (o.signal?.aborted) {
        // The epoch did not end: its weights are not validated and not kept.
        interrupted = true;
        break;
      }
      const rows = await predictRows(o.model, o.validationFeed, o.validation, Math.max(o.batchSize, 128));
      const val = quickScores(rows, o.validation, o.task);
      const improved = isBetter(monitor, val, best);
      if (improved) {
        if (best) tf.dispose(best.weights);
        best = { epoch, loss: val.loss, accuracy: val.accuracy, weights: o.model.getWeights().map((w) => w.clone()) };
      }
      const record: EpochRecord = {
        phase: o.phase,
        epoch,
        learningRate: rate,
        loss: lossSum / seen,
        accuracy: accSum / seen,
        validationLoss: val.loss,
        validationAccuracy: val.accuracy,
        ...(val.exactMatch !== undefined ? { validationExactMatch: val.exactMatch } : {}),
        seconds: (Date.now() - epochStart) / 1000,
        best: improved,
      };
      history.push(record);
      o.onEpoch?.(record);
      const sinceBest = epoch - best!.epoch;
      if (o.patience > 0 && sinceBest >= o.patience && epoch < o.epochs) {
        stoppedEarly = true;
        break;
      }
      rate = nextLearningRate(o.lrDecay, rate, sinceBest);
    }
    if (best) o.model.setWeights(best.weights);
  } finally {
    if (best) tf.dispose(best.weights);
    optimizer.dispose();
  }
  return { history, bestEpoch: best?.epoch ?? 0, monitor, stoppedEarly, interrupted, seconds: (Date.now() - started) / 1000, images };
}
