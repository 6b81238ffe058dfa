/**
 * A serving thread: the whole service (app, manager, pool with its worker inline) in a thread of
 * its own. The first binds PORT (and GRPC_PORT) and opens it before its models load, as a
 * single server would; the others accept on its socket once their own models are loaded.
 * Started by ServingThreads (serving-threads.ts); never imported elsewhere.
 */
import type { Server } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { openService, type Service } from '../bootstrap';
import { type Config, loadConfig } from '../config';
import { type GrpcServer, startGrpcServer } from '../grpc/server';
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
/** The first thread owns the listening socket (and gRPC): only it may close them. */
const first = init.fd === undefined;

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
/** Its HTTP server, once listening. */
let server: Server | undefined;
let grpc: GrpcServer | undefined;
/** Set by the main thread's 'drain': from then on this thread never starts listening. */
let drainMs: number | undefined;

/** The first thread: binds PORT on HOST; resolves with the socket's descriptor. */
function bind(open: Service, config: Config): Promise<number> {
  return new Promise((resolve, reject) => {
    const listening = open.app.listen(config.port, config.host, () => {
      log.info('listening', {
        url: `http://${config.host}:${config.port}`,
        pid: process.pid,
        backend: open.backend,
        servingThreads: config.servingThreads,
        ui: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}/ui`,
      });
      // Node has no public accessor; a TCP server's handle carries it (Linux, macOS).
      const fd = (listening as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
      if (typeof fd === 'number' && fd >= 0) resolve(fd);
      else reject(new Error('the listening socket has no file descriptor on this platform, so other serving threads cannot share it; set SERVING_THREADS=1'));
    });
    listening.once('error', (e) => reject(new Error(`cannot listen on ${config.host}:${config.port}: ${e.message}`)));
    applyHttpTimeouts(listening);
    server = listening;
  });
}

/**
 * The others: accept on the first thread's socket, once this thread's models are loaded. Until
 * then no client meets a thread that is still loading after the process said it was ready.
 */
function share(open: Service, fd: number): void {
  const listening = open.app.listen({ fd });
  applyHttpTimeouts(listening);
  listening.on('error', (e: NodeJS.ErrnoException) => {
    // The first thread closed the socket (shutdown) while this one was about to accept: libuv
    // would retry the accept for ever. Stop watching the closed descriptor.
    if (drainMs !== undefined && e.code === 'EBADF') return listening.close();
    log.error('serving thread: listener error', { error: e.message });
  });
  server = listening;
}

/** Shutdown of this thread: drain its connections and gRPC calls, free its models. */
async function drain(open: Service, graceMs: number): Promise<void> {
  // Only the first closes the listener; the others must not close the descriptor they share.
  const clean = server ? await shutDown(server, open, graceMs, grpc, first) : (await open.close(), true);
  send({ type: 'drained', clean });
}

// Installed before anything else, so a 'drain' during start-up is seen at once: the first
// thread closes the socket only after every other has said it will not start listening on it.
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
      else send({ type: 'metrics-json', id: message.id, metrics: [] });
      return;
    case 'all-loaded':
      if (service) service.lifecycle.othersLoading = false;
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
  configureLogging({ ...config.logging, ...(init.several ? { thread: init.index } : {}) });
  const open = await openService(config, SPEC_FILE, HANDLERS_DIR, {
    planner: { planner, backend: init.backend },
    bodies: init.bodies,
    scrape: () => ask<string>((id) => ({ type: 'scrape', id })),
  });
  // Ready once every thread is (the main thread says 'all-loaded').
  open.lifecycle.othersLoading = init.several;
  service = open;
  if (drainMs !== undefined) return drain(open, drainMs);
  if (first) {
    send({ type: 'listening', fd: await bind(open, config) });
    // The second front door (GRPC_PORT; 0: off), on the same service.
    if (config.grpcPort > 0) {
      grpc = await startGrpcServer(open.rpc, { port: config.grpcPort, host: config.host, maxMessageBytes: config.grpcMaxMessageBytes });
      log.info('gRPC listening', { address: `${config.host}:${grpc.port}`, services: ['tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService', 'inference.GRPCInferenceService', 'grpc.health.v1.Health'] });
    }
  }
  try {
    await open.loaded;
  } catch (e) {
    if (drainMs === undefined) send({ type: 'failed', error: e instanceof Error ? e.message : String(e) });
    return;
  }
  if (drainMs !== undefined) return;
  if (!first) share(open, init.fd!);
  send({ type: 'loaded', versions: open.models.list().map((m) => `${m.name}:${m.version}`) });
}

main().catch((e: unknown) => send({ type: 'failed', error: e instanceof Error ? e.message : String(e) }));
