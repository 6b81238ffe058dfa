import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * The registry of one service instance and the metrics other code pushes to. One registry per
 * service, never prom-client's global one: several services in one process (the test suites) would
 * otherwise clash on metric names and mix their samples.
 *
 * Names follow Prometheus conventions: base units (`_seconds`), `_total` for counters, the
 * `specserve_` prefix. Label values are bounded sets (route templates, model versions in the
 * store, outcomes), never raw URLs or client input.
 */

/** Latencies from sub-millisecond (a queue that was empty, a small batch) to a slow request (30 s). */
export const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Batch sizes: powers of two up to well past any configured max_batch_size. */
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

type VersionLabels = 'model' | 'version';

export interface InferenceMetrics {
  inputs: Counter<VersionLabels | 'outcome'>;
  predictSeconds: Histogram<VersionLabels>;
  prepareSeconds: Histogram<VersionLabels>;
  queueSeconds: Histogram<VersionLabels>;
  latencySeconds: Histogram<VersionLabels>;
  batchSize: Histogram<VersionLabels>;
}

export interface MetricSet {
  registry: Registry;
  httpRequestSeconds: Histogram<'method' | 'route' | 'status_code'>;
  grpcRequestSeconds: Histogram<'method' | 'code'>;
  inference: InferenceMetrics;
}

/** A new registry with the process metrics and the pushed-to metrics registered on it. */
export function createMetricSet(): MetricSet {
  const registry = new Registry();
  // Node's standard process_* and nodejs_* metrics, unprefixed so the usual dashboards find them.
  // Once per registry: a second call on the same one would throw on the duplicate names.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const versionLabels: VersionLabels[] = ['model', 'version'];
  return {
    registry,
    httpRequestSeconds: new Histogram({
      name: 'specserve_http_request_duration_seconds',
      help: 'HTTP requests, from arrival to the last byte sent, by method, route template of the API document ("unmatched" when none matched) and status code ("aborted" when the client left first).',
      labelNames: ['method', 'route', 'status_code'],
      buckets: SECONDS_BUCKETS,
      registers,
    }),
    grpcRequestSeconds: new Histogram({
      name: 'specserve_grpc_request_duration_seconds',
      help: 'gRPC calls, from arrival to the status sent, by full method name (/package.Service/Method, only the methods the server implements) and gRPC status code name.',
      labelNames: ['method', 'code'],
      buckets: SECONDS_BUCKETS,
      registers,
    }),
    inference: {
      inputs: new Counter({
        name: 'specserve_inference_inputs_total',
        help: 'Inference inputs by outcome: success (a result), failure (refused or failed in the worker), queue_full (refused at once: max_queue reached), expired (REQUEST_TIMEOUT_MS passed while queued; dropped unrun), worker_stopped (its worker stopped while holding it; 503).',
        labelNames: [...versionLabels, 'outcome'],
        registers,
      }),
      predictSeconds: new Histogram({
        name: 'specserve_inference_predict_duration_seconds',
        help: "One batch's model execution (predict) in a worker; a batch where no input got a result is left out.",
        labelNames: versionLabels,
        buckets: SECONDS_BUCKETS,
        registers,
      }),
      prepareSeconds: new Histogram({
        name: 'specserve_inference_prepare_duration_seconds',
        help: "One batch's input preparation (image decode and preprocessing) in a worker.",
        labelNames: versionLabels,
        buckets: SECONDS_BUCKETS,
        registers,
      }),
      queueSeconds: new Histogram({
        name: 'specserve_inference_queue_duration_seconds',
        help: 'Per input, the time it waited in its model version\'s queue until its batch went to a worker.',
        labelNames: versionLabels,
        buckets: SECONDS_BUCKETS,
        registers,
      }),
      latencySeconds: new Histogram({
        name: 'specserve_inference_latency_seconds',
        help: "Per input, from queued to its result back from the worker (queue wait, a busy worker's reserve slot, prepare and predict): the dashboard's p50/p99 per model.",
        labelNames: versionLabels,
        buckets: SECONDS_BUCKETS,
        registers,
      }),
      batchSize: new Histogram({
        name: 'specserve_inference_batch_size',
        help: 'Inputs per batch sent to a worker.',
        labelNames: versionLabels,
        buckets: BATCH_SIZE_BUCKETS,
        registers,
      }),
    },
  };
}
