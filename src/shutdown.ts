import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Service } from './bootstrap';
import type { GrpcServer } from './grpc/server';
import { log } from './log';

/**
 * Graceful shutdown, in the order load balancers and clients need it:
 * 1. readiness answers 503 at once, so a balancer stops routing here;
 * 2. the listener closes: no new connections; idle keep-alive connections are closed, busy ones
 *    close after their current answer (it carries `Connection: close`); the gRPC server, when
 *    one runs, stops taking calls (GOAWAY) and lets those in flight finish, in the same grace;
 * 3. every accepted request (including inputs queued for the workers) is answered;
 * 4. models are unloaded and the workers stopped.
 * If accepted requests are still running after `graceMs`, their connections are cut and the
 * shutdown completes anyway. Resolves true when nothing had to be cut.
 */
export async function shutDown(server: Server, service: Pick<Service, 'lifecycle' | 'close'>, graceMs: number, grpc?: GrpcServer, ownsListener = true): Promise<boolean> {
  service.lifecycle.draining = true;
  const started = Date.now();
  // Keep-alive clients would otherwise keep their busy connections open with request after request,
  // and close() would wait for the whole grace period: every answer from now on ends its connection.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  });
  // gRPC calls in flight are drained side by side, within the same grace period.
  const grpcDrained = grpc?.drain(graceMs) ?? Promise.resolve(true);
  // A serving thread that accepts on the first serving thread's socket must not close it (that
  // would close the one descriptor every thread accepts on: src/serving): the first thread's close
  // stops new connections everywhere, and this thread waits for its own to end.
  const drained = ownsListener ? new Promise<boolean>((resolve) => server.close(() => resolve(true))) : connectionsEnded(server);
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  const httpClean = await Promise.race([drained, deadline]);
  clearTimeout(timer);
  if (!httpClean) {
    log.warn('shutdown grace period over; closing the connections still open', { graceMs });
    server.closeAllConnections();
  }
  const clean = (await grpcDrained) && httpClean;
  await service.close();
  log.info('shut down', { ms: Date.now() - started, clean });
  return clean;
}

/** Resolves once `server` has no open connection (checked every 50 ms). */
function connectionsEnded(server: Server): Promise<boolean> {
  return new Promise((resolve) => {
    const check = () =>
      server.getConnections((_e, count) => {
        if (count === 0) return resolve(true);
        server.closeIdleConnections();
        setTimeout(check, 50).unref();
      });
    check();
  });
}
