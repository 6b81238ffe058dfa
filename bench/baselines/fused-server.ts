/**
 * Not a product server: a measurement of the design issue 14's c=16 target points to (see
 * docs/performance.md, "Where c=16 goes next"). Each of FUSED_THREADS threads (default: one per
 * core) runs the whole HTTP app AND the models: a request is parsed, validated, prepared and run
 * in the thread that accepted it, with no hand-off to another thread. Requests that arrive while
 * a thread is busy form its next batch.
 *
 * The threads accept on ONE listening socket (the main thread's; on Linux a worker thread may
 * listen on its file descriptor and the kernel hands each connection to one of them). Each thread
 * keeps its own ModelManager, batches and store polling; versions are planned once per thread by
 * the planning thread (TF.js lives there and ends with it), as in the product. No metrics, no
 * gRPC, no hot-reload coordination between the threads, no shutdown beyond exiting: those are
 * what a product version has to add (docs/performance.md lists them).
 * Env: as the server's (PORT, HOST, MODEL_STORE, ...), plus FUSED_THREADS.
 */
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { createApp } from '../../src/api/app';
import { resolveOperations } from '../../src/api/resolver';
import { listOperations, loadSpec } from '../../src/api/spec';
import { handlerContext, imageLimitsOf } from '../../src/bootstrap';
import { type Config, loadConfig } from '../../src/config';
import { AtCapacity } from '../../src/errors/errors';
import { type LocalServable, loadLocalServable } from '../../src/inference/local-servable';
import { ModelManager } from '../../src/inference/manager';
import { Planner } from '../../src/inference/planner';
import type { ModelInput, Servable } from '../../src/inference/servable';
import { type BatchPolicy, readModelConfig } from '../../src/model-store/model-config';
import type { StoredVersion } from '../../src/model-store/repository';
import { HANDLERS_DIR, SPEC_FILE } from '../../src/paths';

/** One request's inputs waiting for this thread's next batch. */
interface Waiting {
  inputs: readonly ModelInput[];
  resolve(rows: Float32Array[]): void;
  reject(error: Error): void;
}

/** A version run in this thread: requests queue while a batch runs, then go as the next batch. */
class InlineServable implements Servable {
  private readonly waiting: Waiting[] = [];
  private queued = 0;
  private busy = false;

  constructor(
    private readonly local: LocalServable,
    private readonly policy: BatchPolicy,
  ) {}

  get name(): string {
    return this.local.name;
  }
  get version(): number {
    return this.local.version;
  }
  get metadata(): Servable['metadata'] {
    return this.local.metadata;
  }
  get engine(): Servable['engine'] {
    return this.local.engine;
  }

  predict(inputs: readonly ModelInput[]): Promise<Float32Array[]> {
    if (this.queued + inputs.length > this.policy.maxQueue) {
      return Promise.reject(new AtCapacity(`Model '${this.name}' version ${this.version} is at capacity. Retry shortly.`, 1));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ inputs, resolve, reject });
      this.queued += inputs.length;
      if (!this.busy) {
        this.busy = true;
        // After the rest of this event-loop turn: requests parsed in the same turn share a batch.
        setImmediate(() => void this.runBatches());
      }
    });
  }

  private async runBatches(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch: Waiting[] = [];
      let size = 0;
      while (this.waiting.length > 0 && (size === 0 || size + this.waiting[0]!.inputs.length <= this.policy.maxBatchSize)) {
        const next = this.waiting.shift()!;
        batch.push(next);
        size += next.inputs.length;
      }
      this.queued -= size;
      const prepared: Float32Array[] = [];
      const ready: Waiting[] = [];
      for (const request of batch) {
        try {
          const mine: Float32Array[] = [];
          for (const input of request.inputs) mine.push(await this.local.prepare(input));
          prepared.push(...mine);
          ready.push(request);
        } catch (e) {
          request.reject(e as Error); // a bad image fails its own request, not its batch-mates
        }
      }
      try {
        const rows = await this.local.run(prepared);
        let at = 0;
        for (const request of ready) {
          request.resolve(rows.slice(at, at + request.inputs.length));
          at += request.inputs.length;
        }
      } catch (e) {
        for (const request of ready) request.reject(e as Error);
      }
      // Let the sockets that became readable meanwhile join the next batch.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.busy = false;
  }

  dispose(): void {
    this.local.dispose();
  }
}

async function openFusedService(config: Config): Promise<{ listen(options: { fd: number } | { port: number; host: string }, ready: (fd: number) => void): void; loaded: Promise<void> }> {
  const spec = loadSpec(SPEC_FILE);
  const operations = resolveOperations(listOperations(spec.document), HANDLERS_DIR);
  const imageLimits = imageLimitsOf(config);
  const { planner } = await Planner.start(config.backend);
  const models = new ModelManager(
    config.modelStore,
    async (stored: StoredVersion) => {
      const modelConfig = readModelConfig(stored.configDir ?? path.dirname(stored.dir));
      const plan = await planner.plan(stored, modelConfig.engine);
      return new InlineServable(await loadLocalServable(stored, imageLimits, { plan, threads: 1 }), modelConfig.batching);
    },
    { download: config.download, modelName: config.modelName },
  );
  // No metrics in this measurement: /metrics answers empty.
  const context = handlerContext(config, spec, models, { contentType: 'text/plain; version=0.0.4', scrape: async () => '' }, imageLimits);
  const app = createApp({ spec, operations, context, maxUploadBytes: config.maxUploadBytes, validateResponses: config.validateResponses, auth: config.auth, corsOrigins: config.corsOrigins });
  const loaded = models.reconcile();

  return {
    loaded,
    listen(options, ready) {
      const server = 'fd' in options ? app.listen(options, () => ready(options.fd)) : app.listen(options.port, options.host, () => ready((server as unknown as { _handle: { fd: number } })._handle.fd));
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const service = await openFusedService(config);
  await service.loaded;
  if (!isMainThread) {
    parentPort!.once('message', ({ fd }: { fd: number }) => service.listen({ fd }, () => parentPort!.postMessage('listening')));
    parentPort!.postMessage('loaded');
    return;
  }
  const count = Number(process.env.FUSED_THREADS ?? os.availableParallelism());
  const others: Worker[] = [];
  for (let i = 1; i < count; i++) {
    // The young generation of an inference worker (WorkerPool's WORKER_YOUNG_GENERATION_MB).
    const thread = new Worker(__filename, { resourceLimits: { maxYoungGenerationSizeMb: 12 } });
    thread.on('error', (e) => {
      console.error(`fused: thread ${i} failed: ${e.message}`);
      process.exit(1);
    });
    await new Promise((resolve) => thread.once('message', resolve));
    others.push(thread);
  }
  service.listen({ port: config.port, host: config.host }, (fd) => {
    for (const thread of others) thread.postMessage({ fd });
    console.log(`fused: listening on ${config.host}:${config.port} in ${count} threads`);
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
