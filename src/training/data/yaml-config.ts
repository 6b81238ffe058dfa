import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';
import { load, YAMLException } from 'js-yaml';

/**
 * Reading a YAML config file and checking it against a JSON schema (ajv), with errors that name
 * the file and the key: `data.yaml: validation_split: must be <= 0.9`. Shared by the data and the
 * training config (config.ts).
 */

/** A config file that cannot be used; the message names the file and, where there is one, the key. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string | undefined,
    readonly problem: string,
  ) {
    super(key === undefined ? `${file}: ${problem}` : `${file}: ${key}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Several problems of one file at once (ajv reports them all); the message lists each. */
export class ConfigErrors extends ConfigError {
  constructor(
    file: string,
    readonly problems: { key: string | undefined; problem: string }[],
  ) {
    super(file, problems[0]?.key, problems[0]?.problem ?? 'invalid');
    this.message = problems.map((p) => (p.key === undefined ? `${file}: ${p.problem}` : `${file}: ${p.key}: ${p.problem}`)).join('\n');
  }
}

/** The parsed YAML mapping of `file`; throws ConfigError for a missing file, a syntax error or a non-mapping. */
export function readYamlMapping(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, undefined, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = load(text, { filename: file });
  } catch (e) {
    if (e instanceof YAMLException) {
      const line = e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '';
      throw new ConfigError(file, undefined, `YAML syntax error${line}: ${e.reason}`);
    }
    throw e;
  }
  if (value === undefined || value === null) throw new ConfigError(file, undefined, 'is empty; expected a mapping of keys (see docs/training.md)');
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(file, undefined, 'must be a mapping of keys (key: value lines), not a list or a scalar');
  return value as Record<string, unknown>;
}

/** `/augmentation/rotation` -> `augmentation.rotation`; `/targets/2` -> `targets[2]`. */
function keyOf(instancePath: string, child?: string): string | undefined {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  if (parts.length === 0) return undefined;
  return parts.reduce((key, part) => (/^\d+$/.test(part) ? `${key}[${part}]` : key === '' ? part : `${key}.${part}`), '');
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

/** One ajv error as { key, problem } in the words a config author reads. */
function problemOf(e: ErrorObject, data: unknown, knownKeys: (instancePath: string) => string[]): { key: string | undefined; problem: string } {
  const at = (path: string): unknown =>
    path
      .split('/')
      .slice(1)
      .reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), data);
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { key: keyOf(e.instancePath, missing), problem: 'is required' };
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const known = knownKeys(e.instancePath);
      return { key: keyOf(e.instancePath, extra), problem: `unknown key${known.length > 0 ? ` (known here: ${known.join(', ')})` : ''}` };
    }
    case 'enum':
      return {
        key: keyOf(e.instancePath),
        problem: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map(describe).join(', ')}; got ${describe(at(e.instancePath))}`,
      };
    case 'type':
      return { key: keyOf(e.instancePath), problem: `must be ${String((e.params as { type: string | string[] }).type).replace(/,/g, ' or ')}; got ${describe(at(e.instancePath))}` };
    default:
      return { key: keyOf(e.instancePath), problem: `${e.message ?? 'is invalid'}${['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'maxItems', 'minLength', 'pattern'].includes(e.keyword) ? `; got ${describe(at(e.instancePath))}` : ''}` };
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });

/** A schema checker for one kind of config file; throws ConfigErrors listing every problem. */
export function schemaChecker(schema: object): (data: Record<string, unknown>, file: string) => void {
  const validate = ajv.compile(schema);
  const knownKeys = (instancePath: string): string[] => {
    let node: Record<string, unknown> | undefined = schema as Record<string, unknown>;
    for (const part of instancePath.split('/').slice(1)) {
      const props = node?.properties as Record<string, Record<string, unknown>> | undefined;
      node = /^\d+$/.test(part) ? (node?.items as Record<string, unknown> | undefined) : props?.[part];
    }
    return Object.keys((node?.properties as object | undefined) ?? {});
  };
  return (data, file) => {
    if (validate(data)) return;
    const seen = new Set<string>();
    const problems = (validate.errors ?? [])
      // oneOf/anyOf/if wrappers only repeat what their branches said.
      .filter((e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword))
      .map((e) => problemOf(e, data, knownKeys))
      .filter((p) => {
        const id = `${p.key}|${p.problem}`;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      });
    throw new ConfigErrors(file, problems.length > 0 ? problems : [{ key: undefined, problem: 'is invalid' }]);
  };
}

/**
 * Runs `read` (which checks one section of a config file) and names that section in its errors:
 * `mnist.yaml: train.epochs: is required` rather than `mnist.yaml: epochs: is required`.
 */
export function inSection<T>(section: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof ConfigErrors) {
      throw new ConfigErrors(e.file, e.problems.map((p) => ({ key: p.key === undefined ? section : `${section}.${p.key}`, problem: p.problem })));
    }
    if (e instanceof ConfigError) throw new ConfigError(e.file, e.key === undefined ? section : `${section}.${e.key}`, e.problem);
    throw e;
  }
}
