import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';

const heads = new WeakSet<IncomingMessage>();

/**
 * HEAD wherever GET is served (RFC 9110 9.3.2: same status and headers, no body), as Express does
 * for its own routes: the request is matched, checked and answered as a GET, and Node's response
 * drops the body because the request arrived as HEAD. Load balancers and probes use HEAD on the
 * health routes. The log line and the metrics still say HEAD (`clientMethod`).
 */
export function headAsGet(): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'HEAD') {
      heads.add(req);
      req.method = 'GET';
    }
    next();
  };
}

/** The method as the client sent it. */
export function clientMethod(req: IncomingMessage): string | undefined {
  return heads.has(req) ? 'HEAD' : req.method;
}
