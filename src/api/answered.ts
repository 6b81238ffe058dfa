import type { IncomingMessage, ServerResponse } from 'node:http';

/** Watched requests: true once their answer went out in full to a client still there. */
const answers = new WeakMap<IncomingMessage, boolean>();

/**
 * Starts watching whether the answer to `req` goes out in full before the client cuts the
 * request off; once per request, whichever middleware asks first (the request log, the metrics).
 * `res.writableFinished` alone is not it: once a client hangs up mid-upload, the refusal written
 * afterwards (400, the body was cut short) reads as finished though nothing was sent and 'finish'
 * never comes.
 */
export function watchAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (answers.has(req)) return;
  answers.set(req, false);
  res.once('finish', () => answers.set(req, !req.readableAborted));
}

/** Whether the watched answer went out in full while the client was still there. */
export function answeredInFull(req: IncomingMessage): boolean {
  return answers.get(req) === true;
}
