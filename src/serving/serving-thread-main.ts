/**
 * A serving thread other than the main one (SERVING_THREADS > 1): the whole service (app,
 * manager, pool with its worker inline) accepting on the main thread's listening socket.
 * Started by ServingThreads (serving-threads.ts); never imported elsewhere.
 */
import type { Server } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { openService, type Service } from '../bootstrap';
import { loadConfig } from '../config';
import type { EngineName } from '../inference/engines/engine';
import type { LoadPlan } from '../inference/engines/plan';
import type { VersionPlanner } from '../inference/planner';
import { configureLogging, log } from '../log';
import type { StoredVersion } from '../model-store/repository';
import { HANDLERS_DIR, SPEC_FILE } from '../paths';
import { shutDown } from '../shutdown';
import { applyHttpTimeouts } from './http-timeouts';
import type { FromServing, ServingInit, ToServing } from './protocol';

const port = parentPort;
if (!port) throw new Error('serving-thread-main runs only as a worker thread (started by ServingThreads)');
const init = workerData as ServingInit;
const send = (message: FromServing): void => port.postMessage(message);

/** Answers to this thread's questions to the main thread (plans, scrapes), by id. */
const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
let nextId = 1;
function ask<T>(question: (id: number) => FromServing): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
    send(question(id));
  });
}
function answer(id: number, outcome: unknown): void {
  const pending = waiting.get(id);
  waiting.delete(id);
  if (outcome instanceof Error) pending?.reject(outcome);
  else pending?.resolve(outcome);
}

/** Plans come from the main thread's planner: each version is converted and checked once per process. */
const planner: VersionPlanner = {
  plan: (stored: StoredVersion, engine: EngineName | undefined) => ask<LoadPlan>((id) => ({ type: 'plan', id, stored, engine })),
  close: () => Promise.resolve(),
};

/** This thread's service, once opened. */
let service: Service | undefined;
/** Its server, once its models are loaded (see `listen`). */
let server: Server | undefined;
/** Set by the main thread's 'drain': from then on this thread never starts listening. */
let drainMs: number | undefined;

/**
 * Accepts only once its models are loaded: until then the main thread (listening from the start)
 * answers readiness and the model routes with 503, and no client meets a second thread that is
 * still loading after the process said it was ready.
 */
function listen(open: Service): void {
  const listening = open.app.listen({ fd: init.fd });
  applyHttpTimeouts(listening);
  listening.on('error', (e: NodeJS.ErrnoException) => {
    // The main thread closed the shared socket (shutdown) while this thread was about to accept:
    // libuv would retry the accept for ever. Stop watching the closed descriptor.
    if (drainMs !== undefined && e.code === 'EBADF') return listening.close();
    log.error('serving thread: listener error', { error: e.message });
  });
  server = listening;
}

/** Shutdown of this thread: drain its connections (it never closes the shared listener), free its models. */
async function drain(open: Service, graceMs: number): Promise<void> {
  const clean = server ? await shutDown(server, open, graceMs, undefined, false) : (await open.close(), true);
  send({ type: 'drained', clean });
}

// Installed before anything else, so a 'drain' during start-up is seen at once: the main thread
// closes the shared socket only after every thread has said it will not start listening on it.
port.on('message', (message: ToServing) => {
  switch (message.type) {
    case 'planned':
      return answer(message.id, message.plan);
    case 'plan-failed':
      return answer(message.id, new Error(message.error));
    case 'scraped':
      return answer(message.id, message.text);
    case 'collect':
      if (service) void service.registry.getMetricsAsJSON().then((metrics) => send({ type: 'metrics-json', id: message.id, metrics }));
      return;
    case 'reconcile':
      void service?.models.reconcile();
      return;
    case 'drain':
      if (drainMs !== undefined) return;
      drainMs = message.graceMs;
      send({ type: 'draining' });
      if (service) void drain(service, drainMs);
      return;
  }
});

async function main(): Promise<void> {
  const config = loadConfig();
  configureLogging({ ...config.logging, thread: init.index });
  const open = await openService(config, SPEC_FILE, HANDLERS_DIR, {
    planner: { planner, backend: init.backend },
    bodies: init.bodies,
    scrape: () => ask<string>((id) => ({ type: 'scrape', id })),
  });
  service = open;
  if (drainMs !== undefined) return drain(open, drainMs);
  open.loaded.then(
    () => {
      if (drainMs !== undefined) return;
      listen(open);
      send({ type: 'loaded', versions: open.models.list().map((m) => `${m.name}:${m.version}`) });
    },
    (e: unknown) => send({ type: 'load-failed', error: e instanceof Error ? e.message : String(e) }),
  );
}

main().catch((e: unknown) => {
  send({ type: 'load-failed', error: e instanceof Error ? e.message : String(e) });
});
