import { type Client, credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Service } from '../../src/bootstrap';
import { LOADER_OPTIONS, PROTO_FILES } from '../../src/grpc/protos';
import { type GrpcServer, startGrpcServer } from '../../src/grpc/server';

type Constructor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;

/** A test's gRPC clients of the four services, on the vendored protos (as a user's generated stubs are). */
export interface GrpcClients {
  prediction: Client;
  model: Client;
  inference: Client;
  health: Client;
  close(): void;
}

export function grpcClients(port: number): GrpcClients {
  const root = loadPackageDefinition(loadSync(PROTO_FILES, LOADER_OPTIONS)) as unknown as {
    tensorflow: { serving: { PredictionService: Constructor; ModelService: Constructor } };
    inference: { GRPCInferenceService: Constructor };
    grpc: { health: { v1: { Health: Constructor } } };
  };
  const address = `127.0.0.1:${port}`;
  const insecure = credentials.createInsecure();
  const clients = {
    prediction: new root.tensorflow.serving.PredictionService(address, insecure),
    model: new root.tensorflow.serving.ModelService(address, insecure),
    inference: new root.inference.GRPCInferenceService(address, insecure),
    health: new root.grpc.health.v1.Health(address, insecure),
  };
  return { ...clients, close: () => Object.values(clients).forEach((c) => c.close()) };
}

export interface CallOptions {
  metadata?: Record<string, string>;
  deadlineMs?: number;
}

/** One unary call as a promise: the response, or the ServiceError (code, details). */
export function call<T = Record<string, unknown>>(client: Client, method: string, request: object, options: CallOptions = {}): Promise<T> {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  const callOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, Function>)[method]!.bind(client);
    fn(request, metadata, callOptions, (error: ServiceError | null, response: T) => (error ? reject(error) : resolve(response)));
  });
}

/** The call's failure (test helper: a call expected to fail). */
export async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** Starts a gRPC server on any free port for a test service; stops it (forcefully) in afterAll. */
export function useGrpcServer(service: () => Pick<Service, 'rpc'>, maxMessageBytes = 4 * 1024 * 1024): { readonly port: number; readonly server: GrpcServer; readonly clients: GrpcClients } {
  let server: GrpcServer | undefined;
  let clients: GrpcClients | undefined;
  beforeAll(async () => {
    server = await startGrpcServer(service().rpc, { port: 0, host: '127.0.0.1', maxMessageBytes });
    clients = grpcClients(server.port);
  });
  afterAll(async () => {
    clients?.close();
    await server?.drain(0);
  });
  return {
    get port() {
      return server!.port;
    },
    get server() {
      return server!;
    },
    get clients() {
      return clients!;
    },
  };
}
