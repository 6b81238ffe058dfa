import { cpSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MODEL_STORE } from '../../src/paths';
import { fixture, useTestService } from '../support/service';

/**
 * Versions are swapped while requests run: a new version goes live, the old one is retired, a
 * broken newer version is refused, and not one request fails.
 */
const store = mkdtempSync(path.join(os.tmpdir(), 'specserve-reload-'));
cpSync(path.join(DEFAULT_MODEL_STORE, 'mnist', '1'), path.join(store, 'mnist', '1'), { recursive: true });

/** Copies a version in the way a deploy should: into a temporary name, then one rename. */
function dropVersion(version: number, edit?: (dir: string) => void): void {
  const staging = path.join(store, 'mnist', `.staging-${version}`);
  cpSync(path.join(DEFAULT_MODEL_STORE, 'mnist', '1'), staging, { recursive: true });
  edit?.(staging);
  renameSync(staging, path.join(store, 'mnist', String(version)));
}

const service = useTestService({ modelStore: store });

it('swaps versions under load with zero failed requests', async () => {
  const seven = fixture('mnist', '7.png');
  const versionsSeen = new Map<number, number>();
  const failures: string[] = [];
  let running = true;
  let sent = 0;
  const client = async () => {
    while (running) {
      sent++;
      const res = await service.request.post('/mnist/classify').attach('file', seven, '7.png');
      if (res.status !== 200 || res.body.digit !== 7) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
      else versionsSeen.set(res.body.model.version, (versionsSeen.get(res.body.model.version) ?? 0) + 1);
    }
  };
  const clients = Array.from({ length: 4 }, client);
  const settle = () => new Promise((r) => setTimeout(r, 300));

  await settle();
  dropVersion(2);
  await service.models.reconcile();
  await settle();
  expect(service.models.versionStatus('mnist').map((s) => [s.version, s.state])).toEqual([
    [2, 'AVAILABLE'],
    [1, expect.stringMatching(/UNLOADING|END/)],
  ]);

  dropVersion(3, (dir) => writeFileSync(path.join(dir, 'metadata.json'), '{"labels": "not a list"}'));
  await service.models.reconcile();
  await settle();
  running = false;
  await Promise.all(clients);

  expect(failures).toEqual([]);
  expect(versionsSeen.get(1)).toBeGreaterThan(0);
  expect(versionsSeen.get(2)).toBeGreaterThan(0);
  expect(versionsSeen.has(3)).toBe(false);
  const [v3, v2] = service.models.versionStatus('mnist');
  expect(v3).toEqual({ version: 3, state: 'END', error: expect.stringContaining('metadata.json') });
  expect(v2).toEqual({ version: 2, state: 'AVAILABLE' });
  console.log(`hot reload under load: ${sent} requests, 0 failed; served by version: ${JSON.stringify(Object.fromEntries(versionsSeen))}`);
});
