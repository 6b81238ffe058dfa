import type { Server } from 'node:http';

/** Slow clients must not hold sockets forever (slow-loris); keep-alive longer than common proxies' idle time. */
export function applyHttpTimeouts(server: Server): void {
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
}
