import type { ErrorRequestHandler, RequestHandler } from 'express';
import { RouteNotFound } from '../errors/errors';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../errors/to-problem';
import { log } from '../log';
import { declaredMediaTypes } from './matched-operation';
import { normalizeError } from './normalize-error';

/** TF Serving (/v1) and KServe v2 (/v2) routes: their clients read errors from an `error` member. */
const PROTOCOL_PATH = /^\/v[12](\/|$)/;
/** The Keras REST API tutorial's client checks `success` before anything else. */
const SUCCESS_FLAG_PATH = /^\/predict\/?$/;

/** Requests no route claimed. */
export const notFound: RequestHandler = (req, _res, next) => next(new RouteNotFound(req.method, req.path));

/**
 * Refusals the server means to make under load or while it cannot serve: no capacity or model
 * (503), deadline passed (504). Expected in operation, so they are warnings without a stack.
 */
export function isOperationalRefusal(status: number): boolean {
  return status === 503 || status === 504;
}

/**
 * The one error exit of the app: every error becomes an RFC 7807 body. 4xx and operational
 * refusals (503, 504) are logged as warnings with their detail; anything else as an error with
 * its stack (which never reaches the client).
 */
export const problemResponse: ErrorRequestHandler = (err: unknown, req, res, next) => {
  const request = { method: req.method, path: req.path, contentType: req.headers['content-type'], accepted: declaredMediaTypes(req) };
  const problem = toProblem(normalizeError(err, request), { errorMember: PROTOCOL_PATH.test(req.path) });
  if (SUCCESS_FLAG_PATH.test(req.path)) problem.body.success = false;
  if (problem.status >= 500 && !isOperationalRefusal(problem.status)) {
    log.error('request failed', { method: req.method, path: req.path, status: problem.status, error: err instanceof Error ? err.stack : String(err) });
  } else {
    log.warn('request refused', { method: req.method, path: req.path, status: problem.status, detail: problem.body.detail });
  }
  if (res.headersSent) return next(err);
  try {
    res.status(problem.status).set(problem.headers).type(PROBLEM_CONTENT_TYPE).json(problem.body);
  } catch (e) {
    // Only reachable when response validation rejects the problem body itself (a spec bug).
    log.error('problem body failed response validation', { error: (e as Error).message });
    if (!res.headersSent) res.status(500).type(PROBLEM_CONTENT_TYPE).end(JSON.stringify(toProblem(e).body));
  }
};
