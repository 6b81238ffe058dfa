import { startService } from './bootstrap';
import { loadConfig } from './config';
import { configureLogging, log } from './log';

/** Entry point: configure, load everything, then open the port; exit 1 with a reason if anything fails. */
async function main(): Promise<void> {
  const config = loadConfig();
  configureLogging(config.logging);
  const { app, models, backend, close } = await startService(config);
  const server = app.listen(config.port, config.host, () => {
    log.info('listening', {
      url: `http://${config.host}:${config.port}`,
      backend,
      models: models.list().map((m) => `${m.name}:${m.version}`),
      ui: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}/ui`,
    });
  });
  server.on('error', (e) => {
    log.error('cannot listen', { port: config.port, host: config.host, error: e.message });
    process.exit(1);
  });
  // Slow clients must not hold sockets forever (slow-loris); keep-alive longer than common proxies' idle time.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 65_000;

  const stop = (signal: string) => {
    log.info('shutting down', { signal });
    server.close(() => {
      void close().then(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  // SIGHUP: re-read the model store now instead of waiting for the next poll.
  process.on('SIGHUP', () => {
    log.info('reloading the model store', { signal: 'SIGHUP' });
    void models.reconcile();
  });
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  log.error('start-up failed', { error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
