import type { Worker } from 'node:worker_threads';
import type { BackendName } from '../config';
import { log } from '../log';
import type { StoredVersion } from '../model-store/repository';
import type { EngineName } from './engines/engine';
import type { LoadPlan } from './engines/plan';
import type { FromPlanner, PlannerInit, ToPlanner } from './planner-protocol';
import { startThread, stopThread } from './threads';

/**
 * How long the planning thread waits for another version before it ends. Long enough that the
 * versions loaded at start-up, or one reload's versions, share one thread (starting one costs
 * TF.js's start, ~1 s); short enough that its memory is back soon after.
 */
const DEFAULT_IDLE_MS = 3_000;

interface Pending {
  resolve(plan: LoadPlan): void;
  reject(error: Error): void;
}

/** One planning thread while it lives (see planner-main.ts). */
interface Running {
  thread: Worker;
  /** Resolves with the TF.js backend once the thread has started it. */
  started: Promise<BackendName>;
  /** Its plans not yet answered, by id. */
  pending: Map<number, Pending>;
}

/** Decides how a version is loaded (engines/plan.ts); what a WorkerPool asks before every load. */
export interface VersionPlanner {
  /** The plan of one version; rejects with the reason it cannot serve (naming the file). */
  plan(stored: StoredVersion, engine: EngineName | undefined): Promise<LoadPlan>;
  close(): Promise<void>;
}

/**
 * Decides the engine of each version (planVersion) in a planning thread of its own, started when
 * there is something to plan and ended when idle: the TF.js start and WebAssembly heap of the
 * parity check are paid once per load, not kept in an inference worker for the server's life.
 */
export class Planner implements VersionPlanner {
  private running: Running | undefined;
  private nextId = 1;
  private idle: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly init: PlannerInit,
    private readonly idleMs: number,
  ) {}

  /**
   * Starts the planning thread once, to learn the TF.js backend (and fail at start-up, with its
   * reason, when none can start); it ends when idle like every later one.
   */
  static async start(backend: BackendName | undefined, idleMs = DEFAULT_IDLE_MS): Promise<{ planner: Planner; backend: BackendName }> {
    const planner = new Planner({ backend }, idleMs);
    try {
      const started = await planner.thread().started;
      planner.idleSoon();
      return { planner, backend: started };
    } catch (e) {
      await planner.close();
      throw e;
    }
  }

  /** The plan of one version; rejects with the reason it cannot serve (naming the file). */
  async plan(stored: StoredVersion, engine: EngineName | undefined): Promise<LoadPlan> {
    if (this.closed) throw new Error('the server is shutting down');
    if (this.idle) clearTimeout(this.idle);
    const { thread, started, pending } = this.thread();
    await started;
    const id = this.nextId++;
    return new Promise<LoadPlan>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      const message: ToPlanner = { type: 'plan', id, stored, engine };
      thread.postMessage(message);
    });
  }

  /** Whether a planning thread is alive now (for tests and diagnostics). */
  get threadAlive(): boolean {
    return this.running !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.idle) clearTimeout(this.idle);
    if (this.running) await stopThread(this.running.thread);
  }

  private thread(): Running {
    if (this.running) return this.running;
    const thread = startThread('planner-main', this.init);
    const pending = new Map<number, Pending>();
    const started = new Promise<BackendName>((resolve, reject) => {
      thread.on('message', (message: FromPlanner) => {
        switch (message.type) {
          case 'ready':
            return resolve(message.backend);
          case 'init-failed':
            return reject(new Error(`TensorFlow.js could not start: ${message.error}`));
          case 'planned':
          case 'plan-failed': {
            const waiting = pending.get(message.id);
            pending.delete(message.id);
            if (message.type === 'planned') waiting?.resolve(message.plan);
            else waiting?.reject(new Error(message.error));
            if (pending.size === 0) this.idleSoon();
            return;
          }
        }
      });
      thread.once('exit', (code) => {
        if (this.running?.thread === thread) this.running = undefined;
        reject(new Error(`the planning thread exited (code ${code}) before it started`));
        for (const waiting of pending.values()) waiting.reject(new Error(`the planning thread stopped (code ${code}) while planning`));
        pending.clear();
      });
      thread.on('error', (e) => log.error('planning thread error', { error: e.stack ?? e.message }));
    });
    started.catch(() => undefined); // the caller awaiting it sees the rejection
    this.running = { thread, started, pending };
    return this.running;
  }

  private idleSoon(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      const running = this.running;
      if (!running || running.pending.size > 0) return;
      this.running = undefined;
      void stopThread(running.thread);
    }, this.idleMs);
    this.idle.unref();
  }
}
