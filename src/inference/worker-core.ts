/**
 * What an inference worker does with the pool's messages (worker-protocol.ts): its own copy of
 * every loaded model version (ONNX Runtime sessions, or TF.js models on its own backend); for a
 * batch, it decodes and preprocesses each image, runs one predict and answers one result per
 * input. Run in a worker thread (worker-main.ts) or, with WORKERS=0, in the serving thread itself
 * (inline-worker.ts): the same code either way.
 */
import { performance } from 'node:perf_hooks';
import type { BackendName } from '../config';
import { ProblemError } from '../errors/errors';
import { type LocalServable, loadLocalServable } from './local-servable';
import type { FromWorker, ItemResult, ToWorker, WorkerInit } from './worker-protocol';

export interface WorkerCore {
  /** Handles one message; rejects only when something is wrong with the worker itself. */
  handle(message: ToWorker): Promise<void>;
}

/**
 * `send` answers the pool; `end` is called once a 'stop' has finished every batch and freed every
 * model (a thread ends itself there).
 */
export function createWorkerCore(init: WorkerInit, send: (message: FromWorker, transfer?: ArrayBuffer[]) => void, end: () => void): WorkerCore {
  const servables = new Map<string, LocalServable>();

  /**
   * This worker's TensorFlow.js backend, started when a version is to serve on TF.js: TF.js (~30 MB
   * of code per thread, and a WebAssembly heap that never shrinks) stays out of a worker whose
   * versions all run on ONNX. The planning thread (planner-main.ts) has already started the same
   * backend once, so one that cannot start stopped the server at start-up.
   */
  let backend: Promise<BackendName> | undefined;
  const ensureBackend = (): Promise<BackendName> => {
    backend ??= import('./backend').then(({ initBackend }) => initBackend(init.backend));
    return backend;
  };

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

  return {
    async handle(message) {
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
          // Ending with no native work in flight and every session freed: terminate() during an
          // ONNX Runtime run or a libvips decode can abort the whole process (their N-API
          // completion callbacks throw into a torn-down environment).
          await runs;
          for (const servable of servables.values()) servable.dispose();
          servables.clear();
          await new Promise((resolve) => setImmediate(resolve)); // let the releases settle
          end();
      }
    },
  };
}

function failure(e: unknown): ItemResult {
  if (e instanceof ProblemError) {
    const { status, slug, title, detail, extensions, headers } = e;
    return { problem: { status, slug, title, detail, extensions: { ...extensions }, headers: { ...headers } } };
  }
  return { internal: e instanceof Error ? e.message : String(e) };
}
