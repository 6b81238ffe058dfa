/**
 * Hostile multipart bodies against the real app (response validation on): random and mutated
 * multipart/form-data bodies, random part headers, wrong field names, several files, many fields,
 * random request Content-Types and Content-Encodings, to every upload route (and to the JSON routes,
 * which also see multipart bodies parsed before the validator refuses their type). Every answer
 * must be < 500 and, when not 2xx, a well-formed problem+json (see `checkAnswer`).
 */
import fc from 'fast-check';
import { useTestService } from '../support/service';
import { checkAnswer, filePart, fuzzParams, multipartBody, type Part, propertyTimeout, SEVEN, trace, UPLOAD_ROUTES } from './support';

const service = useTestService();

/** Sends `body` byte for byte (supertest would JSON-encode a Buffer under a JSON content type). */
function postRaw(path: string, headers: Record<string, string>, body: Buffer) {
  trace(`POST ${path} ${JSON.stringify(headers)} ${body.length} bytes: ${JSON.stringify(body.subarray(0, 120).toString('latin1'))}`);
  return service.request
    .post(path)
    .set(headers)
    .serialize((data: unknown) => data as string)
    .send(body as unknown as string);
}

// ---- arbitraries ---------------------------------------------------------------------------

/** Characters Node lets a client put in a header value (so the request is sent at all). */
const headerChar = fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c));
const headerText = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
/** Any byte: part headers live in the body, where anything goes. */
const anyText = (maxLength: number) => fc.string({ unit: 'binary-ascii', maxLength });

/** RFC 2046 boundaries, and ones that break its rules. */
const boundaryArb = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/) },
  { weight: 1, arbitrary: headerText(90) },
  { weight: 1, arbitrary: fc.constantFrom('----WebKitFormBoundary7MA4YWxkTrZu0gW', 'a', '-', '--', ' x', 'x ') },
);

const fieldNameArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('file', 'image') },
  { weight: 2, arbitrary: fc.constantFrom('note', '', 'FILE', 'file[]', 'files', 'image ', '__proto__', 'constructor', 'file"; filename="x.png') },
  { weight: 1, arbitrary: anyText(20) },
);

const partContentTypeArb = fc.oneof(
  fc.constantFrom('image/png', 'image/jpeg', 'application/octet-stream', 'text/plain', 'image/webp', 'multipart/mixed; boundary=zz', ''),
  anyText(40),
);

const partBodyArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(SEVEN) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 1, arbitrary: fc.nat().map((n) => SEVEN.subarray(0, n % SEVEN.length)) },
  { weight: 1, arbitrary: anyText(80).map((t) => Buffer.from(t, 'latin1')) },
);

/** The Content-Disposition line of a part, well-formed or not. */
const dispositionArb = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fieldNameArb, anyText(20)).map(([n, f]) => `Content-Disposition: form-data; name="${n}"; filename="${f || 'x.png'}"`) },
  { weight: 2, arbitrary: fieldNameArb.map((n) => `Content-Disposition: form-data; name="${n}"`) },
  {
    weight: 2,
    arbitrary: fc.tuple(fieldNameArb, anyText(20), fc.nat()).map(([n, f, i]) => {
      const variants = [
        `Content-Disposition: form-data; name=${n}; filename=${f}`,
        `content-disposition: FORM-DATA; NAME="${n}"; FILENAME="${f}"`,
        `Content-Disposition: attachment; name="${n}"; filename="${f}"`,
        `Content-Disposition: form-data; filename*=UTF-8''%e2%82%ac%ff.png; name="${n}"`,
        `Content-Disposition: form-data; name="${n}"; name="other"; filename="${f}"`,
        `Content-Disposition: form-data; name="${n}`,
        'Content-Disposition: form-data;;; name=""; filename=""',
        'Content-Disposition:',
      ];
      return variants[i % variants.length]!;
    }),
  },
  { weight: 1, arbitrary: anyText(60) },
);

/** Extra header lines of a part: well-formed, junk, or a lot of them. */
const extraHeadersArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant<string[]>([]) },
  { weight: 2, arbitrary: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), anyText(40)).map(([k, v]) => `${k}: ${v}`), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(anyText(60), { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 90, max: 150 }).map((n) => Array.from({ length: n }, (_, i) => `X-H${i}: v`)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => [`X-Long: ${'a'.repeat(n)}`]) },
);

const partArb: fc.Arbitrary<Part> = fc
  .record({
    disposition: fc.option(dispositionArb, { freq: 8 }),
    contentType: fc.option(partContentTypeArb.map((t) => `Content-Type: ${t}`), { freq: 3 }),
    extra: extraHeadersArb,
    body: partBodyArb,
    order: fc.boolean(),
  })
  .map(({ disposition, contentType, extra, body, order }) => {
    const main = [disposition, contentType].filter((h): h is string => h !== null);
    return { headers: order ? [...main, ...extra] : [...extra, ...main], body };
  });

/** A well-formed single-file part in the route's own field (the base most mutations start from). */
const goodPartArb = (field: string) => fc.constant(filePart(field, '7.png', 'image/png', SEVEN));

/** What is done to the serialized body. */
const bodyMutationArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.nat().map((at) => ({ kind: 'truncate' as const, at })) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.integer({ min: 1, max: 4 })).map(([at, times]) => ({ kind: 'dup-boundary' as const, at, times })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'no-closing' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'lf-only' as const }) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([at, bytes]) => ({ kind: 'insert' as const, at, bytes })) },
  { weight: 2, arbitrary: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }).map((flips) => ({ kind: 'flip' as const, flips })) },
  { weight: 1, arbitrary: fc.tuple(anyText(40), anyText(40)).map(([preamble, epilogue]) => ({ kind: 'wrap' as const, preamble, epilogue })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((bytes) => ({ kind: 'random' as const, bytes })) },
);
type BodyMutation = typeof bodyMutationArb extends fc.Arbitrary<infer T> ? T : never;

function serialize(boundary: string, parts: Part[], mutation: BodyMutation): Buffer {
  const body = multipartBody(boundary, parts, { eol: mutation.kind === 'lf-only' ? '\n' : '\r\n', closing: mutation.kind !== 'no-closing' });
  switch (mutation.kind) {
    case 'none':
    case 'no-closing':
    case 'lf-only':
      return body;
    case 'truncate':
      return body.subarray(0, mutation.at % (body.length + 1));
    case 'dup-boundary': {
      const at = mutation.at % (body.length + 1);
      const line = Buffer.from(`\r\n--${boundary}\r\n`.repeat(mutation.times), 'latin1');
      return Buffer.concat([body.subarray(0, at), line, body.subarray(at)]);
    }
    case 'insert': {
      const at = mutation.at % (body.length + 1);
      return Buffer.concat([body.subarray(0, at), mutation.bytes, body.subarray(at)]);
    }
    case 'flip': {
      const out = Buffer.from(body);
      if (out.length > 0) for (const [at, bit] of mutation.flips) out[at % out.length]! ^= 1 << bit;
      return out;
    }
    case 'wrap':
      return Buffer.concat([Buffer.from(mutation.preamble, 'latin1'), Buffer.from('\r\n'), body, Buffer.from(mutation.epilogue, 'latin1')]);
    case 'random':
      return Buffer.from(mutation.bytes);
  }
}

/** The request's Content-Type: matching the body's boundary, or any of the ways to get it wrong. */
const contentTypeArb = (boundary: string) =>
  fc.oneof(
    // Quoted when it has characters a token may not (RFC 2045), so that a good boundary is declared well.
    { weight: 16, arbitrary: fc.constant(`multipart/form-data; boundary=${/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(boundary) ? boundary : `"${boundary}"`}`) },
    { weight: 1, arbitrary: fc.constant(`multipart/form-data; boundary="${boundary}"`) },
    { weight: 1, arbitrary: fc.constant(`MULTIPART/FORM-DATA; BOUNDARY=${boundary}; charset=utf-8`) },
    { weight: 1, arbitrary: boundaryArb.map((other) => `multipart/form-data; boundary=${other}`) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'multipart/form-data',
        'multipart/form-data; boundary=',
        'multipart/form-data; boundary="',
        `multipart/mixed; boundary=${boundary}`,
        `multipart/form-data; boundary=${boundary}; boundary=other`,
        'application/x-www-form-urlencoded',
        'application/json',
        'application/octet-stream',
        'text/plain; charset=utf-8',
        'image/png',
        '',
        ';',
        '/',
      ),
    },
    { weight: 1, arbitrary: headerText(60) },
  );

/** Now and then a Content-Encoding, which multer does not decode (and body-parser does). */
const encodingArb = fc.option(fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'x-unknown', 'gzip, br'), { freq: 8 });

/** Upload routes (with their expected field) and, now and then, a JSON route or a query string. */
const routeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...UPLOAD_ROUTES) },
  { weight: 1, arbitrary: fc.constantFrom({ path: '/v1/models/mnist:predict', field: 'file' }, { path: '/v2/models/mnist/infer', field: 'file' }, { path: '/models/nope/classify', field: 'file' }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('top_k', 'version', 'other', 'top_k[]'), fc.oneof(fc.integer({ min: -5, max: 2000 }).map(String), anyText(8)))
      .map(([key, value]) => ({ path: `/models/mnist/classify?${key}=${encodeURIComponent(value)}`, field: 'file' })),
  },
);

function headersOf(contentType: string, encoding: string | null): Record<string, string> {
  const headers: Record<string, string> = {};
  if (contentType !== '') headers['Content-Type'] = contentType;
  if (encoding !== null) headers['Content-Encoding'] = encoding;
  return headers;
}

/** A whole request: route, boundary, parts (some from `partArb`, often one good file), mutation, headers. */
const requestArb = routeArb.chain((route) =>
  boundaryArb.chain((boundary) =>
    fc.record({
      route: fc.constant(route),
      boundary: fc.constant(boundary),
      parts: fc.oneof(
        { weight: 3, arbitrary: fc.array(partArb, { maxLength: 4 }) },
        { weight: 3, arbitrary: goodPartArb(route.field).map((good) => [good]) },
        { weight: 3, arbitrary: fc.tuple(partBodyArb, partContentTypeArb).map(([body, type]) => [filePart(route.field, 'upload.png', type, body)]) },
        { weight: 2, arbitrary: fc.tuple(goodPartArb(route.field), fc.array(partArb, { maxLength: 2 })).map(([good, rest]) => [good, ...rest]) },
        { weight: 1, arbitrary: fc.array(fc.oneof(goodPartArb('file'), goodPartArb('image')), { minLength: 2, maxLength: 4 }) },
      ),
      mutation: bodyMutationArb,
      contentType: contentTypeArb(boundary),
      encoding: encodingArb,
    }),
  ),
);

// ---- properties ----------------------------------------------------------------------------

describe('fuzz: hostile multipart bodies get a 4xx problem+json, never a 5xx', () => {
  it(
    'random and mutated multipart requests to the upload routes',
    async () => {
      await fc.assert(
        fc.asyncProperty(requestArb, async ({ route, boundary, parts, mutation, contentType, encoding }) => {
          const body = serialize(boundary, parts, mutation);
          const res = await postRaw(route.path, headersOf(contentType, encoding), body);
          checkAnswer(res, `POST ${route.path} (${body.length} bytes, Content-Type ${JSON.stringify(contentType)}, mutation ${mutation.kind})`);
        }),
        fuzzParams(800),
      );
    },
    propertyTimeout(40_000),
  );

  it(
    'many parts: fields and files beyond the limits',
    async () => {
      const manyArb = fc.record({
        route: fc.constantFrom(...UPLOAD_ROUTES),
        fields: fc.integer({ min: 0, max: 400 }),
        files: fc.integer({ min: 0, max: 12 }),
        withGood: fc.boolean(),
        fieldSize: fc.constantFrom(0, 1, 100, 70_000),
      });
      await fc.assert(
        fc.asyncProperty(manyArb, async ({ route, fields, files, withGood, fieldSize }) => {
          const parts: Part[] = [];
          if (withGood) parts.push(filePart(route.field, '7.png', 'image/png', SEVEN));
          for (let i = 0; i < fields; i++) parts.push({ headers: [`Content-Disposition: form-data; name="f${i}"`], body: Buffer.alloc(i === 0 ? fieldSize : 1, 0x61) });
          for (let i = 0; i < files; i++) parts.push(filePart(i % 2 ? route.field : `x${i}`, `${i}.png`, 'image/png', SEVEN));
          const res = await postRaw(route.path, { 'Content-Type': 'multipart/form-data; boundary=b0undary' }, multipartBody('b0undary', parts));
          checkAnswer(res, `POST ${route.path} with ${fields} fields (first ${fieldSize} bytes), ${files} extra files, good file: ${withGood}`);
          if (res.status < 300) expect(withGood && fields === 0 && files === 0).toBe(true);
        }),
        fuzzParams(60),
      );
    },
    propertyTimeout(20_000),
  );

  it(
    'random bytes under random content types',
    async () => {
      const rawArb = fc.record({
        route: routeArb,
        contentType: fc.oneof(headerText(60), fc.constantFrom('multipart/form-data; boundary=x', 'application/json', 'text/plain', 'image/png')),
        body: fc.uint8Array({ maxLength: 1500 }).map((a) => Buffer.from(a)),
        encoding: encodingArb,
      });
      await fc.assert(
        fc.asyncProperty(rawArb, async ({ route, contentType, body, encoding }) => {
          const res = await postRaw(route.path, headersOf(contentType, encoding), body);
          checkAnswer(res, `POST ${route.path} (${body.length} random bytes, Content-Type ${JSON.stringify(contentType)})`);
        }),
        fuzzParams(400),
      );
    },
    propertyTimeout(20_000),
  );
});

describe('regressions found by the fuzzer', () => {
  it.each(['gzip', 'br', 'deflate'])('a JSON body whose Content-Encoding %s does not decompress: 400, not 500', async (encoding) => {
    const res = await postRaw('/v1/models/mnist:predict', { 'Content-Type': 'application/json', 'Content-Encoding': encoding }, Buffer.from('{"instances": [1]}'));
    checkAnswer(res, `Content-Encoding ${encoding}`);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/Content-Encoding/);
  });
});

describe('after the fuzzing', () => {
  it('the server still classifies 7.png as 7', async () => {
    const res = await service.request.post('/mnist/classify').attach('file', SEVEN, '7.png');
    expect(res.status).toBe(200);
    expect(res.body.digit).toBe(7);
  });
});
