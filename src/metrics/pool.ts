import type { BatchReport, DropReport, WorkerPool } from '../inference/worker-pool';
import { log } from '../log';
import type { InferenceMetrics } from './registry';

const MS = 1000;

/** `outcome` label of specserve_inference_inputs_total for inputs that got no result from a batch. */
const DROP_OUTCOME: Record<DropReport['reason'], string> = { 'queue-full': 'queue_full', expired: 'expired', 'worker-stopped': 'worker_stopped' };

/** Records one finished batch: its inputs by outcome, its size, and where its time went. */
export function recordBatch(metrics: InferenceMetrics, report: BatchReport): void {
  const labels = { model: report.model, version: String(report.version) };
  const failed = Math.min(report.failed, report.size);
  // Every outcome every time (inc by 0 included): a series that appears only at its first
  // failure has no earlier sample, and rate() over it misses that failure.
  metrics.inputs.inc({ ...labels, outcome: 'success' }, report.size - failed);
  metrics.inputs.inc({ ...labels, outcome: 'failure' }, failed);
  for (const outcome of Object.values(DROP_OUTCOME)) metrics.inputs.inc({ ...labels, outcome }, 0);
  metrics.batchSize.observe(labels, report.size);
  metrics.prepareSeconds.observe(labels, report.prepareMs / MS);
  // A batch whose every input failed in preparation (or in predict) ran no real predict: its
  // near-zero time would only drag the histogram down.
  if (failed < report.size) metrics.predictSeconds.observe(labels, report.predictMs / MS);
  for (const ms of report.queueMs) metrics.queueSeconds.observe(labels, Math.max(0, ms) / MS);
  for (const ms of report.latencyMs) metrics.latencySeconds.observe(labels, Math.max(0, ms) / MS);
}

/** Records inputs that got no result from a batch: a full queue, a deadline passed in it, a worker that stopped. */
export function recordDrop(metrics: InferenceMetrics, report: DropReport): void {
  metrics.inputs.inc({ model: report.model, version: String(report.version), outcome: DROP_OUTCOME[report.reason] }, report.inputs);
}

/**
 * Subscribes the inference metrics to the pool's batch and drop reports. Observers run inside the pool's
 * result handling, so a failure here is logged and swallowed: metrics must never break inference.
 */
export function observePool(pool: Pick<WorkerPool, 'observe' | 'observeDrops'>, metrics: InferenceMetrics): void {
  const safely = (record: () => void, report: { model: string; version: number }): void => {
    try {
      record();
    } catch (e) {
      log.error('could not record inference metrics', { model: report.model, version: report.version, error: (e as Error).message });
    }
  };
  pool.observe((report) => safely(() => recordBatch(metrics, report), report));
  pool.observeDrops((report) => safely(() => recordDrop(metrics, report), report));
}
