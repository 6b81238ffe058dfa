import express, { type RequestHandler } from 'express';
import type { OpenAPIV3 } from 'express-openapi-validator/dist/framework/types';
import { matchedOperation } from './matched-operation';
import { deref, listOperations, type OpenApiDocument } from './spec';

/**
 * The operations whose request body the document declares as JSON under any media type: content
 * for `application/json` and, with the same schema, for the range that matches every media type.
 * TF Serving and KServe read their bodies as JSON whatever the Content-Type (`curl -d` sends
 * x-www-form-urlencoded, Python's `requests.post(data=...)` sends none), so their clients never
 * set one; the document says so.
 */
export function jsonUnderAnyMediaType(document: OpenApiDocument): Set<string> {
  const ids = new Set<string>();
  for (const op of listOperations(document)) {
    const operation = (document.paths?.[op.path] as Record<string, OpenAPIV3.OperationObject> | undefined)?.[op.method];
    const content = deref<OpenAPIV3.RequestBodyObject>(document, operation?.requestBody)?.content ?? {};
    if (op.operationId && 'application/json' in content && '*/*' in content) ids.add(op.operationId);
  }
  return ids;
}

/**
 * Parses JSON bodies: as the Content-Type says on most routes, and whatever it says (or with
 * none) on the operations of `jsonUnderAnyMediaType` (a multipart body too: `uploads` reads only
 * those of operations that take multipart). Runs after the validator has matched the operation,
 * before it validates the body.
 */
export function jsonBodies(document: OpenApiDocument, limit: number): RequestHandler {
  const anyType = jsonUnderAnyMediaType(document);
  const byHeader = express.json({ limit });
  const always = express.json({ limit, type: () => true });
  return (req, res, next) => {
    const operationId = matchedOperation(req)?.schema?.operationId;
    return (operationId !== undefined && anyType.has(operationId) ? always : byHeader)(req, res, next);
  };
}
