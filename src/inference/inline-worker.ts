import { EventEmitter } from 'node:events';
import { log } from '../log';
import { createWorkerCore, type WorkerCore } from './worker-core';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol';

/**
 * WORKERS=0: the pool's one worker runs in the thread that serves the requests, with no hand-off
 * to another thread (each serving thread then decodes, batches and runs its own requests; see
 * docs/performance.md, "Serving threads"). It speaks the thread's protocol through the same
 * events (`message`, `exit`), so batching, back-pressure, deadlines, metrics and replacement
 * after a failure are the pool's, unchanged.
 */
export class InlineWorker extends EventEmitter {
  /** -1 once ended, as a thread's (stopThread reads it). */
  threadId = 0;
  private readonly core: WorkerCore;

  constructor(private readonly init: WorkerInit) {
    super();
    this.core = createWorkerCore(init, (message) => this.emit('message', message), () => this.end(0));
    // After the pool has attached its listeners, as a thread's first message would be.
    setImmediate(() => this.emit('message', { type: 'ready' } satisfies FromWorker));
  }

  /** Handled on a later turn of the event loop, as a thread's message is: the caller's turn finishes first. */
  postMessage(message: ToWorker): void {
    if (this.threadId === -1) return;
    setImmediate(() => {
      if (this.threadId === -1) return;
      this.core.handle(message).catch((e: unknown) => {
        // As a thread's failure: this worker ends, the pool answers its inputs with 503 and starts another.
        log.error('inference worker failed', { worker: this.init.index, error: e instanceof Error ? e.stack : String(e) });
        this.end(1);
      });
    });
  }

  terminate(): Promise<number> {
    this.end(1);
    return Promise.resolve(1);
  }

  private end(code: number): void {
    if (this.threadId === -1) return;
    this.threadId = -1;
    setImmediate(() => this.emit('exit', code));
  }
}
