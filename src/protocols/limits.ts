import { PayloadTooLarge } from '../errors/errors';

/** 413 for a batch over the limit, checked before any example is parsed. */
export function checkBatchSize(count: number, limit: number): void {
  if (count > limit) {
    throw new PayloadTooLarge(`The request holds ${count} instances; at most ${limit} are accepted per request (MAX_BATCH_INSTANCES).`);
  }
}
