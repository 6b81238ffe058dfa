import { performance } from 'node:perf_hooks';
import { Metadata, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { createRequestContext, runInRequestContext } from '../api/request-context';
import { requestIdFor } from '../api/request-log';
import type { BodyBudget } from '../api/inflight';
import { AtCapacity, BadRequest, ServiceUnavailable } from '../errors/errors';
import type { ModelManager } from '../inference/manager';
import { rootLogger } from '../log';
import type { RpcObserver } from '../metrics';
import type { Lifecycle } from '../protocols/readiness';
import type { GrpcAccessControl } from './auth';
import { isOperationalRefusal, toGrpcFailure } from './status';

/** What the gRPC services use: the same manager, limits, lifecycle and keys as the HTTP side. */
export interface RpcContext {
  models: ModelManager;
  /** Most examples one Predict / Classify / ModelInfer may carry (MAX_BATCH_INSTANCES). */
  maxBatchInstances: number;
  lifecycle: Lifecycle;
  /** The API document's version, answered by v2 ServerMetadata as REST's GET /v2 does. */
  serverVersion: string;
  access: GrpcAccessControl;
  observe: RpcObserver;
  /** REST's MAX_INFLIGHT_BYTES budget, shared: request messages count against it while served. */
  bodies: BodyBudget;
}

/** How an RPC is guarded: `open` ones need no key and answer while draining (probes, like REST's /v2/health/*). */
export interface RpcOptions {
  open?: boolean;
}

const REQUEST_ID = 'x-request-id';

/**
 * A request message that did not decode. grpc-js answers a message it cannot decode with
 * INTERNAL, as if the server were at fault; server.ts decodes leniently into this instead, and
 * `unary` answers it INVALID_ARGUMENT like any other bad input.
 */
export class Undecodable {
  constructor(readonly reason: string) {}
}

/** The wire size of each decoded request message (server.ts records it), for the bytes-in-flight budget. */
export const messageBytes = new WeakMap<object, number>();

export type UnaryHandler<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;

/**
 * Wraps one unary RPC with what every REST request gets: a request id (the client's
 * `x-request-id` when sane, echoed in the response metadata), the request context (the model and
 * version that served it), API keys, refusal while draining, errors mapped once to gRPC status
 * codes (status.ts), one log line and the duration histogram.
 */
export function unary<Req, Res>(method: string, context: RpcContext, handler: UnaryHandler<Req, Res>, options: RpcOptions = {}) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const started = performance.now();
    const value = call.metadata.get(REQUEST_ID)[0];
    const requestContext = createRequestContext(requestIdFor(typeof value === 'string' ? value : undefined), started);
    const sent = new Metadata();
    sent.set(REQUEST_ID, requestContext.requestId);
    call.sendMetadata(sent);
    // Held from admission until the answer: like a REST body, the message is in memory meanwhile.
    let reserved = 0;
    runInRequestContext(requestContext, () => {
      const run = async (): Promise<Res> => {
        if (!options.open) {
          context.access.check(call.metadata, method);
          if (context.lifecycle.draining) throw new ServiceUnavailable('The server is shutting down; requests already accepted are being finished.', 1);
        }
        if (call.request instanceof Undecodable) throw new BadRequest(`The request message does not decode as ${method}'s request type: ${call.request.reason}.`);
        const bytes = (call.request !== null && typeof call.request === 'object' && messageBytes.get(call.request)) || 0;
        if (bytes > 0) {
          if (!context.bodies.tryReserve(bytes)) {
            throw new AtCapacity(`The server holds ${context.bodies.heldBytes} bytes of requests in flight; this ${bytes}-byte message would pass MAX_INFLIGHT_BYTES (${context.bodies.maxBytes}). Retry shortly.`, 1);
          }
          reserved = bytes;
        }
        return handler(call.request, call);
      };
      const fail = (err: unknown): void => {
        const failure = toGrpcFailure(err);
        if (failure.code === status.INTERNAL) {
          rootLogger().error({ reqId: requestContext.requestId, rpc: method, error: err instanceof Error ? err.stack : String(err) }, 'rpc failed');
        }
        callback({ code: failure.code, details: failure.details, metadata: failure.metadata });
        finish(failure.code, failure.details);
      };
      run().then((response) => {
        // A response that cannot be sent must still end the call, never become an unhandled rejection.
        try {
          callback(null, response);
        } catch (e) {
          fail(e);
          return;
        }
        finish(status.OK);
      }, fail);
    });

    function finish(code: status, detail?: string): void {
      context.bodies.release(reserved);
      reserved = 0;
      // A client that left (or whose deadline passed) got no answer from us.
      const label = call.cancelled ? 'CANCELLED' : status[code];
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      context.observe({ method, code: label, seconds: durationMs / 1000 });
      const level = call.cancelled || isOperationalRefusal(code) ? 'warn' : code === status.INTERNAL ? 'error' : code === status.OK && options.open ? 'debug' : 'info';
      const logger = rootLogger();
      if (!logger.isLevelEnabled(level)) return;
      const { model, version } = requestContext.annotations;
      const line = { reqId: requestContext.requestId, rpc: method, code: label, durationMs, peer: call.getPeer(), ...(model === undefined ? {} : { model, version }), ...(detail ? { detail } : {}) };
      logger[level](line, 'rpc completed');
    }
  };
}
