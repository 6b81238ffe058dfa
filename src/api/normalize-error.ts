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

/** What http-errors marks on an error it gives a status to: `expose` says its message is meant for the client. */
interface ExposedHttpError extends Error {
  status: number;
  expose: true;
}

/**
 * A 4xx error from http-errors without body-parser's `type`: body-parser hands on a failed
 * decompression (`Content-Encoding: gzip` / `br` / `deflate` over corrupt bytes) as zlib's own error
 * with only `status: 400` and `expose: true` added.
 */
function isExposedClientError(err: unknown): err is ExposedHttpError {
  if (!(err instanceof Error)) return false;
  const { status, expose } = err as Partial<ExposedHttpError>;
  return expose === true && typeof status === 'number' && status >= 400 && status < 500;
}

/** What a refused request said about its body, for the 415 message. */
export interface RequestSummary {
  method: string;
  path: string;
  /** The Content-Type header as sent; undefined when there was none. */
  contentType: string | undefined;
  /** The media types the matched operation's body accepts, when an operation was matched. */
  accepted: readonly string[];
}

function unsupportedMediaType({ method, path, contentType, accepted }: RequestSummary): UnsupportedMediaType {
  const sent = contentType === undefined ? 'The request has no Content-Type header' : `Content-Type '${contentType}' is not accepted`;
  const wanted = accepted.length > 0 ? `${method} ${path} takes ${accepted.join(' or ')}` : 'see /openapi.json for the content types each route accepts';
  const hint = accepted.includes('multipart/form-data') ? " (e.g. curl -F file=@digit.png)" : '';
  return new UnsupportedMediaType(`${sent}; ${wanted}${hint}.`);
}

/**
 * Turns the errors of the libraries under the HTTP layer (the spec validator, body-parser) into
 * the project's typed errors. Returns the error unchanged when it is already typed, or unknown
 * (to become a 500).
 */
export function normalizeError(err: unknown, request: RequestSummary): unknown {
  const { method, path } = request;
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
        const allowed = (err.headers?.Allow ?? '').split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
        // HEAD is answered wherever GET is (head.ts), though the document lists only GET.
        if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
        return new MethodNotAllowed(method, path, allowed);
      }
      case 413:
        return new PayloadTooLarge(err.message);
      case 415:
        return unsupportedMediaType(request);
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
  if (isExposedClientError(err)) {
    if (err.status === 413) return new PayloadTooLarge(err.message);
    if (err.status === 415) return new UnsupportedMediaType(err.message);
    // Other 4xx statuses are not in the document's responses: a 400 with the message.
    const { code } = err as { code?: unknown };
    const decompression = typeof code === 'string' && /^(Z_|ERR__)/.test(code); // zlib's and brotli's codes
    return new BadRequest(decompression ? `The body does not decompress as its Content-Encoding says: ${err.message}.` : `The request could not be read: ${err.message}.`);
  }
  return err;
}
