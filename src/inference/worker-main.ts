/**
 * An inference worker thread: its own copy of every loaded model version (ONNX Runtime sessions,
 * or TF.js models on its own backend). It decodes and preprocesses the images of a batch, runs one predict for the
 * batch, and answers one result per input. Started by WorkerPool; never imported elsewhere.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { ProblemError } from '../errors/errors';
import { log } from '../log';
import type { BackendName } from '../config';
import { type LocalServable, loadLocalServable } from './local-servable';
import type { FromWorker, ItemResult, ToWorker, WorkerInit } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('worker-main runs only as a worker thread (started by WorkerPool)');
const init = workerData as WorkerInit;
const servables = new Map<string, LocalServable>();

/**
 * This thread's TensorFlow.js backend, started when a version is to serve on TF.js: TF.js (~30 MB
 * of code per thread, and a WebAssembly heap that never shrinks) stays out of a worker whose
 * versions all run on ONNX. The planning thread (planner-main.ts) has already started the same
 * backend once, so one that cannot start stopped the server at start-up.
 */
let backend: Promise<BackendName> | undefined;
function ensureBackend(): Promise<BackendName> {
  backend ??= import('./backend').then(({ initBackend }) => initBackend(init.backend));
  return backend;
}

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function failure(e: unknown): ItemResult {
  if (e instanceof ProblemError) {
    const { status, slug, title, detail, extensions, headers } = e;
    return { problem: { status, slug, title, detail, extensions: { ...extensions }, headers: { ...headers } } };
  }
  return { internal: e instanceof Error ? e.message : String(e) };
}

async function run(batchId: number, key: string, inputs: Extract<ToWorker, { type: 'run' }>['inputs']): Promise<void> {
  const servable = servables.get(key);
  if (!servable) {
    send({ type: 'result', batchId, results: inputs.map(() => ({ internal: `model ${key} is not loaded in worker ${init.index}` })), timings: { prepareMs: 0, predictMs: 0 } });
    return;
  }
  const started = performance.now();
  // Each input is prepared on its own: one bad image fails itself, not its batch-mates.
  const results: (ItemResult | undefined)[] = [];
  const prepared: Float32Array[] = [];
  const slots: number[] = [];
  for (const [i, input] of inputs.entries()) {
    try {
      prepared.push(await servable.prepare(input));
      slots.push(i);
      results.push(undefined);
    } catch (e) {
      results.push(failure(e));
    }
  }
  const predictStarted = performance.now();
  try {
    const rows = await servable.run(prepared);
    rows.forEach((row, j) => (results[slots[j]!] = { row }));
  } catch (e) {
    for (const i of slots) results[i] = failure(e);
  }
  const done = performance.now();
  const final = results as ItemResult[];
  const transfer = final.flatMap((r) => ('row' in r ? [r.row.buffer as ArrayBuffer] : []));
  send({ type: 'result', batchId, results: final, timings: { prepareMs: predictStarted - started, predictMs: done - predictStarted } }, transfer);
}

/** The batches of this worker, chained: see 'run' below. */
let runs: Promise<void> = Promise.resolve();

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'load':
      try {
        if (message.plan.name === 'tfjs') await ensureBackend();
        servables.set(message.key, await loadLocalServable(message.stored, init.imageLimits, { plan: message.plan, threads: init.threads }));
        send({ type: 'loaded', key: message.key });
      } catch (e) {
        send({ type: 'load-failed', key: message.key, error: (e as Error).message });
      }
      return;
    case 'unload':
      servables.get(message.key)?.dispose();
      servables.delete(message.key);
      return;
    case 'run':
      // One batch after another: the pool may send a batch while the previous one still runs
      // (its reserve), and the awaits inside a run must not let the next one interleave with it.
      // Loads are not queued behind batches: a hot reload does not stall serving.
      runs = runs.then(() => run(message.batchId, message.key, message.inputs));
      return runs;
    case 'stop':
      // Ending the thread from inside, with no native work in flight and every session freed:
      // terminate() during an ONNX Runtime run or a libvips decode can abort the whole process
      // (their N-API completion callbacks throw into a torn-down environment).
      await runs;
      for (const servable of servables.values()) servable.dispose();
      servables.clear();
      await new Promise((resolve) => setImmediate(resolve)); // let the releases settle
      process.exit(0);
  }
}


port.on('message', (message: ToWorker) => {
  handle(message).catch((e: unknown) => {
    // Not reached by bad inputs (they become results): something is wrong with this thread.
    // End it; the pool answers its in-flight inputs with 503 and starts a new one.
    log.error('inference worker failed', { worker: init.index, error: e instanceof Error ? e.stack : String(e) });
    process.exit(1);
  });
});
send({ type: 'ready' });
