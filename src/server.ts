import type { Server } from 'node:http';
import { openService, type SharedResources } from './bootstrap';
import { type Config, loadConfig } from './config';
import { startGrpcServer } from './grpc/server';
import { Planner } from './inference/planner';
import { configureLogging, log } from './log';
import { HANDLERS_DIR, SPEC_FILE } from './paths';
import { applyHttpTimeouts } from './serving/http-timeouts';
import { ServingThreads } from './serving/serving-threads';
import { SharedPlanner } from './serving/shared-planner';
import { shutDown } from './shutdown';

/**
 * Entry point: configure, open the service in this thread, open the port, start the other
 * serving threads on it (SERVING_THREADS), then load the models (readiness and the model routes
 * answer 503 until they have); exit 1 with a reason if anything fails.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  configureLogging({ ...config.logging, ...(config.servingThreads > 1 ? { thread: 0 } : {}) });
  // /metrics on any serving thread answers for all of them (the others start once the port is open).
  let threads: ServingThreads | undefined;
  const shared = config.servingThreads > 1 ? await sharedResources(config, () => threads?.scrape() ?? service.registry.metrics()) : undefined;
  const service = await openService(config, SPEC_FILE, HANDLERS_DIR, shared);
  const { app, models, backend } = service;
  const listening = new Promise<Server>((resolve) => {
    const server: Server = app.listen(config.port, config.host, () => {
      log.info('listening', {
        url: `http://${config.host}:${config.port}`,
        pid: process.pid,
        backend,
        servingThreads: config.servingThreads,
        ui: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}/ui`,
      });
      resolve(server);
    });
    server.on('error', (e) => {
      log.error('cannot listen', { port: config.port, host: config.host, error: e.message });
      process.exit(1);
    });
  });
  const server = await listening;
  if (shared) {
    threads = new ServingThreads(config.servingThreads - 1, listenerFd(server), { ...shared.planner, bodies: shared.bodies, ownMetrics: () => service.registry.getMetricsAsJSON() }, (reason) => {
      log.error('a serving thread stopped; the process ends for its supervisor to restart it (the threads share one listening socket)', { reason });
      process.exit(1);
    });
  }
  // The second front door (GRPC_PORT; 0: off), on the same service.
  const grpc = config.grpcPort > 0 ? await startGrpcServer(service.rpc, { port: config.grpcPort, host: config.host, maxMessageBytes: config.grpcMaxMessageBytes }) : undefined;
  if (grpc) log.info('gRPC listening', { address: `${config.host}:${grpc.port}`, services: ['tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService', 'inference.GRPCInferenceService', 'grpc.health.v1.Health'] });
  applyHttpTimeouts(server);

  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { reason, graceMs: config.shutdownGraceMs });
    service.lifecycle.draining = true; // readiness 503 at once, in this thread too
    const others = threads?.drain(config.shutdownGraceMs) ?? { listening: Promise.resolve(), drained: Promise.resolve(true) };
    // The listener closes once no other thread can still start listening on it.
    const own = others.listening.then(() => shutDown(server, service, config.shutdownGraceMs, grpc));
    void Promise.all([own, others.drained]).then(
      () => process.exit(0),
      (e: unknown) => {
        log.error('shutdown failed', { error: e instanceof Error ? e.message : String(e) });
        process.exit(1);
      },
    );
  };
  // SIGHUP: re-read the model store now instead of waiting for the next poll.
  process.on('SIGHUP', () => {
    log.info('reloading the model store', { signal: 'SIGHUP' });
    void models.reconcile();
    threads?.reconcile();
  });
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (process.env.npm_lifecycle_event !== undefined) stopWhenOrphaned(stop);

  const started = Date.now();
  try {
    await service.loaded;
    await threads?.loaded;
  } catch (e) {
    if (stopping) return; // a shutdown during loading ends the loads; that is not a start-up failure
    throw e;
  }
  log.info('models loaded', { ms: Date.now() - started, models: models.list().map((m) => `${m.name}:${m.version}`) });
}

/**
 * With several serving threads: one planner for the process (it starts TF.js now, so a backend
 * that cannot start stops the server here), one body budget, and /metrics for every thread.
 */
async function sharedResources(config: Config, scrape: () => Promise<string>): Promise<SharedResources> {
  const { planner, backend } = await Planner.start(config.backend);
  return { planner: { planner: new SharedPlanner(planner), backend }, bodies: new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT), scrape };
}

/** The descriptor of a listening server, for the other serving threads to accept on. */
function listenerFd(server: Server): number {
  // Node has no public accessor; a TCP server's handle carries it (Linux, macOS).
  const fd = (server as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('SERVING_THREADS > 1 needs the listening socket\'s file descriptor, which this platform does not give; set SERVING_THREADS=1');
  return fd;
}

/**
 * Under `npm start` the server's parent is npm, which forwards SIGTERM and SIGINT but not SIGHUP:
 * a SIGHUP (or a SIGKILL) to npm ends npm alone and would leave the server running with no parent
 * that a supervisor knows. When the parent goes, drain and exit as for SIGTERM.
 */
function stopWhenOrphaned(stop: (reason: string) => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      stop('parent process exited');
    }
  }, 500);
  timer.unref();
}

main().catch((e: unknown) => {
  log.error('start-up failed', { error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
