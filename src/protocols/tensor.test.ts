import { ProblemError } from '../errors/errors';
import { checkBatchShape, exampleShapes, flattenNested, parseExample, splitBatch } from './tensor';

function badRequest(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ProblemError);
    expect((e as ProblemError).status).toBe(400);
    return (e as Error).message;
  }
  throw new Error('expected a 400');
}

describe('flattenNested', () => {
  it('reads the shape and the values in row-major order', () => {
    const { shape, values } = flattenNested([[[1], [2]], [[3], [4]], [[5], [6]]], 'x');
    expect(shape).toEqual([3, 2, 1]);
    expect(Array.from(values)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('takes a bare number as a scalar', () => {
    expect(flattenNested(2.5, 'x')).toEqual({ shape: [], values: Float32Array.of(2.5) });
  });

  it('refuses lists nested deeper than any input, before walking them', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(badRequest(() => flattenNested(deep, 'x'))).toMatch(/deeper than 32 levels/);
  });

  it('refuses ragged lists, saying where', () => {
    expect(badRequest(() => flattenNested([[1, 2], [3]], 'instances[0]'))).toMatch(/instances\[0\]\[1\]: ragged list: expected 2 elements/);
    expect(badRequest(() => flattenNested([[1, 2], 3], 'x'))).toMatch(/x\[1\]: ragged/);
  });

  it.each([
    ['a string', 'NaN', /the string "NaN"/],
    ['null', null, /null/],
    ['a boolean', true, /boolean true/],
    ['an object', { b64: 'x' }, /an object/],
    ['Infinity (never from JSON, but from a caller)', Infinity, /number Infinity/],
  ])('refuses %s where a number belongs', (_what, leaf, message) => {
    expect(badRequest(() => flattenNested([[0, leaf]], 'x'))).toMatch(message);
  });
});

describe('example shapes', () => {
  it('accepts a single-channel input with or without its channel axis', () => {
    expect(exampleShapes([28, 28, 1])).toEqual([[28, 28, 1], [28, 28]]);
    expect(exampleShapes([32, 32, 3])).toEqual([[32, 32, 3]]);
    expect(exampleShapes([10])).toEqual([[10]]);
  });

  it('says what was expected and what came', () => {
    const grid = Array.from({ length: 28 }, () => Array<number>(27).fill(0));
    expect(badRequest(() => parseExample(grid, [28, 28, 1], 'instances[2]'))).toBe(
      'instances[2]: wrong shape: expected [28, 28, 1] or [28, 28] per example, got [28, 27].',
    );
  });

  it('checks a batch shape and splits a batch into examples', () => {
    expect(checkBatchShape([3, 2, 2], [2, 2, 1], 'x')).toBe(3);
    expect(badRequest(() => checkBatchShape([0, 2, 2], [2, 2, 1], 'x'))).toMatch(/expected \[batch, 2, 2, 1\], got \[0, 2, 2\]/);
    expect(badRequest(() => checkBatchShape([4], [2, 2, 1], 'x'))).toMatch(/got \[4\]/);
    const rows = splitBatch({ shape: [2, 2, 1], values: Float32Array.of(1, 2, 3, 4) }, [2, 1], 'x');
    expect(rows.map((r) => Array.from(r))).toEqual([[1, 2], [3, 4]]);
  });
});
