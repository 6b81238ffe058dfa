import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { BackendName } from '../config';
import { AtCapacity, GatewayTimeout, ProblemError, ServiceUnavailable } from '../errors/errors';
import type { ImageLimits } from '../images';
import { log } from '../log';
import { readModelMetadata } from '../model-store/files';
import type { ModelMetadata } from '../model-store/metadata';
import type { StoredVersion } from '../model-store/repository';
import type { BatchPolicy } from '../model-store/model-config';
import { BatchQueue, QueueFull, type Queued } from './batch-queue';
import type { EngineChoice, EngineName } from './engines/engine';
import type { LoadPlan } from './engines/plan';
import type { ModelInput, Servable } from './servable';
import { InlineWorker } from './inline-worker';
import { Planner, type VersionPlanner } from './planner';
import { startThread, stopThread } from './threads';
import { type BatchTimings, type FromWorker, type ItemResult, type ToWorker, transferable, type WorkerInit } from './worker-protocol';

export interface PoolOptions {
  /** Worker threads (WORKERS); 0: one worker that runs in this thread (inline-worker.ts). */
  size: number;
  backend: BackendName | undefined;
  imageLimits: ImageLimits;
  /** Per-input deadline from the moment it is queued (REQUEST_TIMEOUT_MS); 0: none. */
  requestTimeoutMs: number;
  /** ONNX Runtime intra-op threads per worker (INTRA_OP_THREADS; default 1). */
  threads?: number;
  /**
   * Plans versions for this pool instead of a planning thread of its own: a serving thread's pool
   * asks the main thread's planner (src/serving), so each version is converted and checked once.
   */
  planner?: { planner: VersionPlanner; backend: BackendName };
}

/** A worker as the pool drives it: a thread, or the inline worker. */
type WorkerLink = Worker | InlineWorker;

/** What one finished batch reports to observers (metrics). */
export interface BatchReport extends BatchTimings {
  model: string;
  version: number;
  size: number;
  /** How long each input waited in the queue before its batch was handed to a worker, ms. */
  queueMs: number[];
  /** Each input's time from queued to its result back on this thread, ms. */
  latencyMs: number[];
  failed: number;
}

/**
 * Inputs that got no result from a batch: refused because the queue was full, dropped when their
 * deadline passed in it, or lost with a worker that stopped while holding them.
 */
export interface DropReport {
  model: string;
  version: number;
  reason: 'queue-full' | 'expired' | 'worker-stopped';
  inputs: number;
}

/** One input waiting for (or in) a batch. */
interface Job extends Queued {
  input: ModelInput;
  settled: boolean;
  deadline?: NodeJS.Timeout;
  resolve(row: Float32Array): void;
  reject(error: Error): void;
}

/** A model version as the pool knows it: where it lives, and its queue. */
export interface Entry {
  key: string;
  stored: StoredVersion;
  queue: BatchQueue<Job>;
  /**
   * How every worker loads it: decided once, by the planning thread. Once every worker has it, a
   * plan whose graph is bytes is dropped (a model's size kept in the main thread for nothing but
   * a crash); a replacement worker's load then plans the version again.
   */
  plan: LoadPlan | undefined;
  /** config.yaml's `engine:`, for a replacement worker's plan. */
  engine: EngineName | undefined;
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Young generation of each worker's V8 heap. By default V8 sizes it like a main thread's (up to
 * 3 x 16 MB). A worker's old generation is small (~25 MB live: TF.js and the models' JS objects),
 * and while the room left under its limit is smaller than the young generation V8 starts a full
 * mark-compact after every GC: measured ~4 per second per worker under load, and the idle young
 * generation pages stayed resident. At 12 MB: no full GCs under load, more (cheap) scavenges,
 * and peak RSS at c=64 with two workers ~350 MB instead of ~440 (npm run bench, docs/performance.md).
 */
const WORKER_YOUNG_GENERATION_MB = 12;

/** A batch handed to a worker and not yet answered. */
interface SentBatch {
  batchId: number;
  entry: Entry;
  jobs: Job[];
  sentAt: number;
}

/**
 * Batches a worker may hold: the one it runs and one in reserve. The reserve is sent only when a
 * full batch waits (it could not grow by waiting), so the worker starts it the moment it finishes
 * the first, instead of idling until the main thread, busy with sockets under heavy load, gets to
 * its result and sends the next one.
 */
const MAX_SENT_BATCHES = 2;

/** One worker thread and what the pool tracks about it. */
class PoolWorker {
  ready = false;
  /** Batches sent and not yet answered, oldest first; it runs them one at a time, in order. */
  readonly sent: SentBatch[] = [];
  readonly loaded = new Set<string>();
  readonly loads = new Map<string, Pending>();

  constructor(
    readonly index: number,
    readonly thread: WorkerLink,
  ) {}

  /** Whether inputs must be moved to reach it (a thread), or are handed over as they are. */
  get inline(): boolean {
    return this.thread instanceof InlineWorker;
  }

  post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (this.thread instanceof InlineWorker) this.thread.postMessage(message);
    else this.thread.postMessage(message, transfer);
  }

  /** Loads a version as planned; plans it again first when the pool no longer holds the plan. */
  async load(entry: Entry, planner: VersionPlanner): Promise<void> {
    const plan = entry.plan ?? (await planner.plan(entry.stored, entry.engine));
    return new Promise<void>((resolve, reject) => {
      this.loads.set(entry.key, { resolve, reject });
      this.post({ type: 'load', key: entry.key, stored: entry.stored, plan });
    });
  }
}

/**
 * The inference engine: a fixed set of worker threads, each with its own TF.js backend and every
 * loaded model version, fed by one bounded dynamic-batching queue per version. The main thread
 * only queues inputs and routes results. A worker that dies is replaced (its in-flight inputs
 * get 503); the others keep serving.
 */
export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly entries = new Map<string, Entry>();
  private readonly observers: ((report: BatchReport) => void)[] = [];
  private readonly dropObservers: ((report: DropReport) => void)[] = [];
  private nextKey = 1;
  private nextBatch = 1;
  private wake: NodeJS.Timeout | undefined;
  private closed = false;
  private constructor(
    private readonly options: PoolOptions,
    private readonly planner: VersionPlanner,
    /** The TF.js backend: the planning thread's, and any worker's that serves a version on TF.js. */
    readonly backend: BackendName,
  ) {}

  /**
   * Starts the planning thread (which starts TF.js: a backend that cannot start stops the server
   * here) and every worker, and waits until each is ready; throws if one cannot start.
   */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    const { planner, backend } = options.planner ?? (await Planner.start(options.backend));
    const pool = new WorkerPool(options, planner, backend);
    try {
      await Promise.all(Array.from({ length: Math.max(1, options.size) }, (_, i) => pool.spawn(i)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    log.info('inference workers started', { workers: options.size === 0 ? 'inline' : options.size, backend: pool.backend });
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Calls `observer` after every batch (for metrics). */
  observe(observer: (report: BatchReport) => void): void {
    this.observers.push(observer);
  }

  /** Calls `observer` for inputs that got no result from a batch (for metrics). */
  observeDrops(observer: (report: DropReport) => void): void {
    this.dropObservers.push(observer);
  }

  /** Inputs waiting per loaded version, as `name/version`. */
  queueDepths(): Map<string, number> {
    const depths = new Map<string, number>();
    for (const { stored, queue } of this.entries.values()) {
      const key = `${stored.name}/${stored.version}`;
      depths.set(key, (depths.get(key) ?? 0) + queue.length);
    }
    return depths;
  }

  /**
   * Loads a version into every worker (each warms it up) and returns its servable once all
   * have it. A failure in any worker unloads it everywhere and throws that worker's message.
   */
  async load(stored: StoredVersion, policy: BatchPolicy, engine?: EngineName): Promise<Servable> {
    const metadata = await readModelMetadata(stored.dir);
    const key = `${stored.name}/${stored.version}#${this.nextKey++}`;
    // The planning thread decides the engine (for a TF.js model: converts it and checks the ONNX
    // graph against TF.js), so the conversion and its memory are paid once, not in every worker.
    const plan = await this.planner.plan(stored, engine);
    log.info('model engine chosen', { model: stored.name, version: stored.version, engine: plan.name, reason: plan.reason });
    const entry: Entry = { key, stored, queue: new BatchQueue<Job>(policy), plan, engine };
    // Registered first: a worker being replaced meanwhile loads it as part of its start.
    this.entries.set(entry.key, entry);
    try {
      await Promise.all(this.workers.filter((w) => w.ready).map((w) => w.load(entry, this.planner)));
    } catch (e) {
      this.unload(entry.key);
      throw e;
    }
    if (plan.name === 'onnx' && typeof plan.graph.model !== 'string') entry.plan = undefined;
    return new PooledServable(stored.name, stored.version, metadata, { name: plan.name, reason: plan.reason }, this, entry);
  }

  /** Stops every worker; queued inputs are refused. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.wake) clearTimeout(this.wake);
    for (const entry of this.entries.values()) {
      for (const job of entry.queue.drain()) this.settle(job, new ServiceUnavailable('The server is shutting down.', 1));
    }
    await Promise.all([...this.workers.map((w) => stopThread(w.thread)), this.planner.close()]);
  }

  /** For tests of crash handling: the workers, as the pool sees them. */
  get threads(): readonly WorkerLink[] {
    return this.workers.map((w) => w.thread);
  }

  /** Queues each input of one request; rejects at once if they do not fit in the queue. */
  submit(entry: Entry, inputs: readonly ModelInput[]): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(new ServiceUnavailable('The server is shutting down.', 1));
    const { queue } = entry;
    if (queue.length + inputs.length > queue.policy.maxQueue) {
      this.dropped(entry, 'queue-full', inputs.length);
      return Promise.reject(queueFull(entry, new QueueFull(`${queue.length} inputs already wait (max_queue ${queue.policy.maxQueue})`)));
    }
    const now = performance.now();
    const results = inputs.map(
      (input) =>
        new Promise<Float32Array>((resolve, reject) => {
          const job: Job = { input, enqueuedAt: now, settled: false, resolve, reject };
          if (this.options.requestTimeoutMs > 0) job.deadline = setTimeout(() => this.expire(entry, job), this.options.requestTimeoutMs);
          queue.push(job);
        }),
    );
    this.pump();
    return Promise.all(results);
  }

  unload(key: string): void {
    this.entries.delete(key);
    for (const worker of this.workers) {
      worker.loaded.delete(key);
      if (worker.ready) worker.post({ type: 'unload', key });
    }
  }

  // ---- workers ---------------------------------------------------------------------------

  /** Starts worker `index`, waits for its backend, loads every registered version into it. */
  private spawn(index: number): Promise<void> {
    const init: WorkerInit = { index, backend: this.options.backend, imageLimits: this.options.imageLimits, threads: this.options.threads ?? 1 };
    const worker = new PoolWorker(index, this.options.size === 0 ? new InlineWorker(init) : startThread('worker-main', init, { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB }));
    this.workers[index] = worker;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.thread.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          started = true;
          void this.loadAll(worker).then(resolve, reject);
        } else {
          this.onMessage(worker, message);
        }
      });
      worker.thread.on('error', (e: Error) => log.error('inference worker error', { worker: index, error: e.stack ?? e.message }));
      worker.thread.on('exit', (code: number) => {
        if (!started) reject(new Error(`Inference worker ${index} exited (code ${code}) before it started`));
        this.onExit(worker, code);
      });
    });
  }

  private async loadAll(worker: PoolWorker): Promise<void> {
    for (const entry of [...this.entries.values()]) {
      try {
        await worker.load(entry, this.planner);
      } catch (e) {
        // Loaded fine elsewhere, so this is the worker's problem: it serves the rest.
        log.error('inference worker could not load a model', { worker: worker.index, model: entry.stored.name, version: entry.stored.version, error: (e as Error).message });
      }
    }
    worker.ready = true;
    this.pump();
  }

  private onMessage(worker: PoolWorker, message: FromWorker): void {
    switch (message.type) {
      case 'loaded':
      case 'load-failed': {
        const pending = worker.loads.get(message.key);
        worker.loads.delete(message.key);
        if (message.type === 'loaded' && this.entries.has(message.key)) worker.loaded.add(message.key);
        if (message.type === 'loaded') pending?.resolve();
        else pending?.reject(new Error(message.error));
        return;
      }
      case 'result':
        this.finish(worker, message.batchId, message.results, message.timings);
        return;
      default:
        return;
    }
  }

  private onExit(worker: PoolWorker, code: number): void {
    if (this.workers[worker.index] !== worker) return;
    worker.ready = false;
    for (const pending of worker.loads.values()) pending.resolve(); // its replacement loads them
    worker.loads.clear();
    if (this.closed) return;
    log.error('inference worker stopped; replacing it', { worker: worker.index, code, inFlight: worker.sent.reduce((n, batch) => n + batch.jobs.length, 0) });
    for (const batch of worker.sent.splice(0)) {
      this.dropped(batch.entry, 'worker-stopped', batch.jobs.length);
      for (const job of batch.jobs) {
        this.settle(job, new ServiceUnavailable('The inference worker running this request stopped; it is being replaced. Retry.', 1));
      }
    }
    this.spawn(worker.index).catch((e: unknown) => log.error('inference worker could not be replaced', { worker: worker.index, error: (e as Error).message }));
  }

  // ---- scheduling ------------------------------------------------------------------------

  /**
   * Gives every idle worker the most overdue ready batch it has loaded, then every busy worker
   * with room for a reserve a full batch if one waits; sets a timer for the next ready batch.
   */
  private pump(): void {
    if (this.closed) return;
    if (this.wake) clearTimeout(this.wake);
    this.wake = undefined;
    const now = performance.now();
    let nextReady = Infinity;
    const pick = (worker: PoolWorker, fullOnly: boolean): Entry | undefined => {
      let best: Entry | undefined;
      for (const entry of this.entries.values()) {
        const readyAt = entry.queue.readyAt();
        if (readyAt === undefined || !worker.loaded.has(entry.key)) continue;
        if (fullOnly && entry.queue.length < entry.queue.policy.maxBatchSize) continue;
        if (readyAt > now) {
          nextReady = Math.min(nextReady, readyAt);
          continue;
        }
        if (!best || entry.queue.oldest()! < best.queue.oldest()!) best = entry;
      }
      return best;
    };
    for (const worker of this.workers) {
      if (!worker?.ready || worker.sent.length > 0) continue;
      const best = pick(worker, false);
      if (best) this.dispatch(worker, best);
    }
    for (const worker of this.workers) {
      if (!worker?.ready || worker.sent.length === 0 || worker.sent.length >= MAX_SENT_BATCHES) continue;
      const full = pick(worker, true);
      if (full) this.dispatch(worker, full);
    }
    if (nextReady < Infinity) {
      this.wake = setTimeout(() => this.pump(), Math.max(0, nextReady - now));
      this.wake.unref();
    }
  }

  private dispatch(worker: PoolWorker, entry: Entry): void {
    const jobs = entry.queue.take();
    const transfer: ArrayBuffer[] = [];
    const inputs = jobs.map((job): ModelInput => {
      if (worker.inline) return job.input;
      if ('image' in job.input) {
        const { view, buffer } = transferable(job.input.image);
        transfer.push(buffer);
        return { image: view };
      }
      const { view, buffer } = transferable(job.input.tensor);
      transfer.push(buffer);
      return { tensor: view };
    });
    const batchId = this.nextBatch++;
    worker.sent.push({ batchId, entry, jobs, sentAt: performance.now() });
    worker.post({ type: 'run', batchId, key: entry.key, inputs }, transfer);
  }

  private finish(worker: PoolWorker, batchId: number, results: ItemResult[], timings: BatchTimings): void {
    // A worker answers its batches in the order it got them.
    const batch = worker.sent[0];
    if (!batch || batch.batchId !== batchId) return;
    worker.sent.shift();
    let failed = 0;
    batch.jobs.forEach((job, i) => {
      const result = results[i];
      if (result && 'row' in result) return this.settle(job, result.row);
      failed++;
      this.settle(job, result === undefined ? new Error('the worker returned no result') : rebuild(result, batch.entry));
    });
    const report: BatchReport = {
      model: batch.entry.stored.name,
      version: batch.entry.stored.version,
      size: batch.jobs.length,
      queueMs: batch.jobs.map((j) => batch.sentAt - j.enqueuedAt),
      latencyMs: batch.jobs.map((j) => performance.now() - j.enqueuedAt),
      failed,
      prepareMs: timings.prepareMs,
      predictMs: timings.predictMs,
    };
    for (const observer of this.observers) observer(report);
    this.pump();
  }

  private expire(entry: Entry, job: Job): void {
    const queued = entry.queue.remove(job);
    if (queued) this.dropped(entry, 'expired', 1);
    this.settle(
      job,
      new GatewayTimeout(
        queued
          ? `No worker could start this request within REQUEST_TIMEOUT_MS (${this.options.requestTimeoutMs} ms); it was dropped unrun.`
          : `The model did not answer within REQUEST_TIMEOUT_MS (${this.options.requestTimeoutMs} ms).`,
      ),
    );
  }

  private dropped(entry: Entry, reason: DropReport['reason'], inputs: number): void {
    const report: DropReport = { model: entry.stored.name, version: entry.stored.version, reason, inputs };
    for (const observer of this.dropObservers) observer(report);
  }

  private settle(job: Job, outcome: Float32Array | Error): void {
    if (job.settled) return;
    job.settled = true;
    if (job.deadline) clearTimeout(job.deadline);
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }
}

function queueFull(entry: Entry, e: QueueFull): AtCapacity {
  return new AtCapacity(`Model '${entry.stored.name}' version ${entry.stored.version} is at capacity: ${e.message}. Retry shortly.`, 1);
}

/** A worker's per-input failure as the typed error the HTTP side answers with. */
function rebuild(result: Exclude<ItemResult, { row: Float32Array }>, entry: Entry): Error {
  if ('problem' in result) {
    const { status, slug, title, detail, extensions, headers } = result.problem;
    return new ProblemError(status, slug, title, detail, extensions, headers);
  }
  log.error('inference failed in a worker', { model: entry.stored.name, version: entry.stored.version, error: result.internal });
  return new Error(`inference failed: ${result.internal}`);
}

/** The servable the HTTP side holds: inputs go to the pool's queue for this version. */
class PooledServable implements Servable {
  constructor(
    readonly name: string,
    readonly version: number,
    readonly metadata: ModelMetadata,
    readonly engine: EngineChoice,
    private readonly pool: WorkerPool,
    private readonly entry: Entry,
  ) {}

  predict(inputs: readonly ModelInput[]): Promise<Float32Array[]> {
    return this.pool.submit(this.entry, inputs);
  }

  dispose(): void {
    this.pool.unload(this.entry.key);
  }
}
