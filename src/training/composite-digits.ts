import type { LabelledDigit } from './mnist-data';
import { mulberry32, shuffleInPlace, type Random } from './prng';

/**
 * Multi-label training images made of MNIST digits: a CANVAS x CANVAS black canvas as a 2x2 grid
 * of 28x28 cells, 1 to 3 DISTINCT digits in random cells, each moved by a small random jitter that
 * keeps all of its ink on the canvas; the label is the set of digits present. Pure TypeScript,
 * seeded (mulberry32): the same source digits, count and seed always give the same composites.
 *
 * Pixels are quantised to 8-bit levels (k/255), the values a PNG of the composite holds, so the
 * tensors training sees are exactly what the server's `resize` recipe makes of such a PNG.
 */

export const CELL = 28;
export const CANVAS = 2 * CELL;
export const CANVAS_PIXELS = CANVAS * CANVAS;
export const DIGIT_CLASSES = 10;

export interface CompositeOptions {
  /** Digits per image, uniform in [minDigits, maxDigits] (at most 4 cells, at most 10 classes). */
  minDigits: number;
  maxDigits: number;
  /** Max shift of a digit from its cell's origin, pixels, each axis (integer; limited by its ink). */
  maxJitter: number;
}

export const DEFAULT_COMPOSITE_OPTIONS: CompositeOptions = { minDigits: 1, maxDigits: 3, maxJitter: 3 };

/** One digit on the canvas: its 28x28 box has its top-left corner at (x, y) (may lie off the canvas where the box has no ink). */
export interface Placement {
  digit: LabelledDigit;
  /** 0..3: column = cell % 2, row = floor(cell / 2). */
  cell: number;
  x: number;
  y: number;
}

/** A composite before rendering: which digits, where. */
export interface CompositeSpec {
  placements: Placement[];
}

/** Ink bounding box of a 28x28 digit (inclusive), or undefined for an empty one. */
interface InkBox {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const inkBoxes = new WeakMap<Float32Array, InkBox | undefined>();

function inkBox(pixels: Float32Array): InkBox | undefined {
  if (inkBoxes.has(pixels)) return inkBoxes.get(pixels);
  let box: InkBox | undefined;
  for (let y = 0; y < CELL; y++) {
    for (let x = 0; x < CELL; x++) {
      if (pixels[y * CELL + x]! <= 0) continue;
      if (!box) box = { x0: x, x1: x, y0: y, y1: y };
      else {
        box.x0 = Math.min(box.x0, x);
        box.x1 = Math.max(box.x1, x);
        box.y0 = Math.min(box.y0, y);
        box.y1 = Math.max(box.y1, y);
      }
    }
  }
  inkBoxes.set(pixels, box);
  return box;
}

/** Uniform integer in [lo, hi]. */
function integerIn(random: Random, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

function checkOptions(o: CompositeOptions): void {
  if (!(Number.isInteger(o.minDigits) && Number.isInteger(o.maxDigits) && o.minDigits >= 1 && o.minDigits <= o.maxDigits && o.maxDigits <= 4)) {
    throw new Error(`composite-digits: need 1 <= minDigits <= maxDigits <= 4, got ${o.minDigits}..${o.maxDigits}`);
  }
  if (!(Number.isInteger(o.maxJitter) && o.maxJitter >= 0 && o.maxJitter < CELL)) {
    throw new Error(`composite-digits: maxJitter must be an integer in 0..${CELL - 1}, got ${o.maxJitter}`);
  }
}

/**
 * Cells and jitter for `digits` (distinct classes), drawn from `random`: the digits go to distinct
 * random cells, each shifted by up to maxJitter pixels per axis as far as its ink stays on the canvas.
 */
export function placeDigits(digits: LabelledDigit[], random: Random, maxJitter: number): Placement[] {
  const cells = shuffleInPlace([0, 1, 2, 3], random);
  return digits.map((digit, i) => {
    const cell = cells[i]!;
    const ox = (cell % 2) * CELL;
    const oy = Math.floor(cell / 2) * CELL;
    const box = inkBox(digit.pixels) ?? { x0: 0, x1: CELL - 1, y0: 0, y1: CELL - 1 };
    // Ink columns ox+dx+x0 .. ox+dx+x1 must lie in 0 .. CANVAS-1; dx = 0 always does.
    const dx = integerIn(random, Math.max(-maxJitter, -ox - box.x0), Math.min(maxJitter, CANVAS - 1 - ox - box.x1));
    const dy = integerIn(random, Math.max(-maxJitter, -oy - box.y0), Math.min(maxJitter, CANVAS - 1 - oy - box.y1));
    return { digit, cell, x: ox + dx, y: oy + dy };
  });
}

/**
 * `count` composite specs from `source` (which must contain every class 0..9), seeded by `seed`.
 * Per composite: n digits (uniform in the options' range), n distinct classes chosen uniformly,
 * for each class a uniformly chosen digit of `source`, then placeDigits.
 */
export function makeCompositeSpecs(
  source: readonly LabelledDigit[],
  count: number,
  seed: number,
  options: CompositeOptions = DEFAULT_COMPOSITE_OPTIONS,
): CompositeSpec[] {
  checkOptions(options);
  const byClass: LabelledDigit[][] = Array.from({ length: DIGIT_CLASSES }, () => []);
  for (const d of source) byClass[d.label]!.push(d);
  const missing = byClass.flatMap((list, label) => (list.length === 0 ? [label] : []));
  if (missing.length > 0) throw new Error(`composite-digits: no source digits of class ${missing.join(', ')}`);

  const random = mulberry32(seed);
  const specs: CompositeSpec[] = [];
  for (let i = 0; i < count; i++) {
    const n = integerIn(random, options.minDigits, options.maxDigits);
    const classes = shuffleInPlace([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], random).slice(0, n);
    const digits = classes.map((c) => {
      const list = byClass[c]!;
      return list[Math.floor(random() * list.length)]!;
    });
    specs.push({ placements: placeDigits(digits, random, options.maxJitter) });
  }
  return specs;
}

/**
 * The CANVAS x CANVAS image of `spec` (row-major, 0..1, light digits on black) into `out`: each
 * digit's pixels copied to its place (where two digits' boxes overlap, the brighter pixel), then
 * quantised to 8-bit levels k/255.
 */
export function renderComposite(spec: CompositeSpec, out: Float32Array = new Float32Array(CANVAS_PIXELS)): Float32Array {
  out.fill(0);
  for (const { digit, x, y } of spec.placements) {
    for (let r = 0; r < CELL; r++) {
      const cy = y + r;
      if (cy < 0 || cy >= CANVAS) continue;
      for (let c = 0; c < CELL; c++) {
        const cx = x + c;
        if (cx < 0 || cx >= CANVAS) continue;
        const v = digit.pixels[r * CELL + c]!;
        const i = cy * CANVAS + cx;
        if (v > out[i]!) out[i] = v;
      }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.round(out[i]! * 255) / 255;
  return out;
}

/** The 10 zeros/ones of `spec`: 1 at every digit present. */
export function labelVector(spec: CompositeSpec, out: Float32Array = new Float32Array(DIGIT_CLASSES)): Float32Array {
  out.fill(0);
  for (const p of spec.placements) out[p.digit.label] = 1;
  return out;
}

/** The digits present, ascending (e.g. [3, 7]); a fixture named `3-7.png` holds them. */
export function digitsOf(spec: CompositeSpec): number[] {
  return spec.placements.map((p) => p.digit.label).sort((a, b) => a - b);
}
