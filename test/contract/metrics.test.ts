import type { Response } from 'supertest';
import { solidImage } from '../support/images';
import { metricTypes, parseMetrics, type Sample, samplesOf, total } from '../support/metrics';
import { expectProblem } from '../support/problem';
import { fixture, type TestService, useTestService } from '../support/service';

const PROMETHEUS_TEXT = /^text\/plain; version=0\.0\.4/;
const MNIST_1 = { model: 'mnist', version: '1' };

function expectScrape(res: Response): Sample[] {
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(PROMETHEUS_TEXT);
  return parseMetrics(res.text);
}

const scrape = async (service: TestService, key?: string): Promise<Sample[]> => {
  const req = service.request.get('/metrics');
  return expectScrape(await (key ? req.set('X-API-Key', key) : req));
};

describe('GET /metrics', () => {
  const service = useTestService();
  const classify = (bytes: Buffer, name: string) => service.request.post('/mnist/classify').attach('file', bytes, name);

  it('answers the Prometheus text format, declared in the API document', async () => {
    const res = await service.request.get('/metrics');
    expectScrape(res);
    const types = metricTypes(res.text);
    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith('specserve_')))).toEqual({
      specserve_http_request_duration_seconds: 'histogram',
      specserve_grpc_request_duration_seconds: 'histogram',
      specserve_inference_inputs_total: 'counter',
      specserve_inference_latency_seconds: 'histogram',
      specserve_inference_predict_duration_seconds: 'histogram',
      specserve_inference_prepare_duration_seconds: 'histogram',
      specserve_inference_queue_duration_seconds: 'histogram',
      specserve_inference_batch_size: 'histogram',
      specserve_inference_queue_depth: 'gauge',
      specserve_model_version_state: 'gauge',
      specserve_inference_workers: 'gauge',
      specserve_http_body_bytes_in_flight: 'gauge',
      specserve_http_body_bytes_limit: 'gauge',
    });
    // Node's process metrics, under their usual names.
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('nodejs_heap_size_used_bytes')).toBe('gauge');
    const doc = (await service.request.get('/openapi.json')).body;
    expect(doc.paths['/metrics'].get.operationId).toBe('metrics.getMetrics');
  });

  it('counts classify requests: inputs by outcome, batches, queue, prepare and predict times for mnist/1, and the HTTP histogram by route template', async () => {
    const before = await scrape(service);
    for (let i = 0; i < 3; i++) expect((await classify(fixture('mnist', '7.png'), '7.png')).status).toBe(200);
    // A blank image decodes, so it reaches a worker, where preprocessing finds no digit: a 422
    // and a failed input.
    expectProblem(await classify(await solidImage('image/png', 64, 64, 0xffffffff), 'blank.png'), 422);
    expectProblem(await service.request.get('/nowhere'), 404);
    const after = await scrape(service);
    const delta = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);

    expect(delta('specserve_inference_inputs_total', { ...MNIST_1, outcome: 'success' })).toBe(3);
    expect(delta('specserve_inference_inputs_total', { ...MNIST_1, outcome: 'failure' })).toBe(1);
    // Sequential requests: one batch each, of one input.
    expect(delta('specserve_inference_batch_size_count', MNIST_1)).toBe(4);
    expect(delta('specserve_inference_batch_size_sum', MNIST_1)).toBe(4);
    expect(delta('specserve_inference_queue_duration_seconds_count', MNIST_1)).toBe(4);
    expect(delta('specserve_inference_latency_seconds_count', MNIST_1)).toBe(4);
    expect(delta('specserve_inference_latency_seconds_sum', MNIST_1)).toBeGreaterThan(delta('specserve_inference_queue_duration_seconds_sum', MNIST_1));
    expect(delta('specserve_inference_prepare_duration_seconds_count', MNIST_1)).toBe(4);
    expect(delta('specserve_inference_prepare_duration_seconds_sum', MNIST_1)).toBeGreaterThan(0);
    // The failed input's batch ran no predict.
    expect(delta('specserve_inference_predict_duration_seconds_count', MNIST_1)).toBe(3);
    expect(delta('specserve_inference_predict_duration_seconds_sum', MNIST_1)).toBeGreaterThan(0);
    // Cumulative buckets: +Inf holds every observation.
    expect(delta('specserve_inference_predict_duration_seconds_bucket', { ...MNIST_1, le: '+Inf' })).toBe(3);

    const http = 'specserve_http_request_duration_seconds_count';
    expect(delta(http, { method: 'POST', route: '/mnist/classify', status_code: '200' })).toBe(3);
    expect(delta(http, { method: 'POST', route: '/mnist/classify', status_code: '422' })).toBe(1);
    expect(delta(http, { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    expect(delta(http, { method: 'GET', route: '/metrics', status_code: '200' })).toBeGreaterThanOrEqual(1);
    // The template, never the raw URL.
    expect(samplesOf(after, http).map((s) => s.labels.route)).not.toContain('/nowhere');
  });

  it('labels other routes by their template too', async () => {
    const body = { instances: [Array.from({ length: 28 }, () => Array<number>(28).fill(0))] };
    expect((await service.request.post('/v1/models/mnist:predict').send(body)).status).toBe(200);
    const after = await scrape(service);
    expect(total(after, 'specserve_http_request_duration_seconds_count', { route: '/v1/models/{name}:predict', status_code: '200' })).toBe(1);
  });

  it('reads queue depth, model state and worker count at scrape time', async () => {
    const samples = await scrape(service);
    expect(samplesOf(samples, 'specserve_inference_queue_depth', MNIST_1)).toEqual([{ name: 'specserve_inference_queue_depth', labels: MNIST_1, value: 0 }]);
    const states = Object.fromEntries(samplesOf(samples, 'specserve_model_version_state', MNIST_1).map((s) => [s.labels.state, s.value]));
    expect(states).toEqual({ LOADING: 0, AVAILABLE: 1, UNLOADING: 0, END: 0 });
    // Every version the manager knows has exactly one current state.
    for (const model of service.models.names()) {
      for (const { version, state } of service.models.versionStatus(model)) {
        const current = samplesOf(samples, 'specserve_model_version_state', { model, version: String(version) }).filter((s) => s.value === 1);
        expect(current.map((s) => s.labels.state)).toEqual([state]);
      }
    }
    expect(total(samples, 'specserve_inference_workers')).toBe(service.pool.size);
  });

  it('refuses query parameters the document does not declare', async () => {
    expectProblem(await service.request.get('/metrics?format=json'), 400);
  });
});

describe('GET /metrics with API keys', () => {
  const KEY = 'metrics-test-key-7a1c';

  describe('and METRICS_AUTH=true', () => {
    const service = useTestService({ auth: { apiKeys: [KEY], metricsAuth: true } });

    it('needs a key: 401 without one or with a wrong one, the metrics with a right one', async () => {
      const missing = expectProblem(await service.request.get('/metrics'), 401);
      expect(missing.type).toBe('urn:specserve:problem:unauthorized');
      expect((await service.request.get('/metrics')).headers['www-authenticate']).toBe('Bearer realm="specserve"');
      expectProblem(await service.request.get('/metrics').set('Authorization', 'Bearer wrong'), 401);
      expectScrape(await service.request.get('/metrics').set('Authorization', `Bearer ${KEY}`));
      const samples = await scrape(service, KEY);
      // The refusals are counted under the route too.
      expect(total(samples, 'specserve_http_request_duration_seconds_count', { route: '/metrics', status_code: '401' })).toBe(3);
    });

    it('serves a document where /metrics has no `security: []` opt-out', async () => {
      const doc = (await service.request.get('/openapi.json')).body;
      expect(doc.paths['/metrics'].get.security).toBeUndefined();
      expect(doc.paths['/v2/health/live'].get.security).toEqual([]);
    });
  });

  describe('without METRICS_AUTH', () => {
    const service = useTestService({ auth: { apiKeys: [KEY], metricsAuth: false } });

    it('stays open, like the health probes', async () => {
      expectScrape(await service.request.get('/metrics'));
      expectProblem(await service.request.get('/models'), 401);
    });
  });
});
