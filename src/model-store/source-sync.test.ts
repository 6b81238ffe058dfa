import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type LocalServer, localServer, mnistArchive, tempDir } from '../../test/support/model-source';
import { createSourceSync } from './source-sync';

let server: LocalServer;
let tmp: ReturnType<typeof tempDir>;
let store: string;
let archive: { bytes: Buffer; sha256: string };
let clock: number;
const ARCHIVE = '/m/mnist.tar.gz';
const sync = () => createSourceSync({ limits: { timeoutMs: 5_000, maxBytes: 50_000_000 }, retry: { firstMs: 1_000, maxMs: 4_000 }, now: () => clock });
const configure = (name: string, sha256: string, version = 1) => {
  mkdirSync(path.join(store, name), { recursive: true });
  writeFileSync(path.join(store, name, 'config.yaml'), `source:\n  url: ${server.origin}${ARCHIVE}\n  sha256: ${sha256}\n  version: ${version}\n`);
};

beforeAll(async () => {
  const build = tempDir('specserve-archive-');
  archive = await mnistArchive(build.dir);
  build.cleanUp();
  server = await localServer({ [ARCHIVE]: archive.bytes });
});
afterAll(() => server.close());
beforeEach(() => {
  tmp = tempDir('specserve-sync-');
  store = tmp.dir;
  server.requests.length = 0;
  clock = 0;
});
afterEach(() => tmp.cleanUp());

describe('createSourceSync', () => {
  it('ignores models without a source, and a store that cannot be read', async () => {
    mkdirSync(path.join(store, 'local', '1'), { recursive: true });
    writeFileSync(path.join(store, 'local', 'config.yaml'), 'version_policy: { all: true }\n');
    expect(await sync()(store)).toEqual({ errors: new Map(), replaced: new Set() });
    expect(await sync()(path.join(store, 'missing'))).toEqual({ errors: new Map(), replaced: new Set() });
    expect(server.requests).toEqual([]);
  });

  it('fetches a missing version once: not on the next pass, nor after a restart', async () => {
    configure('remote', archive.sha256, 2);
    const fetchSources = sync();
    expect(await fetchSources(store)).toEqual({ errors: new Map(), replaced: new Set() });
    expect(existsSync(path.join(store, 'remote', '2', 'model.json'))).toBe(true);
    await fetchSources(store);
    await sync()(store); // a new process: the marker says the folder is current
    expect(server.count(ARCHIVE)).toBe(1);
  });

  it('reports a wrong hash per model, keeps the others, and retries on a config change or after the back-off', async () => {
    configure('good', archive.sha256);
    configure('bad', 'e'.repeat(64));
    const fetchSources = sync();
    const first = await fetchSources(store);
    expect([...first.errors.keys()]).toEqual(['bad']);
    expect(first.errors.get('bad')).toEqual({
      version: 1,
      message: `${path.join(store, 'bad', 'config.yaml')}: source version 1: sha256 mismatch for ${server.origin}${ARCHIVE}: expected ${'e'.repeat(64)}, got ${archive.sha256}; the file was deleted. Check source.sha256 in config.yaml, or that the URL serves the file you meant. (tried again when config.yaml changes, or in 1 s)`,
    });
    expect(existsSync(path.join(store, 'good', '1'))).toBe(true);
    expect(existsSync(path.join(store, 'bad', '1'))).toBe(false);
    expect(server.count(ARCHIVE)).toBe(2);

    clock = 999; // within the back-off: the same error, no request
    expect((await fetchSources(store)).errors.get('bad')).toEqual(first.errors.get('bad'));
    expect(server.count(ARCHIVE)).toBe(2);

    clock = 1_000; // back-off over: tried again, and the next wait doubles
    expect((await fetchSources(store)).errors.get('bad')?.message).toMatch(/or in 2 s\)$/);
    expect(server.count(ARCHIVE)).toBe(3);

    configure('bad', archive.sha256); // fixed: tried at once
    expect((await fetchSources(store)).errors.size).toBe(0);
    expect(existsSync(path.join(store, 'bad', '1', 'model.json'))).toBe(true);
    expect(server.count(ARCHIVE)).toBe(3); // the verified archive was already in .cache/
  });

  it('reports a config.yaml it cannot read, without a version (a model that is only a config.yaml)', async () => {
    mkdirSync(path.join(store, 'typo'));
    writeFileSync(path.join(store, 'typo', 'config.yaml'), 'source: { url: https://h/m.tgz, sha256: abc }\n');
    const report = await sync()(store);
    expect(report.errors.get('typo')).toEqual({ message: expect.stringMatching(/typo\/config\.yaml: \/source\/sha256 must be 64 hex characters/) });
  });

  it('reports a replaced version, and a hand-made folder it will not overwrite', async () => {
    mkdirSync(path.join(store, 'remote', '1'), { recursive: true });
    writeFileSync(path.join(store, 'remote', '1', '.source.json'), JSON.stringify({ url: 'http://old/m.tgz', sha256: 'a'.repeat(64) }));
    configure('remote', archive.sha256);
    mkdirSync(path.join(store, 'local', '1'), { recursive: true });
    configure('local', archive.sha256);
    const report = await sync()(store);
    expect(report.replaced).toEqual(new Set(['remote/1']));
    expect(report.errors.get('local')?.message).toMatch(/local\/1 exists but was not fetched from a source/);
  });
});
