import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type JSONSchemaType } from 'ajv';
import yaml from 'js-yaml';

/**
 * `model-store/<name>/config.yaml`, optional: what the folder layout cannot say. Version policy
 * as TF Serving's: the latest N versions (default 1), all, or specific ones.
 */
export type VersionPolicy = { latest: number } | { all: true } | { specific: number[] };

/**
 * Where one version of the model comes from when it is not put in the store by hand:
 * `<store>/<name>/<version>/` is fetched from `url` and checked against `sha256` before it is
 * unpacked (see remote-source.ts).
 *
 * - `url` ending in `.tar.gz` / `.tgz`: an archive holding model.json, its weight files and
 *   metadata.json, at its top or inside one top folder. `sha256` is of the archive: every byte
 *   is pinned.
 * - `url` ending in `model.json`: the weight files its `weightsManifest` names and
 *   `metadata.json` are fetched from the same folder URL. `sha256` is of model.json only; each
 *   weight group's bytes must add up to what the manifest's shapes and dtypes imply, and
 *   metadata.json must pass its schema. Use an archive when every byte must be pinned.
 */
export interface ModelSource {
  url: string;
  /** Lower-case hex SHA-256 of the archive, or of model.json. */
  sha256: string;
  /** The version folder it becomes; 1 when not given. */
  version: number;
}

/**
 * `dynamic_batching:` in config.yaml (snake_case there, as Triton's config): how requests to one
 * version are queued and batched (see src/inference/batch-queue.ts).
 */
export interface BatchPolicy {
  /** `max_batch_size`: most inputs one predict call runs. */
  maxBatchSize: number;
  /** `batch_timeout_ms`: how long a batch that is not full may wait for more inputs once a worker is free. */
  batchTimeoutMs: number;
  /** `max_queue`: most inputs waiting; more are refused at once (503 + Retry-After). */
  maxQueue: number;
}

/**
 * Defaults measured on the shipped models (docs/performance.md): batches of up to 32 keep the
 * per-input cost near its minimum; a timeout of 0 never delays a lone request (batches form by
 * themselves while the workers are busy); 256 waiting inputs is about a second of work.
 */
export const DEFAULT_BATCH_POLICY: BatchPolicy = Object.freeze({ maxBatchSize: 32, batchTimeoutMs: 0, maxQueue: 256 });

export interface ModelConfig {
  version_policy: VersionPolicy;
  source?: ModelSource;
  batching: BatchPolicy;
  /** `engine:` forces the engine of every version (`onnx` or `tfjs`); by default ONNX where a version can run there. */
  engine?: 'onnx' | 'tfjs';
}

export const DEFAULT_MODEL_CONFIG: ModelConfig = Object.freeze({ version_policy: { latest: 1 }, batching: DEFAULT_BATCH_POLICY });

/** What a source URL's path must end with, and so how it is fetched. */
export type SourceKind = 'archive' | 'model-json';

/** `archive` for `.tar.gz`/`.tgz`, `model-json` for `.../model.json`, else undefined. Query strings are allowed. */
export function sourceKind(url: string): SourceKind | undefined {
  let pathname: string;
  try {
    pathname = new URL(url).pathname.toLowerCase();
  } catch {
    return undefined;
  }
  if (pathname.endsWith('.tar.gz') || pathname.endsWith('.tgz')) return 'archive';
  if (pathname.endsWith('/model.json')) return 'model-json';
  return undefined;
}

interface RawModelConfig {
  version_policy?: { latest?: number; all?: boolean; specific?: number[] };
  source?: { url: string; sha256: string; version?: number };
  dynamic_batching?: { max_batch_size?: number; batch_timeout_ms?: number; max_queue?: number };
  engine?: 'onnx' | 'tfjs';
}

const schema: JSONSchemaType<RawModelConfig> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version_policy: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        latest: { type: 'integer', minimum: 1, nullable: true },
        all: { type: 'boolean', enum: [true, null], nullable: true },
        specific: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, nullable: true },
      },
    },
    source: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['url', 'sha256'],
      properties: {
        url: { type: 'string', minLength: 1 },
        sha256: { type: 'string' },
        // The store scanner's version folders: 1 to 9 digits, no leading zero.
        version: { type: 'integer', minimum: 1, maximum: 999_999_999, nullable: true },
      },
    },
    dynamic_batching: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      properties: {
        max_batch_size: { type: 'integer', minimum: 1, maximum: 4096, nullable: true },
        batch_timeout_ms: { type: 'number', minimum: 0, maximum: 60_000, nullable: true },
        max_queue: { type: 'integer', minimum: 1, maximum: 1_000_000, nullable: true },
      },
    },
    engine: { type: 'string', enum: ['onnx', 'tfjs'], nullable: true },
  },
};

const validate = new Ajv({ allErrors: true }).compile(schema);

const HINT =
  'version_policy is one of: latest: N, all: true, specific: [versions]; source is {url, sha256, version?}; dynamic_batching is {max_batch_size?, batch_timeout_ms?, max_queue?}; engine is onnx or tfjs';

/**
 * What the schema cannot say about a source: the URL's scheme and suffix, the hash's form.
 * `fields` names them in the messages (config.yaml paths here; the CLI passes its flags).
 */
export function sourceProblems(source: { url: string; sha256: string }, fields = { url: '/source/url', sha256: '/source/sha256' }): string[] {
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(source.url);
  } catch {
    problems.push(`${fields.url} ${JSON.stringify(source.url)} is not an absolute URL`);
  }
  if (url && url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${fields.url} must be http:// or https:// (got ${url.protocol})`);
  else if (url && !sourceKind(source.url)) problems.push(`${fields.url} must end in .tar.gz, .tgz (an archive) or model.json (a TF.js model folder)`);
  if (!/^[0-9a-fA-F]{64}$/.test(source.sha256)) {
    problems.push(`${fields.sha256} must be 64 hex characters (the SHA-256 of the file at the URL, e.g. from \`sha256sum\`), got ${source.sha256.length} characters`);
  }
  return problems;
}

/** Reads a model's config.yaml (the default when absent); errors name the file and the field. */
export function readModelConfig(modelDir: string): ModelConfig {
  const file = path.join(modelDir, 'config.yaml');
  if (!existsSync(file)) return DEFAULT_MODEL_CONFIG;
  let parsed: unknown;
  try {
    parsed = yaml.load(readFileSync(file, 'utf8'), { filename: file }) ?? {};
  } catch (e) {
    throw new Error(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  if (!validate(parsed)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`);
    throw new Error(`${file}: ${problems.join('; ')} (${HINT})`);
  }
  const problems = parsed.source ? sourceProblems(parsed.source) : [];
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);

  const source: ModelSource | undefined = parsed.source && {
    url: parsed.source.url,
    sha256: parsed.source.sha256.toLowerCase(),
    version: parsed.source.version ?? 1,
  };
  const policy = parsed.version_policy;
  const version_policy: VersionPolicy = !policy
    ? DEFAULT_MODEL_CONFIG.version_policy
    : policy.specific
      ? { specific: policy.specific }
      : policy.all
        ? { all: true }
        : { latest: policy.latest ?? 1 };
  const b = parsed.dynamic_batching ?? {};
  const batching: BatchPolicy = {
    maxBatchSize: b.max_batch_size ?? DEFAULT_BATCH_POLICY.maxBatchSize,
    batchTimeoutMs: b.batch_timeout_ms ?? DEFAULT_BATCH_POLICY.batchTimeoutMs,
    maxQueue: b.max_queue ?? DEFAULT_BATCH_POLICY.maxQueue,
  };
  const config: ModelConfig = source ? { version_policy, source, batching } : { version_policy, batching };
  return parsed.engine ? { ...config, engine: parsed.engine } : config;
}

/** The versions a policy wants out of those on disk (TF Serving's version selection). */
export function selectVersions(available: readonly number[], policy: VersionPolicy): number[] {
  const sorted = [...available].sort((a, b) => a - b);
  if ('all' in policy) return sorted;
  if ('specific' in policy) return sorted.filter((v) => policy.specific.includes(v));
  return sorted.slice(-policy.latest);
}
