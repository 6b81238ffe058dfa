import { isDeepStrictEqual } from 'node:util';
import yaml from 'js-yaml';
import type { OpenAPIV3 } from 'express-openapi-validator/dist/framework/types';
import { type ApiSpec, HTTP_METHODS, type OpenApiDocument } from './spec';

/**
 * The API document as this server instance serves it (GET /openapi.json and /openapi.yaml, Swagger
 * UI, the validator). api/models.yaml declares access control; when no API key is configured that
 * declaration would be false (clients and Swagger UI would ask for keys nobody checks), so it is
 * removed. With METRICS_AUTH, /metrics loses its `security: []` opt-out and needs a key too.
 */
export interface ServedSpecOptions {
  authEnabled: boolean;
  metricsAuth: boolean;
}

export const METRICS_PATH = '/metrics';

type Operations = Partial<Record<string, OpenAPIV3.OperationObject>>;

function eachOperation(document: OpenApiDocument, visit: (path: string, operation: OpenAPIV3.OperationObject) => void): void {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = (item as Operations | undefined)?.[method];
      if (operation) visit(path, operation);
    }
  }
}

export function withoutSecurity(document: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(document);
  delete copy.security;
  if (copy.components) delete copy.components.securitySchemes;
  eachOperation(copy, (_path, operation) => delete operation.security);
  return copy;
}

export function withProtectedMetrics(document: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(document);
  eachOperation(copy, (path, operation) => {
    if (path === METRICS_PATH && operation.security?.length === 0) delete operation.security;
  });
  return copy;
}

/**
 * Equal as JSON documents (what clients receive). Not isDeepStrictEqual on the objects themselves:
 * structuredClone and js-yaml may build them in different realms (as under jest), prototypes and all.
 */
function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

/**
 * The YAML text without its `security` and `securitySchemes` entries, comments and layout kept:
 * a key line goes with the lines under it (deeper, blank, or a `- ` item at its own indent).
 */
export function stripSecurityFromYaml(text: string): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!/^\s*(security|securitySchemes):(\s|$)/.test(line)) {
      kept.push(line);
      continue;
    }
    const indent = indentOf(line);
    let end = i; // the block's last non-blank line: blank lines after it stay, as separators
    for (let j = i + 1; j < lines.length; j++) {
      const next = lines[j] as string;
      if (next.trim() === '') continue;
      if (indentOf(next) > indent || (indentOf(next) === indent && next.trimStart().startsWith('- '))) end = j;
      else break;
    }
    i = end;
  }
  return kept.join('\n');
}

/**
 * The served spec. Its YAML text is the file's own text when the change can be made line by line
 * (checked: it must parse to exactly the served document), else the document dumped as YAML.
 */
export function servedSpec(spec: ApiSpec, { authEnabled, metricsAuth }: ServedSpecOptions): ApiSpec {
  if (authEnabled && !metricsAuth) return spec;
  const document = authEnabled ? withProtectedMetrics(spec.document) : withoutSecurity(spec.document);
  if (sameJson(document, spec.document)) return spec;
  const edited = authEnabled ? undefined : stripSecurityFromYaml(spec.yamlText);
  const yamlText = edited !== undefined && sameJson(yaml.load(edited), document) ? edited : yaml.dump(document, { lineWidth: 120, noRefs: true });
  return { ...spec, document, yamlText };
}
