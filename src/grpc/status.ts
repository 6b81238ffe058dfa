import { Metadata, status } from '@grpc/grpc-js';
import { AtCapacity, ProblemError } from '../errors/errors';

/** What a failed call answers: a gRPC status code, its message, and trailing metadata. */
export interface GrpcFailure {
  code: status;
  details: string;
  metadata: Metadata;
}

/**
 * HTTP statuses of the typed errors (src/errors) -> gRPC codes, as gRPC's own HTTP mapping and
 * TF Serving / Triton answer them. A request that is too big for this server (413: a batch over
 * MAX_BATCH_INSTANCES, an image over MAX_IMAGE_PIXELS) is INVALID_ARGUMENT: retrying it cannot
 * succeed, which RESOURCE_EXHAUSTED would suggest. RESOURCE_EXHAUSTED is a full queue (AtCapacity)
 * and a message over the size limit (answered by grpc-js itself).
 */
const BY_HTTP_STATUS: Readonly<Record<number, status>> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  404: status.NOT_FOUND,
  413: status.INVALID_ARGUMENT,
  415: status.INVALID_ARGUMENT,
  422: status.INVALID_ARGUMENT,
  501: status.UNIMPLEMENTED,
  503: status.UNAVAILABLE,
  504: status.DEADLINE_EXCEEDED,
};

/** The message of an unknown error: like REST's plain 500, it carries no internals (they are logged). */
export const INTERNAL_MESSAGE = 'The server failed to handle this request; the failure has been logged.';

/**
 * The one place where errors become gRPC statuses (REST's counterpart is errors/to-problem.ts).
 * A problem's Retry-After travels as `retry-after` trailing metadata.
 */
export function toGrpcFailure(err: unknown): GrpcFailure {
  const metadata = new Metadata();
  if (!(err instanceof ProblemError)) return { code: status.INTERNAL, details: INTERNAL_MESSAGE, metadata };
  const retryAfter = err.headers['Retry-After'];
  if (retryAfter !== undefined) metadata.set('retry-after', retryAfter);
  const code = err instanceof AtCapacity ? status.RESOURCE_EXHAUSTED : (BY_HTTP_STATUS[err.status] ?? (err.status >= 500 ? status.INTERNAL : status.INVALID_ARGUMENT));
  return { code, details: err.detail, metadata };
}

/** Codes the server means to answer under load or while it cannot serve: logged as warnings, like REST's 503/504. */
export function isOperationalRefusal(code: status): boolean {
  return code === status.UNAVAILABLE || code === status.RESOURCE_EXHAUSTED || code === status.DEADLINE_EXCEEDED;
}

/** A 501 for the RPCs of the official services this server does not implement (Regress, MultiInference...). */
export class Unimplemented extends ProblemError {
  constructor(rpc: string, why: string) {
    super(501, 'unimplemented', 'Not Implemented', `${rpc} is not implemented: ${why}`);
  }
}
