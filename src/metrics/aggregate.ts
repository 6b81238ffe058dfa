import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

/** One thread's metrics as `registry.getMetricsAsJSON()` gives them (they cross threads as data). */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * How a metric of several serving threads of ONE process combines, where prom-client's default
 * (meant for a cluster of processes: sum) would be wrong: the process_* metrics describe the same
 * process in every thread; the body budget is one shared count; a version's state is 1 where any
 * thread is in it. Everything else sums (requests, inputs, queue depths, each thread's heap).
 */
const AGGREGATORS: readonly [RegExp, 'first' | 'max'][] = [
  [/^process_/, 'first'],
  [/^specserve_http_body_bytes_(in_flight|limit)$/, 'first'],
  [/^specserve_model_version_state$/, 'max'],
];

/** The metrics of every serving thread as one Prometheus exposition. */
export function aggregateThreads(threads: MetricsJson[]): Registry {
  const marked = threads.map((metrics) =>
    metrics.map((metric) => {
      const rule = AGGREGATORS.find(([pattern]) => pattern.test(metric.name));
      return rule ? { ...metric, aggregator: rule[1] } : metric;
    }),
  );
  return AggregatorRegistry.aggregate(marked);
}
