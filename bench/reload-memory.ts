/**
 * Memory across hot reloads: `npm run bench:reload`.
 * Copies model-store/mnist/1 into a temporary store, then 20 times drops in the next version and
 * reconciles (the default policy serves only the latest, so each reload loads, warms up and
 * publishes the new version and disposes the old one). Prints RSS and the live tensor count.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../src/config';
import { DEFAULT_IMAGE_LIMITS } from '../src/images';
import { initBackend } from '../src/inference/backend';
import { loadLocalServable } from '../src/inference/local-servable';
import { ModelManager } from '../src/inference/manager';
import { DEFAULT_MODEL_STORE } from '../src/paths';

const RELOADS = Number(process.env.BENCH_RELOADS ?? 20);

async function main(): Promise<void> {
  process.env.LOG_LEVEL ??= 'warn';
  await initBackend(loadConfig().backend);
  const store = mkdtempSync(path.join(os.tmpdir(), 'specserve-reload-bench-'));
  const source = path.join(DEFAULT_MODEL_STORE, 'mnist', '1');
  cpSync(source, path.join(store, 'mnist', '1'), { recursive: true });
  const manager = new ModelManager(store, (stored) => loadLocalServable(stored, DEFAULT_IMAGE_LIMITS));
  await manager.reconcile();
  const mb = () => (process.memoryUsage().rss / 2 ** 20).toFixed(0);
  const line = (label: string) => console.log(`${label.padEnd(12)} rss ${mb()} MB  tensors ${tf.memory().numTensors}  tensor bytes ${tf.memory().numBytes}`);
  line('version 1');
  for (let version = 2; version <= RELOADS + 1; version++) {
    cpSync(source, path.join(store, 'mnist', String(version)), { recursive: true });
    await manager.reconcile();
    if (manager.availableVersions('mnist')[0] !== version) throw new Error(`version ${version} did not go live`);
    if ((version - 1) % 5 === 0) line(`reload ${version - 1}`);
  }
  manager.dispose();
  line('disposed');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
