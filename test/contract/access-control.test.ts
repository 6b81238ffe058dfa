import type { Response } from 'supertest';
import { expectProblem } from '../support/problem';
import { fixture, useTestService } from '../support/service';

const KEY = 'test-key-5f0c2a91d4e8';
const SECOND_KEY = 'second.key:rotation-2';

/** A TF Serving predict body: one 28x28 all-zero image. */
const PREDICT_BODY = { instances: [Array.from({ length: 28 }, () => Array<number>(28).fill(0))] };

/** A 401 problem, its challenge, and (on the protocol routes) TF Serving's `error` member. */
function expectUnauthorized(res: Response, challenge: RegExp): Record<string, unknown> {
  const body = expectProblem(res, 401);
  expect(body.type).toBe('urn:specserve:problem:unauthorized');
  expect(res.headers['www-authenticate']).toMatch(challenge);
  expect(res.headers['x-request-id']).toBeTruthy();
  return body;
}

const MISSING = /^Bearer realm="specserve"$/;
const INVALID = /^Bearer realm="specserve", error="invalid_token"$/;

describe('with API keys configured', () => {
  const service = useTestService({ auth: { apiKeys: [KEY, SECOND_KEY], metricsAuth: false } });
  const classify = () => service.request.post('/mnist/classify').attach('file', fixture('mnist', '7.png'), '7.png');
  const predict = () => service.request.post('/v1/models/mnist:predict').send(PREDICT_BODY);

  it('refuses inference without a key: 401 problem+json with WWW-Authenticate: Bearer', async () => {
    const body = expectUnauthorized(await classify(), MISSING);
    expect(body.detail).toMatch(/POST \/mnist\/classify needs an API key: send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`/);
    const tf = expectUnauthorized(await predict(), MISSING);
    expect(tf.error).toBe(tf.detail); // TF Serving clients read `error`
  });

  it('refuses a wrong key, in either header, as an invalid token', async () => {
    expectUnauthorized(await classify().set('Authorization', 'Bearer not-the-key'), INVALID);
    expectUnauthorized(await predict().set('X-API-Key', `${KEY}x`), INVALID);
    expectUnauthorized(await predict().set('Authorization', `Bearer ${KEY.slice(0, -1)}`), INVALID);
    // Requirements are alternatives: a right bearer token passes even beside a wrong X-API-Key.
    expect((await predict().set('Authorization', `Bearer ${KEY}`).set('X-API-Key', 'wrong')).status).toBe(200);
  });

  it('treats another Authorization scheme as no key', async () => {
    expectUnauthorized(await predict().set('Authorization', `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}`), MISSING);
    expectUnauthorized(await predict().set('Authorization', KEY), MISSING);
  });

  it('accepts a right key as a bearer token or as X-API-Key, any configured key', async () => {
    for (const res of [
      await classify().set('Authorization', `Bearer ${KEY}`),
      await classify().set('X-API-Key', KEY),
      await classify().set('authorization', `bearer ${SECOND_KEY}`),
    ]) {
      expect(res.status).toBe(200);
      expect(res.body.digit).toBe(7);
    }
    const tf = await predict().set('X-API-Key', SECOND_KEY);
    expect(tf.status).toBe(200);
    expect(tf.body.predictions).toHaveLength(1);
  });

  it('protects the model and metadata routes too', async () => {
    for (const url of ['/models', '/v1/models/mnist', '/v1/models/mnist/metadata', '/v2', '/v2/models/mnist', '/v2/models/mnist/ready']) {
      expectUnauthorized(await service.request.get(url), MISSING);
      expect((await service.request.get(url).set('X-API-Key', KEY)).status).toBe(200);
    }
  });

  it('leaves health, readiness, the API document and Swagger UI open', async () => {
    for (const url of ['/v2/health/live', '/v2/health/ready', '/', '/openapi.json', '/openapi.yaml', '/ui/', '/ui/swagger-ui-init.js']) {
      const res = await service.request.get(url);
      expect([url, res.status]).toEqual([url, 200]);
    }
  });

  it('checks the key before reading the body: a malformed upload without a key is 401, not 400', async () => {
    const res = await service.request
      .post('/mnist/classify')
      .set('Content-Type', 'multipart/form-data; boundary=xyz')
      .send('--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nnot closed');
    expectUnauthorized(res, MISSING);
  });

  it('still answers an unknown path 404 and a wrong method 405, key or not', async () => {
    expectProblem(await service.request.get('/nowhere'), 404);
    expectProblem(await service.request.get('/v1/models/mnist:predict'), 405);
  });

  it('serves a document that declares the schemes, so Swagger UI shows Authorize and sends the key', async () => {
    const doc = (await service.request.get('/openapi.json')).body;
    expect(doc.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
    expect(doc.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      apiKeyHeader: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
    });
    expect(doc.paths['/v2/health/live'].get.security).toEqual([]);
    expect(doc.paths['/mnist/classify'].post.security).toBeUndefined(); // the top-level requirement applies
    const init = (await service.request.get('/ui/swagger-ui-init.js')).text;
    expect(init).toContain('"securitySchemes"');
    expect(init).toMatch(/"persistAuthorization": true/);
  });
});

describe('with no API key configured (the default)', () => {
  const service = useTestService();

  it('serves every route without a key, and ignores one sent anyway', async () => {
    const res = await service.request.post('/mnist/classify').attach('file', fixture('mnist', '7.png'), '7.png');
    expect(res.status).toBe(200);
    expect((await service.request.post('/v1/models/mnist:predict').send(PREDICT_BODY)).status).toBe(200);
    expect((await service.request.get('/models').set('Authorization', 'Bearer anything')).status).toBe(200);
  });

  it('serves a document that demands no key, as JSON, as YAML and in Swagger UI', async () => {
    const json = await service.request.get('/openapi.json');
    expect(JSON.stringify(json.body)).not.toMatch(/"security(Schemes)?"/);
    const yamlText = (await service.request.get('/openapi.yaml')).text;
    expect(yamlText).not.toMatch(/^\s*security(Schemes)?:/m);
    expect(yamlText).toContain('# ---- The seed tutorials'); // still the file as written, comments and all
    expect((await service.request.get('/ui/swagger-ui-init.js')).text).not.toContain('securitySchemes');
  });
});
