import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { captureLogs } from '../support/log-capture';
import { expectProblem } from '../support/problem';
import { multipartFile } from '../support/multipart';
import { fixture, useTestService } from '../support/service';

// MAX_INFLIGHT_BYTES: request bodies held at once are bounded; one over the budget is refused
// unread with 503 + Retry-After, and the budget comes back when an answer is sent.

const PNG = fixture('mnist', '7.png');
const UPLOAD = multipartFile('file', '7.png', 'image/png', PNG);
const BODY = UPLOAD.body;

/** Starts an upload of BODY on a real socket and sends only its first bytes; `finish` sends the rest and resolves with the answer. */
async function startSlowUpload(server: http.Server): Promise<{ finish(): Promise<{ status: number; body: Record<string, unknown> }> }> {
  const admitted = once(server, 'request'); // emitted after the app (the first listener) ran its synchronous middleware
  const req = http.request({
    port: (server.address() as AddressInfo).port,
    host: '127.0.0.1',
    method: 'POST',
    path: '/mnist/classify',
    headers: { 'Content-Type': UPLOAD.contentType, 'Content-Length': String(BODY.length) },
  });
  const answered = once(req, 'response') as Promise<[http.IncomingMessage]>;
  req.write(BODY.subarray(0, 50));
  await admitted;
  return {
    async finish() {
      req.end(BODY.subarray(50));
      const [res] = await answered;
      let text = '';
      for await (const chunk of res) text += String(chunk);
      return { status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> };
    },
  };
}

async function listening(app: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

async function stop(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

const logs = captureLogs('debug');

describe('MAX_INFLIGHT_BYTES with room for one upload', () => {
  const service = useTestService({ maxInflightBytes: BODY.length + 100 });

  it('refuses a second body at once with 503 + Retry-After while the first is held, and admits again after its answer', async () => {
    const server = await listening(service.app);
    try {
      const first = await startSlowUpload(server);
      const inFlight = async () => Number(/^specserve_http_body_bytes_in_flight (\d+)$/m.exec((await service.request.get('/metrics')).text)?.[1]);
      expect(await inFlight()).toBe(BODY.length);

      const refused = await service.request.post('/mnist/classify').set('X-Request-Id', 'over-budget-1').attach('file', PNG, '7.png');
      const problem = expectProblem(refused, 503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.headers.connection).toBe('close');
      expect(problem.detail).toMatch(/MAX_INFLIGHT_BYTES/);
      // Load shedding is expected in operation: a warning with the detail, no error, no stack.
      const lines = await logs.find((line) => line.reqId === 'over-budget-1' && line.msg !== 'request completed');
      expect(lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'request refused', status: 503, detail: problem.detail })]);
      expect((await logs.find((line) => line.reqId === 'over-budget-1' && line.msg === 'request completed'))[0]).toEqual(expect.objectContaining({ level: 'warn', status: 503 }));

      // Bodiless requests are not held back.
      expect((await service.request.get('/v2/health/live')).status).toBe(200);

      const answer = await first.finish();
      expect(answer.status).toBe(200);
      expect(answer.body.digit).toBe(7);
      expect(await inFlight()).toBe(0);

      const again = await service.request.post('/mnist/classify').attach('file', PNG, '7.png');
      expect(again.status).toBe(200);
      expect(again.body.digit).toBe(7);
    } finally {
      await stop(server);
    }
  });
});

describe('MAX_INFLIGHT_BYTES smaller than one upload', () => {
  const service = useTestService({ maxInflightBytes: 10 });

  it('still admits a request when nothing else is in flight', async () => {
    const res = await service.request.post('/mnist/classify').attach('file', PNG, '7.png');
    expect(res.status).toBe(200);
    expect(res.body.digit).toBe(7);
  });
});
