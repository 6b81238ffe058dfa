import * as tf from '@tensorflow/tfjs';
import { selectTrainingBackend } from './backend';
import { precomputedFeed, predictRows } from './data/batches';
import type { Example } from './data/dataset';
import { quickScores } from './evaluation';
import { fit, isBetter, nextLearningRate, type EpochRecord } from './fit';
import { mulberry32 } from './prng';
import { Progress } from './progress';

beforeAll(async () => {
  expect(await selectTrainingBackend('wasm')).toBe('wasm');
});

describe('nextLearningRate', () => {
  it('exponential multiplies every epoch; plateau only after `patience` epochs without improvement, down to the floor', () => {
    expect(nextLearningRate({ schedule: 'none' }, 0.1, 5)).toBe(0.1);
    expect(nextLearningRate({ schedule: 'exponential', factor: 0.5 }, 0.1, 0)).toBe(0.05);
    const plateau = { schedule: 'plateau' as const, factor: 0.5, patience: 2, min_learning_rate: 0.02 };
    expect([0, 1, 2, 3, 4].map((since) => nextLearningRate(plateau, 0.1, since))).toEqual([0.1, 0.1, 0.05, 0.1, 0.05]);
    expect(nextLearningRate(plateau, 0.03, 2)).toBe(0.02);
  });
});

describe('isBetter', () => {
  it('val_loss compares losses; val_accuracy compares accuracies and breaks ties with the loss', () => {
    const a = { loss: 0.03, accuracy: 0.99 };
    const b = { loss: 0.04, accuracy: 0.992 };
    expect(isBetter('val_loss', b, a)).toBe(false);
    expect(isBetter('val_accuracy', b, a)).toBe(true);
    expect(isBetter('val_accuracy', { loss: 0.029, accuracy: 0.99 }, a)).toBe(true);
    expect(isBetter('val_accuracy', { loss: 0.031, accuracy: 0.99 }, a)).toBe(false);
    expect(isBetter('val_accuracy', a, undefined)).toBe(true);
  });
});

describe('fit', () => {
  // 2-D points: training labels follow x > y; validation labels are the opposite, so the better the
  // model fits, the worse its validation loss: early stopping must trigger and keep epoch 1.
  const random = mulberry32(4);
  const points = (n: number, flip: boolean) => {
    const features = new Map<Example, Float32Array>();
    for (let i = 0; i < n; i++) {
      const p = Float32Array.of(random() * 2 - 1, random() * 2 - 1);
      features.set({ id: String(i), label: (p[0]! > p[1]!) !== flip ? 1 : 0 }, p);
    }
    return features;
  };
  const train = points(64, false);
  const validation = points(32, true);
  const model = () => {
    const input = tf.input({ shape: [2] });
    const output = tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: output });
  };
  const options = (m: tf.LayersModel) => ({
    phase: 'train',
    model: m,
    feed: precomputedFeed(train, [2]),
    validationFeed: precomputedFeed(validation, [2]),
    train: [...train.keys()],
    validation: [...validation.keys()],
    task: 'single' as const,
    labels: 2,
    epochs: 10,
    batchSize: 16,
    learningRate: 0.05,
    lrDecay: { schedule: 'exponential' as const, factor: 0.5 },
    seed: 3,
  });

  it('stops early on validation loss and restores the best epoch; the learning rate decays per epoch', async () => {
    const m = model();
    const epochs: EpochRecord[] = [];
    const r = await fit({ ...options(m), patience: 2, onEpoch: (e) => epochs.push(e) });
    expect(r.stoppedEarly).toBe(true);
    expect(r.history.length).toBeLessThan(10);
    expect(r.history.map((h) => h.learningRate).slice(0, 3)).toEqual([0.05, 0.025, 0.0125]);
    expect(epochs).toEqual(r.history);
    const best = r.history.reduce((a, b) => (b.validationLoss < a.validationLoss ? b : a));
    expect(r.bestEpoch).toBe(best.epoch);
    const now = quickScores(await predictRows(m, precomputedFeed(validation, [2]), [...validation.keys()], 64), [...validation.keys()], 'single');
    expect(now.loss).toBeCloseTo(best.validationLoss, 5);
    // The training loss itself went down.
    expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0]!.loss);
  });

  it('monitor val_accuracy keeps the epoch with the best validation accuracy (ties: lower loss)', async () => {
    const m = model();
    const r = await fit({ ...options(m), patience: 0, epochs: 6, monitor: 'val_accuracy' });
    expect(r.monitor).toBe('val_accuracy');
    const best = r.history.reduce((a, b) => (isBetter('val_accuracy', { loss: b.validationLoss, accuracy: b.validationAccuracy }, { loss: a.validationLoss, accuracy: a.validationAccuracy }) ? b : a));
    expect(r.bestEpoch).toBe(best.epoch);
    expect(r.history.filter((h) => h.best).at(-1)!.epoch).toBe(best.epoch);
    const now = quickScores(await predictRows(m, precomputedFeed(validation, [2]), [...validation.keys()], 64), [...validation.keys()], 'single');
    expect(now.accuracy).toBeCloseTo(best.validationAccuracy, 6);
  });

  it('is reproducible for a seed; an aborted signal stops before the first step', async () => {
    const a = await fit({ ...options(model()), patience: 0, epochs: 2 });
    const b = await fit({ ...options(model()), patience: 0, epochs: 2 });
    expect(b.history.map((h) => h.loss)).toEqual(a.history.map((h) => h.loss));
    const controller = new AbortController();
    controller.abort();
    expect(await fit({ ...options(model()), patience: 0, signal: controller.signal })).toMatchObject({ interrupted: true, bestEpoch: 0, history: [], images: 0 });
  });
});

describe('Progress', () => {
  it('draws a bar in place on a terminal, at most every 100 ms, and replaces it by the epoch line', () => {
    const out: string[] = [];
    let now = 0;
    const p = new Progress((t) => out.push(t), true, 10, () => now);
    p.batch({ phase: 'train', epoch: 1, epochs: 3, batch: 1, batches: 4, loss: 0.5, accuracy: 0.75, seconds: 0.2 });
    now = 50;
    p.batch({ phase: 'train', epoch: 1, epochs: 3, batch: 2, batches: 4, loss: 0.5, accuracy: 0.75, seconds: 0.2 });
    now = 200;
    p.batch({ phase: 'train', epoch: 1, epochs: 3, batch: 3, batches: 4, loss: 0.4, accuracy: 0.8, seconds: 0.3 });
    p.line('done');
    expect(out).toEqual([
      '\r\x1b[Ktrain epoch 1/3 [==>       ] 1/4 loss 0.5000 acc 0.7500 0.2s',
      '\r\x1b[Ktrain epoch 1/3 [=======>  ] 3/4 loss 0.4000 acc 0.8000 0.3s',
      '\r\x1b[Kdone\n',
    ]);
  });

  it('elsewhere prints lines only', () => {
    const out: string[] = [];
    const p = new Progress((t) => out.push(t), false);
    p.batch({ phase: 'train', epoch: 1, epochs: 3, batch: 1, batches: 4, loss: 0.5, accuracy: 0.75, seconds: 0.2 });
    p.epoch({ phase: 'head', epoch: 2, learningRate: 0.001, loss: 0.5, accuracy: 0.8, validationLoss: 0.6, validationAccuracy: 0.7, seconds: 1.25, best: true }, 5);
    expect(out).toEqual(['head epoch 2/5  lr 1.00e-3  loss 0.5000  acc 0.8000  val_loss 0.6000  val_acc 0.7000  1.3 s  *best\n']);
  });
});
