import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ProblemError } from '../errors/errors';
import { DEFAULT_IMAGE_LIMITS } from '../images';
import { DEFAULT_MODEL_STORE, PROJECT_ROOT } from '../paths';
import { rankClasses } from '../protocols/ranking';
import type { BatchPolicy } from '../model-store/model-config';
import type { Servable } from './servable';
import { type BatchReport, type DropReport, WorkerPool } from './worker-pool';

const MNIST = { name: 'mnist', version: 1, dir: path.join(DEFAULT_MODEL_STORE, 'mnist', '1') };
const digit = (d: number) => readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'mnist', `${d}.png`));
const digitOf = (servable: Servable, row: Float32Array) => Number(rankClasses(row, servable.metadata)[0]!.label);
const policy = (over: Partial<BatchPolicy> = {}): BatchPolicy => ({ maxBatchSize: 4, batchTimeoutMs: 0, maxQueue: 64, ...over });

async function problemOf(promise: Promise<unknown>): Promise<ProblemError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(ProblemError);
    return e as ProblemError;
  }
  throw new Error('expected a rejection');
}

// WORKERS=1 (a worker thread) and WORKERS=0 (the worker runs inline, in this thread): one behaviour.
describe.each([1, 0])('WorkerPool (WORKERS=%i, the shipped MNIST model)', (size) => {
  let pool: WorkerPool;
  const reports: BatchReport[] = [];
  const drops: DropReport[] = [];

  beforeAll(async () => {
    pool = await WorkerPool.start({ size, backend: 'wasm', imageLimits: DEFAULT_IMAGE_LIMITS, requestTimeoutMs: 0 });
    pool.observe((r) => reports.push(r));
    pool.observeDrops((d) => drops.push(d));
  });
  afterAll(() => pool.close());
  beforeEach(() => {
    reports.splice(0);
    drops.splice(0);
  });

  it('batches queued inputs up to max_batch_size and answers each in order', async () => {
    const servable = await pool.load(MNIST, policy({ maxBatchSize: 4 }));
    const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const rows = await Promise.all(digits.map((d) => servable.predict([{ image: digit(d) }])));
    expect(rows.map(([row]) => digitOf(servable, row!))).toEqual(digits);
    // The first input finds the worker idle and leaves alone; the rest queue behind it.
    expect(reports.map((r) => r.size)).toEqual([1, 4, 4, 1]);
    servable.dispose();
  });

  it('sends a busy worker one full batch in reserve, never a partial one', async () => {
    const servable = await pool.load(MNIST, policy({ maxBatchSize: 3 }));
    const first = servable.predict([{ image: digit(1) }]); // the idle worker runs it alone
    const partial = servable.predict([{ image: digit(2) }, { image: digit(3) }]); // could still grow: waits
    expect(pool.queueDepths().get('mnist/1')).toBe(2);
    const more = servable.predict([{ image: digit(4) }, { image: digit(5) }]); // 4 wait: a full batch of 3 goes as reserve
    expect(pool.queueDepths().get('mnist/1')).toBe(1);
    await Promise.all([first, partial, more]);
    expect(reports.map((r) => r.size)).toEqual([1, 3, 1]);
    servable.dispose();
  });

  it('holds a batch that is not full for batch_timeout_ms', async () => {
    const servable = await pool.load(MNIST, policy({ maxBatchSize: 8, batchTimeoutMs: 150 }));
    const started = Date.now();
    const rows = await Promise.all([3, 7].map((d) => servable.predict([{ image: digit(d) }])));
    expect(rows.map(([row]) => digitOf(servable, row!))).toEqual([3, 7]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(reports.map((r) => r.size)).toEqual([2]);
    servable.dispose();
  });

  it("fails only the input that is bad, not its batch-mates", async () => {
    const servable = await pool.load(MNIST, policy({ maxBatchSize: 8, batchTimeoutMs: 50 }));
    const [good, bad, alsoGood] = await Promise.allSettled([
      servable.predict([{ image: digit(2) }]),
      servable.predict([{ image: Buffer.from('not an image at all') }]),
      servable.predict([{ image: digit(5) }]),
    ]);
    expect(reports.map((r) => [r.size, r.failed])).toEqual([[3, 1]]);
    expect(good.status === 'fulfilled' && digitOf(servable, good.value[0]!)).toBe(2);
    expect(alsoGood.status === 'fulfilled' && digitOf(servable, alsoGood.value[0]!)).toBe(5);
    expect(bad.status === 'rejected' && (bad.reason as ProblemError).status).toBe(415);
    servable.dispose();
  });

  it('refuses at once with 503 + Retry-After when the queue is full', async () => {
    const servable = await pool.load(MNIST, policy({ maxBatchSize: 2, maxQueue: 2 }));
    const running = servable.predict([{ image: digit(1) }, { image: digit(2) }]); // to the idle worker
    const reserve = servable.predict([{ image: digit(3) }, { image: digit(4) }]); // a full batch: the busy worker's reserve
    const queued = servable.predict([{ image: digit(5) }, { image: digit(6) }]); // fills the queue
    expect(pool.queueDepths().get('mnist/1')).toBe(2);
    const refused = await problemOf(servable.predict([{ image: digit(7) }]));
    expect(refused.status).toBe(503);
    expect(refused.headers['Retry-After']).toBe('1');
    expect(refused.detail).toMatch(/max_queue 2/);
    expect(drops).toEqual([{ model: 'mnist', version: 1, reason: 'queue-full', inputs: 1 }]);
    for (const [request, digits] of [[running, [1, 2]], [reserve, [3, 4]], [queued, [5, 6]]] as const) {
      expect((await request).map((row) => digitOf(servable, row))).toEqual(digits);
    }
    expect(reports.map((r) => r.size)).toEqual([2, 2, 2]);
    servable.dispose();
  });
});

describe('WorkerPool deadlines and crashes', () => {
  it('answers 504 and drops an input that waited past REQUEST_TIMEOUT_MS', async () => {
    const pool = await WorkerPool.start({ size: 1, backend: 'wasm', imageLimits: DEFAULT_IMAGE_LIMITS, requestTimeoutMs: 60 });
    const reports: BatchReport[] = [];
    const drops: DropReport[] = [];
    pool.observe((r) => reports.push(r));
    pool.observeDrops((d) => drops.push(d));
    try {
      // The batch would wait 2 s for company: the deadline comes first.
      const servable = await pool.load(MNIST, policy({ maxBatchSize: 8, batchTimeoutMs: 2000 }));
      const timedOut = await problemOf(servable.predict([{ image: digit(4) }]));
      expect(timedOut.status).toBe(504);
      expect(timedOut.detail).toMatch(/dropped unrun/);
      expect(pool.queueDepths().get('mnist/1')).toBe(0);
      await new Promise((r) => setTimeout(r, 100));
      expect(reports).toEqual([]); // never ran
      expect(drops).toEqual([{ model: 'mnist', version: 1, reason: 'expired', inputs: 1 }]);
    } finally {
      await pool.close();
    }
  });

  it('replaces a worker that dies: its in-flight inputs get 503, the next requests are served', async () => {
    const pool = await WorkerPool.start({ size: 2, backend: 'wasm', imageLimits: DEFAULT_IMAGE_LIMITS, requestTimeoutMs: 0 });
    try {
      const servable = await pool.load(MNIST, policy({ maxBatchSize: 32 }));
      const inFlight = servable.predict(Array.from({ length: 32 }, () => ({ image: digit(8) })));
      const victim = pool.threads[0]!;
      await victim.terminate(); // as a crash looks to the pool: the thread exits
      const lost = await problemOf(inFlight);
      expect(lost.status).toBe(503);
      // Served meanwhile by the other worker, and later by the replacement too.
      for (let i = 0; i < 6; i++) expect(digitOf(servable, (await servable.predict([{ image: digit(6) }]))[0]!)).toBe(6);
      await waitFor(() => pool.threads[0] !== victim);
      const many = await Promise.all(Array.from({ length: 8 }, () => servable.predict([{ image: digit(9) }])));
      expect(many.map(([row]) => digitOf(servable, row!))).toEqual(Array(8).fill(9));
    } finally {
      await pool.close();
    }
  });
});

describe('WorkerPool crash with a reserve batch', () => {
  it('answers 503 to the batch a dead worker ran and to the one it held in reserve', async () => {
    const pool = await WorkerPool.start({ size: 1, backend: 'wasm', imageLimits: DEFAULT_IMAGE_LIMITS, requestTimeoutMs: 0 });
    const drops: DropReport[] = [];
    pool.observeDrops((d) => drops.push(d));
    try {
      const servable = await pool.load(MNIST, policy({ maxBatchSize: 4 }));
      const running = servable.predict(Array.from({ length: 4 }, () => ({ image: digit(1) })));
      const reserve = servable.predict(Array.from({ length: 4 }, () => ({ image: digit(2) })));
      expect(pool.queueDepths().get('mnist/1')).toBe(0); // both batches are with the worker
      await pool.threads[0]!.terminate();
      expect((await problemOf(running)).status).toBe(503);
      expect((await problemOf(reserve)).status).toBe(503);
      expect(drops).toEqual([4, 4].map((inputs) => ({ model: 'mnist', version: 1, reason: 'worker-stopped', inputs })));
    } finally {
      await pool.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
