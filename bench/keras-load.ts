/**
 * Loading Keras files: `npm run bench:keras`.
 * For each Keras fixture, side by side in one run: the time to load a version (read + build +
 * warm up, as a worker does) from the dropped-in .h5/.keras, with the reading thread cold (just
 * started) and warm (reused), and from the TF.js folder `specserve import` writes from the same
 * file; then the process's RSS while the reading thread lives and after it ends. Medians of
 * BENCH_REPEATS (default 5) runs; the machine may be shared, so read the ratios.
 */
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { importKeras } from '../src/cli/import';
import { loadConfig } from '../src/config';
import { DEFAULT_IMAGE_LIMITS } from '../src/images';
import { median } from '../src/images/stats';
import { initBackend } from '../src/inference/backend';
import { loadLocalServable } from '../src/inference/local-servable';
import { PROJECT_ROOT } from '../src/paths';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures', 'keras');
const FILES = ['keras2/naonaorange-cnn_mnist.h5', 'keras2/huyhoang17-mnist_all.h5', 'keras3/cnn_functional.h5', 'keras3/naonaorange-cnn_mnist.keras'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = () => (process.memoryUsage().rss / 2 ** 20).toFixed(0);

async function loadMs(dir: string, name: string): Promise<number> {
  const t = performance.now();
  const servable = await loadLocalServable({ name, version: 1, dir }, DEFAULT_IMAGE_LIMITS);
  const ms = performance.now() - t;
  servable.dispose();
  return ms;
}

async function main(): Promise<void> {
  process.env.LOG_LEVEL ??= 'warn';
  const backend = await initBackend(loadConfig().backend);
  const store = mkdtempSync(path.join(os.tmpdir(), 'specserve-keras-bench-'));
  console.log(`backend ${backend}, ${REPEATS} repeats, medians in ms; rss at start ${mb()} MB`);
  console.log(`${'file'.padEnd(38)} ${'cold'.padStart(7)} ${'warm'.padStart(7)} ${'tfjs'.padStart(7)}  warm/tfjs  cold/tfjs`);
  for (const [i, file] of FILES.entries()) {
    const source = path.join(FIXTURES, file);
    const kerasDir = path.join(store, `k${i}`, '1');
    mkdirSync(kerasDir, { recursive: true });
    copyFileSync(source, path.join(kerasDir, `model${path.extname(file)}`));
    const { dir: tfjsDir } = await importKeras({ file: source, name: `t${i}`, store, overwrite: false }, process.env);
    const cold: number[] = [];
    const warm: number[] = [];
    const tfjs: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      await sleep(2200); // the reading thread ends after 2 s idle
      cold.push(await loadMs(kerasDir, `k${i}`));
      warm.push(await loadMs(kerasDir, `k${i}`));
      tfjs.push(await loadMs(tfjsDir, `t${i}`));
    }
    const [c, w, t] = [cold, warm, tfjs].map((v) => median(Float64Array.from(v)));
    console.log(`${file.padEnd(38)} ${c!.toFixed(0).padStart(7)} ${w!.toFixed(0).padStart(7)} ${t!.toFixed(0).padStart(7)}  ${(w! / t!).toFixed(2).padStart(9)}  ${(c! / t!).toFixed(2).padStart(9)}`);
  }
  console.log(`rss with the reading thread alive: ${mb()} MB`);
  await sleep(2500);
  global.gc?.();
  console.log(`rss after it ended: ${mb()} MB`);
}

void main();
