import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { rootLogger } from '../log';
import { isOperationalRefusal } from './problem-response';
import { clientMethod } from './head';
import { matchedOperation } from './matched-operation';
import { answeredInFull, watchAnswer } from './answered';
import { createRequestContext, type RequestContext, runInRequestContext } from './request-context';

/**
 * Request ids, the per-request context, and one log line per request:
 *
 *   {"level":"info","time":"...","reqId":"...","method":"POST","route":"/v1/models/{name}:predict",
 *    "url":"/v1/models/mnist:predict","status":200,"durationMs":4.21,"model":"mnist","version":1,
 *    "msg":"request completed"}
 */

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** A client's id is kept only when it is short and cannot break a log line or a header. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's X-Request-Id when sane, else a new UUID. */
export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * Contexts by request. The AsyncLocalStorage context does not survive stream callbacks (multer,
 * body-parser call next() from the socket's events), so it is re-entered from here.
 */
const contexts = new WeakMap<IncomingMessage, RequestContext>();

export function requestContextOf(req: IncomingMessage): RequestContext | undefined {
  return contexts.get(req);
}

/** First middleware: the request id (echoed on every response, errors included) and the context. */
export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const context = createRequestContext(requestIdFor(req.headers['x-request-id']));
    contexts.set(req, context);
    res.setHeader(REQUEST_ID_HEADER, context.requestId);
    runInRequestContext(context, next);
  };
}

/** Re-enters the request's context after the body parsers (see `contexts`). */
export function reenterRequestContext(): RequestHandler {
  return (req, _res, next) => {
    const context = contexts.get(req);
    if (context) runInRequestContext(context, next);
    else next();
  };
}

/** The error exit, run inside the request's context so its log lines carry the request id. */
export function inRequestContext(handler: ErrorRequestHandler): ErrorRequestHandler {
  return (err, req, res, next) => {
    const context = contexts.get(req);
    if (context) runInRequestContext(context, () => handler(err, req, res, next));
    else handler(err, req, res, next);
  };
}

/** Express's copy of the URL as it arrived (routers may rewrite `url`). */
type ExpressRequest = IncomingMessage & { originalUrl?: string };

/** Liveness/readiness probes and metrics scrapes come every few seconds: logged at debug when fine. */
const PROBE_ROUTES = new Set(['/v2/health/live', '/v2/health/ready', '/metrics']);
/** Swagger UI's own files (one page view is half a dozen): also debug when fine. */
const UI_PREFIX = '/ui/';

function isRoutine(req: ExpressRequest): boolean {
  // /metrics may be served outside the API document, so the path counts when no route matched.
  const path = (req.originalUrl ?? req.url ?? '').split('?')[0] as string;
  return PROBE_ROUTES.has(matchedOperation(req)?.openApiRoute ?? path) || path.startsWith(UI_PREFIX);
}

export interface RequestLine {
  method: string | undefined;
  /** The spec's path template; null when no route matched (404, or refused before matching). */
  route: string | null;
  url: string | undefined;
  /** null when the client went away before a status was sent. */
  status: number | null;
  durationMs: number;
  model?: string;
  version?: number;
  /** The client went away before the answer was sent. */
  aborted?: true;
}

export function requestLine(req: IncomingMessage, res: ServerResponse): RequestLine {
  const context = contexts.get(req);
  const { originalUrl } = req as ExpressRequest;
  const line: RequestLine = {
    method: clientMethod(req),
    route: matchedOperation(req)?.openApiRoute ?? null,
    url: originalUrl ?? req.url,
    status: res.headersSent ? res.statusCode : null,
    durationMs: context ? Math.round((performance.now() - context.startedAt) * 100) / 100 : 0,
  };
  if (context?.annotations.model !== undefined) line.model = context.annotations.model;
  if (context?.annotations.version !== undefined) line.version = context.annotations.version;
  if (!answeredInFull(req)) line.aborted = true;
  return line;
}

/** Level of a request's line: warn for a 503/504 refusal, error for another 5xx, debug for routine successes, else info. */
function lineLevel(req: IncomingMessage, res: ServerResponse): 'error' | 'warn' | 'info' | 'debug' {
  if (isOperationalRefusal(res.statusCode)) return 'warn';
  if (res.statusCode >= 500) return 'error';
  return res.statusCode < 400 && isRoutine(req) ? 'debug' : 'info';
}

/**
 * The request log middleware: one line when the answer is sent or the client goes away. It
 * follows the process-wide logger (configureLogging, or a test, may replace it after the app is
 * built), and builds nothing when the line's level is off: pino-http, used before, made a child
 * logger and a serialized request for every request, a sixth of the main thread's time per
 * request at LOG_LEVEL=warn, where no line is written (docs/performance.md).
 */
export function requestLog(): RequestHandler {
  return (req, res, next) => {
    watchAnswer(req, res);
    // 'close' comes after 'finish' for a completed response, and alone for an aborted one.
    res.once('close', () => {
      const level = lineLevel(req, res);
      const logger = rootLogger();
      if (!logger.isLevelEnabled(level)) return;
      logger[level]({ reqId: contexts.get(req)?.requestId, ...requestLine(req, res) }, 'request completed');
    });
    next();
  };
}
