import type { BatchReport, DropReport } from '../inference/worker-pool';
import { log } from '../log';
import { observePool, recordBatch, recordDrop } from './pool';
import { createMetricSet, type InferenceMetrics } from './registry';

const report = (overrides: Partial<BatchReport> = {}): BatchReport => ({
  model: 'mnist',
  version: 1,
  size: 3,
  queueMs: [0.4, 2, 30],
  latencyMs: [50, 60, 90],
  failed: 1,
  prepareMs: 12,
  predictMs: 40,
  ...overrides,
});

/** The value of one sample of a metric, by its full label set (histograms: pick by name suffix too). */
async function value(metric: { get(): Promise<{ values: { value: number; labels: object; metricName?: string }[] }> }, labels: object, metricName?: string): Promise<number | undefined> {
  const { values } = await metric.get();
  return values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels) && (metricName === undefined || v.metricName === metricName))?.value;
}

describe('recordBatch', () => {
  let metrics: InferenceMetrics;
  beforeEach(() => {
    metrics = createMetricSet().inference;
  });
  const mnist1 = { model: 'mnist', version: '1' };

  it('counts inputs by outcome, and records size, prepare and predict per batch, queue time per input, in seconds', async () => {
    recordBatch(metrics, report());
    expect(await value(metrics.inputs, { ...mnist1, outcome: 'success' })).toBe(2);
    expect(await value(metrics.inputs, { ...mnist1, outcome: 'failure' })).toBe(1);
    expect(await value(metrics.batchSize, mnist1, 'specserve_inference_batch_size_sum')).toBe(3);
    expect(await value(metrics.prepareSeconds, mnist1, 'specserve_inference_prepare_duration_seconds_sum')).toBeCloseTo(0.012);
    expect(await value(metrics.predictSeconds, mnist1, 'specserve_inference_predict_duration_seconds_sum')).toBeCloseTo(0.04);
    expect(await value(metrics.queueSeconds, mnist1, 'specserve_inference_queue_duration_seconds_count')).toBe(3);
    expect(await value(metrics.latencySeconds, mnist1, 'specserve_inference_latency_seconds_sum')).toBeCloseTo(0.2);
    expect(await value(metrics.queueSeconds, mnist1, 'specserve_inference_queue_duration_seconds_sum')).toBeCloseTo(0.0324);
    // 0.4 ms and 2 ms are at most 2.5 ms; 30 ms is not.
    expect(await value(metrics.queueSeconds, { le: 0.0025, ...mnist1 }, 'specserve_inference_queue_duration_seconds_bucket')).toBe(2);
  });

  it('creates the failure and drop series at 0 with the first batch, so rate() sees the first one', async () => {
    recordBatch(metrics, report({ size: 1, failed: 0, queueMs: [1] }));
    for (const outcome of ['failure', 'queue_full', 'expired', 'worker_stopped']) expect(await value(metrics.inputs, { ...mnist1, outcome })).toBe(0);
  });

  it('counts inputs that never ran by why: a full queue, a deadline passed in the queue', async () => {
    recordDrop(metrics, { model: 'mnist', version: 1, reason: 'queue-full', inputs: 3 });
    recordDrop(metrics, { model: 'mnist', version: 1, reason: 'queue-full', inputs: 1 });
    recordDrop(metrics, { model: 'mnist', version: 1, reason: 'expired', inputs: 1 });
    expect(await value(metrics.inputs, { ...mnist1, outcome: 'queue_full' })).toBe(4);
    expect(await value(metrics.inputs, { ...mnist1, outcome: 'expired' })).toBe(1);
  });

  it('leaves a batch whose every input failed out of the predict histogram', async () => {
    recordBatch(metrics, report({ size: 2, failed: 2, queueMs: [1, 1], predictMs: 0.01 }));
    expect(await value(metrics.predictSeconds, mnist1, 'specserve_inference_predict_duration_seconds_count')).toBeUndefined();
    expect(await value(metrics.prepareSeconds, mnist1, 'specserve_inference_prepare_duration_seconds_count')).toBe(1);
    expect(await value(metrics.inputs, { ...mnist1, outcome: 'failure' })).toBe(2);
  });

  it('keeps model versions apart', async () => {
    recordBatch(metrics, report({ version: 1, failed: 0 }));
    recordBatch(metrics, report({ version: 2, size: 1, failed: 0, queueMs: [1] }));
    expect(await value(metrics.inputs, { ...mnist1, outcome: 'success' })).toBe(3);
    expect(await value(metrics.inputs, { model: 'mnist', version: '2', outcome: 'success' })).toBe(1);
  });
});

describe('observePool', () => {
  it('records every batch and every drop the pool reports', async () => {
    const observers: ((r: BatchReport) => void)[] = [];
    const dropObservers: ((r: DropReport) => void)[] = [];
    const { inference } = createMetricSet();
    observePool({ observe: (o) => observers.push(o), observeDrops: (o) => dropObservers.push(o) }, inference);
    expect([observers.length, dropObservers.length]).toEqual([1, 1]);
    observers[0]!(report({ failed: 0 }));
    dropObservers[0]!({ model: 'mnist', version: 1, reason: 'expired', inputs: 2 });
    expect(await value(inference.inputs, { model: 'mnist', version: '1', outcome: 'success' })).toBe(3);
    expect(await value(inference.inputs, { model: 'mnist', version: '1', outcome: 'expired' })).toBe(2);
  });

  it('never lets a metrics failure reach the pool: it is logged instead', () => {
    let observer: ((r: BatchReport) => void) | undefined;
    const { inference } = createMetricSet();
    jest.spyOn(inference.inputs, 'inc').mockImplementation(() => {
      throw new Error('boom');
    });
    const logged = jest.spyOn(log, 'error').mockImplementation(() => undefined);
    try {
      let dropObserver: ((r: DropReport) => void) | undefined;
      observePool({ observe: (o) => (observer = o), observeDrops: (o) => (dropObserver = o) }, inference);
      expect(() => observer!(report())).not.toThrow();
      expect(() => dropObserver!({ model: 'mnist', version: 1, reason: 'queue-full', inputs: 1 })).not.toThrow();
      expect(logged).toHaveBeenCalledTimes(2);
      expect(logged).toHaveBeenCalledWith('could not record inference metrics', expect.objectContaining({ model: 'mnist', error: 'boom' }));
    } finally {
      logged.mockRestore();
    }
  });
});
