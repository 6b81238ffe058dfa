import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelNotFound, ServiceUnavailable } from '../errors/errors';
import type { StoredVersion } from '../model-store/repository';
import type { FetchSources, SourceReport } from '../model-store/source-sync';
import { ModelManager, VersionNotFound } from './manager';
import type { Servable } from './servable';

/** A stand-in servable: the manager only names, pins and disposes them. */
type FakeServable = Servable & { disposed: boolean };
function fakeServable({ name, version }: StoredVersion): FakeServable {
  const fake = { name, version, disposed: false, dispose: () => void (fake.disposed = true) };
  return fake as unknown as FakeServable;
}

let store: string;
let broken: Set<string>;
let loaded: FakeServable[];
const loader = async (stored: StoredVersion) => {
  if (broken.has(`${stored.name}/${stored.version}`)) throw new Error(`${stored.dir}/model.json: cannot load`);
  const servable = fakeServable(stored);
  loaded.push(servable);
  return servable;
};
const addVersion = (name: string, version: number) => mkdirSync(path.join(store, name, String(version)), { recursive: true });
const servableOf = (name: string, version: number) => loaded.find((s) => s.name === name && s.version === version);

beforeEach(() => {
  store = mkdtempSync(path.join(os.tmpdir(), 'specserve-store-'));
  broken = new Set();
  loaded = [];
});

describe('ModelManager', () => {
  it('is not ready and answers 503 before the store has been read', () => {
    const manager = new ModelManager(store, loader);
    expect(manager.ready).toBe(false);
    expect(() => manager.acquire({ name: 'mnist' })).toThrow(ServiceUnavailable);
  });

  it('serves the latest version by default and says so in the status', async () => {
    addVersion('mnist', 1);
    addVersion('mnist', 3);
    addVersion('mnist', 'draft' as unknown as number); // not a version folder: ignored
    const manager = new ModelManager(store, loader);
    await manager.reconcile();
    expect(manager.ready).toBe(true);
    expect(manager.acquire({ name: 'mnist' }).servable.version).toBe(3);
    expect(manager.availableVersions('mnist')).toEqual([3]);
    expect(manager.versionStatus('mnist')).toEqual([{ version: 3, state: 'AVAILABLE' }]);
  });

  it('answers 404 for an unknown model and an unknown version', async () => {
    addVersion('mnist', 1);
    const manager = new ModelManager(store, loader);
    await manager.reconcile();
    expect(() => manager.acquire({ name: 'letters' })).toThrow(ModelNotFound);
    expect(() => manager.acquire({ name: 'mnist', version: 2 })).toThrow(VersionNotFound);
    expect(() => manager.acquire({ name: 'letters' }, 503)).toThrow(ServiceUnavailable);
  });

  it('swaps to a new version and retires the old one only after its last request', async () => {
    addVersion('mnist', 1);
    const manager = new ModelManager(store, loader);
    await manager.reconcile();
    const inFlight = manager.acquire({ name: 'mnist' });

    addVersion('mnist', 2);
    await manager.reconcile();
    expect(manager.acquire({ name: 'mnist' }).servable.version).toBe(2); // new requests get v2
    expect(inFlight.servable.version).toBe(1); // the request in flight keeps v1...
    expect(servableOf('mnist', 1)?.disposed).toBe(false); // ...loaded
    expect(manager.versionStatus('mnist')).toEqual([
      { version: 2, state: 'AVAILABLE' },
      { version: 1, state: 'UNLOADING' },
    ]);

    inFlight.release();
    inFlight.release(); // idempotent
    expect(servableOf('mnist', 1)?.disposed).toBe(true);
    expect(manager.versionStatus('mnist')[1]).toEqual({ version: 1, state: 'END' });
  });

  it('keeps the old version serving when the new one fails, and retries it only once its folder changes', async () => {
    addVersion('mnist', 1);
    const manager = new ModelManager(store, loader);
    await manager.reconcile();
    addVersion('mnist', 2);
    broken.add('mnist/2');
    await manager.reconcile();
    expect(manager.acquire({ name: 'mnist' }).servable.version).toBe(1);
    expect(manager.versionStatus('mnist')[0]).toEqual({ version: 2, state: 'END', error: expect.stringContaining('cannot load') });

    const attempts = loaded.length;
    await manager.reconcile(); // unchanged folder: not retried
    expect(manager.versionStatus('mnist')[0].state).toBe('END');

    broken.delete('mnist/2');
    const later = new Date(Date.now() + 5_000);
    utimesSync(path.join(store, 'mnist', '2'), later, later);
    await manager.reconcile();
    expect(loaded.length).toBe(attempts + 1);
    expect(manager.acquire({ name: 'mnist' }).servable.version).toBe(2);
  });

  it('one broken model does not stop the others', async () => {
    addVersion('mnist', 1);
    addVersion('fashion', 1);
    broken.add('fashion/1');
    const manager = new ModelManager(store, loader);
    await manager.reconcile();
    expect(manager.acquire({ name: 'mnist' }).servable.version).toBe(1);
    expect(manager.names()).toEqual(['fashion', 'mnist']);
    expect(() => manager.acquire({ name: 'fashion' })).toThrow(ServiceUnavailable);
  });

  it('follows config.yaml: all versions, specific versions, and refuses a bad one naming the field', async () => {
    [1, 2, 3].forEach((v) => addVersion('mnist', v));
    const config = path.join(store, 'mnist', 'config.yaml');
    writeFileSync(config, 'version_policy:\n  all: true\n');
    const manager = new ModelManager(store, loader);
    await manager.reconcile();
    expect(manager.availableVersions('mnist')).toEqual([3, 2, 1]);

    writeFileSync(config, 'version_policy:\n  specific: [1, 3]\n');
    await manager.reconcile();
    expect(manager.availableVersions('mnist')).toEqual([3, 1]);

    writeFileSync(config, 'version_policy:\n  latest: 0\n');
    await manager.reconcile();
    expect(manager.modelError('mnist')).toMatch(new RegExp(`${config.replace(/[.]/g, '\\.')}: /version_policy/latest must be >= 1`));
    expect(manager.availableVersions('mnist')).toEqual([3, 1]); // kept serving

    writeFileSync(config, 'version_policy:\n  latest: 2\n');
    await manager.reconcile();
    expect(manager.modelError('mnist')).toBeUndefined();
    expect(manager.availableVersions('mnist')).toEqual([3, 2]);
  });

  it('unloads a removed version, and a removed model', async () => {
    addVersion('mnist', 1);
    addVersion('fashion', 1);
    writeFileSync(path.join(store, 'mnist', 'config.yaml'), 'version_policy: { all: true }\n');
    addVersion('mnist', 2);
    const manager = new ModelManager(store, loader);
    await manager.reconcile();
    rmSync(path.join(store, 'mnist', '2'), { recursive: true });
    rmSync(path.join(store, 'fashion'), { recursive: true });
    await manager.reconcile();
    expect(manager.availableVersions('mnist')).toEqual([1]);
    expect(servableOf('mnist', 2)?.disposed).toBe(true);
    expect(servableOf('fashion', 1)?.disposed).toBe(true);
    expect(() => manager.acquire({ name: 'fashion' })).toThrow(ServiceUnavailable);
  });

  it('withServable releases the version however the work ends', async () => {
    addVersion('mnist', 1);
    const manager = new ModelManager(store, loader);
    await manager.reconcile();
    await expect(manager.withServable({ name: 'mnist' }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    rmSync(path.join(store, 'mnist'), { recursive: true });
    await manager.reconcile();
    expect(servableOf('mnist', 1)?.disposed).toBe(true); // nothing left holding it
  });

  it('picks up a new version by polling, without being asked', async () => {
    addVersion('mnist', 1);
    const manager = new ModelManager(store, loader);
    await manager.reconcile();
    manager.startWatching(20);
    addVersion('mnist', 2);
    for (let i = 0; i < 100 && manager.availableVersions('mnist')[0] !== 2; i++) await new Promise((r) => setTimeout(r, 10));
    manager.stopWatching();
    expect(manager.availableVersions('mnist')).toEqual([2]);
  });
});

describe('ModelManager with config.yaml sources', () => {
  /** A source step that reports what the test sets, and can add a version folder as a download would. */
  let report: SourceReport;
  let before: (() => void) | undefined;
  const fetchSources: FetchSources = async () => {
    before?.();
    return report;
  };
  const failure = (version: number, message = 'config.yaml: source version 2: sha256 mismatch for http://h/m.tgz: expected aa, got bb') => ({ version, message });
  beforeEach(() => {
    report = { errors: new Map(), replaced: new Set() };
    before = undefined;
  });

  it('runs the source step before the scan, so a fetched version loads in the same reconcile', async () => {
    before = () => addVersion('remote', 1);
    const manager = new ModelManager(store, loader, { fetchSources });
    await manager.reconcile();
    expect(manager.availableVersions('remote')).toEqual([1]);
  });

  it('reports a failed source in modelError and in the version it was to become, and keeps serving', async () => {
    addVersion('mnist', 1);
    const manager = new ModelManager(store, loader, { fetchSources });
    await manager.reconcile();
    report.errors.set('mnist', failure(2));
    await manager.reconcile();
    expect(manager.modelError('mnist')).toBe(failure(2).message);
    expect(manager.versionStatus('mnist')).toEqual([
      { version: 2, state: 'END', error: failure(2).message },
      { version: 1, state: 'AVAILABLE' },
    ]);
    expect(manager.acquire({ name: 'mnist' }).servable.version).toBe(1);

    report.errors.clear(); // fetched later
    addVersion('mnist', 2);
    await manager.reconcile();
    expect(manager.modelError('mnist')).toBeUndefined();
    expect(manager.versionStatus('mnist')[0]).toEqual({ version: 2, state: 'AVAILABLE' });
  });

  it('gives a model known only from a failed source a status: 503, not 404', async () => {
    addVersion('mnist', 1);
    report.errors.set('remote', failure(1));
    const manager = new ModelManager(store, loader, { fetchSources });
    await manager.reconcile();
    expect(manager.names()).toEqual(['mnist', 'remote']);
    expect(manager.modelError('remote')).toBe(failure(1).message);
    expect(manager.versionStatus('remote')).toEqual([{ version: 1, state: 'END', error: failure(1).message }]);
    expect(() => manager.acquire({ name: 'remote' })).toThrow(ServiceUnavailable);
  });

  it('gives a model that is only a refused config.yaml a status and its error', async () => {
    addVersion('mnist', 1);
    report.errors.set('typo', { message: 'typo/config.yaml: /source/sha256 must be 64 hex characters' });
    const manager = new ModelManager(store, loader, { fetchSources });
    await manager.reconcile();
    expect(manager.names()).toEqual(['mnist', 'typo']);
    expect(manager.versionStatus('typo')).toEqual([]);
    expect(manager.modelError('typo')).toMatch(/must be 64 hex/);
  });

  it('reloads a version whose folder a source replaced; the old copy serves until its last request ends', async () => {
    addVersion('remote', 1);
    const manager = new ModelManager(store, loader, { fetchSources });
    await manager.reconcile();
    const inFlight = manager.acquire({ name: 'remote' });
    report.replaced.add('remote/1');
    await manager.reconcile();
    const fresh = manager.acquire({ name: 'remote' });
    expect(fresh.servable).not.toBe(inFlight.servable);
    expect((inFlight.servable as FakeServable).disposed).toBe(false);
    inFlight.release();
    expect((inFlight.servable as FakeServable).disposed).toBe(true);
    expect(manager.versionStatus('remote')).toEqual([{ version: 1, state: 'AVAILABLE' }]); // the new copy's state, not the old one's END
    report.replaced.clear();
    await manager.reconcile(); // not reloaded again
    expect(loaded.filter((s) => s.name === 'remote')).toHaveLength(2);
  });

  it('keeps the old copy serving when the replaced folder fails to load', async () => {
    addVersion('remote', 1);
    const manager = new ModelManager(store, loader, { fetchSources });
    await manager.reconcile();
    const before = manager.acquire({ name: 'remote' }).servable;
    broken.add('remote/1');
    report.replaced.add('remote/1');
    await manager.reconcile();
    expect(manager.acquire({ name: 'remote' }).servable).toBe(before);
    expect(manager.versionStatus('remote')).toEqual([{ version: 1, state: 'AVAILABLE', error: expect.stringMatching(/^the replaced folder failed to load, still serving the previous copy: .*cannot load/) }]);
  });
});
