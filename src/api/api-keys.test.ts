import fc from 'fast-check';
import { ApiKeySet } from './api-keys';

describe('ApiKeySet', () => {
  it('accepts exactly the configured keys', () => {
    const keys = new ApiKeySet(['alpha-key', 'beta-key']);
    expect(keys.has('alpha-key')).toBe(true);
    expect(keys.has('beta-key')).toBe(true);
    for (const wrong of ['', 'alpha', 'alpha-key ', 'ALPHA-KEY', 'alpha-keyX', 'beta-key\n']) expect(keys.has(wrong)).toBe(false);
  });

  it('accepts nothing when empty, and counts duplicates once', () => {
    expect(new ApiKeySet([]).has('')).toBe(false);
    expect(new ApiKeySet(['k', 'k']).size).toBe(1);
  });

  it('a candidate matches iff it is one of the keys (any lengths, any prefix relation)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 80 }), { minLength: 1, maxLength: 5 }), fc.string({ maxLength: 80 }), (keys, candidate) => {
        expect(new ApiKeySet(keys).has(candidate)).toBe(keys.includes(candidate));
        expect(new ApiKeySet(keys).has(keys[0] as string)).toBe(true);
      }),
    );
  });
});
