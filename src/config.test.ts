import path from 'node:path';
import { ConfigError, loadConfig } from './config';
import { DEFAULT_MODEL_STORE } from './paths';

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 5000,
      host: '0.0.0.0',
      modelStore: DEFAULT_MODEL_STORE,
      maxUploadBytes: 10 * 1024 * 1024,
      maxImagePixels: 40_000_000,
      backend: undefined,
      maxBatchInstances: 1000,
      pollSeconds: 5,
      validateResponses: false,
      routeModels: { predict: 'imagenet', inference: 'imagenet', scorefile: undefined },
      download: { timeoutMs: 120_000, maxBytes: 1024 * 1024 * 1024 },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      MODEL_STORE: 'some/store',
      MAX_UPLOAD_BYTES: '1000',
      MAX_IMAGE_PIXELS: '5000',
      TFJS_BACKEND: 'cpu',
      MODEL_POLL_SECONDS: '0',
      MAX_BATCH_INSTANCES: '64',
      VALIDATE_RESPONSES: 'true',
      PREDICT_MODEL: 'resnet50',
      INFERENCE_MODEL: 'mobilenet',
      SCOREFILE_MODEL: 'scenes',
      DOWNLOAD_TIMEOUT_MS: '5000',
      DOWNLOAD_MAX_BYTES: '1000000',
    });
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      modelStore: path.resolve('some/store'),
      maxUploadBytes: 1000,
      maxImagePixels: 5000,
      backend: 'cpu',
      maxBatchInstances: 64,
      pollSeconds: 0,
      validateResponses: true,
      routeModels: { predict: 'resnet50', inference: 'mobilenet', scorefile: 'scenes' },
      download: { timeoutMs: 5000, maxBytes: 1_000_000 },
    });
  });

  it('reports every bad variable at once, naming each', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', MAX_UPLOAD_BYTES: '-5', TFJS_BACKEND: 'gpu', VALIDATE_RESPONSES: 'maybe', PREDICT_MODEL: '../etc' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toHaveLength(5);
    expect(message).toMatch(/PREDICT_MODEL="..\/etc": expected a model folder name/);
    expect(message).toMatch(/PORT="eighty"/);
    expect(message).toMatch(/MAX_UPLOAD_BYTES="-5"/);
    expect(message).toMatch(/TFJS_BACKEND="gpu": expected one of tensorflow, wasm, cpu/);
    expect(message).toMatch(/VALIDATE_RESPONSES="maybe"/);
  });

  it('refuses a port out of range and a fractional size', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT="70000"/);
    expect(() => loadConfig({ MAX_UPLOAD_BYTES: '1.5' })).toThrow(/MAX_UPLOAD_BYTES/);
  });
});
