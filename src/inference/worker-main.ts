/**
 * An inference worker thread (WORKERS >= 1): the pool's messages go to a WorkerCore
 * (worker-core.ts). Started by WorkerPool; never imported elsewhere.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { log } from '../log';
import { createWorkerCore } from './worker-core';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('worker-main runs only as a worker thread (started by WorkerPool)');
const init = workerData as WorkerInit;
const core = createWorkerCore(
  init,
  (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer),
  () => process.exit(0),
);

port.on('message', (message: ToWorker) => {
  core.handle(message).catch((e: unknown) => {
    // Not reached by bad inputs (they become results): something is wrong with this thread.
    // End it; the pool answers its in-flight inputs with 503 and starts a new one.
    log.error('inference worker failed', { worker: init.index, error: e instanceof Error ? e.stack : String(e) });
    process.exit(1);
  });
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
