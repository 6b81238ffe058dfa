import * as tf from '@tensorflow/tfjs';

/** The input layer's name in the networks `specserve train` builds (metadata.json records it). */
export const INPUT_NAME = 'image';

/**
 * tfjs-layers' Dropout passes its fixed `seed` to tf.dropout on every call, and tf.dropout builds
 * a fresh generator from it, so a seeded Dropout would drop the SAME units in every batch (and an
 * unseeded one uses Math.random). The trainer therefore gives each Dropout layer a new seed from
 * its own seeded PRNG before every batch: different masks, still reproducible.
 */
export function reseedDropout(model: tf.LayersModel, nextSeed: () => number): void {
  for (const layer of model.layers) {
    if (layer.getClassName() === 'Dropout') {
      // `seed` is private readonly in the typings but read at every call().
      (layer as unknown as { seed?: number }).seed = nextSeed();
    }
  }
}
