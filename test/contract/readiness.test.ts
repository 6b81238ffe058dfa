/**
 * The port opens before the models load (a cluster's liveness probe must see a live process while a
 * large store loads). Until the first read of the store has finished: liveness 200, readiness and
 * every model route 503 with Retry-After, never a 404 for a model that is only not loaded yet; then
 * everything serves. The store here has one model whose `source:` download the test holds open,
 * so "still loading" lasts exactly as long as the test wants.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import supertest from 'supertest';
import { openService, type Service } from '../../src/bootstrap';
import { loadConfig } from '../../src/config';
import { type LocalServer, localServer, MNIST_DIR, mnistArchive, tempDir } from '../support/model-source';
import { expectProblem } from '../support/problem';
import { fixture } from '../support/service';

let server: LocalServer;
let tmp: ReturnType<typeof tempDir>;
let service: Service | undefined;
let releaseDownload: () => void = () => undefined;

beforeAll(async () => {
  tmp = tempDir('specserve-readiness-');
  const archive = await mnistArchive(tmp.dir);
  const store = path.join(tmp.dir, 'store');
  cpSync(MNIST_DIR, path.join(store, 'mnist', '1'), { recursive: true });
  mkdirSync(path.join(store, 'slow'));
  const held = new Promise<void>((resolve) => (releaseDownload = resolve));
  server = await localServer({
    '/slow.tar.gz': (_req, res) => void held.then(() => res.writeHead(200, { 'content-length': archive.bytes.length }).end(archive.bytes)),
  });
  writeFileSync(path.join(store, 'slow', 'config.yaml'), `source:\n  url: ${server.origin}/slow.tar.gz\n  sha256: ${archive.sha256}\n`);
  service = await openService({ ...loadConfig({}), modelStore: store, validateResponses: true, pollSeconds: 0, workers: 1 });
});
afterAll(async () => {
  releaseDownload();
  await service?.close();
  await server.close();
  tmp.cleanUp();
});

const request = () => supertest(service!.app);

describe('while the store is loading', () => {
  it('liveness answers 200 (GET and HEAD)', async () => {
    expect((await request().get('/v2/health/live')).body).toEqual({ live: true });
    const head = await request().head('/v2/health/live');
    expect(head.status).toBe(200);
    expect(head.text ?? '').toBe('');
  });

  it('readiness answers 503 with Retry-After (GET and HEAD)', async () => {
    const res = await request().get('/v2/health/ready');
    expect(expectProblem(res, 503).detail).toMatch(/still loading/);
    expect(res.headers['retry-after']).toBe('1');
    const head = await request().head('/v2/health/ready');
    expect(head.status).toBe(503);
    expect(head.headers['retry-after']).toBe('1');
  });

  it.each([
    ['POST /mnist/classify', () => request().post('/mnist/classify').attach('file', fixture('mnist', '7.png'), '7.png')],
    ['POST /models/mnist/classify', () => request().post('/models/mnist/classify').attach('file', fixture('mnist', '7.png'), '7.png')],
    ['GET /v1/models/mnist', () => request().get('/v1/models/mnist')],
    ['GET /v1/models/slow/metadata', () => request().get('/v1/models/slow/metadata')],
    ['POST /v1/models/mnist:predict', () => request().post('/v1/models/mnist:predict').send({ instances: [{ b64: fixture('mnist', '7.png').toString('base64') }] })],
    ['GET /v2/models/mnist/ready', () => request().get('/v2/models/mnist/ready')],
    ['GET /v2/models/slow', () => request().get('/v2/models/slow')],
  ])('%s: 503 with Retry-After, not 404', async (_route, send) => {
    const res = await send();
    expectProblem(res, 503);
    expect(res.headers['retry-after']).toBe('1');
  });
});

describe('once loaded', () => {
  beforeAll(async () => {
    releaseDownload();
    await service!.loaded;
  });

  it('readiness answers 200 and the models serve', async () => {
    expect((await request().get('/v2/health/ready')).body).toEqual({ ready: true });
    expect((await request().head('/v2/health/ready')).status).toBe(200);
    for (const name of ['mnist', 'slow']) {
      const res = await request().post(`/models/${name}/classify?top_k=1`).attach('file', fixture('mnist', '7.png'), '7.png');
      expect({ name, status: res.status, label: res.body.predictions?.[0]?.label }).toEqual({ name, status: 200, label: '7' });
    }
  });

  it('while another serving thread of the process still loads: readiness 503, the loaded models serve', async () => {
    service!.lifecycle.othersLoading = true;
    try {
      const res = await request().get('/v2/health/ready');
      expect(expectProblem(res, 503).detail).toMatch(/still loading in another serving thread/);
      expect(res.headers['retry-after']).toBe('1');
      expect((await request().post('/mnist/classify').attach('file', fixture('mnist', '7.png'), '7.png')).body.digit).toBe(7);
    } finally {
      service!.lifecycle.othersLoading = false;
    }
    expect((await request().get('/v2/health/ready')).status).toBe(200);
  });

  it('a model the store does not have is now a 404', async () => {
    expect(expectProblem(await request().get('/v1/models/nothing'), 404).type).toBe('urn:specserve:problem:model-not-found');
  });
});
