import type { Response } from 'supertest';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_IMAGE_LIMITS, decodeToGray } from '../../src/images';
import { DEFAULT_MODEL_STORE } from '../../src/paths';
import { expectProblem } from '../support/problem';
import { fixture, useTestService } from '../support/service';

/** A real MNIST digit, 784 values 0..1 in row-major order. */
async function digitValues(digit: number): Promise<number[]> {
  return Array.from((await decodeToGray(fixture('mnist', `${digit}.png`), DEFAULT_IMAGE_LIMITS)).data);
}

/** Asserts a problem that also carries the protocol's `error` member (the same text as `detail`). */
function expectV2Error(res: Response, status: number): string {
  const body = expectProblem(res, status);
  expect(body.error).toBe(body.detail);
  return body.detail as string;
}

const argmax = (row: number[]): number => row.indexOf(Math.max(...row));

const service = useTestService();

describe('metadata and readiness', () => {
  it('GET /v2: server name, version and extensions', async () => {
    const res = await service.request.get('/v2');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'specserve', version: expect.stringMatching(/^\d+\.\d+\.\d+/), extensions: ['classification'] });
  });

  it('GET /v2/models/{name}[/versions/{version}]: versions, platform, FP32 tensors with a -1 batch axis', async () => {
    const res = await service.request.get('/v2/models/mnist');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      name: 'mnist',
      versions: ['1'],
      // The shipped TF.js model, converted at load, runs on ONNX Runtime.
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 28, 28, 1] }],
      outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }],
    });
    expect((await service.request.get('/v2/models/mnist/versions/1')).body).toEqual(res.body);
    expectV2Error(await service.request.get('/v2/models/letters'), 404);
    expectV2Error(await service.request.get('/v2/models/mnist/versions/3'), 404);
  });

  it('GET /v2/models/{name}[/versions/{version}]/ready: 200 ready, 404 for an unknown model or version', async () => {
    expect((await service.request.get('/v2/models/mnist/ready')).body).toEqual({ name: 'mnist', ready: true });
    expect((await service.request.get('/v2/models/mnist/versions/1/ready')).body).toEqual({ name: 'mnist', ready: true });
    expectV2Error(await service.request.get('/v2/models/letters/ready'), 404);
    expectV2Error(await service.request.get('/v2/models/mnist/versions/3/ready'), 404);
  });

  it('keeps /v2/health/live and /v2/health/ready', async () => {
    expect((await service.request.get('/v2/health/live')).body).toEqual({ live: true });
    expect((await service.request.get('/v2/health/ready')).body).toEqual({ ready: true });
  });
});

describe('POST /v2/models/{name}[/versions/{version}]/infer', () => {
  const infer = (body: object, url = '/v2/models/mnist/infer') => service.request.post(url).send(body);
  const image = (data: unknown, shape = [1, 28, 28, 1], datatype = 'FP32') => ({ name: 'image', shape, datatype, data });

  it('reads real digits from flat data and answers the FP32 scores, echoing the id', async () => {
    const data = [...(await digitValues(3)), ...(await digitValues(5)), ...(await digitValues(0))];
    const res = await infer({ id: 'batch-1', inputs: [image(data, [3, 28, 28, 1])] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ model_name: 'mnist', model_version: '1', id: 'batch-1', outputs: [{ name: 'probs', datatype: 'FP32', shape: [3, 10], data: expect.any(Array) }] });
    const scores: number[] = res.body.outputs[0].data;
    expect([0, 1, 2].map((i) => argmax(scores.slice(i * 10, i * 10 + 10)))).toEqual([3, 5, 0]);
  });

  it('reads nested data without the channel axis on a pinned version, and generates an id', async () => {
    const values = await digitValues(6);
    const rows = Array.from({ length: 28 }, (_, y) => values.slice(y * 28, y * 28 + 28));
    const res = await infer({ inputs: [image([rows], [1, 28, 28])] }, '/v2/models/mnist/versions/1/infer');
    expect(res.status).toBe(200);
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(argmax(res.body.outputs[0].data)).toBe(6);
  });

  it('answers the classification extension as "score:index:label" strings, best first', async () => {
    const res = await infer({ inputs: [image(await digitValues(9))], outputs: [{ name: 'probs', parameters: { classification: 3 } }] });
    expect(res.status).toBe(200);
    const [output] = res.body.outputs;
    expect(output).toEqual({ name: 'probs', datatype: 'BYTES', shape: [1, 3], data: [expect.stringMatching(/^[\d.e-]+:9:9$/), expect.any(String), expect.any(String)] });
    const scores = output.data.map((s: string) => Number(s.split(':')[0]));
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  describe('errors (problem+json with `error`)', () => {
    it('unknown model or version: 404', async () => {
      expectV2Error(await infer({ inputs: [image(Array(784).fill(0))] }, '/v2/models/letters/infer'), 404);
      expectV2Error(await infer({ inputs: [image(Array(784).fill(0))] }, '/v2/models/mnist/versions/5/infer'), 404);
    });

    it('a datatype other than FP32: 400', async () => {
      expect(expectV2Error(await infer({ inputs: [image(Array(784).fill(0), undefined, 'INT32')] }), 400)).toMatch(/datatype INT32 is not supported/);
      expectV2Error(await infer({ inputs: [image(['aGVsbG8='], [1], 'BYTES')] }), 400);
    });

    it('a wrong shape, or data that does not fill it: 400 saying expected and got', async () => {
      expect(expectV2Error(await infer({ inputs: [image(Array(784).fill(0), [1, 784])] }), 400)).toMatch(/expected \[28, 28, 1\] or \[28, 28\] per example, got \[784\]/);
      expect(expectV2Error(await infer({ inputs: [image(Array(783).fill(0))] }), 400)).toMatch(/needs 784 values; data holds 783/);
    });

    it('a non-number in the data: 400', async () => {
      const data: unknown[] = Array(784).fill(0);
      data[10] = 'NaN';
      expect(expectV2Error(await infer({ inputs: [image(data)] }), 400)).toMatch(/data\[10\]: expected a finite number/);
    });

    it('an unknown input or output name, a classification beyond the labels: 400', async () => {
      expectV2Error(await infer({ inputs: [{ ...image(Array(784).fill(0)), name: 'pixels' }] }), 400);
      expectV2Error(await infer({ inputs: [image(Array(784).fill(0))], outputs: [{ name: 'logits' }] }), 400);
      expectV2Error(await infer({ inputs: [image(Array(784).fill(0))], outputs: [{ name: 'probs', parameters: { classification: 11 } }] }), 400);
    });

    it('a batch over the limit: 413, before the data is read', async () => {
      expect(expectV2Error(await infer({ inputs: [image([], [1001, 28, 28])] }), 413)).toMatch(/1001 instances/);
    });

    it('invalid JSON, a body the document refuses: 400', async () => {
      expectProblem(await service.request.post('/v2/models/mnist/infer').set('Content-Type', 'application/json').send('{"inputs": [}'), 400);
      expectProblem(await infer({ inputs: [] }), 400);
    });
  });
});

describe('a model that cannot serve', () => {
  const store = mkdtempSync(path.join(os.tmpdir(), 'specserve-v2-'));
  cpSync(path.join(DEFAULT_MODEL_STORE, 'mnist', '1'), path.join(store, 'mnist', '1'), { recursive: true });
  for (const dir of [path.join(store, 'mnist', '2'), path.join(store, 'letters', '1')]) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'metadata.json'), '{}');
  }
  writeFileSync(path.join(store, 'mnist', 'config.yaml'), 'version_policy: { all: true }\n');
  const broken = useTestService({ modelStore: store });

  it('is not ready: 503 (as KServe answers ModelNotReady), for the model or the failed version', async () => {
    expect(expectV2Error(await broken.request.get('/v2/models/letters/ready'), 503)).toMatch(/not ready/);
    expect(expectV2Error(await broken.request.get('/v2/models/mnist/versions/2/ready'), 503)).toMatch(/version 2 is not ready \(END\)\.$/);
    expect((await broken.request.get('/v2/models/mnist/ready')).body).toEqual({ name: 'mnist', ready: true });
    expectV2Error(await broken.request.post('/v2/models/letters/infer').send({ inputs: [{ name: 'image', shape: [1], datatype: 'FP32', data: [0] }] }), 503);
  });
});
