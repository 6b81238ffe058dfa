import path from 'node:path';
import type { OperationRef } from './spec';

/** A bound operation handler: named parameters in, data or a `Reply` out. */
export type OperationHandler = (params: Record<string, unknown>, context: never) => Promise<unknown>;

export interface BoundOperation extends OperationRef {
  operationId: string;
  handler: OperationHandler;
}

/** Any failure to bind an operationId; the message names the id and the file looked for. */
export class ResolverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResolverError';
  }
}

/** `mnist.postImage` -> module `mnist` (relative to the handlers folder), export `postImage`. */
export function splitOperationId(operationId: string): { modulePath: string; exportName: string } {
  const dot = operationId.lastIndexOf('.');
  if (dot <= 0 || dot === operationId.length - 1) {
    throw new ResolverError(`operationId '${operationId}' must look like <module>.<function>, e.g. mnist.postImage`);
  }
  return { modulePath: operationId.slice(0, dot).split('.').join('/'), exportName: operationId.slice(dot + 1) };
}

/**
 * Connexion-style resolution: every operation of the document is bound to a function exported by
 * a module under `handlersDir`, or start-up stops here with a message saying what to fix.
 */
export function resolveOperations(operations: OperationRef[], handlersDir: string): BoundOperation[] {
  return operations.map((op) => {
    const where = `${op.method.toUpperCase()} ${op.path}`;
    if (!op.operationId) throw new ResolverError(`${where} has no operationId; every operation needs one to be bound to a handler`);
    const { modulePath, exportName } = splitOperationId(op.operationId);
    const file = path.join(handlersDir, modulePath);

    let resolved: string;
    try {
      resolved = require.resolve(file);
    } catch {
      throw new ResolverError(
        `operationId '${op.operationId}' (${where}): no handler module ${file}.ts; create it and export a function '${exportName}'`,
      );
    }
    let moduleExports: Record<string, unknown>;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- handlers are found at run time, by name
      moduleExports = require(resolved) as Record<string, unknown>;
    } catch (e) {
      throw new ResolverError(`operationId '${op.operationId}' (${where}): handler module ${resolved} failed to load: ${(e as Error).message}`);
    }
    const handler = moduleExports[exportName];
    if (handler === undefined) {
      throw new ResolverError(`operationId '${op.operationId}' (${where}): ${resolved} has no export '${exportName}'`);
    }
    if (typeof handler !== 'function') {
      throw new ResolverError(
        `operationId '${op.operationId}' (${where}): export '${exportName}' of ${resolved} is a ${typeof handler}, not a function`,
      );
    }
    return { ...op, operationId: op.operationId, handler: handler as OperationHandler };
  });
}
