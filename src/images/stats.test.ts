import fc from 'fast-check';
import { median } from './stats';

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
