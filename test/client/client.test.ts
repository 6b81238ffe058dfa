import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import type { AddressInfo, Server } from 'node:net';
import path from 'node:path';
import { createSpecserveClient, SpecserveError, type SpecserveClient } from '../../client';
import { FIXTURES, fixture, useTestService } from '../support/service';

const ROOT = path.join(__dirname, '..', '..');
const service = useTestService();
let server: Server;
let client: SpecserveClient;

beforeAll(async () => {
  server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  client = createSpecserveClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('the typed client (client/) against the real app', () => {
  it('lists the models and classifies with each helper: Buffer, path and Blob inputs', async () => {
    const models = await client.listModels();
    expect(models.map((m) => m.name)).toEqual(expect.arrayContaining(['mnist', 'imagenet', 'fashion']));

    expect((await client.classifyDigit(fixture('mnist', '7.png'))).digit).toBe(7);
    const fromPath = await client.classify('mnist', path.join(FIXTURES, 'mnist', '3.png'), { topK: 2 });
    expect(fromPath.predictions.map((p) => p.label)[0]).toBe('3');
    expect(fromPath.predictions).toHaveLength(2);
    const fromBlob = await client.classify('mnist', new Blob([fixture('mnist', '2.png')]));
    expect(fromBlob.predictions[0]!.label).toBe('2');
    expect((await client.predict(path.join(FIXTURES, 'photos', 'dog.jpg')))[0]!.label).toBe('beagle');
  });

  it('speaks TF Serving and KServe v2 with tensors', async () => {
    const blank = Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [0]));
    const [row] = await client.tfServingPredict('mnist', [blank], { version: 1 });
    expect(row).toHaveLength(10);
    const answer = await client.v2Infer('mnist', { inputs: [{ name: 'image', shape: [1, 28, 28, 1], datatype: 'FP32', data: new Array(784).fill(0) }] });
    expect(answer.model_name).toBe('mnist');
    expect(answer.outputs[0]!.shape).toEqual([1, 10]);
  });

  it('explains (JSON and PNG) and reads a model card', async () => {
    const explanation = await client.explain('mnist', fixture('mnist', '7.png'), { patch: 7, stride: 7 });
    expect(explanation.class.label).toBe('7');
    expect(explanation.grid).toHaveLength(4);
    const png = await client.explainPng('mnist', fixture('mnist', '7.png'), { patch: 7, stride: 7 });
    expect(Buffer.from(png.subarray(1, 4)).toString('latin1')).toBe('PNG');
    const recorded = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'model-store', 'mnist', '1', 'metadata.json'), 'utf8')) as { training: { test: { accuracy: number } } };
    expect((await client.modelCard('mnist', 1)).metrics?.accuracy).toBe(recorded.training.test.accuracy);
  });

  it('throws a SpecserveError with the problem detail on errors', async () => {
    const error = await client.classify('letters', fixture('mnist', '7.png')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecserveError);
    expect((error as SpecserveError).status).toBe(404);
    expect((error as SpecserveError).message).toMatch(/No model named 'letters'/);
  });
});

describe('client/openapi.ts', () => {
  it('is what `npm run generate:client` makes of api/models.yaml today (not stale)', () => {
    const cli = path.join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
    const run = spawnSync(process.execPath, [cli, 'api/models.yaml', '-o', 'client/openapi.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect({ status: run.status, output: `${run.stdout}${run.stderr}`.includes('not up-to-date') ? 'stale: run npm run generate:client' : 'fresh' }).toEqual({ status: 0, output: 'fresh' });
  });
});
