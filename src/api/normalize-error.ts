import { HttpError } from 'express-openapi-validator/dist/framework/types';
import {
  BadRequest,
  MethodNotAllowed,
  PayloadTooLarge,
  ProblemError,
  RouteNotFound,
  UnsupportedMediaType,
} from '../errors/errors';

/** What body-parser (express.json) attaches to its errors. */
interface BodyParserError extends Error {
  type: string;
  status: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return err instanceof Error && typeof (err as Partial<BodyParserError>).type === 'string' && typeof (err as Partial<BodyParserError>).status === 'number';
}

/**
 * Turns the errors of the libraries under the HTTP layer (the spec validator, body-parser) into
 * the project's typed errors. Returns the error unchanged when it is already typed, or unknown
 * (to become a 500).
 */
export function normalizeError(err: unknown, method: string, path: string): unknown {
  if (err instanceof ProblemError) return err;
  if (err instanceof HttpError) {
    switch (err.status) {
      case 400: {
        const errors = err.errors.map((e) => ({ path: e.path, message: e.message }));
        return new BadRequest(err.message, errors);
      }
      case 404:
        return new RouteNotFound(method, path);
      case 405: {
        const allow = err.headers?.Allow ?? '';
        return new MethodNotAllowed(method, path, allow.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean));
      }
      case 413:
        return new PayloadTooLarge(err.message);
      case 415:
        return new UnsupportedMediaType(`${err.message}; see /openapi.json for the content types each route accepts.`);
      default:
        return err;
    }
  }
  if (isBodyParserError(err)) {
    if (err.type === 'entity.parse.failed') return new BadRequest(`The body is not valid JSON: ${err.message}`);
    if (err.type === 'entity.too.large') return new PayloadTooLarge('The JSON body is larger than the limit.');
    if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') return new UnsupportedMediaType(err.message);
    if (err.status >= 400 && err.status < 500) return new BadRequest(err.message);
  }
  return err;
}
