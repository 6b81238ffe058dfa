import path from 'node:path';
import { MODEL_NAME } from './model-store/repository';
import { DEFAULT_MODEL_STORE } from './paths';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Everything the server reads from its environment, parsed and checked once at start-up. */
export interface Config {
  port: number;
  host: string;
  modelStore: string;
  maxUploadBytes: number;
  maxImagePixels: number;
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
  /** Models named by URL in a config.yaml `source:` entry: download limits. */
  download: { timeoutMs: number; maxBytes: number };
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

  let backend: BackendName | undefined;
  try {
    backend = parseBackendName(env.TFJS_BACKEND);
  } catch (e) {
    problems.push((e as Error).message);
  }

  const config: Config = {
    port: integer('PORT', 5000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    modelStore: env.MODEL_STORE?.trim() ? path.resolve(env.MODEL_STORE.trim()) : DEFAULT_MODEL_STORE,
    maxUploadBytes: integer('MAX_UPLOAD_BYTES', 10 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    maxImagePixels: integer('MAX_IMAGE_PIXELS', 40_000_000, 64, 1_000_000_000),
    backend,
    maxBatchInstances: integer('MAX_BATCH_INSTANCES', 1000, 1, 1_000_000),
    pollSeconds: integer('MODEL_POLL_SECONDS', 5, 0, 86_400),
    validateResponses: flag('VALIDATE_RESPONSES', false),
    routeModels: {
      predict: modelName('PREDICT_MODEL', 'imagenet'),
      inference: modelName('INFERENCE_MODEL', 'imagenet'),
      scorefile: modelName('SCOREFILE_MODEL', undefined),
    },
    download: {
      timeoutMs: integer('DOWNLOAD_TIMEOUT_MS', 120_000, 1, 86_400_000),
      maxBytes: integer('DOWNLOAD_MAX_BYTES', 1024 * 1024 * 1024, 1, 64 * 1024 * 1024 * 1024),
    },
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
