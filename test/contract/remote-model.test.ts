import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type LocalServer, localServer, MNIST_DIR, mnistArchive, mnistFileRoutes, sha256, tempDir } from '../support/model-source';
import { fixture, startTestService, type TestService } from '../support/service';

/**
 * Models named by URL in config.yaml, end to end: the real app fetches and verifies them before it
 * scans the store, serves them, does not download them again after a restart, and reports a bad
 * one (wrong hash, a server that never answers) without stopping the others.
 */
let server: LocalServer;
let tmp: ReturnType<typeof tempDir>;
let archiveSha: string;
const held: Array<() => void> = [];

function configure(store: string, name: string, source: { url: string; sha256: string; version?: number }): void {
  mkdirSync(path.join(store, name), { recursive: true });
  const lines = [`source:`, `  url: ${source.url}`, `  sha256: ${source.sha256}`, ...(source.version ? [`  version: ${source.version}`] : [])];
  writeFileSync(path.join(store, name, 'config.yaml'), `${lines.join('\n')}\n`);
}

beforeAll(async () => {
  tmp = tempDir('specserve-remote-contract-');
  const archive = await mnistArchive(tmp.dir, { topFolder: 'digits' });
  archiveSha = archive.sha256;
  server = await localServer({
    '/models/digits.tar.gz': archive.bytes,
    ...mnistFileRoutes('/loose'),
    '/silent/model.tar.gz': (_req, res) => held.push(() => res.end()),
  });
});
afterAll(async () => {
  held.forEach((release) => release());
  await server.close();
  tmp.cleanUp();
});

describe('config.yaml source: the real app', () => {
  let store: string;
  let service: TestService | undefined;
  const start = async () => {
    service = await startTestService({ modelStore: store, download: { timeoutMs: 10_000, maxBytes: 50_000_000 } });
    return service;
  };
  beforeAll(() => {
    store = path.join(tmp.dir, 'store');
    configure(store, 'remote', { url: `${server.origin}/models/digits.tar.gz`, sha256: archiveSha });
    configure(store, 'loose', { url: `${server.origin}/loose/model.json`, sha256: sha256(readFileSync(path.join(MNIST_DIR, 'model.json'))), version: 3 });
    configure(store, 'broken', { url: `${server.origin}/models/digits.tar.gz`, sha256: 'f'.repeat(64) });
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('fetches, verifies and serves both kinds of source; refuses the wrong hash and serves the rest', async () => {
    const { request } = await start();
    for (const name of ['remote', 'loose']) {
      const res = await request.post(`/models/${name}/classify?top_k=1`).attach('file', fixture('mnist', '7.png'), '7.png');
      expect({ name, status: res.status, label: res.body.predictions?.[0]?.label }).toEqual({ name, status: 200, label: '7' });
    }
    expect((await request.get('/v1/models/loose')).body.model_version_status).toEqual([{ version: '3', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }]);

    const broken = await request.get('/v1/models/broken');
    expect(broken.status).toBe(200);
    expect(broken.body.model_version_status).toEqual([
      {
        version: '1',
        state: 'END',
        status: { error_code: 'UNKNOWN', error_message: expect.stringContaining(`sha256 mismatch for ${server.origin}/models/digits.tar.gz: expected ${'f'.repeat(64)}, got ${archiveSha}`) },
      },
    ]);
    expect(service?.models.modelError('broken')).toMatch(/broken\/config\.yaml: source version 1: sha256 mismatch/);
    expect(readdirSync(path.join(store, 'broken'))).toEqual(['config.yaml']); // nothing unpacked
    expect(readdirSync(path.join(store, '.cache'))).toEqual([`${archiveSha}.tar.gz`]); // the bad download was deleted
    expect(server.count('/models/digits.tar.gz')).toBe(2); // remote, and broken's attempt
  });

  it('after a restart, serves the fetched versions without downloading them again', async () => {
    const before = server.requests.length;
    const { request } = await start();
    expect((await request.post('/models/remote/classify?top_k=1').attach('file', fixture('mnist', '2.png'), '2.png')).body.predictions[0].label).toBe('2');
    // Only the refused model is tried again (a new process has no back-off memory).
    expect(server.requests.slice(before)).toEqual(['/models/digits.tar.gz']);
    expect(existsSync(path.join(store, 'remote', '1', '.source.json'))).toBe(true);
  });
});

it('fails to start when no model loads, saying why for each source', async () => {
  const store = path.join(tmp.dir, 'only-bad');
  configure(store, 'broken', { url: `${server.origin}/models/digits.tar.gz`, sha256: 'f'.repeat(64) });
  configure(store, 'slow', { url: `${server.origin}/silent/model.tar.gz`, sha256: 'a'.repeat(64) });
  configure(store, 'typo', { url: `${server.origin}/loose/model.json`, sha256: 'b'.repeat(63) });
  const attempt = startTestService({ modelStore: store, download: { timeoutMs: 500, maxBytes: 1_000 } });
  await expect(attempt).rejects.toThrow(`No model could be loaded from ${store}`);
  const message = await attempt.catch((e: Error) => e.message);
  expect(message).toMatch(/broken\/config\.yaml: source version 1: download .*\/models\/digits\.tar\.gz: Content-Length \d+ bytes is over the 1000-byte limit \(DOWNLOAD_MAX_BYTES\)/);
  expect(message).toMatch(/slow\/config\.yaml: source version 1: download .*\/silent\/model\.tar\.gz: timed out after 500 ms \(DOWNLOAD_TIMEOUT_MS\)/);
  expect(message).toMatch(/typo\/config\.yaml: \/source\/sha256 must be 64 hex characters/);
});
