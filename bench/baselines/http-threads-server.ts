/**
 * Not a product server: a measurement of the design option issue 14's c=16 target points to (HTTP
 * parsing, Express, the validator and multer on every core, not on the main thread alone; see
 * docs/performance.md). The whole service runs twice in one process: on the main thread and in
 * one worker thread, each with its own inference workers (run it with WORKERS=1,
 * INTRA_OP_THREADS=1), both accepting connections on ONE listening socket: on Linux a worker
 * thread may listen on the main thread's file descriptor, and the kernel hands each new
 * connection to one of the two. Each copy loads every model, keeps its own metrics and watches
 * the store on its own, which is why this is a bench variant and not how specserve runs.
 *
 * The main thread listens only once the second copy has loaded its models, so a client never
 * meets a copy that is still starting. Env: as the server's (PORT, HOST, MODEL_STORE, ...).
 */
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { openService } from '../../src/bootstrap';
import { loadConfig } from '../../src/config';

/** From the main thread to the second copy: the listening socket to accept on. */
interface Listen {
  fd: number;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const service = await openService(config);
  await service.loaded;
  if (!isMainThread) {
    parentPort!.once('message', ({ fd }: Listen) => {
      service.app.listen({ fd }, () => parentPort!.postMessage('listening'));
    });
    parentPort!.postMessage('loaded');
    return;
  }
  const second = new Worker(__filename);
  second.on('error', (e) => {
    console.error(`http-threads: the second copy failed: ${e.message}`);
    process.exit(1);
  });
  await new Promise<void>((resolve) => second.once('message', () => resolve()));
  const server = service.app.listen(config.port, config.host, () => {
    // Node keeps the descriptor on the listening handle; there is no public accessor.
    const { fd } = (server as unknown as { _handle: { fd: number } })._handle;
    second.postMessage({ fd } satisfies Listen);
    second.once('message', () => console.log(`http-threads: listening on ${config.host}:${config.port} in two threads`));
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
