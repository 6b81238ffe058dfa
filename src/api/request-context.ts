import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-request state that code far below the HTTP layer may add to, without taking a request
 * argument: the model manager records which model and version served the request, and the
 * request log line reports it. This module knows nothing of Express on purpose, so that
 * src/inference can import it without depending on the HTTP layer.
 */

/** What the code serving a request adds to its log line. */
export interface RequestAnnotations {
  model?: string;
  version?: number;
}

export interface RequestContext {
  readonly requestId: string;
  /** performance.now() when the request arrived: the duration in the log line is measured from it. */
  readonly startedAt: number;
  readonly annotations: RequestAnnotations;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function createRequestContext(requestId: string, startedAt = performance.now()): RequestContext {
  return { requestId, startedAt, annotations: {} };
}

/** Runs `fn` (and everything it starts asynchronously) inside `context`. */
export function runInRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the request being served, or undefined outside any request (start-up, polling). */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/**
 * Records facts about the request being served, for its log line. A no-op outside a request, so
 * callers need not know whether they run inside one.
 */
export function annotateRequest(annotations: RequestAnnotations): void {
  const context = storage.getStore();
  if (context) Object.assign(context.annotations, annotations);
}
