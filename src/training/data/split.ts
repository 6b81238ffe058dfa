import { mulberry32, shuffleInPlace } from '../prng';
import type { DataSource, Example } from './dataset';

/**
 * The train / validation / test split of a data source, determined by the examples (in the
 * source's fixed order), the fractions and the seed only: `specserve evaluate` recomputes the
 * same split from the same data config to score a model on exactly its held-out images.
 *
 * Single-label data is split per class (stratified): each class gives round(n x fraction) of its
 * examples to validation and to test, so small classes are represented in both. Multi-label data
 * is split as a whole. Validation gets at least one example; a separate test set (idx.test_*,
 * test_path) replaces the test fraction.
 */

export interface Split {
  train: Example[];
  validation: Example[];
  test: Example[];
  /** split: carved from the examples; separate: the config's own test set; none: test_split 0. */
  testFrom: 'split' | 'separate' | 'none';
}

export interface SplitOptions {
  validation_split: number;
  test_split: number;
  seed: number;
  max_examples?: number;
}

/** Keeps the original relative order of `subset` (for stable reports). */
function inSourceOrder(subset: Example[], order: Map<Example, number>): Example[] {
  return subset.sort((a, b) => order.get(a)! - order.get(b)!);
}

export function splitExamples(source: Pick<DataSource, 'examples' | 'testExamples' | 'task' | 'labels'>, o: SplitOptions): Split {
  const random = mulberry32(o.seed);
  const order = new Map<Example, number>();
  source.examples.forEach((e, i) => order.set(e, i));
  source.testExamples?.forEach((e, i) => order.set(e, source.examples.length + i));
  let pool = [...source.examples];
  if (o.max_examples !== undefined && pool.length > o.max_examples) {
    pool = inSourceOrder(shuffleInPlace(pool, random).slice(0, o.max_examples), order);
  }
  const groups: Example[][] =
    source.task === 'single' ? source.labels.map((_, k) => pool.filter((e) => e.label === k)).filter((g) => g.length > 0) : [pool];
  const train: Example[] = [];
  const validation: Example[] = [];
  const test: Example[] = [];
  for (const group of groups) {
    shuffleInPlace(group, random);
    const nTest = Math.round(group.length * o.test_split);
    const nVal = Math.round(group.length * o.validation_split);
    test.push(...group.slice(0, nTest));
    validation.push(...group.slice(nTest, nTest + nVal));
    train.push(...group.slice(nTest + nVal));
  }
  // Rounding may leave a tiny data set without validation (or test) examples: take one from training.
  if (validation.length === 0 && train.length > 1) validation.push(train.pop()!);
  if (o.test_split > 0 && test.length === 0 && train.length > 1) test.push(train.pop()!);
  if (train.length === 0) throw new Error(`the split leaves no training examples (${pool.length} examples, validation_split ${o.validation_split}, test_split ${o.test_split})`);

  let testFrom: Split['testFrom'] = test.length > 0 ? 'split' : 'none';
  let testSet = test;
  if (source.testExamples) {
    testSet = [...source.testExamples];
    testFrom = 'separate';
  }
  return {
    train: shuffleInPlace(train, random),
    validation: inSourceOrder(validation, order),
    test: inSourceOrder(testSet, order),
    testFrom,
  };
}
