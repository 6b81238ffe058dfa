import { cacheValidatorRouteMatchers } from './route-matcher-cache';

type Compile = (path: string, options?: object) => { regexp: RegExp; keys: Array<{ name: string }> };

describe('cacheValidatorRouteMatchers', () => {
  const file = require.resolve('path-to-regexp', { paths: [require.resolve('express-openapi-validator')] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const validatorsCopy = () => (require(file) as { pathToRegexp: Compile }).pathToRegexp;

  it('compiles each route pattern once per options, and matches as before', () => {
    cacheValidatorRouteMatchers();
    cacheValidatorRouteMatchers(); // idempotent: not wrapped twice
    const compile = validatorsCopy();
    const a = compile('/v2/models/:name/infer', { sensitive: false, strict: false });
    expect(compile('/v2/models/:name/infer', { sensitive: false, strict: false })).toBe(a);
    expect(compile('/v2/models/:name/infer', { sensitive: true, strict: false })).not.toBe(a);
    expect(a.keys.map((k) => k.name)).toEqual(['name']);
    expect(a.regexp.exec('/v2/models/mnist/infer')?.[1]).toBe('mnist');
    expect(a.regexp.exec('/v2/models/mnist/infer')?.[1]).toBe('mnist'); // no state kept between calls
    expect(a.regexp.exec('/v2/models/mnist')).toBeNull();
  });

  it('compiles patterns with any other option every time, so they are never mixed up', () => {
    cacheValidatorRouteMatchers();
    const compile = validatorsCopy();
    const prefix = compile('/v2/models/:name', { end: false });
    expect(compile('/v2/models/:name', { end: false })).not.toBe(prefix);
    expect(prefix.regexp.exec('/v2/models/mnist/infer')?.[1]).toBe('mnist');
    expect(compile('/v2/models/:name', { sensitive: false, strict: false }).regexp.exec('/v2/models/mnist/infer')).toBeNull();
  });
});
