import type { IncomingMessage } from 'node:http';
import type { OpenAPIV3 } from 'express-openapi-validator/dist/framework/types';

/**
 * What express-openapi-validator's route matching attaches to a request (`req.openapi`): the
 * path template, the operation (its request body's references resolved) and the cast path
 * parameters. Undefined until the validator has matched, and for requests no route matched.
 */
export interface MatchedOperation {
  openApiRoute?: string;
  schema?: OpenAPIV3.OperationObject & { requestBody?: { content?: Record<string, unknown> } };
  pathParams?: Record<string, unknown>;
}

export function matchedOperation(req: IncomingMessage): MatchedOperation | undefined {
  return (req as IncomingMessage & { openapi?: MatchedOperation }).openapi;
}

/** The concrete media types the matched operation's body is declared for (not the `*`-ranges). */
export function declaredMediaTypes(req: IncomingMessage): string[] {
  return Object.keys(matchedOperation(req)?.schema?.requestBody?.content ?? {}).filter((type) => !type.includes('*'));
}
