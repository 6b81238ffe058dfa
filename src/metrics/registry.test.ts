import { createMetricSet } from './registry';

describe('createMetricSet', () => {
  it('gives each service its own registry: two in one process neither clash nor share samples', async () => {
    const a = createMetricSet();
    const b = createMetricSet(); // would throw "already registered" on a shared registry
    a.inference.inputs.inc({ model: 'mnist', version: '1', outcome: 'success' }, 5);
    expect(await a.registry.getSingleMetricAsString('specserve_inference_inputs_total')).toMatch(/outcome="success"} 5$/m);
    expect(await b.registry.getSingleMetricAsString('specserve_inference_inputs_total')).not.toMatch(/outcome=/);
  });

  it('registers the pushed-to metrics with Prometheus names, and the process metrics once', async () => {
    const { registry } = createMetricSet();
    const metrics = await registry.getMetricsAsJSON();
    const types = Object.fromEntries(metrics.filter((m) => m.name.startsWith('specserve_')).map((m) => [m.name, String(m.type)]));
    expect(types).toEqual({
      specserve_http_request_duration_seconds: 'histogram',
      specserve_grpc_request_duration_seconds: 'histogram',
      specserve_inference_inputs_total: 'counter',
      specserve_inference_latency_seconds: 'histogram',
      specserve_inference_predict_duration_seconds: 'histogram',
      specserve_inference_prepare_duration_seconds: 'histogram',
      specserve_inference_queue_duration_seconds: 'histogram',
      specserve_inference_batch_size: 'histogram',
    });
    const names = metrics.map((m) => m.name);
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(names).toContain('nodejs_eventloop_lag_seconds');
    expect(new Set(names).size).toBe(names.length);
    expect(registry.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
