import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { OpenAPIV3 } from 'express-openapi-validator/dist/framework/types';
// The validator package checks documents against the OpenAPI 3.0/3.1 meta-schema with this class;
// using it here lets start-up fail on a bad document before the port opens, instead of on the
// first request (the validator middleware loads its document lazily).
import { OpenAPISchemaValidator } from 'express-openapi-validator/dist/framework/openapi.schema.validator';

export type OpenApiDocument = OpenAPIV3.DocumentV3;

/** The API document as loaded: the parsed object and the text it was written in. */
export interface ApiSpec {
  document: OpenApiDocument;
  yamlText: string;
  file: string;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One operation of the document: where it lives and what it is called. */
export interface OperationRef {
  method: HttpMethod;
  path: string;
  operationId: string | undefined;
}

export class SpecError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'SpecError';
  }
}

/** Reads and checks the document against the OpenAPI meta-schema; throws SpecError naming the file. */
export function loadSpec(file: string): ApiSpec {
  let yamlText: string;
  try {
    yamlText = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpecError(file, `cannot read the API document (${(e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = yaml.load(yamlText, { filename: file });
  } catch (e) {
    throw new SpecError(file, `not valid YAML: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { openapi?: unknown }).openapi !== 'string') {
    throw new SpecError(file, 'not an OpenAPI 3 document (no `openapi` version field)');
  }
  const document = parsed as OpenApiDocument;
  const errors = new OpenAPISchemaValidator({ version: document.openapi, validateApiSpec: true }).validate(document).errors ?? [];
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`);
    throw new SpecError(file, `does not satisfy the OpenAPI ${document.openapi} schema:\n  ${lines.join('\n  ')}`);
  }
  return { document, yamlText, file };
}

/** Every operation in document order. */
export function listOperations(document: OpenApiDocument): OperationRef[] {
  const operations: OperationRef[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = (item as Partial<Record<HttpMethod, OpenAPIV3.OperationObject>> | undefined)?.[method];
      if (operation) operations.push({ method, path, operationId: operation.operationId });
    }
  }
  return operations;
}

/** Follows a local `$ref` (`#/components/...`) until it reaches an object. */
export function deref<T>(document: OpenApiDocument, value: T | OpenAPIV3.ReferenceObject | undefined): T | undefined {
  let current: unknown = value;
  for (let hops = 0; hops < 20 && current && typeof current === 'object' && '$ref' in current; hops++) {
    const ref = (current as OpenAPIV3.ReferenceObject).$ref;
    if (!ref.startsWith('#/')) return undefined;
    current = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], document);
  }
  return current as T | undefined;
}

/** The multipart fields an operation declares as files (`type: string, format: binary`). */
export function binaryFields(document: OpenApiDocument, op: OperationRef): string[] {
  const operation = (document.paths?.[op.path] as Record<string, OpenAPIV3.OperationObject> | undefined)?.[op.method];
  const body = deref<OpenAPIV3.RequestBodyObject>(document, operation?.requestBody);
  const schema = deref<OpenAPIV3.SchemaObject>(document, body?.content?.['multipart/form-data']?.schema);
  return Object.entries(schema?.properties ?? {})
    .filter(([, property]) => deref<OpenAPIV3.SchemaObject>(document, property)?.format === 'binary')
    .map(([name]) => name);
}
