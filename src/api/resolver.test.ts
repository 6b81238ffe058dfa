import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResolverError, resolveOperations, splitOperationId } from './resolver';
import type { OperationRef } from './spec';

const handlersDir = mkdtempSync(path.join(os.tmpdir(), 'specserve-handlers-'));
writeFileSync(path.join(handlersDir, 'digits.js'), 'exports.classify = async () => ({ digit: 1 }); exports.version = "1";');
writeFileSync(path.join(handlersDir, 'broken.js'), 'throw new Error("boom at import");');

const op = (operationId: string | undefined): OperationRef => ({ method: 'post', path: '/x', operationId });

function resolverError(operationId: string | undefined): string {
  try {
    resolveOperations([op(operationId)], handlersDir);
  } catch (e) {
    expect(e).toBeInstanceOf(ResolverError);
    return (e as Error).message;
  }
  throw new Error('expected a ResolverError');
}

describe('resolveOperations', () => {
  it('binds an operationId to the exported function of its module', async () => {
    const [bound] = resolveOperations([op('digits.classify')], handlersDir);
    expect(bound.operationId).toBe('digits.classify');
    await expect(bound.handler({}, undefined as never)).resolves.toEqual({ digit: 1 });
  });

  it('stops on a missing module, naming the operationId and the file looked for', () => {
    const message = resolverError('letters.classify');
    expect(message).toContain("operationId 'letters.classify'");
    expect(message).toContain(path.join(handlersDir, 'letters'));
  });

  it('stops on a missing export, naming the operationId and the module', () => {
    const message = resolverError('digits.predict');
    expect(message).toContain("operationId 'digits.predict'");
    expect(message).toContain(path.join(handlersDir, 'digits.js'));
    expect(message).toContain("no export 'predict'");
  });

  it('stops on an export that is not a function', () => {
    const message = resolverError('digits.version');
    expect(message).toContain("operationId 'digits.version'");
    expect(message).toMatch(/is a string, not a function/);
  });

  it('stops on a module that throws while loading, with its error', () => {
    const message = resolverError('broken.run');
    expect(message).toContain("operationId 'broken.run'");
    expect(message).toContain('boom at import');
  });

  it('stops on an operation without operationId, naming the route', () => {
    expect(resolverError(undefined)).toMatch(/POST \/x has no operationId/);
  });

  it('splits nested module paths the Connexion way', () => {
    expect(splitOperationId('v1.models.predict')).toEqual({ modulePath: 'v1/models', exportName: 'predict' });
    expect(() => splitOperationId('predict')).toThrow(ResolverError);
  });
});
