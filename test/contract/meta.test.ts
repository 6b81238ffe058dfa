import yaml from 'js-yaml';
import { expectProblem } from '../support/problem';
import { useTestService } from '../support/service';

const service = useTestService();

describe('the API document', () => {
  it('GET /openapi.json is the document the server validates against', async () => {
    const res = await service.request.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.0\./);
    expect(res.body.paths['/mnist/classify'].post.operationId).toBe('mnist.postImage');
  });

  it('GET /openapi.yaml is the same document as YAML', async () => {
    const res = await service.request.get('/openapi.yaml');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/yaml/);
    const json = (await service.request.get('/openapi.json')).body;
    expect(yaml.load(res.text)).toEqual(json);
  });

  it('GET /ui/ serves Swagger UI for it', async () => {
    const res = await service.request.get('/ui/');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/swagger-ui/i);
    const init = await service.request.get('/ui/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('/mnist/classify');
  });
});

describe('health and models', () => {
  it('GET /v2/health/live', async () => {
    const res = await service.request.get('/v2/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ live: true });
  });

  it('GET /v2/health/ready once the models are loaded', async () => {
    const res = await service.request.get('/v2/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ready: true });
  });

  it('GET /models lists the shipped MNIST model with its metadata', async () => {
    const res = await service.request.get('/models');
    expect(res.status).toBe(200);
    const mnist = res.body.models.find((m: { name: string }) => m.name === 'mnist');
    expect(mnist).toEqual({
      name: 'mnist',
      version: 1,
      engine: { name: 'onnx', platform: 'onnxruntime_onnx', reason: expect.stringMatching(/^converted from TF.js layers at load/) },
      input: { name: expect.any(String), shape: [28, 28, 1], dtype: 'float32' },
      output: { name: expect.any(String), kind: 'softmax' },
      labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      preprocessing: { recipe: 'mnist-digit' },
    });
  });

  it('refuses an unknown query parameter with 400', async () => {
    const res = await service.request.get('/models?verbose=1');
    expect(res.status).toBe(400);
  });
});

describe('readiness while shutting down', () => {
  it('answers 503 on /v2/health/ready once draining starts, while liveness stays 200', async () => {
    expect((await service.request.get('/v2/health/ready')).status).toBe(200);
    service.lifecycle.draining = true;
    try {
      const res = await service.request.get('/v2/health/ready');
      expect(expectProblem(res, 503).detail).toMatch(/shutting down/);
      expect((await service.request.get('/v2/health/live')).status).toBe(200);
    } finally {
      service.lifecycle.draining = false;
    }
  });
});
