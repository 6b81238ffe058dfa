/**
 * The compute ceiling: how many MNIST images per second the model itself can classify, with no
 * HTTP at all. In one process: load model-store/mnist/1 on TensorFlow.js (TFJS_BACKEND, else the
 * best that loads: wasm here) and, converted as the server converts it, on ONNX Runtime (one
 * intra-op thread); run batched predict for batch sizes 1, 8, 32, 64 on already-preprocessed
 * inputs on each, side by side; the same CNN on PyTorch (1 thread) in a python3 child when
 * Debian's python3-torch is installed (else a line says it was skipped); and separately time
 * decode and decode+preprocess of the bench image (test/fixtures/mnist/7.png) per image.
 *
 *   ceiling = best predict images/s of the serving engine (ONNX Runtime) x SERVING_THREADS (default: cores)
 *
 * is what SERVING_THREADS single-threaded predict loops could reach if nothing else cost
 * anything; "with preprocessing" also charges each image its decode+preprocess time.
 *
 * Standalone: `node dist/bench/compute-ceiling.js` prints a report. The throughput bench calls
 * `computeCeilingInChild()`, which runs this file in a child process so that the bench process
 * itself never loads TensorFlow.js and the measurement has the machine to itself.
 */
import { fork, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseBackendName } from '../src/config';
import { DEFAULT_IMAGE_LIMITS, decodeToGray, prepareInput } from '../src/images';
import { initBackend } from '../src/inference/backend';
import type { EngineModel } from '../src/inference/engines/engine';
import { loadOnnx } from '../src/inference/engines/onnx';
import { convertLayersModel } from '../src/inference/engines/onnx-convert/convert';
import { TfjsModel } from '../src/inference/engines/tfjs';
import { readLayersModelFiles } from '../src/model-store/files';
import { DEFAULT_MODEL_STORE, PROJECT_ROOT } from '../src/paths';
import { stopChild, track } from './lib/children';
import { envNumber } from './lib/env';
import { systemPython } from './lib/python';

export const BATCH_SIZES = [1, 8, 32, 64] as const;

export interface BatchThroughput {
  batchSize: number;
  imagesPerSec: number;
  msPerBatch: number;
}

export interface ComputeCeiling {
  backend: string;
  /** The wasm backend's feature flags (SIMD, threads), undefined on other backends. */
  wasm?: { simd: boolean; multithread: boolean };
  decodeMsPerImage: number;
  preprocessMsPerImage: number;
  /** TensorFlow.js on `backend`. */
  batches: BatchThroughput[];
  /** ONNX Runtime, the model converted as the server converts it, one intra-op thread. */
  onnx: BatchThroughput[];
  /** PyTorch (1 thread, the Python peer's CNN), or why it was skipped. */
  pytorch: BatchThroughput[] | { skipped: string };
  /** The serving engine's (ONNX Runtime's) best batch. */
  best: BatchThroughput;
  /**
   * CPU time / wall time over the predict timings. About 1 on an idle machine (the wasm backend
   * here is single-threaded); well under 1 means other processes took the core and the numbers
   * above are low.
   */
  cpuPerWall: number;
  workers: number;
  /** best.imagesPerSec x workers. */
  ceiling: number;
  /** workers / (1/best + decode+preprocess time): each image also pays its preprocessing. */
  ceilingWithPreprocess: number;
}

export interface ComputeOptions {
  /** Seconds of timing per batch size. */
  seconds: number;
  workers: number;
}

export function defaultComputeOptions(): ComputeOptions {
  return { seconds: envNumber('BENCH_COMPUTE_SECONDS', 2, 0), workers: envNumber('SERVING_THREADS', os.cpus().length, 1) };
}

/** Repeats `fn` for at least `seconds` (and at least 5 times); mean ms per call. */
async function timeMs(seconds: number, fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  const until = started + BigInt(Math.round(seconds * 1e9));
  let n = 0;
  while (n < 5 || process.hrtime.bigint() < until) {
    await fn();
    n++;
  }
  return Number(process.hrtime.bigint() - started) / 1e6 / n;
}

export async function measureComputeCeiling(opts: ComputeOptions): Promise<ComputeCeiling> {
  const backend = await initBackend(parseBackendName(process.env.TFJS_BACKEND));
  const { metadata, artifacts } = await readLayersModelFiles(path.join(DEFAULT_MODEL_STORE, 'mnist', '1'));
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const png = readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'mnist', '7.png'));

  const preprocess = () => prepareInput(png, metadata, DEFAULT_IMAGE_LIMITS);
  await timeMs(0.2, preprocess); // JIT warm-up
  const decodeMsPerImage = await timeMs(1, () => decodeToGray(png, DEFAULT_IMAGE_LIMITS));
  const preprocessMsPerImage = await timeMs(1, preprocess);

  const input = await preprocess();
  const shape = metadata.input.shape;
  const converted = convertLayersModel(model);
  const engines: [string, EngineModel][] = [
    ['tfjs', new TfjsModel(model, shape)],
    ['onnx', await loadOnnx({ model: converted.onnx, inputName: converted.inputName, outputName: converted.outputName, layout: 'NHWC', fixedBatch: false }, shape, { threads: 1 })],
  ];
  const results = new Map<string, BatchThroughput[]>(engines.map(([name]) => [name, []]));
  const wall0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  // Batch size by batch size, the engines one after the other: side by side in time.
  for (const batchSize of BATCH_SIZES) {
    for (const [name, engine] of engines) {
      // What a serving engine does per batch: copy the inputs into one buffer, run, read back.
      const predict = async () => {
        const batch = new Float32Array(batchSize * input.length);
        for (let i = 0; i < batchSize; i++) batch.set(input, i * input.length);
        await engine.run(batch, batchSize);
      };
      await timeMs(0.2, predict); // first calls compile kernels for this shape
      const msPerBatch = await timeMs(opts.seconds, predict);
      results.get(name)!.push({ batchSize, msPerBatch, imagesPerSec: (batchSize * 1000) / msPerBatch });
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuPerWall = (cpu.user + cpu.system) / 1e3 / (Number(process.hrtime.bigint() - wall0) / 1e6);
  for (const [, engine] of engines) engine.dispose();
  const batches = results.get('tfjs')!;
  const onnx = results.get('onnx')!;
  const pytorch = measurePytorch(opts.seconds);

  const best = onnx.reduce((a, b) => (b.imagesPerSec > a.imagesPerSec ? b : a));
  return {
    backend,
    wasm:
      backend === 'wasm'
        ? { simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), multithread: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') }
        : undefined,
    decodeMsPerImage,
    preprocessMsPerImage,
    batches,
    onnx,
    pytorch,
    best,
    cpuPerWall,
    workers: opts.workers,
    ceiling: best.imagesPerSec * opts.workers,
    ceilingWithPreprocess: opts.workers / (1 / best.imagesPerSec + preprocessMsPerImage / 1000),
  };
}

/** The Python peer's CNN on PyTorch, 1 thread, in a python3 child; skipped when PyTorch is missing. */
function measurePytorch(seconds: number): BatchThroughput[] | { skipped: string } {
  const dir = path.join(PROJECT_ROOT, 'bench', 'baselines', 'python-peer');
  const run = spawnSync(systemPython(), ['compute.py', BATCH_SIZES.join(','), String(seconds)], { cwd: dir, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } });
  if (run.error || run.status !== 0) {
    const why = (run.error?.message ?? run.stderr ?? '').trim().split('\n').at(-1);
    return { skipped: `PyTorch skipped: python3 with torch is not available here (apt-get install python3-torch python3-flask python3-pil python3-numpy): ${why}` };
  }
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as BatchThroughput[];
}

export function formatComputeCeiling(c: ComputeCeiling): string {
  const wasm = c.wasm ? ` (wasm simd ${c.wasm.simd}, threads ${c.wasm.multithread})` : '';
  const cell = (rows: BatchThroughput[] | { skipped: string }, size: number) => {
    const row = Array.isArray(rows) ? rows.find((b) => b.batchSize === size) : undefined;
    return row ? row.imagesPerSec.toFixed(0).padStart(9) : '-'.padStart(9);
  };
  const ratio = (size: number) => {
    const o = c.onnx.find((b) => b.batchSize === size);
    const t = c.batches.find((b) => b.batchSize === size);
    return o && t ? `${(o.imagesPerSec / t.imagesPerSec).toFixed(2)}x` : '-';
  };
  return [
    `compute, MNIST CNN, images/s per thread, one process (engines side by side, batch size by batch size):`,
    `  decode ${c.decodeMsPerImage.toFixed(3)} ms/image, decode+preprocess ${c.preprocessMsPerImage.toFixed(3)} ms/image`,
    `  batch   onnxruntime  tfjs-${c.backend}${wasm}   pytorch   onnx/tfjs`,
    ...BATCH_SIZES.map((size) => `  ${String(size).padStart(5)}   ${cell(c.onnx, size)}   ${cell(c.batches, size)}   ${cell(c.pytorch, size)}   ${ratio(size).padStart(8)}`),
    ...(Array.isArray(c.pytorch) ? [] : [`  ${c.pytorch.skipped}`]),
    `  best (ONNX Runtime, the serving engine): batch ${c.best.batchSize}, ${c.best.imagesPerSec.toFixed(0)} images/s (cpu/wall ${c.cpuPerWall.toFixed(2)}${c.cpuPerWall < 0.9 ? ': the machine was busy, numbers are low' : ''})`,
    `  ceiling = best x SERVING_THREADS = ${c.best.imagesPerSec.toFixed(0)} x ${c.workers} = ${c.ceiling.toFixed(0)} images/s` +
      ` (with decode+preprocess per image: ${c.ceilingWithPreprocess.toFixed(0)} images/s)`,
  ].join('\n');
}

/** Runs `measureComputeCeiling` in a child process (this file with --ipc) and returns its result. */
export async function computeCeilingInChild(opts: ComputeOptions): Promise<ComputeCeiling> {
  const child = fork(__filename, ['--ipc', JSON.stringify(opts)], {
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  track(child);
  try {
    return await new Promise<ComputeCeiling>((resolve, reject) => {
      child.once('message', (m: { ok: true; result: ComputeCeiling } | { ok: false; error: string }) =>
        m.ok ? resolve(m.result) : reject(new Error(`compute ceiling failed: ${m.error}`)),
      );
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`compute ceiling child exited with ${code ?? signal} before answering`)));
    });
  } finally {
    await stopChild(child);
  }
}

if (require.main === module) {
  // `--ipc <options JSON>`: run for computeCeilingInChild and answer over the IPC channel.
  const at = process.argv.indexOf('--ipc');
  const ipc = at >= 0;
  const opts = ipc ? (JSON.parse(process.argv[at + 1] ?? '{}') as ComputeOptions) : defaultComputeOptions();
  measureComputeCeiling(opts).then(
    (result) => {
      if (ipc) process.send?.({ ok: true, result }, () => process.exit(0));
      else console.log(formatComputeCeiling(result));
    },
    (e: unknown) => {
      const error = e instanceof Error ? e.message : String(e);
      if (ipc) process.send?.({ ok: false, error }, () => process.exit(1));
      else {
        console.error(error);
        process.exit(1);
      }
    },
  );
}
