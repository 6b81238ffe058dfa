import type { BatchPolicy } from '../model-store/model-config';

/**
 * Dynamic batching for one model version, as TF Serving's and Triton's batchers do it: requests
 * wait in a bounded FIFO queue; a batch may close once it holds `maxBatchSize` items or once its
 * oldest item has waited `batchTimeoutMs`. The pool takes a batch when a worker is free (and a
 * full one for a busy worker's reserve), so under load the queue fills while the workers are busy
 * and batches grow by themselves, while a lone request on an idle server leaves at once (with the
 * default timeout of 0).
 */
export interface Queued {
  /** When the item joined the queue (ms, monotonic clock). */
  readonly enqueuedAt: number;
}

export class QueueFull extends Error {}

export class BatchQueue<T extends Queued> {
  private items: T[] = [];

  constructor(readonly policy: BatchPolicy) {}

  get length(): number {
    return this.items.length;
  }

  /** Adds an item at the back; throws QueueFull when `maxQueue` items already wait. */
  push(item: T): void {
    if (this.items.length >= this.policy.maxQueue) throw new QueueFull(`${this.items.length} requests are already queued (max_queue ${this.policy.maxQueue})`);
    this.items.push(item);
  }

  /** Takes an item out wherever it is (its deadline passed); false if it already left. */
  remove(item: T): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  /** When a batch may close: now if full, else once the oldest item has waited the timeout; undefined when empty. */
  readyAt(): number | undefined {
    const oldest = this.items[0];
    if (!oldest) return undefined;
    if (this.items.length >= this.policy.maxBatchSize) return oldest.enqueuedAt;
    return oldest.enqueuedAt + this.policy.batchTimeoutMs;
  }

  /** The oldest waiting item's arrival: the pool serves the queue that has waited longest first. */
  oldest(): number | undefined {
    return this.items[0]?.enqueuedAt;
  }

  /** Removes and returns everything waiting (shutdown). */
  drain(): T[] {
    return this.items.splice(0);
  }

  /** Removes and returns the next batch: up to `maxBatchSize` items, oldest first. */
  take(): T[] {
    return this.items.splice(0, this.policy.maxBatchSize);
  }
}
