import express, { type RequestHandler } from 'express';
import { Histogram, Registry } from 'prom-client';
import supertest from 'supertest';
import { methodLabel, requestMetrics, UNMATCHED_ROUTE } from './http';

function histogram() {
  return new Histogram({ name: 'test_http_seconds', help: 'test', labelNames: ['method', 'route', 'status_code'], registers: [new Registry()] });
}

/** Stands in for the validator: it matches `/models/<name>` to the template `/models/{name}`. */
const fakeValidator: RequestHandler = (req, _res, next) => {
  if (/^\/models\/[^/]+$/.test(req.path)) (req as unknown as { openapi: object }).openapi = { openApiRoute: '/models/{name}' };
  next();
};

async function counts(h: Histogram<'method' | 'route' | 'status_code'>): Promise<Record<string, number>> {
  const { values } = await h.get();
  return Object.fromEntries(
    values.filter((v) => v.metricName === 'test_http_seconds_count').map((v) => [`${v.labels.method} ${v.labels.route} ${v.labels.status_code}`, v.value]),
  );
}

describe('requestMetrics', () => {
  it('observes each request by method, route template (never the raw URL) and status', async () => {
    const h = histogram();
    const app = express();
    app.use(requestMetrics(h), fakeValidator);
    app.get('/models/:name', (req, res) => void res.status(req.params.name === 'gone' ? 404 : 200).send('ok'));
    const request = supertest(app);
    await request.get('/models/mnist');
    await request.get('/models/fashion');
    await request.get('/models/gone');
    await request.get('/some/random/path');
    await request.post('/models/mnist');
    expect(await counts(h)).toEqual({
      'GET /models/{name} 200': 2,
      'GET /models/{name} 404': 1,
      [`GET ${UNMATCHED_ROUTE} 404`]: 1,
      'POST /models/{name} 404': 1,
    });
    const { values } = await h.get();
    expect(values.find((v) => v.metricName === 'test_http_seconds_sum')!.value).toBeGreaterThan(0);
  });

  it('labels a request whose client left before the answer as aborted', async () => {
    const h = histogram();
    const app = express();
    let release: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => {
      app.use(requestMetrics(h), (_req, res) => {
        resolve();
        release = () => res.end('late');
      });
    });
    const server = app.listen(0);
    try {
      const { port } = server.address() as { port: number };
      const controller = new AbortController();
      const pending = fetch(`http://127.0.0.1:${port}/slow`, { signal: controller.signal }).catch(() => undefined);
      await arrived;
      controller.abort();
      await pending;
      // The server learns of the abort from the socket: wait for it (bounded by the test timeout).
      while (Object.keys(await counts(h)).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await counts(h)).toEqual({ [`GET ${UNMATCHED_ROUTE} aborted`]: 1 });
      release();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('methodLabel', () => {
  it('keeps the usual methods and folds any other into `other`', () => {
    expect(['get', 'POST', 'Head', 'OPTIONS'].map(methodLabel)).toEqual(['GET', 'POST', 'HEAD', 'OPTIONS']);
    expect(['PROPFIND', 'M-SEARCH', undefined, ''].map(methodLabel)).toEqual(['other', 'other', 'other', 'other']);
  });
});
