/**
 * Hostile JSON against the real app (response validation on): random JSON values and structured
 * mutations of valid TF Serving (:predict, :classify) and KServe v2 (infer) bodies: wrong shapes,
 * NaN-ish strings, deep nesting, huge numbers, bad base64, wrong datatypes, oversized batches,
 * broken JSON text; plus random paths and methods. Every answer must be < 500 and, when not 2xx,
 * a well-formed problem+json (see `checkAnswer`).
 */
import fc from 'fast-check';
import { useTestService } from '../support/service';
import { checkAnswer, fuzzParams, propertyTimeout, SEVEN, trace } from './support';

const service = useTestService();

function postJsonText(path: string, text: string, contentType = 'application/json') {
  trace(`POST ${path} ${contentType} ${text.length} chars: ${text.slice(0, 200)}`);
  return service.request.post(path).set('Content-Type', contentType).send(text);
}

// ---- values --------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A 28x28 image as rows of pixels (0..1), the mnist/fashion/mnist-multilabel example shape. */
function image28(seed: number, channel: boolean): Json {
  return Array.from({ length: 28 }, (_, r) =>
    Array.from({ length: 28 }, (_, c) => {
      const v = ((r * 28 + c + seed) % 97) / 96;
      return channel ? [v] : v;
    }),
  );
}

const SEVEN_B64 = SEVEN.toString('base64');

/** Not numbers, though some look like them. */
const nanIshArb = fc.constantFrom('NaN', 'nan', 'Infinity', '-Infinity', 'inf', '1e999', '0x1F', '', ' 1', '1,5', '１', 'null', '[]', '{}', '\u0000', '1e-999');

/** Numbers at the edges of what doubles and float32 hold. */
const hugeNumberArb = fc.oneof(
  fc.double({ min: 1e37, max: 3.4028234663852886e38 }).chain((v) => fc.constantFrom(v, -v)),
  fc.constantFrom(1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 3.4028235e38, 3.5e38, -3.5e38, 2 ** 53 + 2, -(2 ** 63), 1e21, -0, 0.1 + 0.2),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/**
 * Lists (or objects) nested `depth` deep around a leaf. Held as a marker string and expanded in
 * the body's text (`expandDeep`): as a JS value it would overflow the stack of JSON.stringify and
 * of fast-check's reporting, here in the test, long before the server sees it.
 */
const DEEP_LEAVES = { z: '0', l: '[]', s: '"x"' } as const;
const deepArb = fc
  .tuple(fc.integer({ min: 30, max: 100_000 }), fc.constantFrom('o', 'l'), fc.constantFrom(...(Object.keys(DEEP_LEAVES) as (keyof typeof DEEP_LEAVES)[])))
  .map(([depth, kind, leaf]): Json => `~deep:${depth}:${kind}:${leaf}~`);

/** Expands the first few markers (a list repeated 1000 times must not become a 200 MB body); the rest become 0. */
function expandDeep(text: string): string {
  let expanded = 0;
  return text.replace(/"~deep:(\d+):([ol]):([zls])~"/g, (_, depth: string, kind: string, leaf: keyof typeof DEEP_LEAVES) => {
    if (++expanded > 2) return '0';
    const n = Number(depth);
    const value = DEEP_LEAVES[leaf];
    return kind === 'o' ? `${'{"a":'.repeat(n)}${value}${'}'.repeat(n)}` : `${'['.repeat(n)}${value}${']'.repeat(n)}`;
  });
}

/** Strings that are not base64 of an image: wrong alphabet, padding, length, or the right encoding of the wrong bytes. */
const badB64Arb = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom('', '=', '====', 'A', 'AA', 'AAA=', 'AAAAA', '!!!!', 'iVBORw0KGgo', 'iVBORw0KGgo=', 'data:image/png;base64,iVBORw0KGgo=', `${SEVEN_B64}=`, ` ${SEVEN_B64} `, SEVEN_B64.replace(/\+/g, '-').replace(/\//g, '_')),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('base64')),
  fc.nat().map((n) => SEVEN.subarray(0, n % SEVEN.length).toString('base64')),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(([at, bit]) => {
    const copy = Buffer.from(SEVEN);
    copy[at % copy.length]! ^= 1 << bit;
    return copy.toString('base64');
  }),
);

/** Datatypes other than the one the models take (FP32), and FP32 itself. */
const datatypeArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Json>('FP32') },
  { weight: 3, arbitrary: fc.constantFrom<Json>('FP64', 'FP16', 'INT32', 'INT64', 'UINT8', 'BOOL', 'BYTES', 'BF16', 'fp32', 'FP32 ', '', 'float32', 'DT_FLOAT') },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null)) as fc.Arbitrary<Json> },
);

/** Shapes around [1, 28, 28(, 1)]: wrong rank, sizes, signs, huge, fractional, not numbers. */
const shapeArb: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>([1, 28, 28], [1, 28, 28, 1], [2, 28, 28], [0, 28, 28], [1, 28, 27], [28, 28], [1, 784], [784], [], [1], [-1, 28, 28], [1, -28, -28], [1e9, 28, 28], [2 ** 31, 28, 28], [1001, 28, 28], [1, 28, 28, 1, 1], [1.5, 28, 28], ['1', 28, 28], [null, 28, 28], [1e308, 28, 28], [2 ** 53, 2 ** 53, 1]),
  fc.array(fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constant(2 ** 40)), { maxLength: 6 }),
);

/** Anything that can stand in for a value somewhere in a body. */
const replacementArb: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 2, arbitrary: nanIshArb },
  { weight: 2, arbitrary: hugeNumberArb },
  { weight: 1, arbitrary: deepArb },
  { weight: 2, arbitrary: badB64Arb.map((b64): Json => ({ b64 })) },
  { weight: 1, arbitrary: fc.constantFrom<Json>({ b64: 7 }, { b64: null }, { b64: SEVEN_B64, extra: 1 }, { b64: [SEVEN_B64] }, { image: { image: { b64: SEVEN_B64 } } }, JSON.parse(`{"__proto__": {"b64": "${SEVEN_B64}"}}`) as Json, { constructor: 1 }) },
  { weight: 1, arbitrary: datatypeArb },
  { weight: 1, arbitrary: shapeArb },
);

// ---- valid bodies, then mutations ----------------------------------------------------------

/** One example of a 28x28x1 model, in any of the forms the TF Serving routes accept. */
const exampleArb: fc.Arbitrary<Json> = fc.tuple(fc.nat(96), fc.integer({ min: 0, max: 4 })).map(([seed, form]): Json => {
  switch (form) {
    case 0:
      return image28(seed, false);
    case 1:
      return image28(seed, true);
    case 2:
      return { b64: SEVEN_B64 };
    case 3:
      return { image: { b64: SEVEN_B64 } };
    default:
      return { image: image28(seed, false) };
  }
});

const modelArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('mnist', 'fashion', 'mnist-multilabel') },
  { weight: 1, arbitrary: fc.constantFrom('imagenet', 'nope', 'mnist.', '-x', 'a'.repeat(201), '%2e%2e', 'mnist%00') },
);

const versionArb = fc.option(fc.oneof(fc.constantFrom('1', '2', '0', '-1', '999999999', '1000000000', '1.5', '1e3', 'x', '01'), fc.nat().map(String)), { freq: 4 });

interface Target {
  path: string;
  body: Json;
}

const tfPredictArb: fc.Arbitrary<Target> = fc
  .record({
    model: modelArb,
    version: versionArb,
    examples: fc.array(exampleArb, { minLength: 1, maxLength: 3 }),
    layout: fc.constantFrom('instances', 'inputs', 'inputs-named'),
    signature: fc.option(fc.constantFrom('', 'serving_default', 'predict', 'SERVING_DEFAULT'), { freq: 3 }),
  })
  .map(({ model, version, examples, layout, signature }) => {
    const body: Record<string, Json> = layout === 'instances' ? { instances: examples } : layout === 'inputs' ? { inputs: examples } : { inputs: { image: examples } };
    if (signature !== null) body.signature_name = signature;
    return { path: `/v1/models/${model}${version === null ? '' : `/versions/${version}`}:predict`, body };
  });

const tfClassifyArb: fc.Arbitrary<Target> = fc
  .record({ model: modelArb, version: versionArb, examples: fc.array(exampleArb, { minLength: 1, maxLength: 3 }), form: fc.constantFrom('examples', 'instances') })
  .map(({ model, version, examples, form }): Target => ({
    path: `/v1/models/${model}${version === null ? '' : `/versions/${version}`}:classify`,
    body: form === 'examples' ? { examples: examples.map((e): Json => (e !== null && typeof e === 'object' && !Array.isArray(e) && 'image' in e ? e : { image: e })) } : { instances: examples },
  }));

const kserveArb: fc.Arbitrary<Target> = fc
  .record({
    model: modelArb,
    version: versionArb,
    batch: fc.integer({ min: 1, max: 3 }),
    channel: fc.boolean(),
    flat: fc.boolean(),
    seed: fc.nat(96),
    id: fc.option(fc.string({ maxLength: 10 }), { freq: 3 }),
    classification: fc.option(fc.integer({ min: -1, max: 12 }), { freq: 2 }),
  })
  .map(({ model, version, batch, channel, flat, seed, id, classification }) => {
    const images = Array.from({ length: batch }, (_, i) => image28(seed + i, channel));
    const shape = channel ? [batch, 28, 28, 1] : [batch, 28, 28];
    const body: Record<string, Json> = { inputs: [{ name: 'image', datatype: 'FP32', shape, data: flat ? (images.flat(3) as Json[]) : images }] };
    if (id !== null) body.id = id;
    if (classification !== null) body.outputs = [{ name: 'probs', parameters: { classification } }];
    return { path: `/v2/models/${model}${version === null ? '' : `/versions/${version}`}/infer`, body };
  });

const validTargetArb = fc.oneof(tfPredictArb, tfClassifyArb, kserveArb);

/** Every path into a JSON value (object keys and list indexes), capped so a 28x28 list does not dominate. */
function pathsOf(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (out.length > 400) return out;
  if (Array.isArray(value)) value.slice(0, 3).forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

type Mutation =
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'delete'; at: number }
  | { kind: 'add-key'; at: number; key: string; value: Json }
  | { kind: 'wrap'; at: number }
  | { kind: 'unwrap'; at: number }
  | { kind: 'shorten'; at: number }
  | { kind: 'lengthen'; at: number }
  | { kind: 'repeat'; at: number; times: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: replacementArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add-key' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom('b64', 'image', 'instances', 'inputs', 'examples', 'outputs', 'context', 'signature_name', 'parameters', 'id', '__proto__', 'constructor'), fc.string({ maxLength: 8 })), value: replacementArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrap' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unwrap' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('shorten' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('lengthen' as const), at: fc.nat() }) },
  // Batches over MAX_BATCH_INSTANCES (1000) are 413, checked before any example is read.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), times: fc.constantFrom(999, 1000, 1001, 5000) }) },
);

/** Applies a mutation to a copy of `body`, at the `at`-th path (mod the number of paths). */
function mutate(body: Json, m: Mutation): Json {
  const root: { v: Json } = { v: structuredClone(body) };
  const paths = pathsOf(root.v);
  const at = paths[m.at % paths.length]!;
  // The parent of the node at `at`, and the node's key in it.
  let parent: Json | { v: Json } = root;
  let key: string | number = 'v';
  for (const step of at) {
    parent = (parent as Record<string | number, Json>)[key]!;
    key = step;
  }
  const holder = parent as Record<string | number, Json>;
  const node = holder[key]!;
  switch (m.kind) {
    case 'replace':
      holder[key] = m.value;
      break;
    case 'delete':
      if (Array.isArray(holder)) holder.splice(key as number, 1);
      else if (holder !== root) delete holder[key];
      break;
    case 'add-key':
      if (node !== null && typeof node === 'object' && !Array.isArray(node)) Object.defineProperty(node, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      break;
    case 'wrap':
      holder[key] = [node];
      break;
    case 'unwrap':
      if (Array.isArray(node) && node.length > 0) holder[key] = node[0]!;
      break;
    case 'shorten':
      if (Array.isArray(node)) node.pop();
      break;
    case 'lengthen':
      if (Array.isArray(node)) node.push(node.length > 0 ? structuredClone(node[node.length - 1]!) : 0);
      break;
    case 'repeat': {
      // Of a small value: the batch limit is checked before any example is read, and 1001 copies
      // of a 28x28 example would only test the body size limit, slowly.
      if (!Array.isArray(node) || node.length === 0) break;
      const item = JSON.stringify(node[0]).length <= 64 ? node[0]! : 0;
      holder[key] = Array.from({ length: m.times }, () => item);
      break;
    }
  }
  return root.v;
}

/** What happens to the body's text after JSON.stringify. */
const textMutationArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: 'truncate' as const, at })) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '01', '.5', '+1', '0x10', 'undefined', "'a'", '1_000')).map(([at, token]) => ({ kind: 'number-token' as const, at, token })) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 4 })).map(([at, text]) => ({ kind: 'insert' as const, at, text })) },
  { weight: 1, arbitrary: fc.constantFrom('\uFEFF', ' \n\t', '\u0000').map((prefix) => ({ kind: 'prefix' as const, prefix })) },
);
type TextMutation = typeof textMutationArb extends fc.Arbitrary<infer T> ? T : never;

function mutateText(text: string, m: TextMutation): string {
  switch (m.kind) {
    case 'none':
      return text;
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    case 'number-token': {
      // Replace the m.at-th number literal (JSON.stringify cannot write these tokens).
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)];
      if (numbers.length === 0) return text;
      const hit = numbers[m.at % numbers.length]!;
      return text.slice(0, hit.index) + m.token + text.slice(hit.index + hit[0].length);
    }
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'prefix':
      return m.prefix + text;
  }
}

// ---- properties ----------------------------------------------------------------------------

describe('fuzz: hostile JSON to the TF Serving and KServe routes gets a 4xx problem+json, never a 5xx', () => {
  it(
    'structured mutations of valid :predict, :classify and infer bodies',
    async () => {
      const arb = fc.record({ target: validTargetArb, mutations: fc.array(mutationArb, { maxLength: 3 }), text: textMutationArb });
      await fc.assert(
        fc.asyncProperty(arb, async ({ target, mutations, text }) => {
          let body = target.body;
          for (const m of mutations) body = mutate(body, m);
          const res = await postJsonText(target.path, mutateText(expandDeep(JSON.stringify(body) ?? 'null'), text));
          checkAnswer(res, `POST ${target.path} with ${JSON.stringify([...mutations.map((m) => m.kind), text.kind])}`);
        }),
        fuzzParams(600),
      );
    },
    propertyTimeout(40_000),
  );

  it(
    'any finite numbers as pixel values of a valid body',
    async () => {
      const pixelArb = fc.oneof(hugeNumberArb, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true }));
      const arb = fc.record({
        target: fc.constantFrom('/v1/models/mnist:predict', '/v1/models/fashion:classify', '/v2/models/mnist-multilabel/infer', '/v2/models/mnist/infer'),
        base: fc.double({ min: 0, max: 1, noNaN: true }),
        // Runs of equal values (a stroke of huge pixels overflows where one pixel does not).
        runs: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 }), pixelArb), { minLength: 1, maxLength: 4 }),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ target, base, runs }) => {
          const side = target.includes('multilabel') ? 56 : 28;
          const flat = new Array<number>(side * side).fill(base);
          for (const [at, length, v] of runs) flat.fill(v, at % flat.length, (at % flat.length) + length);
          const rows = Array.from({ length: side }, (_, r) => flat.slice(r * side, (r + 1) * side));
          const body = target.startsWith('/v2') ? { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, side, side], data: flat }] } : { instances: [rows] };
          const res = await service.request.post(target).send(body);
          checkAnswer(res, `POST ${target} with runs of pixels ${JSON.stringify(runs)}`);
        }),
        fuzzParams(150),
      );
    },
    propertyTimeout(20_000),
  );

  it(
    'random JSON values as the body',
    async () => {
      const arb = fc.record({
        path: fc.constantFrom('/v1/models/mnist:predict', '/v1/models/fashion:classify', '/v1/models/mnist/versions/1:predict', '/v2/models/mnist/infer', '/v2/models/mnist-multilabel/versions/1/infer', '/mnist/classify'),
        body: fc.oneof(
          fc.jsonValue() as fc.Arbitrary<Json>,
          fc.dictionary(fc.constantFrom('instances', 'inputs', 'examples', 'signature_name', 'outputs', 'id', 'parameters', 'context'), fc.jsonValue() as fc.Arbitrary<Json>),
          fc.record({ inputs: fc.array(fc.dictionary(fc.constantFrom('name', 'shape', 'datatype', 'data', 'parameters'), replacementArb), { maxLength: 2 }) }) as fc.Arbitrary<Json>,
        ),
        contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/vnd.api+json', 'text/json'),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ path, body, contentType }) => {
          const res = await postJsonText(path, expandDeep(JSON.stringify(body) ?? 'null'), contentType);
          checkAnswer(res, `POST ${path} (${contentType})`);
        }),
        fuzzParams(300),
      );
    },
    propertyTimeout(30_000),
  );

  it(
    'random paths and methods',
    async () => {
      const segment = fc.oneof(
        fc.constantFrom('v1', 'v2', 'models', 'mnist', 'versions', '1', 'infer', 'ready', 'metadata', 'health', 'live', ':predict', 'mnist:predict', 'mnist:classify', 'classify', 'predict', 'inference', 'scorefile', '', '..', '.', '%2F', '%00', '%ff', '%E0%A4%A', '%', '~', 'openapi.json', 'ui'),
        fc.string({ maxLength: 12 }).map(encodeURIComponent),
      );
      const arb = fc.record({
        method: fc.constantFrom('get', 'post', 'put', 'delete', 'patch', 'options', 'head'),
        segments: fc.array(segment, { minLength: 1, maxLength: 6 }),
        query: fc.option(fc.string({ maxLength: 20 }).map(encodeURIComponent), { freq: 4 }),
        trailingSlash: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ method, segments, query, trailingSlash }) => {
          const path = `/${segments.join('/')}${trailingSlash ? '/' : ''}${query === null ? '' : `?${query}=1`}`;
          const req = service.request[method](path);
          const res = method === 'post' || method === 'put' || method === 'patch' ? await req.send({ instances: [[0]] }) : await req;
          if (method === 'head') {
            if (res.status >= 500) throw new Error(`HEAD ${path}: ${res.status}`);
            return;
          }
          // Swagger UI's files (/ui...) answer HTML, CSS and redirects: any 2xx or 3xx passes here.
          checkAnswer(res, `${method.toUpperCase()} ${path}`, { anySuccess: true });
        }),
        fuzzParams(300),
      );
    },
    propertyTimeout(20_000),
  );
});

describe('regressions found by the fuzzer', () => {
  /** A 28x28 example of 0.1 with one pixel set to `v`. */
  const withPixel = (v: number) => Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => (r === 5 && c === 5 ? v : 0.1)));

  /** A 28x28 example with every pixel `v`. */
  const filled = (v: number) => Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => v));

  // Was 500: 3.4e38 is a finite FP32 value, but the model's sums overflow to NaN scores, which the
  // answer wrote as null (and response validation refused). Now 400 naming the example. (Every
  // pixel at 3.4e38: sums of such values with weights of both signs overflow to inf - inf = NaN
  // whatever the trained weights are; a single pixel did so only with some weights.)
  it.each([
    ['/v1/models/mnist:predict', { instances: [withPixel(0.5), filled(3.4e38)] }, /instances\[1\]: the model's output is not a number/],
    ['/v1/models/mnist:classify', { examples: [{ image: withPixel(0.2) }, { image: filled(3.4e38) }] }, /examples\[1\]: the model's output is not a number/],
    ['/v2/models/mnist/infer', { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28], data: [filled(3.4e38)] }] }, /example 0: the model's output is not a number/],
    // Beyond FP32 altogether (it would become Infinity): refused before the model runs.
    ['/v1/models/mnist:predict', { instances: [withPixel(1e308)] }, /instances\[0\]\[5\]\[5\]: 1e\+308 is outside the FP32 range/],
    ['/v2/models/mnist/infer', { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28], data: [withPixel(-1e39)] }] }, /data\[0\]\[5\]\[5\]: -1e\+39 is outside the FP32 range/],
  ])('POST %s with pixels whose scores overflow: 400, not 500', async (path, body, detail) => {
    const res = await service.request.post(path).send(body);
    checkAnswer(res, path);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(detail);
  });

  // Was a hang: the base64 check's regex backtracked exponentially on an invalid string (2^n in
  // its length: 30 characters took ~10 s, a few more took hours), blocking the event loop for good.
  // (Found as 7.png's base64 with a quote in it.) Kept short so that a regression fails, not hangs.
  it.each([
    ['/v1/models/mnist:predict', { instances: [{ b64: `${'A'.repeat(30)}!` }] }],
    ['/v1/models/mnist:classify', { examples: [{ image: { b64: `${SEVEN_B64.slice(0, 28)}'a'` } }] }],
  ])('POST %s with a long invalid b64 string: 400 at once', async (path, body) => {
    const started = Date.now();
    const res = await service.request.post(path).send(body);
    checkAnswer(res, path);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/not valid base64/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a large value that stays finite through the model is still answered', async () => {
    const res = await service.request.post('/v1/models/mnist:predict').send({ instances: [withPixel(1e30)] });
    expect(res.status).toBe(200);
  });
});

describe('after the fuzzing', () => {
  it('the server still classifies 7.png as 7', async () => {
    const res = await service.request.post('/mnist/classify').attach('file', SEVEN, '7.png');
    expect(res.status).toBe(200);
    expect(res.body.digit).toBe(7);
    const tf = await service.request.post('/v1/models/mnist:predict').send({ instances: [{ b64: SEVEN_B64 }] });
    expect(tf.status).toBe(200);
    const row = tf.body.predictions[0] as number[];
    expect(row.indexOf(Math.max(...row))).toBe(7);
  });
});
