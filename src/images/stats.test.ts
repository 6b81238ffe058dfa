import fc from 'fast-check';
import { histogram, median, newBins, quantile } from './stats';

/** The textbook median: sort, take the middle (or the mean of the two middles). */
function sortedMedian(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

describe('median (quickselect)', () => {
  it('agrees with sorting on small hand-made cases', () => {
    expect(median(Float64Array.of())).toBe(0);
    expect(median(Float64Array.of(5))).toBe(5);
    expect(median(Float64Array.of(3, 1))).toBe(2);
    expect(median(Float64Array.of(3, 1, 2))).toBe(2);
    expect(median(Float64Array.of(4, 4, 4, 1))).toBe(4);
    expect(median(Float64Array.of(-1, 7, 0, 0, 3, -2))).toBe(0);
  });

  it('equals the sorted middle for any array, duplicates and odd or even lengths included', () => {
    const value = fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -3, max: 3 }));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 300 }), (values) => {
        // Equal as numbers: which of 0 and -0 ties land in the middle may differ from sorting.
        expect(Math.abs(median(Float64Array.from(values)) - sortedMedian(values))).toBe(0);
      }),
      { numRuns: 500, examples: [[[0, -0, 0, 0, 5e-324, 1, 5e-324]]] },
    );
  });
});

describe('histogram quantiles', () => {
  /** The definition: the first bin whose running count from the bottom passes q * (total - 1). */
  function quantileFromBottom(values: readonly number[], q: number): number {
    const h = histogram(values, 0, 1);
    const target = Math.min(h.total - 1, Math.max(0, q * (h.total - 1)));
    let seen = 0;
    for (let b = 0; b < h.counts.length; b++) {
      seen += h.counts[b]!;
      if (seen > target) return b / (h.counts.length - 1);
    }
    return 1;
  }

  it('finds the same bin from either end, for any values and any q (high ones are searched from the top)', () => {
    const value = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, 0.5, 0.999));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 400 }), fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.001, 0.5, 0.999, 0.9999, 1)), (values, q) => {
        expect(quantile(histogram(values, 0, 1), q)).toBe(quantileFromBottom(values, q));
      }),
      { numRuns: 500 },
    );
  });

  it('reuses a bins array without carrying counts over from its last use', () => {
    const bins = newBins();
    histogram([1, 1, 1, 1], 0, 1, undefined, bins);
    const h = histogram([0, 0.25, 0.5], 0, 1, undefined, bins);
    expect(h.total).toBe(3);
    expect(bins.reduce((a, b) => a + b, 0)).toBe(3);
    expect(quantile(h, 1)).toBeCloseTo(0.5, 3);
  });
});
