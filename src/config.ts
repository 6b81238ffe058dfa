import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log';
import { parseKerasMaxWeightsBytes } from './model-store/keras/limits';
import { MODEL_NAME } from './model-store/repository';
import { DEFAULT_MODEL_STORE } from './paths';
import { IMAGE_DECODERS, type ImageDecoderName } from './images/formats';
import { loadSharp } from './images/sharp-loader';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Everything the server reads from its environment, parsed and checked once at start-up. */
export interface Config {
  port: number;
  /** gRPC port (GRPC_PORT, TF Serving's 8500); 0 turns the gRPC server off. */
  grpcPort: number;
  /** Largest gRPC message received or sent (GRPC_MAX_MESSAGE_BYTES); larger is RESOURCE_EXHAUSTED. */
  grpcMaxMessageBytes: number;
  host: string;
  modelStore: string;
  /**
   * MODEL_NAME: serve MODEL_STORE as one model (numeric version folders in it) or one version
   * (model files in it) under this name, as KServe mounts a storageUri at /mnt/models.
   * Undefined: MODEL_STORE is a folder of <name>/<version>/ models.
   */
  modelName: string | undefined;
  maxUploadBytes: number;
  /** Most bytes of request bodies held in memory at once; a request over it gets 503 unread. */
  maxInflightBytes: number;
  maxImagePixels: number;
  /** IMAGE_DECODER: `sharp` (libvips) or `jimp` (pure JS); undefined: sharp where it loads, else jimp. */
  imageDecoder: ImageDecoderName | undefined;
  /** Undefined: the best backend that loads (tfjs-node, else wasm). */
  backend: BackendName | undefined;
  /** Most examples one TF Serving / KServe request may carry; more is 413. */
  maxBatchInstances: number;
  /** How often the model store is checked for added or removed versions; 0 turns polling off. */
  pollSeconds: number;
  /** Validate every response against the spec (on in tests; costs time in production). */
  validateResponses: boolean;
  /**
   * The store model behind each seed-tutorial route (`/predict`, `/inference`, `/scorefile/`).
   * Undefined for `scorefile`: the first multi-label (sigmoid) model in the store.
   */
  routeModels: { predict: string; inference: string; scorefile: string | undefined };
  /**
   * Threads that each accept HTTP requests and serve them (SERVING_THREADS; default 1). Read by
   * server.ts only: a service opened in-process (tests, tools) is one thread.
   */
  servingThreads: number;
  /** Inference worker threads per serving thread (WORKERS; default one per core; 0: inference runs in the serving thread). */
  workers: number;
  /** ONNX Runtime intra-op threads per worker (INTRA_OP_THREADS; default cores / threads that run batches, at least 1). */
  intraOpThreads: number;
  /** Deadline of one inference input from the moment it is queued (REQUEST_TIMEOUT_MS); 0: none. */
  requestTimeoutMs: number;
  /** How long SIGTERM/SIGINT waits for accepted requests to finish before closing what remains. */
  shutdownGraceMs: number;
  /** Models named by URL in a config.yaml `source:` entry: download limits. */
  download: { timeoutMs: number; maxBytes: number };
  /** LOG_LEVEL, and LOG_FORMAT (undefined: pretty when stderr is a terminal, else JSON). */
  logging: { level: LogLevel; format: LogFormat | undefined };
  /**
   * Access control: the accepted API keys, from API_KEYS and API_KEYS_FILE together; none turns
   * it off. `metricsAuth` (METRICS_AUTH) puts /metrics behind the keys too.
   */
  auth: { apiKeys: readonly string[]; metricsAuth: boolean };
  /** CORS_ORIGINS: the browser origins allowed to call the API, or '*' for any; empty: CORS off. */
  corsOrigins: '*' | readonly string[];
}

/** A key must travel in a header unchanged: visible ASCII only, no spaces or commas. */
const API_KEY = /^[\x21-\x2b\x2d-\x7e]+$/;

/**
 * The keys of API_KEYS (comma-separated) or of an API_KEYS_FILE text (one per line, `#` starts a
 * comment line). Errors say where a bad key is, never what it is: they end up in logs.
 */
export function parseApiKeys(text: string, source: string, separator: ',' | '\n'): string[] {
  const keys: string[] = [];
  text.split(separator).forEach((raw, index) => {
    const key = raw.trim();
    if (key === '' || (separator === '\n' && key.startsWith('#'))) return;
    const where = separator === ',' ? `entry ${index + 1}` : `line ${index + 1}`;
    if (!API_KEY.test(key)) throw new Error(`${source}: the key at ${where} has characters other than visible ASCII (no spaces or commas)`);
    keys.push(key);
  });
  if (keys.length === 0) throw new Error(`${source}: no key in it; unset it to turn access control off`);
  return keys;
}

/** CORS_ORIGINS: '*' or a comma-separated list of origins (`scheme://host[:port]`); unset: []. */
export function parseCorsOrigins(raw: string | undefined): '*' | string[] {
  const text = raw?.trim() ?? '';
  if (text === '') return [];
  if (text === '*') return '*';
  return text.split(',').map((entry) => {
    const origin = entry.trim().replace(/\/$/, '');
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
      throw new Error(`CORS_ORIGINS: ${JSON.stringify(entry.trim())} is not an origin (scheme://host[:port], no path), nor is the list '*'`);
    }
    return origin;
  });
}

/** `TFJS_BACKEND`: undefined when unset (the best backend that loads), else one of BACKENDS. */
export function parseBackendName(raw: string | undefined): BackendName | undefined {
  const name = raw?.trim();
  if (!name) return undefined;
  if ((BACKENDS as readonly string[]).includes(name)) return name as BackendName;
  throw new Error(`TFJS_BACKEND=${JSON.stringify(name)}: expected one of ${BACKENDS.join(', ')}`);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the environment; collects every problem before failing so one run shows them all. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };

  const flag = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === '') return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name}=${JSON.stringify(env[name])}: expected true or false`);
    return fallback;
  };

  function modelName(name: string, fallback: string): string;
  function modelName(name: string, fallback: undefined): string | undefined;
  function modelName(name: string, fallback: string | undefined): string | undefined {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    if (!MODEL_NAME.test(raw)) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected a model folder name (letters, digits, _ . -)`);
      return fallback;
    }
    return raw;
  }

  function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T | undefined): T | undefined {
    const raw = env[name]?.trim().toLowerCase();
    if (!raw) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${name}=${JSON.stringify(env[name])}: expected one of ${allowed.join(', ')}`);
    return fallback;
  }

  /** API_KEYS and API_KEYS_FILE together; a file that cannot be read is a start-up error. */
  const apiKeys = (): string[] => {
    const keys: string[] = [];
    const collect = (read: () => string[]) => {
      try {
        keys.push(...read());
      } catch (e) {
        problems.push((e as Error).message);
      }
    };
    if (env.API_KEYS?.trim()) collect(() => parseApiKeys(env.API_KEYS ?? '', 'API_KEYS', ','));
    const file = env.API_KEYS_FILE?.trim();
    if (file) {
      collect(() => {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          throw new Error(`API_KEYS_FILE=${JSON.stringify(file)}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        return parseApiKeys(text, `API_KEYS_FILE=${JSON.stringify(file)}`, '\n');
      });
    }
    return [...new Set(keys)];
  };

  let corsOrigins: '*' | string[] = [];
  try {
    corsOrigins = parseCorsOrigins(env.CORS_ORIGINS);
  } catch (e) {
    problems.push((e as Error).message);
  }

  // Read by every thread that loads a Keras file, from its environment (model-store/keras/limits.ts); checked here at start-up.
  try {
    parseKerasMaxWeightsBytes(env.KERAS_MAX_WEIGHTS_BYTES);
  } catch (e) {
    problems.push((e as Error).message);
  }

  let backend: BackendName | undefined;
  try {
    backend = parseBackendName(env.TFJS_BACKEND);
  } catch (e) {
    problems.push((e as Error).message);
  }

  // One serving thread feeding one inference worker per core: docs/performance.md ("Serving
  // threads") measured this against a serving thread per core with inference inline, which
  // answered more at c=16 (1.71x the Python peer against 1.53x, medians of one 3-round run) but
  // about half as many requests under overload, in ~50 MB more memory.
  const servingThreads = integer('SERVING_THREADS', 1, 1, 256);
  const workers = integer('WORKERS', availableParallelism(), 0, 256);
  // The threads that run batches: the workers of every serving thread, or the serving threads themselves.
  const batchThreads = servingThreads * Math.max(1, workers);
  const config: Config = {
    port: integer('PORT', 5000, 0, 65535),
    grpcPort: integer('GRPC_PORT', 8500, 0, 65535),
    grpcMaxMessageBytes: integer('GRPC_MAX_MESSAGE_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    host: env.HOST?.trim() || '0.0.0.0',
    modelStore: env.MODEL_STORE?.trim() ? path.resolve(env.MODEL_STORE.trim()) : DEFAULT_MODEL_STORE,
    modelName: modelName('MODEL_NAME', undefined),
    maxUploadBytes: integer('MAX_UPLOAD_BYTES', 10 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    maxInflightBytes: integer('MAX_INFLIGHT_BYTES', 256 * 1024 * 1024, 1, 64 * 1024 * 1024 * 1024),
    maxImagePixels: integer('MAX_IMAGE_PIXELS', 40_000_000, 64, 1_000_000_000),
    imageDecoder: oneOf('IMAGE_DECODER', IMAGE_DECODERS, undefined),
    backend,
    maxBatchInstances: integer('MAX_BATCH_INSTANCES', 1000, 1, 1_000_000),
    pollSeconds: integer('MODEL_POLL_SECONDS', 5, 0, 86_400),
    validateResponses: flag('VALIDATE_RESPONSES', false),
    servingThreads,
    workers,
    // Batch threads x intra-op threads = cores: each runs one batch at a time, so more would only contend.
    intraOpThreads: integer('INTRA_OP_THREADS', Math.max(1, Math.floor(availableParallelism() / batchThreads)), 1, 256),
    requestTimeoutMs: integer('REQUEST_TIMEOUT_MS', 30_000, 0, 3_600_000),
    shutdownGraceMs: integer('SHUTDOWN_GRACE_MS', 25_000, 0, 3_600_000),
    routeModels: {
      predict: modelName('PREDICT_MODEL', 'imagenet'),
      inference: modelName('INFERENCE_MODEL', 'imagenet'),
      scorefile: modelName('SCOREFILE_MODEL', undefined),
    },
    download: {
      timeoutMs: integer('DOWNLOAD_TIMEOUT_MS', 120_000, 1, 86_400_000),
      maxBytes: integer('DOWNLOAD_MAX_BYTES', 1024 * 1024 * 1024, 1, 64 * 1024 * 1024 * 1024),
    },
    logging: { level: oneOf('LOG_LEVEL', LOG_LEVELS, 'info') ?? 'info', format: oneOf('LOG_FORMAT', LOG_FORMATS, undefined) },
    auth: { apiKeys: apiKeys(), metricsAuth: flag('METRICS_AUTH', false) },
    corsOrigins,
  };

  // Asking to protect /metrics with no key to protect it with is a mistake, not a request to leave it open.
  if (config.auth.metricsAuth && config.auth.apiKeys.length === 0) problems.push('METRICS_AUTH=true needs API_KEYS or API_KEYS_FILE');
  if (config.imageDecoder === 'sharp' && loadSharp() === undefined) {
    problems.push('IMAGE_DECODER=sharp: sharp (libvips) does not load on this platform; unset it or set IMAGE_DECODER=jimp');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
