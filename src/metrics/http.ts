import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import type { Histogram } from 'prom-client';
import { answeredInFull, watchAnswer } from '../api/answered';
import { requestContextOf } from '../api/request-log';
import { clientMethod } from '../api/head';
import { matchedOperation } from '../api/matched-operation';

/** The route label of a request no route of the API document matched (404, 405, Swagger UI files, CORS preflight). */
export const UNMATCHED_ROUTE = 'unmatched';
/** The status label of a request whose client went away before a status was sent. */
export const ABORTED_STATUS = 'aborted';

/** Methods kept as they are; any other becomes `other`, so a client cannot mint label values. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);


export function methodLabel(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : 'other';
}

/**
 * Observes every request's duration, labelled with the route template the validator matched
 * (`/v1/models/{name}:predict`), never the raw URL: one series per route of the document, not
 * one per model name or client typo. Read when the response closes, by which time the validator
 * has matched (or not). Mounted before anything that may refuse a request, so refusals (401, 404,
 * 413...) are timed too.
 */
export function requestMetrics(histogram: Histogram<'method' | 'route' | 'status_code'>): RequestHandler {
  return (req, res, next) => {
    // From the request context's start when there is one: the same clock as the log line's durationMs.
    const started = requestContextOf(req)?.startedAt ?? performance.now();
    watchAnswer(req, res);
    // 'close' comes after 'finish' for a completed response, and alone for an aborted one.
    res.once('close', () => {
      const route = matchedOperation(req)?.openApiRoute ?? UNMATCHED_ROUTE;
      // A status only counts once the whole answer went out: a client that left midway got none.
      const status = answeredInFull(req) ? String(res.statusCode) : ABORTED_STATUS;
      histogram.observe({ method: methodLabel(clientMethod(req)), route, status_code: status }, (performance.now() - started) / 1000);
    });
    next();
  };
}
