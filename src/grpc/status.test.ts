import { status } from '@grpc/grpc-js';
import {
  AtCapacity,
  BadRequest,
  GatewayTimeout,
  ImageTooLarge,
  ModelNotFound,
  PayloadTooLarge,
  ServiceUnavailable,
  Unauthorized,
  UndecodableImage,
  UnsupportedImage,
  UnusableImage,
} from '../errors/errors';
import { VersionNotFound } from '../inference/manager';
import { INTERNAL_MESSAGE, toGrpcFailure, Unimplemented } from './status';

describe('toGrpcFailure: the typed errors as gRPC status codes', () => {
  it.each([
    ['BadRequest', new BadRequest('x'), status.INVALID_ARGUMENT],
    ['PayloadTooLarge (batch limit)', new PayloadTooLarge('x'), status.INVALID_ARGUMENT],
    ['ImageTooLarge', new ImageTooLarge(10, 10, 5), status.INVALID_ARGUMENT],
    ['UnsupportedImage', new UnsupportedImage('x', ['png']), status.INVALID_ARGUMENT],
    ['UndecodableImage', new UndecodableImage('x'), status.INVALID_ARGUMENT],
    ['UnusableImage', new UnusableImage('x'), status.INVALID_ARGUMENT],
    ['Unauthorized', new Unauthorized('x', 'Bearer'), status.UNAUTHENTICATED],
    ['ModelNotFound', new ModelNotFound('m', []), status.NOT_FOUND],
    ['VersionNotFound', new VersionNotFound('m', 2, [1]), status.NOT_FOUND],
    ['AtCapacity (queue full)', new AtCapacity('x', 1), status.RESOURCE_EXHAUSTED],
    ['ServiceUnavailable (draining, loading)', new ServiceUnavailable('x', 1), status.UNAVAILABLE],
    ['GatewayTimeout (REQUEST_TIMEOUT_MS)', new GatewayTimeout('x'), status.DEADLINE_EXCEEDED],
    ['Unimplemented', new Unimplemented('Regress', 'why'), status.UNIMPLEMENTED],
  ])('%s', (_name, error, code) => {
    const failure = toGrpcFailure(error);
    expect(failure.code).toBe(code);
    expect(failure.details).toBe(error.detail);
  });

  it('passes Retry-After on as retry-after metadata', () => {
    expect(toGrpcFailure(new AtCapacity('x', 1)).metadata.get('retry-after')).toEqual(['1']);
    expect(toGrpcFailure(new BadRequest('x')).metadata.get('retry-after')).toEqual([]);
  });

  it('answers an unknown error INTERNAL without its message', () => {
    expect(toGrpcFailure(new Error('/secret/path exploded'))).toMatchObject({ code: status.INTERNAL, details: INTERNAL_MESSAGE });
  });
});
