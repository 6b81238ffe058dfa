import type { Worker } from 'node:worker_threads';
import type { SharedResources } from '../bootstrap';
import { startThread } from '../inference/threads';
import { log } from '../log';
import { aggregateThreads, type MetricsJson } from '../metrics/aggregate';
import type { FromServing, ServingInit, ToServing } from './protocol';

/**
 * Young generation of each serving thread when there are several, as an inference worker's
 * (worker-pool.ts): its garbage is short-lived request objects, and V8's default (a main
 * thread's, up to 3 x 16 MB) kept 45-80 MB more resident under load for no measurable gain.
 * A single serving thread keeps V8's default: it feeds every inference worker and is the busiest
 * thread, and capping it cost answers per second (docs/performance.md, "Serving threads").
 */
const SERVING_YOUNG_GENERATION_MB = 12;

/** How long a thread may take to send its metrics before a scrape goes on without them. */
const COLLECT_TIMEOUT_MS = 2_000;

/**
 * What the process has once and gives every serving thread: the planner (a SharedPlanner) and
 * its backend, the body budget. Each thread adds its own `scrape` (asking this thread).
 */
export type ServingShare = Omit<SharedResources, 'scrape'>;

/** One serving thread, and where it is in its life. */
interface Thread {
  index: number;
  worker: Worker;
  /** Settles with the thread's first read of the store (its versions), or its start-up failure. */
  loaded: Promise<string[]>;
  listening?: (fd: number) => void;
  collecting: Map<number, (metrics: MetricsJson | undefined) => void>;
  /** Set by `drain`: resolves when the thread has said it will not start listening. */
  acknowledged?: Promise<void>;
  draining?: () => void;
  drained?: (clean: boolean) => void;
}

/**
 * The serving threads (SERVING_THREADS): each runs the whole service; the first binds the port
 * (and gRPC), the others accept on its socket, and the kernel hands each connection to one of
 * them. The main thread only holds what the process has once: the planner (shared-planner.ts),
 * the sum of the threads' metrics for /metrics, signals.
 *
 * Node 20 cannot open one socket per thread on a port (`reusePort` came in Node 22.12), so all
 * share one descriptor, and a thread that closed it, or died (its handles close as it ends),
 * would close it for every thread. So the threads live as long as the process: a serving thread
 * that dies ends the process (`onDeath`) for its supervisor to restart, and shutdown drains the
 * others before the first closes the socket.
 */
export class ServingThreads {
  private readonly threads: Thread[] = [];
  private nextCollect = 1;
  private stopping = false;

  private constructor(
    private readonly share: ServingShare,
    private readonly onDeath: (reason: string) => void,
  ) {}

  /**
   * Starts the first thread and waits until its port is open, then the others on its socket.
   * Throws with the first thread's reason when it cannot open the service or the port.
   */
  static async start(count: number, share: ServingShare, onDeath: (reason: string) => void): Promise<ServingThreads> {
    const threads = new ServingThreads(share, onDeath);
    const first = threads.spawn(1, count > 1, undefined);
    // The first thread says 'listening' before 'loaded'; a failure before it rejects `loaded`.
    const fd = await Promise.race([new Promise<number>((resolve) => (first.listening = resolve)), first.loaded.then(() => new Promise<never>(() => undefined))]);
    for (let index = 2; index <= count; index++) threads.spawn(index, true, fd);
    return threads;
  }

  /**
   * Settles when every thread has read the store once, and tells them: each answers readiness
   * from then on. Rejects with the first start-up failure.
   */
  async loaded(): Promise<string[][]> {
    const versions = await Promise.all(this.threads.map((t) => t.loaded));
    for (const { worker } of this.threads) this.post(worker, { type: 'all-loaded' });
    return versions;
  }

  /** SIGHUP: every thread reads the store now. */
  reconcile(): void {
    for (const { worker } of this.threads) this.post(worker, { type: 'reconcile' });
  }

  /** Every thread's metrics, as one exposition (what /metrics answers on any thread). */
  async scrape(): Promise<string> {
    const all = await Promise.all(this.threads.map((thread) => this.collect(thread)));
    return aggregateThreads(all.filter((m): m is MetricsJson => m !== undefined)).metrics();
  }

  /**
   * Shutdown: every thread drains (src/shutdown.ts) and frees its models; true when none had to
   * cut a connection. The first thread, which closes the socket, is told last: once every other
   * has said it will not start listening (one still loading would otherwise listen on the
   * descriptor after it closed, or on whatever reused its number).
   */
  async drain(graceMs: number): Promise<boolean> {
    this.stopping = true;
    const [first, ...others] = this.threads.filter((t) => t.worker.threadId !== -1);
    const late = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms).unref());
    const drained = others.map((thread) => this.tell(thread, graceMs));
    // A thread too stuck to answer within the grace period does not hold the shutdown for ever.
    await Promise.race([Promise.all(others.map((t) => t.acknowledged)), late(graceMs, undefined)]);
    if (first) drained.push(this.tell(first, graceMs));
    // Each thread cuts its connections at the end of the grace period; freeing its models is bounded too (threads.ts).
    return Promise.race([Promise.all(drained).then((all) => all.every(Boolean)), late(graceMs + 15_000, false)]);
  }

  private tell(thread: Thread, graceMs: number): Promise<boolean> {
    thread.acknowledged = new Promise<void>((resolve) => (thread.draining = resolve));
    const drained = new Promise<boolean>((resolve) => (thread.drained = resolve));
    this.post(thread.worker, { type: 'drain', graceMs });
    return drained;
  }

  private spawn(index: number, several: boolean, fd: number | undefined): Thread {
    const init: ServingInit = { index, several, ...(fd === undefined ? {} : { fd }), bodies: this.share.bodies, backend: this.share.planner.backend };
    const worker = startThread('serving-thread-main', init, several ? { maxYoungGenerationSizeMb: SERVING_YOUNG_GENERATION_MB } : undefined, __dirname);
    let settle!: { resolve(versions: string[]): void; reject(error: Error): void };
    const loaded = new Promise<string[]>((resolve, reject) => (settle = { resolve, reject }));
    loaded.catch(() => undefined); // the caller awaits it
    const thread: Thread = { index, worker, loaded, collecting: new Map() };
    worker.on('message', (message: FromServing) => {
      if (message.type === 'loaded') settle.resolve(message.versions);
      else if (message.type === 'failed') settle.reject(new Error(message.error));
      else this.onMessage(thread, message);
    });
    worker.on('error', (e) => log.error('serving thread failed', { thread: index, error: e.stack ?? e.message }));
    worker.once('exit', (code) => {
      settle.reject(new Error(`serving thread ${index} exited (code ${code}) before its models loaded`));
      if (!this.stopping) this.onDeath(`serving thread ${index} exited (code ${code})`);
      thread.draining?.();
      thread.drained?.(false);
      for (const done of thread.collecting.values()) done(undefined);
    });
    this.threads.push(thread);
    return thread;
  }

  private onMessage(thread: Thread, message: FromServing): void {
    switch (message.type) {
      case 'listening':
        thread.listening?.(message.fd);
        return;
      case 'plan':
        this.share.planner.planner.plan(message.stored, message.engine).then(
          (plan) => this.post(thread.worker, { type: 'planned', id: message.id, plan }),
          (e: unknown) => this.post(thread.worker, { type: 'plan-failed', id: message.id, error: (e as Error).message }),
        );
        return;
      case 'scrape':
        this.scrape().then(
          (text) => this.post(thread.worker, { type: 'scraped', id: message.id, text }),
          (e: unknown) => {
            log.error('metrics: the threads could not be aggregated', { error: (e as Error).message });
            this.post(thread.worker, { type: 'scraped', id: message.id, text: '' });
          },
        );
        return;
      case 'metrics-json':
        thread.collecting.get(message.id)?.(message.metrics);
        thread.collecting.delete(message.id);
        return;
      case 'draining':
        thread.draining?.();
        return;
      case 'drained':
        thread.drained?.(message.clean);
        return;
    }
  }

  private collect(thread: Thread): Promise<MetricsJson | undefined> {
    if (thread.worker.threadId === -1) return Promise.resolve(undefined);
    const id = this.nextCollect++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        thread.collecting.delete(id);
        resolve(undefined);
      }, COLLECT_TIMEOUT_MS);
      thread.collecting.set(id, (metrics) => {
        clearTimeout(timer);
        resolve(metrics);
      });
      this.post(thread.worker, { type: 'collect', id });
    });
  }

  private post(worker: Worker, message: ToServing): void {
    if (worker.threadId !== -1) worker.postMessage(message);
  }
}
