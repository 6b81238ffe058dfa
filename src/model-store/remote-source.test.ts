import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type LocalServer, MNIST_DIR, MNIST_FILES, localServer, mnistArchive, mnistFileRoutes, sha256, tempDir } from '../../test/support/model-source';
import type { ModelSource } from './model-config';
import { MARKER, materialiseSource, planSource, readMarker } from './remote-source';
import { scanStore } from './repository';

let server: LocalServer;
let tmp: ReturnType<typeof tempDir>;
let store: string;
let archive: { bytes: Buffer; sha256: string };
const limits = { timeoutMs: 5_000, maxBytes: 50_000_000 };
const options = { limits };

beforeAll(async () => {
  const build = tempDir('specserve-archive-');
  archive = await mnistArchive(build.dir, { topFolder: 'mnist' });
  build.cleanUp();
  server = await localServer({ '/models/mnist.tar.gz': archive.bytes, ...mnistFileRoutes('/loose') });
});
afterAll(() => server.close());
beforeEach(() => {
  tmp = tempDir('specserve-remote-');
  store = tmp.dir;
  server.requests.length = 0;
});
afterEach(() => tmp.cleanUp());

const archiveSource = (over: Partial<ModelSource> = {}): ModelSource => ({ url: `${server.origin}/models/mnist.tar.gz`, sha256: archive.sha256, version: 1, ...over });
const modelJsonSource = (over: Partial<ModelSource> = {}): ModelSource => ({
  url: `${server.origin}/loose/model.json`,
  sha256: sha256(readFileSync(path.join(MNIST_DIR, 'model.json'))),
  version: 1,
  ...over,
});
/** Everything in the model's folder, hidden staging folders included. */
const modelFolder = (name: string) => readdirSync(path.join(store, name)).sort();

describe('materialiseSource: archive', () => {
  it('downloads, verifies, unpacks, marks and installs the version; the scanner sees only it', async () => {
    const done = await materialiseSource(store, 'remote', archiveSource(), options);
    expect(done).toEqual({ dir: path.join(store, 'remote', '1'), how: 'downloaded' });
    expect(readdirSync(done.dir).sort()).toEqual([MARKER, ...MNIST_FILES].sort());
    expect(readMarker(done.dir)).toEqual({ url: archiveSource().url, sha256: archive.sha256, fetchedAt: expect.stringMatching(/^\d{4}-/) });
    expect(modelFolder('remote')).toEqual(['1']); // no staging left behind
    expect(readdirSync(path.join(store, '.cache'))).toEqual([`${archive.sha256}.tar.gz`]);
    expect(scanStore(store).map((v) => `${v.name}/${v.version}`)).toEqual(['remote/1']); // .cache is not a model
  });

  it('does nothing for a current folder, and unpacks from the cache when the folder is gone', async () => {
    await materialiseSource(store, 'remote', archiveSource(), options);
    expect(planSource(store, 'remote', archiveSource())).toEqual({ action: 'keep' });
    expect(await materialiseSource(store, 'remote', archiveSource(), options)).toMatchObject({ how: 'current' });
    rmSync(path.join(store, 'remote', '1'), { recursive: true });
    expect(await materialiseSource(store, 'remote', archiveSource(), options)).toMatchObject({ how: 'cached' });
    expect(await materialiseSource(store, 'other', archiveSource({ version: 3 }), options)).toMatchObject({ how: 'cached' });
    expect(server.count('/models/mnist.tar.gz')).toBe(1);
  });

  it('fetches again when the cached copy is damaged', async () => {
    await materialiseSource(store, 'remote', archiveSource(), options);
    writeFileSync(path.join(store, '.cache', `${archive.sha256}.tar.gz`), 'damaged');
    rmSync(path.join(store, 'remote', '1'), { recursive: true });
    expect(await materialiseSource(store, 'remote', archiveSource(), options)).toMatchObject({ how: 'downloaded' });
    expect(server.count('/models/mnist.tar.gz')).toBe(2);
  });

  it('refuses a wrong sha256: expected vs actual and the URL, nothing unpacked, nothing cached', async () => {
    const wrong = 'f'.repeat(64);
    await expect(materialiseSource(store, 'remote', archiveSource({ sha256: wrong }), options)).rejects.toThrow(
      `sha256 mismatch for ${server.origin}/models/mnist.tar.gz: expected ${wrong}, got ${archive.sha256}`,
    );
    expect(modelFolder('remote')).toEqual([]);
    expect(readdirSync(path.join(store, '.cache'))).toEqual([]);
  });

  it('replaces a folder made from another sha256, and never one put there by hand', async () => {
    mkdirSync(path.join(store, 'remote', '1'), { recursive: true });
    writeFileSync(path.join(store, 'remote', '1', MARKER), JSON.stringify({ url: 'http://old/x.tgz', sha256: 'a'.repeat(64), fetchedAt: '' }));
    writeFileSync(path.join(store, 'remote', '1', 'stale.txt'), 'old');
    expect(planSource(store, 'remote', archiveSource())).toEqual({ action: 'fetch', replaces: 'a'.repeat(64) });
    const done = await materialiseSource(store, 'remote', archiveSource(), options);
    expect(done).toMatchObject({ how: 'downloaded', replaced: 'a'.repeat(64) });
    expect(existsSync(path.join(done.dir, 'stale.txt'))).toBe(false);
    expect(modelFolder('remote')).toEqual(['1']);

    mkdirSync(path.join(store, 'local', '1'), { recursive: true });
    await expect(materialiseSource(store, 'local', archiveSource(), options)).rejects.toThrow(
      `${path.join(store, 'local', '1')} exists but was not fetched from a source (no ${MARKER}); move it away, or set source.version to a version not in the store`,
    );
  });

  it('refuses an archive over the unpacked cap, one without metadata.json, and one with a short weight file', async () => {
    await expect(materialiseSource(store, 'remote', archiveSource(), { ...options, maxUnpackedBytes: 1_000_000 })).rejects.toThrow(/more than 1000000 bytes once unpacked/);
    expect(modelFolder('remote')).toEqual([]);

    const build = tempDir('specserve-archive-');
    const noMetadata = await mnistArchive(build.dir, { files: MNIST_FILES.filter((f) => f !== 'metadata.json') });
    const short = await mnistArchive(build.dir, { prepare: (pkg) => writeFileSync(path.join(pkg, 'group1-shard2of2.bin'), Buffer.alloc(10)) });
    build.cleanUp();
    server.routes.set('/models/no-metadata.tgz', noMetadata.bytes);
    server.routes.set('/models/short.tgz', short.bytes);
    await expect(materialiseSource(store, 'remote', { url: `${server.origin}/models/no-metadata.tgz`, sha256: noMetadata.sha256, version: 1 }, options)).rejects.toThrow(
      `remote/1 from ${server.origin}/models/no-metadata.tgz: metadata.json is missing`,
    );
    await expect(materialiseSource(store, 'remote', { url: `${server.origin}/models/short.tgz`, sha256: short.sha256, version: 1 }, options)).rejects.toThrow(
      'weightsManifest[0] files (group1-shard1of2.bin, group1-shard2of2.bin) hold 4194314 bytes, but its shapes and dtypes need 4799528',
    );
    expect(modelFolder('remote')).toEqual([]);
  });

  it('refuses a path-traversal archive whatever its hash says', async () => {
    const build = tempDir('specserve-archive-');
    const evil = await mnistArchive(build.dir, { extra: ['../evil.txt'], prepare: (pkg) => writeFileSync(path.join(pkg, '..', 'evil.txt'), 'x') });
    build.cleanUp();
    server.routes.set('/models/evil.tar.gz', evil.bytes);
    await expect(materialiseSource(store, 'remote', { url: `${server.origin}/models/evil.tar.gz`, sha256: evil.sha256, version: 1 }, options)).rejects.toThrow(
      /refused: "\.\.\/evil\.txt" climbs out of the folder/,
    );
    expect(modelFolder('remote')).toEqual([]);
    expect(existsSync(path.join(store, 'remote', 'evil.txt'))).toBe(false);
  });
});

describe('materialiseSource: model.json', () => {
  it('fetches model.json (hash-checked), its weight files and metadata.json from the same folder', async () => {
    const done = await materialiseSource(store, 'loose', modelJsonSource({ version: 2 }), options);
    expect(done).toEqual({ dir: path.join(store, 'loose', '2'), how: 'downloaded' });
    expect(readdirSync(done.dir).sort()).toEqual([MARKER, ...MNIST_FILES].sort());
    for (const f of MNIST_FILES) expect(readFileSync(path.join(done.dir, f)).equals(readFileSync(path.join(MNIST_DIR, f)))).toBe(true);
    expect([...server.requests].sort()).toEqual(MNIST_FILES.map((f) => `/loose/${f}`).sort());
    expect(await materialiseSource(store, 'loose', modelJsonSource({ version: 2 }), options)).toMatchObject({ how: 'current' });
    expect(server.requests).toHaveLength(4);
  });

  it('refuses a wrong model.json hash before fetching any weights', async () => {
    await expect(materialiseSource(store, 'loose', modelJsonSource({ sha256: '1'.repeat(64) }), options)).rejects.toThrow(/sha256 mismatch for .*\/loose\/model\.json: expected 1{64}, got [0-9a-f]{64}/);
    expect(server.requests).toEqual(['/loose/model.json']);
    expect(modelFolder('loose')).toEqual([]);
  });

  it('stops a weight file that is longer than the manifest allows', async () => {
    const shard = readFileSync(path.join(MNIST_DIR, 'group1-shard2of2.bin'));
    server.routes.set('/padded/model.json', readFileSync(path.join(MNIST_DIR, 'model.json')));
    server.routes.set('/padded/group1-shard1of2.bin', readFileSync(path.join(MNIST_DIR, 'group1-shard1of2.bin')));
    server.routes.set('/padded/group1-shard2of2.bin', Buffer.concat([shard, Buffer.alloc(100)]));
    await expect(materialiseSource(store, 'loose', modelJsonSource({ url: `${server.origin}/padded/model.json` }), options)).rejects.toThrow(
      /group1-shard2of2\.bin: Content-Length 605324 bytes is over the 605224-byte limit \(what weightsManifest\[0\] still needs\)/,
    );
    expect(modelFolder('loose')).toEqual([]);
  });
});
