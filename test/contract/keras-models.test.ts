import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import { decodeToGray, DEFAULT_IMAGE_LIMITS } from '../../src/images';
import { DEFAULT_MODEL_STORE } from '../../src/paths';
import { editedKeras, kerasFixture, zipOf } from '../support/keras-files';
import { fixture, useTestService } from '../support/service';

/**
 * The seed flows end to end against the real server: a Keras MNIST .h5 dropped into the store as
 * mnist/2 answers POST /mnist/classify; the same file imported with `specserve import` as
 * keras-mnist/1 answers TF Serving's :predict. Broken Keras files are refused, each with its
 * file and reason, while the server keeps serving.
 */
const store = mkdtempSync(path.join(os.tmpdir(), 'specserve-keras-store-'));
cpSync(path.join(DEFAULT_MODEL_STORE, 'mnist', '1'), path.join(store, 'mnist', '1'), { recursive: true });
const CNN_H5 = kerasFixture('keras2', 'naonaorange-cnn_mnist.h5');

/** A version dropped in as a deploy should: written under a hidden name, then one rename. */
function dropIn(name: string, version: number, files: Record<string, string | Buffer>): string {
  const staging = path.join(store, `.staging-${name}-${version}`);
  mkdirSync(staging, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(staging, file), content);
  mkdirSync(path.join(store, name), { recursive: true });
  const dir = path.join(store, name, String(version));
  renameSync(staging, dir);
  return dir;
}

const service = useTestService({ modelStore: store });

it('a Keras .h5 dropped in as mnist/2 (no metadata.json) is picked up by hot reload and answers /mnist/classify', async () => {
  dropIn('mnist', 2, { 'model.h5': readFileSync(CNN_H5) });
  await service.models.reconcile();
  expect(service.models.versionStatus('mnist').map((s) => [s.version, s.state])).toEqual([
    [2, 'AVAILABLE'],
    [1, expect.stringMatching(/UNLOADING|END/)],
  ]);
  for (const digit of [0, 3, 7]) {
    const res = await service.request.post('/mnist/classify').attach('file', fixture('mnist', `${digit}.png`), `${digit}.png`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ digit, model: { name: 'mnist', version: 2 } });
    expect(res.body.confidence).toBeGreaterThan(0.9);
  }
});

it('the same file imported with `specserve import` as keras-mnist/1 answers TF Serving :predict', async () => {
  let stderr = '';
  const code = await main(['import', CNN_H5, '--name', 'keras-mnist', '--store', store], { stdout: () => undefined, stderr: (t) => void (stderr += t), env: { TFJS_BACKEND: 'wasm' } });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  await service.models.reconcile();
  const digits = await Promise.all([2, 9].map(async (d) => (await decodeToGray(fixture('mnist', `${d}.png`), DEFAULT_IMAGE_LIMITS)).data));
  const instances = digits.map((gray) => Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => [gray[y * 28 + x]!])));
  const res = await service.request.post('/v1/models/keras-mnist:predict').send({ instances });
  expect(res.status).toBe(200);
  const argmax = (row: number[]) => row.indexOf(Math.max(...row));
  expect(res.body.predictions.map(argmax)).toEqual([2, 9]);
  const meta = await service.request.get('/v1/models/keras-mnist/metadata');
  expect(meta.status).toBe(200);
  expect(JSON.stringify(meta.body)).toContain('conv2d_input');
});

describe('broken Keras files are refused naming the file and the reason; the server keeps serving', () => {
  const keras = kerasFixture('keras3', 'naonaorange-cnn_mnist.keras');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'specserve-keras-bad-'));
  const cases: Array<[string, string, () => Buffer, RegExp]> = [
    ['bad-truncated', 'model.h5', () => readFileSync(CNN_H5).subarray(0, 200_000), /truncated or corrupt/],
    ['bad-random', 'model.h5', () => Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 31 + 7) % 256)), /neither an HDF5 file/],
    ['bad-noconfig', 'model.keras', () => zipOf([{ name: 'model.weights.h5', data: Buffer.from('x') }]), /has no config\.json/],
    ['bad-traversal', 'model.keras', () => zipOf([{ name: '../config.json', data: Buffer.from('{}') }]), /climbs out of the archive/],
    ['bad-absolute', 'model.keras', () => zipOf([{ name: '/tmp/config.json', data: Buffer.from('{}') }]), /is an absolute path/],
    ['bad-bomb', 'model.keras', () => zipOf([{ name: 'config.json', data: Buffer.alloc(1000), deflate: true, declaredSize: 4_000_000_000 }]), /zip bomb/],
    [
      'bad-lambda',
      'model.keras',
      () =>
        readFileSync(
          editedKeras(keras, path.join(tmp, 'lambda.keras'), (c) => {
            (c.config as { layers: unknown[] }).layers.splice(1, 0, { class_name: 'Lambda', config: { name: 'my_lambda' } });
          }),
        ),
      /layer 'my_lambda' \(Lambda\) is not supported/,
    ],
    ['bad-weightsonly', 'model.h5', () => readFileSync(kerasFixture('keras3', 'weights_only.h5')), /weights only/],
  ];

  beforeAll(async () => {
    for (const [name, file, bytes] of cases) dropIn(name, 1, { [file]: bytes() });
    await service.models.reconcile();
  });

  it.each(cases)('%s', async (name, file, _bytes, reason) => {
    const [status] = service.models.versionStatus(name);
    expect(status).toMatchObject({ version: 1, state: 'END' });
    expect(status!.error).toContain(path.join(store, name, '1', file));
    expect(status!.error).toMatch(reason);
    const res = await service.request.post('/mnist/classify').attach('file', fixture('mnist', '4.png'), '4.png');
    expect(res.status).toBe(200);
    expect(res.body.digit).toBe(4);
  });
});

it('a Keras 3 .keras with a metadata.json (labels) serves under /models/{name}/classify with those labels', async () => {
  const labels = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  const dir = dropIn('keras3-digits', 1, { 'metadata.json': JSON.stringify({ labels }) });
  copyFileSync(kerasFixture('keras3', 'cnn_functional.keras'), path.join(dir, 'model.keras'));
  await service.models.reconcile();
  const res = await service.request.post('/models/keras3-digits/classify?top_k=1').attach('file', fixture('mnist', '8.png'), '8.png');
  expect(res.status).toBe(200);
  expect(res.body.predictions[0].label).toBe('eight');
});
