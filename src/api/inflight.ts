import type { RequestHandler } from 'express';
import { ServiceUnavailable } from '../errors/errors';

/**
 * Bytes of request bodies held by the requests in flight, against MAX_INFLIGHT_BYTES: every upload
 * (or JSON body) is held in memory while its request is served, so this sum is what load does to
 * memory. One budget per process: the serving threads share its count through `shared` (a
 * SharedArrayBuffer, updated atomically). The metrics read `heldBytes` when scraped.
 */
export class BodyBudget {
  private readonly held: BigInt64Array;

  /** `shared`: another thread's `budget.shared`, to count against the same budget. */
  constructor(
    readonly maxBytes: number,
    readonly shared = new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT),
  ) {
    this.held = new BigInt64Array(shared);
  }

  get heldBytes(): number {
    return Number(Atomics.load(this.held, 0));
  }

  /**
   * Reserves `bytes`; false when that would pass the limit while other bodies are held. A body
   * always fits when nothing else is held, so one largest upload is never refused.
   */
  tryReserve(bytes: number): boolean {
    const wanted = BigInt(bytes);
    for (;;) {
      const held = Atomics.load(this.held, 0);
      if (held > 0n && Number(held) + bytes > this.maxBytes) return false;
      // Another thread may have changed it since the load: then look again.
      if (Atomics.compareExchange(this.held, 0, held, held + wanted) === held) return true;
    }
  }

  release(bytes: number): void {
    Atomics.sub(this.held, 0, BigInt(bytes));
  }
}

/**
 * Admission by request-body bytes: each request with a body reserves its declared Content-Length
 * (a chunked one, the largest body allowed) until its answer is sent or its client goes away; one
 * that does not fit is refused at once with 503 + Retry-After, before a byte of its body is read.
 */
export function inflightBodies(budget: BodyBudget, largestBody: number): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers['content-length'];
    const chunked = declared === undefined && req.headers['transfer-encoding'] !== undefined;
    if (declared === undefined && !chunked) return next();
    // A declared size over the largest body is refused (413) by the body parsers before they read
    // anything; reserving more than the largest body would only turn that 413 into a 503.
    const bytes = Math.min(chunked ? largestBody : Number(declared) || 0, largestBody);
    if (bytes === 0) return next();
    if (!budget.tryReserve(bytes)) {
      res.setHeader('Connection', 'close'); // its body stays unread
      return next(
        new ServiceUnavailable(
          `The server holds ${budget.heldBytes} bytes of request bodies in flight; this ${bytes}-byte body would pass MAX_INFLIGHT_BYTES (${budget.maxBytes}). Retry shortly.`,
          1,
        ),
      );
    }
    // 'close' comes after 'finish' for a completed response, and alone for an aborted one.
    res.once('close', () => budget.release(bytes));
    next();
  };
}
