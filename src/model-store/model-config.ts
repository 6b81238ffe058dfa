import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type JSONSchemaType } from 'ajv';
import yaml from 'js-yaml';

/**
 * `model-store/<name>/config.yaml`, optional: what the folder layout cannot say. Version policy
 * as TF Serving's: the latest N versions (default 1), all, or specific ones.
 */
export type VersionPolicy = { latest: number } | { all: true } | { specific: number[] };

export interface ModelConfig {
  version_policy: VersionPolicy;
}

export const DEFAULT_MODEL_CONFIG: ModelConfig = Object.freeze({ version_policy: { latest: 1 } });

interface RawModelConfig {
  version_policy?: { latest?: number; all?: boolean; specific?: number[] };
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
  },
};

const validate = new Ajv({ allErrors: true }).compile(schema);

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
    throw new Error(`${file}: ${problems.join('; ')} (version_policy is one of: latest: N, all: true, specific: [versions])`);
  }
  const policy = parsed.version_policy;
  if (!policy) return DEFAULT_MODEL_CONFIG;
  if (policy.specific) return { version_policy: { specific: policy.specific } };
  if (policy.all) return { version_policy: { all: true } };
  return { version_policy: { latest: policy.latest ?? 1 } };
}

/** The versions a policy wants out of those on disk (TF Serving's version selection). */
export function selectVersions(available: readonly number[], policy: VersionPolicy): number[] {
  const sorted = [...available].sort((a, b) => a - b);
  if ('all' in policy) return sorted;
  if ('specific' in policy) return sorted.filter((v) => policy.specific.includes(v));
  return sorted.slice(-policy.latest);
}
