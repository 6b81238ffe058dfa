import * as tf from '@tensorflow/tfjs';
import type { Random } from '../prng';
import type { Augmenter } from './augment-image';
import { writeTargets, type Example, type ExampleLoader } from './dataset';

/**
 * Feeds: where a batch's model inputs come from. Images are loaded and prepared one batch at a
 * time (`streamBatches`), so memory holds one batch of inputs, never the data set.
 */
export interface Feed {
  /** Input shape of one example, without the batch axis. */
  shape: number[];
  /** The inputs of `examples`, concatenated; augmented when `random` is given and the feed augments. */
  batch(examples: readonly Example[], random?: Random): Promise<Float32Array>;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Lets the event loop run once. Without file reads (IDX data, precomputed features) a training
 * loop only ever awaits promises that are already resolved (wasm's tensor.data()), and Node would
 * not run a signal handler (Ctrl-C) until the loop ended. Called once per batch: microseconds.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Prepared images (through the server's recipe), optionally augmented for training batches. */
export function imageFeed(load: ExampleLoader, shape: number[], augment?: Augmenter): Feed {
  const size = sizeOf(shape);
  return {
    shape,
    async batch(examples, random) {
      // map() calls every load before any of them awaits, so a scene augmenter draws from
      // `random` in the batch's order: a seeded run stays reproducible.
      const inputs = await Promise.all(examples.map((e) => load(e, random)));
      const x = new Float32Array(examples.length * size);
      inputs.forEach((input, i) => {
        if (input.length !== size) throw new Error(`example ${examples[i]!.id}: prepared input has ${input.length} values, the model takes ${size} ([${shape.join(', ')}])`);
        x.set(augment && random ? augment(input, random) : input, i * size);
      });
      return x;
    },
  };
}

/** Runs `model` (inference mode) on a batch from `images`: frozen-base features of augmented images. */
export function featureFeed(extractor: tf.LayersModel, images: Feed): Feed {
  const shape = extractor.outputs[0]!.shape.slice(1) as number[];
  return {
    shape,
    async batch(examples, random) {
      const x = await images.batch(examples, random);
      const out = tf.tidy(() => extractor.predict(tf.tensor(x, [examples.length, ...images.shape])) as tf.Tensor);
      try {
        return (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
    },
  };
}

/** Features computed once per example (frozen base, no augmentation): a lookup. */
export function precomputedFeed(features: Map<Example, Float32Array>, shape: number[]): Feed {
  const size = sizeOf(shape);
  return {
    shape,
    async batch(examples) {
      const x = new Float32Array(examples.length * size);
      examples.forEach((e, i) => {
        const f = features.get(e);
        if (!f) throw new Error(`no precomputed features for ${e.id}`);
        x.set(f, i * size);
      });
      return x;
    },
  };
}

export interface Batch {
  examples: Example[];
  x: Float32Array;
}

/** One batch at a time: `examples` in slices of `batchSize`, each turned into inputs by `feed`. */
export async function* streamBatches(feed: Feed, examples: readonly Example[], batchSize: number, random?: Random): AsyncGenerator<Batch> {
  for (let start = 0; start < examples.length; start += batchSize) {
    const slice = examples.slice(start, start + batchSize);
    await yieldToEventLoop();
    yield { examples: slice, x: await feed.batch(slice, random) };
  }
}

/** [n, labels] targets: one-hot rows (single-label) or the 0/1 rows (multi-label). */
export function targetsOf(examples: readonly Example[], labels: number): Float32Array {
  const y = new Float32Array(examples.length * labels);
  examples.forEach((e, i) => writeTargets(e, y, i * labels));
  return y;
}

/** Runs `extractor` over `examples` once and keeps each example's feature vector (not its image). */
export async function precomputeFeatures(
  extractor: tf.LayersModel,
  images: Feed,
  examples: readonly Example[],
  batchSize: number,
  onBatch?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<Map<Example, Float32Array>> {
  const feed = featureFeed(extractor, images);
  const size = sizeOf(feed.shape);
  const features = new Map<Example, Float32Array>();
  for await (const batch of streamBatches(feed, examples, batchSize)) {
    batch.examples.forEach((e, i) => features.set(e, batch.x.slice(i * size, (i + 1) * size)));
    onBatch?.(features.size, examples.length);
    if (signal?.aborted) break;
  }
  return features;
}

/** Model outputs for `examples`, one row per example, in order (inference mode, no augmentation). */
export async function predictRows(model: tf.LayersModel, feed: Feed, examples: readonly Example[], batchSize: number): Promise<Float32Array[]> {
  const rows: Float32Array[] = [];
  for await (const batch of streamBatches(feed, examples, batchSize)) {
    const out = tf.tidy(() => model.predict(tf.tensor(batch.x, [batch.examples.length, ...feed.shape])) as tf.Tensor);
    const values = (await out.data()) as Float32Array;
    out.dispose();
    const width = values.length / batch.examples.length;
    for (let i = 0; i < batch.examples.length; i++) rows.push(values.slice(i * width, (i + 1) * width));
  }
  return rows;
}
