import type { Response } from 'supertest';
import { expectProblem } from '../support/problem';
import { useTestService } from '../support/service';

const APP_ORIGIN = 'https://app.example.com';
const KEY = 'cors-test-key-19c2';

/** A browser's preflight for a keyed JSON POST from `origin`. */
const preflight = (request: ReturnType<typeof useTestService>['request'], url: string, origin = APP_ORIGIN) =>
  request.options(url).set('Origin', origin).set('Access-Control-Request-Method', 'POST').set('Access-Control-Request-Headers', 'authorization,content-type');

function expectSecurityHeaders(res: Response): void {
  const csp = res.headers['content-security-policy'] as string;
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("frame-ancestors 'self'");
  expect(csp).not.toContain('upgrade-insecure-requests');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
  expect(res.headers).not.toHaveProperty('x-powered-by');
  expect(res.headers).not.toHaveProperty('strict-transport-security');
}

describe('defaults: security headers on, CORS off', () => {
  const service = useTestService();

  it('sends the security headers on answers, errors and Swagger UI alike', async () => {
    expectSecurityHeaders(await service.request.get('/v2/health/live'));
    expectSecurityHeaders(await service.request.get('/models'));
    expectSecurityHeaders(await service.request.get('/nowhere'));
    expectSecurityHeaders(await service.request.get('/ui/'));
  });

  it('Swagger UI loads under that policy: no inline script, and every file it names is served', async () => {
    const page = await service.request.get('/ui/');
    expect(page.status).toBe(200);
    // script-src 'self' without 'unsafe-inline': every script must be a file from this server.
    const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc=/);
      expect((body as string).trim()).toBe('');
    }
    expect(page.text).not.toMatch(/\son[a-z]+=/i); // script-src-attr 'none': no inline handlers
    const files = [...page.text.matchAll(/(?:src|href)=["']\.\/([^"']+)["']/g)].map((m) => m[1] as string);
    expect(files).toEqual(expect.arrayContaining(['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui-init.js', 'swagger-ui.css']));
    for (const file of files) {
      const res = await service.request.get(`/ui/${file}`);
      expect([file, res.status]).toEqual([file, 200]);
      if (file.endsWith('.js')) expect(res.headers['content-type']).toMatch(/javascript/);
      if (file.endsWith('.css')) expect(res.headers['content-type']).toMatch(/text\/css/);
    }
    // Its start-up script carries the document inline: no fetch, and no call to the online validator.
    const init = (await service.request.get('/ui/swagger-ui-init.js')).text;
    expect(init).toContain('"/mnist/classify"');
    expect(init).toMatch(/"validatorUrl": null/);
  });

  it('answers a CORS preflight 405 with Allow, as for any method the document does not list', async () => {
    const res = await preflight(service.request, '/v1/models/mnist:predict');
    expectProblem(res, 405);
    expect(res.headers.allow).toBe('POST');
    expect(res.headers).not.toHaveProperty('access-control-allow-origin');
  });

  it('adds no CORS headers to a cross-origin request', async () => {
    const res = await service.request.get('/v2/health/live').set('Origin', APP_ORIGIN);
    expect(res.status).toBe(200);
    expect(res.headers).not.toHaveProperty('access-control-allow-origin');
  });
});

describe('CORS_ORIGINS set (with access control on)', () => {
  const service = useTestService({ corsOrigins: [APP_ORIGIN], auth: { apiKeys: [KEY], metricsAuth: false } });

  it('answers the preflight of an API route itself, without a key: 204 with the allowed origin, methods and headers', async () => {
    for (const url of ['/v1/models/mnist:predict', '/mnist/classify', '/v2/models/mnist/infer']) {
      const res = await preflight(service.request, url);
      expect([url, res.status]).toEqual([url, 204]);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers['access-control-allow-methods']).toBe('GET,HEAD,POST');
      expect(res.headers['access-control-allow-headers']).toBe('authorization,content-type');
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers['x-request-id']).toBeTruthy();
    }
  });

  it('lets the page read the answer and its X-Request-Id, errors included', async () => {
    const ok = await service.request.post('/v1/models/mnist:predict').set('Origin', APP_ORIGIN).set('Authorization', `Bearer ${KEY}`).send({
      instances: [Array.from({ length: 28 }, () => Array<number>(28).fill(0))],
    });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(ok.headers['access-control-expose-headers']).toMatch(/X-Request-Id/);
    const refused = await service.request.get('/models').set('Origin', APP_ORIGIN);
    expect(refused.status).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(refused.headers['access-control-expose-headers']).toMatch(/WWW-Authenticate/);
  });

  it('grants nothing to another origin', async () => {
    const res = await preflight(service.request, '/v1/models/mnist:predict', 'https://evil.example');
    expect(res.headers).not.toHaveProperty('access-control-allow-origin');
    const get = await service.request.get('/v2/health/live').set('Origin', 'https://evil.example');
    expect(get.headers).not.toHaveProperty('access-control-allow-origin');
  });
});

describe("CORS_ORIGINS='*'", () => {
  const service = useTestService({ corsOrigins: '*' });

  it('allows any origin, without credentials', async () => {
    const res = await preflight(service.request, '/models/mnist/classify', 'http://localhost:3000');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers).not.toHaveProperty('access-control-allow-credentials');
  });
});
