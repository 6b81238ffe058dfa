import type { Worker } from 'node:worker_threads';
import type { BackendName } from '../config';
import type { VersionPlanner } from '../inference/planner';
import { startThread } from '../inference/threads';
import { log } from '../log';
import { aggregateThreads, type MetricsJson } from '../metrics/aggregate';
import type { FromServing, ServingInit, ToServing } from './protocol';

/**
 * Young generation of a serving thread's V8 heap, as an inference worker's (worker-pool.ts): its
 * garbage is short-lived request objects, and V8's default (a main thread's, up to 3 x 16 MB)
 * kept ~25 MB more resident per thread for no fewer pauses (docs/performance.md).
 */
const SERVING_YOUNG_GENERATION_MB = 12;

/** How long a thread may take to send its metrics before a scrape goes on without them. */
const COLLECT_TIMEOUT_MS = 2_000;

/** What the main thread's own service gives the others. */
export interface MainThreadShare {
  /** A SharedPlanner: the main thread's own pool plans through it too. */
  planner: VersionPlanner;
  backend: BackendName;
  bodies: SharedArrayBuffer;
  /** The main thread's own metrics. */
  ownMetrics(): Promise<MetricsJson>;
}

/** One other serving thread, and where it is in its life. */
interface Thread {
  index: number;
  worker: Worker;
  collecting: Map<number, (metrics: MetricsJson | undefined) => void>;
  draining?: () => void;
  drained?: (clean: boolean) => void;
}

/**
 * The serving threads other than the main one (SERVING_THREADS - 1 of them). Each runs the whole
 * service and accepts on the main thread's listening socket; the kernel hands each connection to
 * one of them. What the process has once stays in the main thread: the planner (each version is
 * planned once, its plan shared: shared-planner.ts), the aggregation of /metrics, signals, gRPC.
 *
 * Node 20 cannot open one socket per thread on a port (`reusePort` came in Node 22.12), so all
 * share one descriptor, and a thread that closed it, or died (its handles close as it ends),
 * would close it for every thread. So the threads live as long as the process: a serving thread
 * that dies ends the process (`onDeath`) for its supervisor to restart, and shutdown drains them
 * without closing their listeners.
 */
export class ServingThreads {
  private readonly threads: Thread[] = [];
  private nextCollect = 1;
  private stopping = false;
  /** Settles when every thread has read the store once: rejects with the first that could serve nothing. */
  readonly loaded: Promise<string[][]>;

  constructor(
    count: number,
    fd: number,
    private readonly share: MainThreadShare,
    onDeath: (reason: string) => void,
  ) {
    const loads: Promise<string[]>[] = [];
    for (let index = 1; index <= count; index++) {
      const init: ServingInit = { index, fd, bodies: share.bodies, backend: share.backend };
      const worker = startThread('serving-thread-main', init, { maxYoungGenerationSizeMb: SERVING_YOUNG_GENERATION_MB }, __dirname);
      const thread: Thread = { index, worker, collecting: new Map() };
      this.threads.push(thread);
      loads.push(
        new Promise<string[]>((resolve, reject) => {
          worker.on('message', (message: FromServing) => {
            if (message.type === 'loaded') resolve(message.versions);
            else if (message.type === 'load-failed') reject(new Error(`serving thread ${index}: ${message.error}`));
            else this.onMessage(thread, message);
          });
          worker.on('error', (e) => log.error('serving thread failed', { thread: index, error: e.stack ?? e.message }));
          worker.once('exit', (code) => {
            reject(new Error(`serving thread ${index} exited (code ${code}) before its models loaded`));
            if (!this.stopping) onDeath(`serving thread ${index} exited (code ${code})`);
            thread.draining?.();
            thread.drained?.(false);
            for (const done of thread.collecting.values()) done(undefined);
          });
        }),
      );
    }
    this.loaded = Promise.all(loads);
    this.loaded.catch(() => undefined); // the caller awaits it
  }

  /** SIGHUP: every thread reads the store now. */
  reconcile(): void {
    for (const { worker } of this.threads) this.post(worker, { type: 'reconcile' });
  }

  /** Every thread's metrics with the main thread's, as one exposition (what /metrics answers on any thread). */
  async scrape(): Promise<string> {
    const others = await Promise.all(this.threads.map((thread) => this.collect(thread)));
    const all = [await this.share.ownMetrics(), ...others.filter((m): m is MetricsJson => m !== undefined)];
    return aggregateThreads(all).metrics();
  }

  /**
   * Shutdown: each thread drains (src/shutdown.ts) and frees its models. `listening` resolves
   * once every thread has said it will not start listening (one still loading would otherwise
   * listen on the descriptor after the main thread closed it, or on whatever reused its number):
   * only then may the main thread close the socket. `drained` is true when no thread had to cut
   * a connection.
   */
  drain(graceMs: number): { listening: Promise<void>; drained: Promise<boolean> } {
    this.stopping = true;
    const acknowledged: Promise<void>[] = [];
    const drained: Promise<boolean>[] = [];
    for (const thread of this.threads) {
      if (thread.worker.threadId === -1) continue;
      acknowledged.push(new Promise<void>((resolve) => (thread.draining = resolve)));
      drained.push(new Promise<boolean>((resolve) => (thread.drained = resolve)));
      this.post(thread.worker, { type: 'drain', graceMs });
    }
    // A thread too stuck to answer within the grace period does not hold the shutdown for ever.
    const late = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms).unref());
    return {
      listening: Promise.race([Promise.all(acknowledged).then(() => undefined), late(graceMs, undefined)]),
      // Each thread cuts its connections at the end of the grace period; freeing its models is bounded too (threads.ts).
      drained: Promise.race([Promise.all(drained).then((all) => all.every(Boolean)), late(graceMs + 15_000, false)]),
    };
  }

  private onMessage(thread: Thread, message: FromServing): void {
    switch (message.type) {
      case 'plan':
        this.share.planner.plan(message.stored, message.engine).then(
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
