import { openService } from './bootstrap';
import { loadConfig } from './config';
import { startGrpcServer } from './grpc/server';
import { configureLogging, log } from './log';
import { shutDown } from './shutdown';

/**
 * Entry point: configure, start the workers, open the port, then load the models (readiness and
 * the model routes answer 503 until they have); exit 1 with a reason if anything fails.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  configureLogging(config.logging);
  const service = await openService(config);
  const { app, models, backend } = service;
  const server = app.listen(config.port, config.host, () => {
    log.info('listening', {
      url: `http://${config.host}:${config.port}`,
      pid: process.pid,
      backend,
      ui: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}/ui`,
    });
  });
  server.on('error', (e) => {
    log.error('cannot listen', { port: config.port, host: config.host, error: e.message });
    process.exit(1);
  });
  // The second front door (GRPC_PORT; 0: off), on the same service.
  const grpc = config.grpcPort > 0 ? await startGrpcServer(service.rpc, { port: config.grpcPort, host: config.host, maxMessageBytes: config.grpcMaxMessageBytes }) : undefined;
  if (grpc) log.info('gRPC listening', { address: `${config.host}:${grpc.port}`, services: ['tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService', 'inference.GRPCInferenceService', 'grpc.health.v1.Health'] });
  // Slow clients must not hold sockets forever (slow-loris); keep-alive longer than common proxies' idle time.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 65_000;

  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { reason, graceMs: config.shutdownGraceMs });
    void shutDown(server, service, config.shutdownGraceMs, grpc).then(
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
  });
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (process.env.npm_lifecycle_event !== undefined) stopWhenOrphaned(stop);

  const started = Date.now();
  try {
    await service.loaded;
  } catch (e) {
    if (stopping) return; // a shutdown during loading ends the loads; that is not a start-up failure
    throw e;
  }
  log.info('models loaded', { ms: Date.now() - started, models: models.list().map((m) => `${m.name}:${m.version}`) });
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
