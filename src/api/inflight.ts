import type { RequestHandler } from 'express';
import { ServiceUnavailable } from '../errors/errors';

/**
 * Admission by request-body bytes: every upload (or JSON body) is held in memory while its
 * request is served, so the sum of the bodies of the requests in flight is what load does to
 * memory. Each request with a body reserves its declared Content-Length (a chunked one, the
 * largest body allowed) until its answer is sent or its client goes away; one that does not fit
 * in `maxBytes` is refused at once with 503 + Retry-After, before a byte of its body is read.
 * A request always fits when nothing else is in flight, so one largest upload is never refused.
 */
export function inflightBodies(maxBytes: number, largestBody: number): RequestHandler {
  let held = 0;
  return (req, res, next) => {
    const declared = req.headers['content-length'];
    const chunked = declared === undefined && req.headers['transfer-encoding'] !== undefined;
    if (declared === undefined && !chunked) return next();
    // A declared size over the largest body is refused (413) by the body parsers before they read
    // anything; reserving more than the largest body would only turn that 413 into a 503.
    const bytes = Math.min(chunked ? largestBody : Number(declared) || 0, largestBody);
    if (bytes === 0) return next();
    if (held > 0 && held + bytes > maxBytes) {
      res.setHeader('Connection', 'close'); // its body stays unread
      return next(new ServiceUnavailable(`The server holds ${held} bytes of request bodies in flight; this ${bytes}-byte body would pass MAX_INFLIGHT_BYTES (${maxBytes}). Retry shortly.`, 1));
    }
    held += bytes;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      held -= bytes;
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };
}
