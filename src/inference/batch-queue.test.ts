import { BatchQueue, QueueFull } from './batch-queue';

const item = (enqueuedAt: number) => ({ enqueuedAt });

describe('BatchQueue', () => {
  it('is ready once full, else once the oldest item has waited the timeout', () => {
    const queue = new BatchQueue({ maxBatchSize: 3, batchTimeoutMs: 10, maxQueue: 10 });
    expect(queue.readyAt()).toBeUndefined();
    queue.push(item(100));
    queue.push(item(104));
    expect(queue.readyAt()).toBe(110);
    queue.push(item(105));
    expect(queue.readyAt()).toBe(100); // full: ready since the oldest arrived
  });

  it('takes batches of at most maxBatchSize, oldest first', () => {
    const queue = new BatchQueue({ maxBatchSize: 2, batchTimeoutMs: 0, maxQueue: 10 });
    const items = [1, 2, 3, 4, 5].map(item);
    items.forEach((i) => queue.push(i));
    expect(queue.take()).toEqual([items[0], items[1]]);
    expect(queue.take()).toEqual([items[2], items[3]]);
    expect(queue.take()).toEqual([items[4]]);
    expect(queue.take()).toEqual([]);
  });

  it('refuses items beyond maxQueue, and lets one leave early (its deadline passed)', () => {
    const queue = new BatchQueue({ maxBatchSize: 8, batchTimeoutMs: 0, maxQueue: 2 });
    const [a, b, c] = [1, 2, 3].map(item);
    queue.push(a!);
    queue.push(b!);
    expect(() => queue.push(c!)).toThrow(QueueFull);
    expect(queue.remove(a!)).toBe(true);
    expect(queue.remove(a!)).toBe(false);
    expect(queue.oldest()).toBe(2);
    expect(queue.drain()).toEqual([b]);
    expect(queue.length).toBe(0);
  });
});
