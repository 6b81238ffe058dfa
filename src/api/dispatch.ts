import type { Request, RequestHandler, Response } from 'express';
import { type HandlerContext, Negotiated, Reply, type UploadedFile } from '../../handlers/context';
import { BadRequest } from '../errors/errors';
import { matchedOperation } from './matched-operation';
import type { BoundOperation } from './resolver';
import { binaryFields, type OpenApiDocument } from './spec';


function toUploadedFile(file: Express.Multer.File): UploadedFile {
  return { fieldName: file.fieldname, originalName: file.originalname, mimeType: file.mimetype, size: file.size, buffer: file.buffer };
}

/**
 * The named parameters of a handler, Connexion style: path and query parameters by name
 * (already validated and cast by the validator), multipart fields and files by field name,
 * a JSON body as `body`.
 */
export function handlerParams(req: Request, fileFields: readonly string[]): Record<string, unknown> {
  // Express 5 resets req.params for every middleware layer: the path parameters the validator
  // matched (and cast) are kept on req.openapi.
  const params: Record<string, unknown> = { ...matchedOperation(req)?.pathParams, ...(req.query as Record<string, unknown>) };
  if (req.is('multipart/form-data')) {
    Object.assign(params, req.body as Record<string, unknown>);
    for (const file of (req.files ?? []) as Express.Multer.File[]) params[file.fieldname] = toUploadedFile(file);
    // The validator sees a file field as a string, so a plain text value passes it: refuse it here.
    for (const name of fileFields) {
      if (name in params && typeof params[name] === 'string') throw new BadRequest(`Field '${name}' must be a file, not a text value.`);
    }
  } else if (req.body !== undefined) {
    params.body = req.body;
  }
  return params;
}

function send(req: Request, res: Response, result: unknown): void {
  if (result instanceof Negotiated) {
    const types = Object.keys(result.representations);
    const chosen = req.accepts(types) || types[0]!;
    const body = result.representations[chosen]!();
    res.vary('Accept');
    if (Buffer.isBuffer(body)) res.status(200).type(chosen).send(body);
    else res.status(200).json(body);
    return;
  }
  if (result instanceof Reply) {
    res.status(result.status).set(result.headers);
    if (typeof result.body === 'string' || Buffer.isBuffer(result.body)) res.send(result.body);
    else res.json(result.body);
    return;
  }
  res.status(200).json(result);
}

/** Calls the handler bound to the operation the validator matched; unmatched requests fall through to 404. */
export function dispatch(document: OpenApiDocument, operations: BoundOperation[], context: HandlerContext): RequestHandler {
  const byId = new Map(operations.map((op) => [op.operationId, { ...op, fileFields: binaryFields(document, op) }]));
  return async (req, res, next) => {
    const operationId = matchedOperation(req)?.schema?.operationId;
    const operation = operationId === undefined ? undefined : byId.get(operationId);
    if (!operation) return next();
    try {
      send(req, res, await operation.handler(handlerParams(req, operation.fileFields), context as never));
    } catch (e) {
      next(e);
    }
  };
}
