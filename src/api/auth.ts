import type { Request, RequestHandler } from 'express';
import type { OpenAPIV3 } from 'express-openapi-validator/dist/framework/types';
import { ApiKeySet, bearerKey, keyRefusal } from './api-keys';
import { matchedOperation } from './matched-operation';
import { deref, HTTP_METHODS, type OpenApiDocument } from './spec';

/**
 * Access control by API key, driven by the API document: an operation needs what its `security`
 * (else the document's top-level `security`) requires, and `security: []` marks an open route.
 * Enforced here rather than by the validator's security handlers so the check runs before any
 * body is read, and every refusal is one typed error (401 problem+json with WWW-Authenticate) from
 * the app's one error exit.
 */

type Credential = 'valid' | 'wrong' | 'absent';

interface SchemeCheck {
  /** How a client sends it, for the refusal's detail. */
  hint: string;
  check(req: Request): Credential;
}

function schemeCheck(name: string, scheme: OpenAPIV3.SecuritySchemeObject | undefined, keys: ApiKeySet): SchemeCheck {
  if (scheme?.type === 'http' && scheme.scheme.toLowerCase() === 'bearer') {
    return {
      hint: '`Authorization: Bearer <key>`',
      check(req) {
        // RFC 7235: the scheme name is case-insensitive. Another scheme (Basic ...) is no bearer key.
        const key = bearerKey(req.headers.authorization);
        if (key === undefined) return 'absent';
        return keys.has(key) ? 'valid' : 'wrong';
      },
    };
  }
  if (scheme?.type === 'apiKey' && scheme.in === 'header') {
    const header = scheme.name.toLowerCase();
    return {
      hint: `\`${scheme.name}: <key>\``,
      check(req) {
        const value = req.headers[header];
        if (typeof value !== 'string' || value.trim() === '') return 'absent';
        return keys.has(value.trim()) ? 'valid' : 'wrong';
      },
    };
  }
  throw new Error(`API document: security scheme '${name}' is not supported for API keys (only http bearer and apiKey in a header are)`);
}

export interface AccessControl {
  /** For spec routes, after the validator matched the operation: enforces its requirement. */
  operations: RequestHandler;
  /** For a route outside the document (e.g. /metrics with METRICS_AUTH): the top-level requirement. */
  guard: RequestHandler;
}

/** Every `security` list in the document, with where it is, for start-up checks. */
function requirementLists(document: OpenApiDocument): [string, OpenAPIV3.SecurityRequirementObject[]][] {
  const lists: [string, OpenAPIV3.SecurityRequirementObject[]][] = [['(top level)', document.security ?? []]];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const security = (item as Partial<Record<string, OpenAPIV3.OperationObject>> | undefined)?.[method]?.security;
      if (security) lists.push([`${method.toUpperCase()} ${path}`, security]);
    }
  }
  return lists;
}

/**
 * The access control for `document` with these keys. Throws at start-up when the document cannot
 * protect anything (no top-level requirement) or names a scheme it does not define.
 */
export function createAccessControl(document: OpenApiDocument, apiKeys: readonly string[]): AccessControl {
  const keys = new ApiKeySet(apiKeys);
  const checks = new Map<string, SchemeCheck>(
    Object.entries(document.components?.securitySchemes ?? {}).map(([name, scheme]) => [
      name,
      schemeCheck(name, deref<OpenAPIV3.SecuritySchemeObject>(document, scheme), keys),
    ]),
  );
  const fallback = document.security ?? [];
  if (fallback.length === 0) {
    throw new Error('API keys are configured, but the API document has no top-level `security` requirement: no route would need one');
  }
  for (const [where, list] of requirementLists(document)) {
    for (const name of list.flatMap((requirement) => Object.keys(requirement))) {
      if (!checks.has(name)) throw new Error(`API document: ${where} requires security scheme '${name}', which components.securitySchemes does not define`);
    }
  }
  const hints = [...checks.values()].map((c) => c.hint).join(' or ');

  /** Requirements are alternatives (OR); the schemes within one are all needed (AND). */
  const enforce = (req: Request, requirements: readonly OpenAPIV3.SecurityRequirementObject[]): void => {
    if (requirements.length === 0) return;
    let wrong = false;
    for (const requirement of requirements) {
      const results = Object.keys(requirement).map((name) => (checks.get(name) as SchemeCheck).check(req));
      if (results.every((r) => r === 'valid')) return;
      wrong ||= results.includes('wrong');
    }
    throw keyRefusal(wrong, `${req.method} ${req.path} needs an API key: send it as ${hints}.`);
  };

  const handler =
    (requirementsOf: (req: Request) => readonly OpenAPIV3.SecurityRequirementObject[] | undefined): RequestHandler =>
    (req, _res, next) => {
      const requirements = requirementsOf(req);
      if (requirements === undefined) return next();
      try {
        enforce(req, requirements);
        next();
      } catch (e) {
        next(e);
      }
    };

  return {
    // A request the validator did not match goes on to its 404/405 unchecked: the document that
    // lists every route is public anyway.
    operations: handler((req) => {
      const operation = matchedOperation(req)?.schema;
      return operation && (operation.security ?? fallback);
    }),
    guard: handler(() => fallback),
  };
}
