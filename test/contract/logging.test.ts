import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { captureLogs, type LogLine } from '../support/log-capture';
import { fixture, useTestService } from '../support/service';

const logs = captureLogs('debug');
const KEY = 'logging-test-key-7d1e0b';
const service = useTestService({ auth: { apiKeys: [KEY], metricsAuth: false } });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PREDICT_BODY = { instances: [Array.from({ length: 28 }, () => Array<number>(28).fill(0))] };

/** The one request line of the request with this id. */
async function requestLine(reqId: string): Promise<LogLine> {
  const found = await logs.find((line) => line.reqId === reqId && line.msg === 'request completed');
  expect(found).toHaveLength(1);
  return found[0] as LogLine;
}

describe('X-Request-Id', () => {
  it("echoes a client's sane id, and logs the request under it", async () => {
    const res = await service.request.get('/v2/health/live').set('X-Request-Id', 'client-id.42:a_b');
    expect(res.headers['x-request-id']).toBe('client-id.42:a_b');
    expect((await requestLine('client-id.42:a_b')).route).toBe('/v2/health/live');
  });

  it('generates a UUID when there is none, or when it is not sane', async () => {
    for (const sent of [undefined, 'has space', 'x'.repeat(129), 'semi;colon']) {
      const req = service.request.get('/v2/health/ready');
      const res = sent === undefined ? await req : await req.set('X-Request-Id', sent);
      expect(res.headers['x-request-id']).toMatch(UUID);
      await requestLine(res.headers['x-request-id'] as string);
    }
  });

  it('is echoed on errors too: 401, 404, 405, 400', async () => {
    const cases = [
      service.request.get('/models'),
      service.request.get('/nowhere'),
      service.request.put('/models').set('X-API-Key', KEY),
      service.request.get('/models?verbose=1').set('X-API-Key', KEY),
    ];
    for (const [i, pending] of cases.entries()) {
      const res = await pending.set('X-Request-Id', `err-${i}`);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers['x-request-id']).toBe(`err-${i}`);
    }
  });
});

describe('the request log line', () => {
  it('has the route template, status, duration, and the model and version that served it', async () => {
    const res = await service.request.post('/v1/models/mnist:predict').set('X-API-Key', KEY).set('X-Request-Id', 'predict-1').send(PREDICT_BODY);
    expect(res.status).toBe(200);
    const line = await requestLine('predict-1');
    expect(line).toEqual(
      expect.objectContaining({
        level: 'info',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        method: 'POST',
        route: '/v1/models/{name}:predict',
        url: '/v1/models/mnist:predict',
        status: 200,
        durationMs: expect.any(Number),
        model: 'mnist',
        version: 1,
      }),
    );
    expect(line.durationMs as number).toBeGreaterThan(0);
  });

  it('names the model on the image routes too', async () => {
    await service.request.post('/mnist/classify').set('Authorization', `Bearer ${KEY}`).set('X-Request-Id', 'classify-1').attach('file', fixture('mnist', '3.png'), '3.png');
    expect(await requestLine('classify-1')).toEqual(expect.objectContaining({ route: '/mnist/classify', status: 200, model: 'mnist', version: 1 }));
  });

  it('has no model when none served, and a null route when none matched', async () => {
    await service.request.get('/v1/models/letters').set('X-API-Key', KEY).set('X-Request-Id', 'unknown-model');
    const unknownModel = await requestLine('unknown-model');
    expect(unknownModel).toEqual(expect.objectContaining({ route: '/v1/models/{name}', status: 404 }));
    expect(unknownModel).not.toHaveProperty('model');
    await service.request.get('/no/such/route').set('X-Request-Id', 'no-route');
    expect(await requestLine('no-route')).toEqual(expect.objectContaining({ route: null, url: '/no/such/route', status: 404 }));
  });

  it('logs a refused request at info, with the route, and the refusal line carries the request id', async () => {
    await service.request.post('/mnist/classify').set('X-Request-Id', 'refused-1').attach('file', fixture('mnist', '3.png'), '3.png');
    expect(await requestLine('refused-1')).toEqual(expect.objectContaining({ level: 'info', route: '/mnist/classify', status: 401 }));
    const refusal = await logs.find((line) => line.reqId === 'refused-1' && line.msg === 'request refused');
    expect(refusal).toEqual([expect.objectContaining({ level: 'warn', status: 401 })]);
  });

  it('logs health probes at debug, to keep them out of an info log', async () => {
    await service.request.get('/v2/health/live').set('X-Request-Id', 'probe-1');
    expect((await requestLine('probe-1')).level).toBe('debug');
  });

  it('never contains an API key or the Authorization header', async () => {
    await service.request.get('/models').set('Authorization', `Bearer ${KEY}`);
    await service.request.get('/models').set('X-API-Key', KEY);
    await service.request.get('/models').set('X-API-Key', `${KEY}-wrong`);
    await logs.find(() => false, 100);
    expect(logs.lines.length).toBeGreaterThan(10);
    expect(logs.text()).not.toContain(KEY);
    expect(logs.text()).not.toMatch(/"headers"/);
  });

  it('marks a request whose client went away before the answer', async () => {
    const server = service.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const req = http.request({
        port: (server.address() as AddressInfo).port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/mnist/classify',
        headers: { 'X-API-Key': KEY, 'X-Request-Id': 'gone-1', 'Content-Type': 'multipart/form-data; boundary=b', 'Content-Length': '100000' },
      });
      req.on('error', () => undefined);
      req.write('--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n');
      await new Promise((resolve) => setTimeout(resolve, 100));
      req.destroy();
      expect(await requestLine('gone-1')).toEqual(expect.objectContaining({ route: '/mnist/classify', aborted: true }));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is one JSON object per line', () => {
    expect(logs.text().split('\n').filter(Boolean).length).toBe(logs.lines.length);
  });
});
