/**
 * express-openapi-validator finds a request's operation by compiling the path-to-regexp pattern
 * of every route it tries, on every request, until one matches: for the routes late in
 * api/models.yaml (`/v1 ...:predict`, `/v2 .../infer`) that is twenty-odd compilations per
 * request on the main thread. The patterns are fixed at start-up, so the compiled matchers are
 * kept here. Upstream: cdimascio/express-openapi-validator#1217 ("perf: cache route matchers",
 * open); remove this once a release caches them itself.
 */
type PathToRegexp = (path: string, options?: Record<string, unknown>) => Compiled;
type Compiled = { regexp: RegExp; keys: unknown[] };

const installed = new WeakSet<object>();

/** Memoises the `pathToRegexp` export that express-openapi-validator calls (once per process). */
export function cacheValidatorRouteMatchers(): void {
  // The validator's own copy of path-to-regexp: it reads the export at every call.
  const file = require.resolve('path-to-regexp', { paths: [require.resolve('express-openapi-validator')] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the very module object the validator reads
  const module = require(file) as { pathToRegexp: PathToRegexp };
  if (installed.has(module)) return;
  const compile = module.pathToRegexp;
  // By pattern, then by the two flags the validator passes (sensitive, strict): four slots.
  // Keyed without serialising the options: this runs for every route tried on every request.
  const compiled = new Map<string, (Compiled | undefined)[]>();
  module.pathToRegexp = (path, options) => {
    // The result is only read (regexp.exec without the g flag keeps no state, keys are mapped).
    if (typeof path !== 'string' || !onlyCaseAndStrict(options)) return compile(path, options);
    const slot = (options?.sensitive ? 1 : 0) + (options?.strict ? 2 : 0);
    let slots = compiled.get(path);
    if (!slots) compiled.set(path, (slots = []));
    return (slots[slot] ??= compile(path, options));
  };
  installed.add(module);
}

/** Whether `options` sets nothing but `sensitive` and `strict` (anything else is compiled uncached). */
function onlyCaseAndStrict(options: Record<string, unknown> | undefined): boolean {
  for (const key in options) if (key !== 'sensitive' && key !== 'strict') return false;
  return true;
}
