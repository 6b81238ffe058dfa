import { availableParallelism } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config';
import { DEFAULT_MODEL_STORE } from './paths';

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 5000,
      grpcPort: 8500,
      grpcMaxMessageBytes: 16 * 1024 * 1024,
      host: '0.0.0.0',
      modelStore: DEFAULT_MODEL_STORE,
      modelName: undefined,
      maxUploadBytes: 10 * 1024 * 1024,
      maxInflightBytes: 256 * 1024 * 1024,
      maxImagePixels: 40_000_000,
      imageDecoder: undefined,
      backend: undefined,
      maxBatchInstances: 1000,
      pollSeconds: 5,
      validateResponses: false,
      servingThreads: 1,
      // One inference worker per core, each with one ONNX Runtime thread.
      workers: availableParallelism(),
      intraOpThreads: 1,
      requestTimeoutMs: 30_000,
      shutdownGraceMs: 25_000,
      routeModels: { predict: 'imagenet', inference: 'imagenet', scorefile: undefined },
      download: { timeoutMs: 120_000, maxBytes: 1024 * 1024 * 1024 },
      logging: { level: 'info', format: undefined },
      auth: { apiKeys: [], metricsAuth: false },
      corsOrigins: [],
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      GRPC_PORT: '0',
      GRPC_MAX_MESSAGE_BYTES: '1048576',
      HOST: '127.0.0.1',
      MODEL_STORE: 'some/store',
      MODEL_NAME: 'digits',
      MAX_UPLOAD_BYTES: '1000',
      MAX_INFLIGHT_BYTES: '50000',
      MAX_IMAGE_PIXELS: '5000',
      IMAGE_DECODER: 'jimp',
      TFJS_BACKEND: 'cpu',
      MODEL_POLL_SECONDS: '0',
      MAX_BATCH_INSTANCES: '64',
      VALIDATE_RESPONSES: 'true',
      SERVING_THREADS: '4',
      WORKERS: '3',
      REQUEST_TIMEOUT_MS: '0',
      SHUTDOWN_GRACE_MS: '1000',
      PREDICT_MODEL: 'resnet50',
      INFERENCE_MODEL: 'mobilenet',
      SCOREFILE_MODEL: 'scenes',
      DOWNLOAD_TIMEOUT_MS: '5000',
      DOWNLOAD_MAX_BYTES: '1000000',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      API_KEYS: 'key-one, key-two',
      METRICS_AUTH: 'true',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:3000/',
      INTRA_OP_THREADS: '2',
    });
    expect(config).toEqual({
      port: 8080,
      grpcPort: 0,
      grpcMaxMessageBytes: 1048576,
      host: '127.0.0.1',
      modelStore: path.resolve('some/store'),
      modelName: 'digits',
      maxUploadBytes: 1000,
      maxInflightBytes: 50_000,
      maxImagePixels: 5000,
      imageDecoder: 'jimp',
      backend: 'cpu',
      maxBatchInstances: 64,
      pollSeconds: 0,
      validateResponses: true,
      servingThreads: 4,
      workers: 3,
      intraOpThreads: 2,
      requestTimeoutMs: 0,
      shutdownGraceMs: 1000,
      routeModels: { predict: 'resnet50', inference: 'mobilenet', scorefile: 'scenes' },
      download: { timeoutMs: 5000, maxBytes: 1_000_000 },
      logging: { level: 'debug', format: 'json' },
      auth: { apiKeys: ['key-one', 'key-two'], metricsAuth: true },
      corsOrigins: ['https://app.example.com', 'http://localhost:3000'],
    });
  });

  it('gives each thread that runs batches an equal share of the cores for ONNX Runtime', () => {
    const cores = availableParallelism();
    expect(loadConfig({ WORKERS: '0' }).intraOpThreads).toBe(cores);
    expect(loadConfig({ SERVING_THREADS: String(cores), WORKERS: '0' }).intraOpThreads).toBe(1);
    expect(loadConfig({ SERVING_THREADS: '1', WORKERS: '1' }).intraOpThreads).toBe(cores);
    expect(loadConfig({ SERVING_THREADS: String(cores * 2), WORKERS: '2' }).intraOpThreads).toBe(1);
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

  it('reads MODEL_NAME (a model folder name) for a store that is one model, and refuses a path', () => {
    expect(loadConfig({ MODEL_NAME: ' digits ' }).modelName).toBe('digits');
    expect(() => loadConfig({ MODEL_NAME: '../mnist' })).toThrow(/MODEL_NAME="..\/mnist": expected a model folder name/);
  });

  it('checks KERAS_MAX_WEIGHTS_BYTES (read by the Keras reader in every thread) at start-up', () => {
    expect(() => loadConfig({ KERAS_MAX_WEIGHTS_BYTES: '1GB' })).toThrow(/KERAS_MAX_WEIGHTS_BYTES="1GB": expected a whole number of bytes/);
    expect(() => loadConfig({ KERAS_MAX_WEIGHTS_BYTES: '2000000000' })).not.toThrow();
  });

  it('refuses an IMAGE_DECODER it does not know, naming the choices', () => {
    expect(() => loadConfig({ IMAGE_DECODER: 'imagemagick' })).toThrow(/IMAGE_DECODER="imagemagick": expected one of sharp, jimp/);
    expect(loadConfig({ IMAGE_DECODER: 'sharp' }).imageDecoder).toBe('sharp');
  });

  it('refuses a port out of range and a fractional size', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT="70000"/);
    expect(() => loadConfig({ MAX_UPLOAD_BYTES: '1.5' })).toThrow(/MAX_UPLOAD_BYTES/);
  });
});

describe('loadConfig: operations (logging, access control, CORS)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const tmpFile = (text: string): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'specserve-keys-'));
    dirs.push(dir);
    const file = path.join(dir, 'keys');
    writeFileSync(file, text);
    return file;
  };

  it('reads LOG_LEVEL and LOG_FORMAT, case-insensitively, and refuses other values', () => {
    expect(loadConfig({ LOG_LEVEL: 'WARN', LOG_FORMAT: 'Pretty' }).logging).toEqual({ level: 'warn', format: 'pretty' });
    expect(loadConfig({ LOG_LEVEL: 'silent' }).logging.level).toBe('silent');
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL="verbose": expected one of debug, info, warn, error, silent/);
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT="xml": expected one of json, pretty/);
  });

  it('merges API_KEYS and API_KEYS_FILE (comment and blank lines skipped, duplicates dropped)', () => {
    const file = tmpFile('# production keys\nfile-key-1\r\n\n  file-key-2  \n# retired: old-key\nshared-key\n');
    expect(loadConfig({ API_KEYS: 'env-key,shared-key', API_KEYS_FILE: file }).auth).toEqual({
      apiKeys: ['env-key', 'shared-key', 'file-key-1', 'file-key-2'],
      metricsAuth: false,
    });
    expect(loadConfig({ API_KEYS_FILE: file }).auth.apiKeys).toEqual(['file-key-1', 'file-key-2', 'shared-key']);
  });

  it('fails closed: a key setting that yields no key, or a file that cannot be read, is an error', () => {
    expect(() => loadConfig({ API_KEYS: ' , ' })).toThrow(/API_KEYS: no key in it/);
    expect(() => loadConfig({ API_KEYS_FILE: tmpFile('# nothing yet\n\n') })).toThrow(/API_KEYS_FILE=".*": no key in it/);
    expect(() => loadConfig({ API_KEYS_FILE: '/nonexistent/keys' })).toThrow(/API_KEYS_FILE="\/nonexistent\/keys": cannot read it \(ENOENT\)/);
  });

  it('refuses a key that cannot travel in a header, without printing the key', () => {
    let error: unknown;
    try {
      loadConfig({ API_KEYS_FILE: tmpFile('good-key\nsecret with space\n') });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/the key at line 2 has characters other than visible ASCII/);
    expect((error as Error).message).not.toMatch(/secret/);
    expect(() => loadConfig({ API_KEYS: 'ok,clé' })).toThrow(/API_KEYS: the key at entry 2/);
  });

  it('reads CORS_ORIGINS as * or a list of origins, and refuses anything else', () => {
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: ' ' }).corsOrigins).toEqual([]);
    expect(() => loadConfig({ CORS_ORIGINS: 'example.com' })).toThrow(/CORS_ORIGINS: "example.com" is not an origin/);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/app' })).toThrow(/"https:\/\/a.example\/app" is not an origin/);
    expect(() => loadConfig({ CORS_ORIGINS: '*,https://a.example' })).toThrow(/"\*" is not an origin/);
    expect(() => loadConfig({ CORS_ORIGINS: 'ftp://a.example' })).toThrow(/CORS_ORIGINS/);
  });

  it('reads METRICS_AUTH as a flag', () => {
    expect(loadConfig({ API_KEYS: 'k', METRICS_AUTH: 'yes' }).auth.metricsAuth).toBe(true);
    expect(() => loadConfig({ METRICS_AUTH: 'sometimes' })).toThrow(/METRICS_AUTH="sometimes"/);
    expect(() => loadConfig({ METRICS_AUTH: 'true' })).toThrow(/METRICS_AUTH=true needs API_KEYS or API_KEYS_FILE/);
  });
});
