/**
 * TF Serving and KServe read their JSON bodies whatever the Content-Type says, and their clients
 * rely on it: `curl -d` sends x-www-form-urlencoded, `requests.post(data=json.dumps(...))` sends
 * none. Every /v1 and /v2 POST route must answer such bodies as if they were application/json,
 * and still refuse a body that is not JSON with a 400.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { jsonUnderAnyMediaType } from '../../src/api/json-bodies';
import { listOperations, loadSpec } from '../../src/api/spec';
import { SPEC_FILE } from '../../src/paths';
import { expectProblem } from '../support/problem';
import { fixture, useTestService } from '../support/service';

const service = useTestService();
const SEVEN = fixture('mnist', '7.png').toString('base64');
/** The README's KServe example: the same 7 as a [1, 28, 28, 1] FP32 tensor, asking for the top 3 classes. */
const V2_SEVEN = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'examples', 'requests', 'mnist-7.kserve.json'), 'utf8')) as object;

/** Every POST route of the two protocols, with a body that asks for the digit 7. */
const ROUTES: Array<{ path: string; body: object; seven: (body: Record<string, unknown>) => unknown }> = [
  { path: '/v1/models/mnist:predict', body: { instances: [{ b64: SEVEN }] }, seven: (b) => argmax((b.predictions as number[][])[0]!) },
  { path: '/v1/models/mnist/versions/1:predict', body: { instances: [{ b64: SEVEN }] }, seven: (b) => argmax((b.predictions as number[][])[0]!) },
  { path: '/v1/models/mnist:classify', body: { examples: [{ image: { b64: SEVEN } }] }, seven: (b) => (b.result as [string, number][][])[0]![0]![0] },
  { path: '/v1/models/mnist/versions/1:classify', body: { examples: [{ image: { b64: SEVEN } }] }, seven: (b) => (b.result as [string, number][][])[0]![0]![0] },
  { path: '/v2/models/mnist/infer', body: V2_SEVEN, seven: bestClass },
  { path: '/v2/models/mnist/versions/1/infer', body: V2_SEVEN, seven: bestClass },
];

function argmax(row: number[]): number {
  return row.indexOf(Math.max(...row));
}

/** The best class of a KServe classification answer: `"score:index:label"` strings, best first. */
function bestClass(body: Record<string, unknown>): string {
  return (body.outputs as Array<{ data: string[] }>)[0]!.data[0]!.split(':')[2]!;
}

it('the document declares exactly these routes as JSON under any media type', () => {
  const document = loadSpec(SPEC_FILE).document;
  const anyType = jsonUnderAnyMediaType(document);
  const declared = listOperations(document)
    .filter((op) => op.operationId !== undefined && anyType.has(op.operationId))
    .map((op) => op.path.replace('{name}', 'mnist').replace('{version}', '1'));
  expect(declared.sort()).toEqual(ROUTES.map((r) => r.path).sort());
});

describe.each(ROUTES)('POST $path', ({ path, body, seven }) => {
  const json = () => JSON.stringify(body);

  it.each([
    ['no Content-Type (requests.post(data=...))', undefined],
    ['x-www-form-urlencoded (curl -d)', 'application/x-www-form-urlencoded'],
    ['text/plain', 'text/plain'],
    ['application/json', 'application/json'],
  ])('%s: read as JSON, answers the 7', async (_what, contentType) => {
    const req = service.request.post(path);
    // supertest sets no Content-Type for a Buffer body; a string body would get one.
    const res = await (contentType === undefined ? req.send(Buffer.from(json())) : req.set('Content-Type', contentType).send(json()));
    expect(res.status).toBe(200);
    expect(String(seven(res.body as Record<string, unknown>))).toBe('7');
  });

  it('a body that is not JSON: 400 saying so, whatever the Content-Type', async () => {
    for (const contentType of [undefined, 'application/x-www-form-urlencoded', 'application/json']) {
      const req = service.request.post(path);
      const bytes = Buffer.from('instances=7&b64=abc');
      const res = await (contentType === undefined ? req.send(bytes) : req.set('Content-Type', contentType).send(bytes.toString()));
      const problem = expectProblem(res, 400);
      expect(problem.detail).toMatch(/not valid JSON/);
      expect(problem.error).toBe(problem.detail);
    }
  });
});

it('a multipart upload sent to a JSON route: 400 (not JSON), not a 5xx', async () => {
  const res = await service.request.post('/v1/models/mnist:predict').attach('file', fixture('mnist', '7.png'), '7.png');
  expect(expectProblem(res, 400).detail).toMatch(/not valid JSON/);
});

describe('an upload route without multipart', () => {
  it('no Content-Type: 415 that says none was sent and what the route takes', async () => {
    const problem = expectProblem(await service.request.post('/mnist/classify'), 415);
    expect(problem.detail).toBe('The request has no Content-Type header; POST /mnist/classify takes multipart/form-data (e.g. curl -F file=@digit.png).');
  });

  it('JSON sent to it: 415 naming the type sent', async () => {
    const problem = expectProblem(await service.request.post('/mnist/classify').send({ file: 'x' }), 415);
    expect(problem.detail).toMatch(/^Content-Type 'application\/json' is not accepted; POST \/mnist\/classify takes multipart\/form-data/);
  });
});
