import type { BatchReport, WorkerPool } from '../inference/worker-pool';
import { log } from '../log';
import type { InferenceMetrics } from './registry';

const MS = 1000;

/** Records one finished batch: its inputs by outcome, its size, and where its time went. */
export function recordBatch(metrics: InferenceMetrics, report: BatchReport): void {
  const labels = { model: report.model, version: String(report.version) };
  const failed = Math.min(report.failed, report.size);
  // Both outcomes every time (inc by 0 included): a series that appears only at its first
  // failure has no earlier sample, and rate() over it misses that failure.
  metrics.inputs.inc({ ...labels, outcome: 'success' }, report.size - failed);
  metrics.inputs.inc({ ...labels, outcome: 'failure' }, failed);
  metrics.batchSize.observe(labels, report.size);
  metrics.prepareSeconds.observe(labels, report.prepareMs / MS);
  // A batch whose every input failed in preparation (or in predict) ran no real predict: its
  // near-zero time would only drag the histogram down.
  if (failed < report.size) metrics.predictSeconds.observe(labels, report.predictMs / MS);
  for (const ms of report.queueMs) metrics.queueSeconds.observe(labels, Math.max(0, ms) / MS);
}

/**
 * Subscribes the inference metrics to the pool's batch reports. Observers run inside the pool's
 * result handling, so a failure here is logged and swallowed: metrics must never break inference.
 */
export function observePool(pool: Pick<WorkerPool, 'observe'>, metrics: InferenceMetrics): void {
  pool.observe((report) => {
    try {
      recordBatch(metrics, report);
    } catch (e) {
      log.error('could not record batch metrics', { model: report.model, version: report.version, error: (e as Error).message });
    }
  });
}
