/**
 * Typed errors that know their HTTP status. Anything below the HTTP layer throws one of these;
 * `to-problem.ts` turns them into RFC 7807 bodies in one place. Any other thrown value is a bug
 * and becomes a plain 500.
 */

/** Extra members of a problem body (RFC 7807 "extension members"). */
export type ProblemExtensions = Record<string, unknown>;

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    /** Short stable identifier; the problem `type` is derived from it. */
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly extensions: ProblemExtensions = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }

  get detail(): string {
    return this.message;
  }
}

/** One entry of a validation failure: where (`path`) and what (`message`). */
export interface FieldError {
  path: string;
  message: string;
}

export class BadRequest extends ProblemError {
  constructor(detail: string, errors: FieldError[] = []) {
    super(400, 'bad-request', 'Bad Request', detail, errors.length > 0 ? { errors } : {});
  }
}

export class RouteNotFound extends ProblemError {
  constructor(method: string, path: string) {
    super(404, 'not-found', 'Not Found', `No route ${method} ${path}. See /openapi.json for the routes this server answers.`);
  }
}

export class MethodNotAllowed extends ProblemError {
  constructor(method: string, path: string, allowed: string[]) {
    super(
      405,
      'method-not-allowed',
      'Method Not Allowed',
      `${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}.`,
      {},
      { Allow: allowed.join(', ') },
    );
  }
}

export class PayloadTooLarge extends ProblemError {
  constructor(detail: string) {
    super(413, 'payload-too-large', 'Payload Too Large', detail);
  }
}

export class UnsupportedMediaType extends ProblemError {
  constructor(detail: string) {
    super(415, 'unsupported-media-type', 'Unsupported Media Type', detail);
  }
}

/** The upload is not in an image format this server decodes. */
export class UnsupportedImage extends ProblemError {
  constructor(detail: string, acceptedFormats: readonly string[]) {
    super(415, 'unsupported-image', 'Unsupported Image Format', detail, { acceptedFormats });
  }
}

/** The format is recognised but the bytes do not decode (truncated, corrupt). */
export class UndecodableImage extends ProblemError {
  constructor(detail: string) {
    super(400, 'undecodable-image', 'Undecodable Image', detail);
  }
}

/** The header declares more pixels than allowed: refused before any pixel is allocated. */
export class ImageTooLarge extends ProblemError {
  constructor(width: number, height: number, maxPixels: number) {
    super(
      413,
      'image-too-large',
      'Image Too Large',
      `The image is ${width}x${height} (${width * height} pixels); the limit is ${maxPixels} pixels.`,
      { width, height, maxPixels },
    );
  }
}

/** A valid image that cannot be classified, e.g. too small or with nothing drawn on it. */
export class UnusableImage extends ProblemError {
  constructor(detail: string) {
    super(422, 'unusable-image', 'Unusable Image', detail);
  }
}

export class ModelNotFound extends ProblemError {
  constructor(name: string, available: readonly string[]) {
    super(404, 'model-not-found', 'Model Not Found', `No model named '${name}'. Available: ${available.join(', ') || 'none'}.`);
  }
}

export class ServiceUnavailable extends ProblemError {
  constructor(detail: string, retryAfterSeconds?: number) {
    super(
      503,
      'service-unavailable',
      'Service Unavailable',
      detail,
      {},
      retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
    );
  }
}

/**
 * A model version's queue is full (max_queue): a 503 over HTTP like any other, but its own class
 * so gRPC can answer RESOURCE_EXHAUSTED (retry later) rather than UNAVAILABLE.
 */
export class AtCapacity extends ServiceUnavailable {}

/** The request's deadline (REQUEST_TIMEOUT_MS) passed before its answer was ready. */
export class GatewayTimeout extends ProblemError {
  constructor(detail: string) {
    super(504, 'timeout', 'Gateway Timeout', detail);
  }
}

/**
 * No API key, or a wrong one, on a route that needs one (API_KEYS / API_KEYS_FILE). `challenge` is
 * the WWW-Authenticate value (RFC 6750: `Bearer realm=..., error="invalid_token"` for a wrong key).
 */
export class Unauthorized extends ProblemError {
  constructor(detail: string, challenge: string) {
    super(401, 'unauthorized', 'Unauthorized', detail, {}, { 'WWW-Authenticate': challenge });
  }
}
