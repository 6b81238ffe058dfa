import { loadConfig } from './config';
import { Planner } from './inference/planner';
import { configureLogging, log } from './log';
import { ServingThreads } from './serving/serving-threads';
import { SharedPlanner } from './serving/shared-planner';

/**
 * Entry point: configure, start the planning thread (TF.js: a backend that cannot start stops
 * the server here), then the serving threads (src/serving): the first opens the port before the
 * models load (readiness and the model routes answer 503 until they have). This thread keeps the
 * signals, the planner and the sum of the metrics. Exit 1 with a reason if anything fails.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  configureLogging(config.logging);
  const { planner, backend } = await Planner.start(config.backend);
  const share = { planner: { planner: new SharedPlanner(planner), backend }, bodies: new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT) };
  const threads = await ServingThreads.start(config.servingThreads, share, (reason) => {
    log.error('a serving thread stopped: the process ends for its supervisor to restart it (the serving threads share one listening socket)', { reason });
    process.exit(1);
  });

  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { reason, graceMs: config.shutdownGraceMs });
    void threads.drain(config.shutdownGraceMs).then(
      () => process.exit(0),
      (e: unknown) => {
        log.error('shutdown failed', { error: e instanceof Error ? e.message : String(e) });
        process.exit(1);
      },
    );
  };
  // SIGHUP: every serving thread re-reads the model store now instead of waiting for the next poll.
  process.on('SIGHUP', () => {
    log.info('reloading the model store', { signal: 'SIGHUP' });
    threads.reconcile();
  });
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (process.env.npm_lifecycle_event !== undefined) stopWhenOrphaned(stop);

  const started = Date.now();
  let loaded: string[][];
  try {
    loaded = await threads.loaded();
  } catch (e) {
    if (stopping) return; // a shutdown during loading ends the loads; that is not a start-up failure
    throw e;
  }
  log.info('models loaded', { ms: Date.now() - started, models: loaded[0] ?? [], servingThreads: loaded.length });
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
