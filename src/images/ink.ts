import { UnusableImage } from '../errors/errors';
import type { GrayImage } from './gray';
import { opening } from './morphology';
import { Scratch } from './scratch';
import { histogram, median, newBins, otsuThreshold, quantile } from './stats';

// Math functions bound once per module: inside Jest's VM context every global lookup in a hot
// loop goes through the context's interceptors (measured 10-40x slower); module bindings do not.
const { abs, ceil, floor, max, min, sqrt } = Math;

/**
 * Turns a grayscale photo, scan or drawing of one digit into an "ink map": 0 where the background
 * (paper) is, 1 where the ink is, whichever way round the original was, with uneven lighting,
 * paper tint, noise and isolated specks removed.
 *
 *  1. Polarity: the background is what the image border mostly shows (its median); the ink is
 *     what departs most strongly from it, darker (pen on paper) or lighter (chalk, MNIST-style
 *     white on black). The image is turned so that ink is positive.
 *  2. Background: a quadratic surface (paper colour plus smooth lighting gradients, vignetting)
 *     fitted by least squares, iteratively ignoring pixels more than 2 sigma on the ink side;
 *     where that leaves no ink standing out (a hard-edged shadow), a grey opening instead.
 *  3. Contrast: Otsu splits what rises above the surface into background and ink; the ink class's
 *     median maps to 1 and a floor above the noise (4 sigma, at least 10% of the ink level) to 0.
 *  4. Lines: ruled lines and paper margins (thin rows or columns inked across the whole picture)
 *     are erased, unless nearly all the ink is such a line (a lone "1" or a dash).
 *  5. Specks: connected blobs whose ink mass is under 5% of the largest blob are erased.
 * Throws `UnusableImage` when nothing stands out from the background (blank or uniform image).
 */
export function inkMap(img: GrayImage): GrayImage {
  const { width, height, data } = img;
  const border = borderMedian(img);
  const all = histogram(data, 0, 1, undefined, bins);
  const darkInk = border - quantile(all, 0.001) > quantile(all, 0.999) - border;
  const oriented = scratch.oriented.get(data.length);
  for (let i = 0; i < data.length; i++) oriented[i] = darkInk ? 1 - data[i]! : data[i]!;

  const surface = fitBackground({ width, height, data: oriented }, darkInk ? 1 - border : border);
  const ink = scratch.ink.get(oriented.length);
  for (let i = 0; i < ink.length; i++) ink[i] = oriented[i]! - surface.values[i]!;
  let contrast = inkContrast(ink, surface.sigma);
  if (!contrast) {
    // A smooth surface cannot follow a hard-edged shadow across the paper: the step swamps the
    // ink. Second try, only for pictures the first one gives up on: the background under each
    // pixel is the grey opening (the darkest level, then the brightest, over a window wider
    // than a stroke), which keeps a shadow's edge and drops the strokes.
    const background = opening(oriented, width, height, max(2, floor(0.08 * min(width, height))));
    for (let i = 0; i < ink.length; i++) ink[i] = oriented[i]! - background[i]!;
    contrast = inkContrast(ink, robustSigma(ink));
  }
  if (!contrast) {
    throw new UnusableImage('No digit found: the image is blank (nothing stands out from the background).');
  }
  const { level, sigma } = contrast;
  const zero = max(4 * sigma, 0.1 * level);
  const out = new Float32Array(ink.length);
  for (let i = 0; i < ink.length; i++) out[i] = min(1, max(0, (ink[i]! - zero) / (level - zero)));
  removeLines(out, width, height);
  removeSpecks(out, width, height);
  return { width, height, data: out };
}

/**
 * The ink level (the median of what Otsu puts in the ink class) of background-subtracted values,
 * or undefined when it does not stand clear of the background noise `sigma`.
 */
function inkContrast(ink: Float32Array, sigma: number): { level: number; sigma: number } | undefined {
  const positive = histogram(ink, 0, max(1e-3, quantile(histogram(ink, 0, 1, undefined, bins), 0.9999)), undefined, bins);
  const threshold = otsuThreshold(positive);
  const above = scratch.above.get(ink.length);
  for (let i = 0; i < ink.length; i++) above[i] = ink[i]! > threshold ? 1 : 0;
  const inkClass = histogram(ink, threshold, 1, above, bins);
  const level = quantile(inkClass, 0.5);
  return level >= max(6 * sigma, MIN_CONTRAST) ? { level, sigma } : undefined;
}

/** Robust standard deviation (from the median absolute deviation) of background-subtracted values. */
function robustSigma(values: Float32Array): number {
  // About 10,000 evenly spread samples are plenty for a median.
  const step = max(1, floor(values.length / 10_000));
  const sample = new Float64Array(ceil(values.length / step));
  for (let i = 0, j = 0; i < values.length; i += step, j++) sample[j] = values[i]!;
  const centre = median(sample.slice());
  for (let j = 0; j < sample.length; j++) sample[j] = abs(sample[j]! - centre);
  return max(1e-3, 1.4826 * median(sample));
}

/** Median of a frame 3% of the shorter side wide (at least 1 pixel) around the image. */
function borderMedian(img: GrayImage): number {
  const { width, height, data } = img;
  const ring = max(1, floor(0.03 * min(width, height)));
  const values = scratch.border.get(2 * ring * (width + height));
  let n = 0;
  for (let y = 0; y < height; y++) {
    const edgeRow = y < ring || y >= height - ring;
    for (let x = 0; x < width; x++) if (edgeRow || x < ring || x >= width - ring) values[n++] = data[y * width + x]!;
  }
  return median(values.subarray(0, n));
}

/**
 * This module's working arrays (scratch.ts): one per use, reused by the next image. Only `inkMap`'s
 * result is a new array.
 */
const scratch = {
  oriented: new Scratch(Float32Array),
  ink: new Scratch(Float32Array),
  above: new Scratch(Uint8Array),
  border: new Scratch(Float64Array),
  basis: new Scratch(Float64Array),
  values: new Scratch(Float64Array),
  residual: new Scratch(Float64Array),
  keep: new Scratch(Uint8Array),
  kept: new Scratch(Float64Array),
  surface: new Scratch(Float32Array),
  label: new Scratch(Int32Array),
  stack: new Scratch(Int32Array),
  keptPixels: new Scratch(Uint8Array),
};
/** The bins of every histogram here, each read before the next one is made. */
const bins = newBins();

/** Weakest ink/background contrast (on the 0..1 gray scale) that still counts as a drawn digit. */
const MIN_CONTRAST = 0.05;
/** Blobs lighter than this fraction of the heaviest blob are treated as specks. */
const SPECK_FRACTION = 0.05;
/** Pixels at least this inked join blobs; fainter ones only survive next to a kept blob. */
const BLOB_LEVEL = 0.25;

interface Surface {
  values: Float32Array;
  /** Robust (MAD-based) standard deviation of the background around the surface. */
  sigma: number;
}

/** The exponents (of u, of v) of the background's basis functions: 1, u, v, u², uv, v². */
const EXP = [
  [0, 0],
  [1, 0],
  [0, 1],
  [2, 0],
  [1, 1],
  [0, 2],
] as const;

/**
 * Least-squares fit of a + bx + cy + dx^2 + exy + fy^2 to the background of an image whose ink is
 * brighter than its background, starting from the flat level `initial`. Each round refits to the
 * pixels within [-4 sigma, +2 sigma] of the current surface (sigma from the median absolute
 * deviation): ink, always on the + side, drops out even when it covers a third of the picture.
 */
function fitBackground(img: GrayImage, initial: number): Surface {
  const { width, height, data } = img;
  const K = 6;
  const step = max(1, floor(sqrt((width * height) / 10_000))); // ~10k samples are plenty for 6 parameters
  const cols = ceil(width / step);
  const n = cols * ceil(height / step);
  const basis = scratch.basis.get(n * K); // the 6 basis functions at each sample point
  const values = scratch.values.get(n);
  let i = 0;
  for (let y = 0; y < height; y += step) {
    const v = height > 1 ? (2 * y) / (height - 1) - 1 : 0;
    for (let x = 0; x < width; x += step, i++) {
      const u = width > 1 ? (2 * x) / (width - 1) - 1 : 0;
      const o = i * K;
      basis[o] = 1;
      basis[o + 1] = u;
      basis[o + 2] = v;
      basis[o + 3] = u * u;
      basis[o + 4] = u * v;
      basis[o + 5] = v * v;
      values[i] = data[y * width + x]!;
    }
  }
  // The normal equations need only moments of the kept samples: Σ u^i v^j (i + j <= 4) for AᵀA
  // and Σ y·b_k for Aᵀy. Over the whole grid the u^i v^j sums are products of one-dimensional
  // sums, and Aᵀy takes three products per sample (by rows); each round then adds or removes
  // only the samples whose flag changed (after the first round mostly the ink). Summing the
  // 27 products of every kept sample in every round was most of the recipe's time.
  const moments = new Float64Array(25); // Σ u^i v^j at [i * 5 + j]
  const aty = new Float64Array(K); // Σ y·b_k
  let used = n;
  {
    const su = new Float64Array(5);
    const sv = new Float64Array(5);
    for (let x = 0; x < width; x += step) for (let i = 0, p = 1, u = basis[(x / step) * K + 1]!; i < 5; i++, p *= u) su[i]! += p;
    for (let s = 0; s < n; s += cols) for (let j = 0, p = 1, v = basis[s * K + 2]!; j < 5; j++, p *= v) sv[j]! += p;
    for (let i = 0; i < 5; i++) for (let j = 0; i + j < 5; j++) moments[i * 5 + j] = su[i]! * sv[j]!;
    for (let s0 = 0; s0 < n; s0 += cols) {
      let r0 = 0;
      let r1 = 0;
      let r2 = 0;
      for (let s = s0; s < s0 + cols; s++) {
        const y = values[s]!;
        const u = basis[s * K + 1]!;
        r0 += y;
        r1 += u * y;
        r2 += u * u * y;
      }
      const v = basis[s0 * K + 2]!;
      aty[0]! += r0;
      aty[1]! += r1;
      aty[2]! += v * r0;
      aty[3]! += r2;
      aty[4]! += v * r1;
      aty[5]! += v * v * r0;
    }
  }
  const account = (s: number, sign: 1 | -1) => {
    const o = s * K;
    const u = basis[o + 1]!;
    const v = basis[o + 2]!;
    for (let i = 0, pu = sign; i < 5; i++, pu *= u) for (let j = 0, p = pu; i + j < 5; j++, p *= v) moments[i * 5 + j]! += p;
    const y = sign * values[s]!;
    for (let k = 0; k < K; k++) aty[k]! += y * basis[o + k]!;
    used += sign;
  };
  let coef = [initial, 0, 0, 0, 0, 0];
  const residual = scratch.residual.get(n);
  const keep = scratch.keep.get(n).fill(1);
  const kept = scratch.kept.get(n);
  let sigma = 0;
  for (let iter = 0; iter < 5; iter++) {
    const [c0, c1, c2, c3, c4, c5] = coef as [number, number, number, number, number, number];
    for (let s = 0, o = 0; s < n; s++, o += K) {
      // basis[o] is 1
      residual[s] = values[s]! - (c0 + c1 * basis[o + 1]! + c2 * basis[o + 2]! + c3 * basis[o + 3]! + c4 * basis[o + 4]! + c5 * basis[o + 5]!);
    }
    let m = 0;
    for (let s = 0; s < n; s++) if (keep[s] === 1) kept[m++] = residual[s]!;
    const centre = median(kept.subarray(0, m));
    for (let s = 0; s < m; s++) kept[s] = abs(kept[s]! - centre);
    sigma = max(1e-3, 1.4826 * median(kept.subarray(0, m)));
    let changed = false;
    for (let s = 0; s < n; s++) {
      const r = residual[s]! - centre;
      const k = r <= 2 * sigma && r >= -4 * sigma ? 1 : 0;
      if (keep[s] !== k) {
        changed = true;
        keep[s] = k;
        account(s, k === 1 ? 1 : -1);
      }
    }
    // The fit depends only on which samples are kept: an unchanged set refits to the same surface,
    // so every further round would repeat this one exactly. Stopping here gives the same result.
    if (!changed && iter > 0) break;
    const solved = leastSquares();
    if (solved === undefined) break;
    coef = solved;
  }
  const [a, b, c, d, e, f] = coef as [number, number, number, number, number, number];
  const surface = scratch.surface.get(width * height);
  for (let y = 0; y < height; y++) {
    const v = height > 1 ? (2 * y) / (height - 1) - 1 : 0;
    for (let x = 0; x < width; x++) {
      const u = width > 1 ? (2 * x) / (width - 1) - 1 : 0;
      surface[y * width + x] = a + b * u + c * v + d * u * u + e * u * v + f * v * v;
    }
  }
  return { values: surface, sigma };

  function leastSquares(): number[] | undefined {
    if (used < 4 * K) return undefined;
    const ata = EXP.map(([a, b], r) => {
      const row = new Float64Array(K + 1);
      EXP.forEach(([c, d], col) => (row[col] = moments[(a + c) * 5 + b + d]!));
      row[K] = aty[r]!;
      row[r]! += 1e-6 * used; // tiny ridge: flat images stay well-posed
      return row;
    });
    return solve(ata);
  }
}

/** Gauss-Jordan elimination with partial pivoting on an augmented k x (k+1) matrix. */
function solve(m: Float64Array[]): number[] | undefined {
  const k = m.length;
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (abs(m[r]![col]!) > abs(m[pivot]![col]!)) pivot = r;
    if (abs(m[pivot]![col]!) < 1e-12) return undefined;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const row = m[col]!;
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const factor = m[r]![col]! / row[col]!;
      for (let c = col; c <= k; c++) m[r]![c]! -= factor * row[c]!;
    }
  }
  return m.map((row, r) => row[k]! / row[r]!);
}

/** A row (column) inked across at least this fraction of the picture's width (height) is a line. */
const LINE_SPAN = 0.9;
/** Lines thicker than this fraction of the picture (at least 2 px) are strokes, not ruling. */
const LINE_THICKNESS = 0.015;
/** What must be left after erasing lines; below it the "line" was the digit itself. */
const LINE_KEEP = 0.25;

/**
 * Erases ruled lines and paper margins in place: runs of at most LINE_THICKNESS consecutive rows
 * (columns) with ink >= BLOB_LEVEL across LINE_SPAN of the picture. A digit's strokes do not
 * span a picture that way unless it is cropped to the stroke, and then the check on what is left
 * keeps it. Without this, a notebook's margin rule became part of the digit's bounding box and
 * shrank the digit to a few pixels (the real-world set's ruled-paper photos).
 */
function removeLines(ink: Float32Array, width: number, height: number): void {
  // Most pictures have no line: the copy to restore from is taken at the first erasure only.
  let before: Float32Array | undefined;
  const inked = (i: number) => (ink[i]! >= BLOB_LEVEL ? 1 : 0);
  const sweep = (lines: number, along: number, at: (line: number, k: number) => number) => {
    const maxRun = max(2, ceil(LINE_THICKNESS * lines));
    const full = new Uint8Array(lines);
    for (let l = 0; l < lines; l++) {
      let n = 0;
      for (let k = 0; k < along; k++) n += inked(at(l, k));
      full[l] = n >= LINE_SPAN * along ? 1 : 0;
    }
    for (let l = 0; l < lines; ) {
      if (full[l] === 0) {
        l++;
        continue;
      }
      let end = l;
      while (end < lines && full[end] === 1) end++;
      if (end - l <= maxRun) {
        before ??= ink.slice();
        for (let m = l; m < end; m++) for (let k = 0; k < along; k++) ink[at(m, k)] = 0;
      }
      l = end;
    }
  };
  sweep(height, width, (y, x) => y * width + x);
  sweep(width, height, (x, y) => y * width + x);
  if (!before) return;
  let total = 0;
  let left = 0;
  for (let i = 0; i < ink.length; i++) {
    total += before[i]!;
    left += ink[i]!;
  }
  if (left < LINE_KEEP * total) ink.set(before);
}

/**
 * Erases specks in place: labels 8-connected blobs of pixels >= BLOB_LEVEL, keeps blobs with at
 * least SPECK_FRACTION of the heaviest blob's ink mass, and keeps fainter pixels only when they
 * touch a kept blob (the anti-aliased rim of a stroke).
 */
function removeSpecks(ink: Float32Array, width: number, height: number): void {
  const label = scratch.label.get(ink.length).fill(-1);
  const masses: number[] = [];
  const stack = scratch.stack.get(ink.length);
  for (let start = 0; start < ink.length; start++) {
    if (ink[start]! < BLOB_LEVEL || label[start] !== -1) continue;
    const id = masses.length;
    let mass = 0;
    let top = 0;
    stack[top++] = start;
    label[start] = id;
    while (top > 0) {
      const p = stack[--top]!;
      mass += ink[p]!;
      const px = p % width;
      const py = (p - px) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const y = py + dy;
        if (y < 0 || y >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const x = px + dx;
          if (x < 0 || x >= width) continue;
          const q = y * width + x;
          if (label[q] === -1 && ink[q]! >= BLOB_LEVEL) {
            label[q] = id;
            stack[top++] = q;
          }
        }
      }
    }
    masses.push(mass);
  }
  const heaviest = masses.reduce((a, b) => max(a, b), 0);
  const keptBlob = masses.map((m) => m >= SPECK_FRACTION * heaviest);
  const kept = scratch.keptPixels.zeroed(ink.length);
  for (let p = 0; p < ink.length; p++) if (label[p]! >= 0 && keptBlob[label[p]!]) kept[p] = 1;
  // Keep a one-pixel rim around kept blobs (3x3 dilation), erase everything else.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (kept[p] === 1 || ink[p] === 0) continue;
      let nearKept = false;
      for (let dy = -1; dy <= 1 && !nearKept; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < width && kept[yy * width + xx] === 1) {
            nearKept = true;
            break;
          }
        }
      }
      if (!nearKept) ink[p] = 0;
    }
  }
}
