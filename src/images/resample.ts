import type { GrayImage } from './gray';

// Math functions bound once per module: inside Jest's VM context every global lookup in a hot
// loop goes through the context's interceptors (measured 10-40x slower); module bindings do not.
const { ceil, floor, max, min, round } = Math;

/** For each output index along one axis: the first source index and the weights that follow it. */
interface AxisTaps {
  start: Int32Array;
  weights: Float32Array[];
}

/**
 * Taps for output pixel j covering the source interval [origin + j*step, origin + (j+1)*step)
 * (continuous coordinates: source pixel i covers [i, i+1)). When step >= 1 (shrinking) the output
 * is the area average of what the interval covers, partly covered pixels weighted by the covered
 * fraction: the anti-aliasing of MNIST's size normalisation. When step < 1 (enlarging) it is the
 * bilinear sample at the interval's centre. Source pixels outside [0, srcSize) count as 0.
 */
function axisTaps(srcSize: number, dstSize: number, origin: number, step: number): AxisTaps {
  const start = new Int32Array(dstSize);
  const weights: Float32Array[] = [];
  for (let j = 0; j < dstSize; j++) {
    const from = origin + j * step;
    const to = from + step;
    let first: number;
    let w: number[];
    if (step >= 1) {
      first = max(0, floor(from));
      const last = min(srcSize - 1, ceil(to) - 1);
      w = [];
      for (let i = first; i <= last; i++) w.push((min(to, i + 1) - max(from, i)) / step);
    } else {
      const p = (from + to) / 2 - 0.5; // the sample point, in index coordinates
      const i0 = floor(p);
      const pairs = [
        [i0, 1 - (p - i0)],
        [i0 + 1, p - i0],
      ].filter(([i]) => i! >= 0 && i! < srcSize);
      first = pairs.length > 0 ? pairs[0]![0]! : 0;
      w = pairs.map(([, weight]) => weight!);
    }
    start[j] = first;
    weights.push(Float32Array.from(w));
  }
  return { start, weights };
}

/** The part of the source plane an output grid looks at: origin and step (source pixels per output pixel) on each axis. */
export interface SampleGrid {
  width: number;
  height: number;
  originX: number;
  originY: number;
  stepX: number;
  stepY: number;
}

/**
 * Samples `src` on an axis-aligned output grid (see `axisTaps`): area averaging on an axis that
 * shrinks, bilinear on one that grows, zero outside the source. Separable (rows, then columns), so
 * reducing a 12 MP photo costs one pass over its pixels.
 */
export function resample(src: GrayImage, grid: SampleGrid): GrayImage {
  const w = grid.width;
  const h = grid.height;
  // The grid is the image itself (a decoder already delivered it): nothing to sample.
  if (w === src.width && h === src.height && grid.stepX === 1 && grid.stepY === 1 && grid.originX === 0 && grid.originY === 0) return src;
  const tx = axisTaps(src.width, w, grid.originX, grid.stepX);
  const ty = axisTaps(src.height, h, grid.originY, grid.stepY);
  // Only the source rows some output row uses need the horizontal pass.
  const rowLo = max(0, min(...ty.start));
  let rowHi = rowLo - 1;
  ty.weights.forEach((wj, j) => (rowHi = max(rowHi, ty.start[j]! + wj.length - 1)));
  rowHi = min(src.height - 1, rowHi);
  const rows = max(0, rowHi - rowLo + 1);
  const tmp = new Float32Array(rows * w);
  for (let r = 0; r < rows; r++) {
    const row = (rowLo + r) * src.width;
    for (let j = 0; j < w; j++) {
      const wj = tx.weights[j]!;
      let acc = 0;
      for (let k = 0, i = row + tx.start[j]!; k < wj.length; k++, i++) acc += wj[k]! * src.data[i]!;
      tmp[r * w + j] = acc;
    }
  }
  const out = new Float32Array(w * h);
  for (let j = 0; j < h; j++) {
    const wj = ty.weights[j]!;
    const first = ty.start[j]! - rowLo;
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = 0; k < wj.length; k++) acc += wj[k]! * tmp[(first + k) * w + x]!;
      out[j * w + x] = acc;
    }
  }
  return { width: w, height: h, data: out };
}

/** Resizes the whole image to width x height (rounded, at least 1). */
export function resize(src: GrayImage, width: number, height: number): GrayImage {
  const w = max(1, round(width));
  const h = max(1, round(height));
  return resample(src, { width: w, height: h, originX: 0, originY: 0, stepX: src.width / w, stepY: src.height / h });
}

/** The sub-image [x0, x0+width) x [y0, y0+height). */
export function crop(src: GrayImage, x0: number, y0: number, width: number, height: number): GrayImage {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    out.set(src.data.subarray((y0 + y) * src.width + x0, (y0 + y) * src.width + x0 + width), y * width);
  }
  return { width, height, data: out };
}
