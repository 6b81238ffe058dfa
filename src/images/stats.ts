/**
 * Statistics for the image recipes, all linear in the pixel count: histogram quantiles and Otsu's
 * threshold over values in a known range (4096 bins resolve 1/4096 of the range, far finer than
 * the 8-bit input), and an exact median by quickselect.
 */

// Math functions bound once per module: inside Jest's VM context every global lookup in a hot
// loop goes through the context's interceptors (measured 10-40x slower); module bindings do not.
const { max, min, round } = Math;

const BINS = 4096;

export interface Histogram {
  counts: Float64Array;
  min: number;
  max: number;
  total: number;
}

/** A new array of bin counts, for `histogram`'s `counts` (callers that histogram often reuse one). */
export function newBins(): Float64Array {
  return new Float64Array(BINS);
}

/**
 * Histogram of `values[i]` for the indices where `include` (if given) is non-zero; values are
 * clamped to [lo, hi]. `reuse` (from `newBins`, zeroed here) holds the bins; else a new array does.
 */
export function histogram(values: ArrayLike<number>, lo: number, hi: number, include?: ArrayLike<number>, reuse?: Float64Array): Histogram {
  const counts = reuse ? reuse.fill(0) : newBins();
  const scale = (BINS - 1) / (hi - lo || 1);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    if (include !== undefined && include[i] === 0) continue;
    const v = min(hi, max(lo, values[i]!));
    counts[round((v - lo) * scale)]! += 1;
    total++;
  }
  return { counts, min: lo, max: hi, total };
}

function binValue(h: Histogram, bin: number): number {
  return h.min + (bin * (h.max - h.min)) / (BINS - 1);
}

/** The q-quantile (0..1) of the histogrammed values; `NaN` when the histogram is empty. */
export function quantile(h: Histogram, q: number): number {
  if (h.total === 0) return Number.NaN;
  const target = min(h.total - 1, max(0, q * (h.total - 1)));
  // The first bin whose running count passes `target`. A high quantile is found from the top
  // (the same bin: the first one going down whose lower neighbours hold at most `target`), so
  // that neither end scans most of the 4096 bins.
  if (q > 0.5) {
    let atOrBelow = h.total;
    for (let b = BINS - 1; b > 0; b--) {
      atOrBelow -= h.counts[b]!;
      if (atOrBelow <= target) return binValue(h, b);
    }
    return binValue(h, 0);
  }
  let seen = 0;
  for (let b = 0; b < BINS; b++) {
    seen += h.counts[b]!;
    if (seen > target) return binValue(h, b);
  }
  return h.max;
}

/** Otsu's threshold: the cut that maximises the between-class variance. */
export function otsuThreshold(h: Histogram): number {
  let sumAll = 0;
  for (let b = 0; b < BINS; b++) sumAll += b * h.counts[b]!;
  let weightLow = 0;
  let sumLow = 0;
  let best = 0;
  let bestVariance = -1;
  for (let b = 0; b < BINS - 1; b++) {
    // An empty bin moves no weight across the cut: its variance equals the previous bin's, which
    // cannot beat it (strictly greater wins), so skipping it changes nothing and saves the division.
    if (h.counts[b] === 0) continue;
    weightLow += h.counts[b]!;
    sumLow += b * h.counts[b]!;
    const weightHigh = h.total - weightLow;
    if (weightLow === 0 || weightHigh === 0) continue;
    const meanLow = sumLow / weightLow;
    const meanHigh = (sumAll - sumLow) / weightHigh;
    const variance = weightLow * weightHigh * (meanLow - meanHigh) ** 2;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = b;
    }
  }
  return binValue(h, best + 0.5);
}

/** Median of `values` (reordered in place); 0 when empty. Quickselect: linear, unlike a sort. */
export function median(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  const upper = select(values, mid);
  if (n % 2 === 1) return upper;
  // After selecting `mid`, everything before it is <= it: the lower middle is their maximum.
  let lower = values[0]!;
  for (let i = 1; i < mid; i++) if (values[i]! > lower) lower = values[i]!;
  return (lower + upper) / 2;
}

/** Hoare's quickselect: reorders `a` so that a[k] is the k-th smallest, smaller ones before it; returns a[k]. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k]!;
}
