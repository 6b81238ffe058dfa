import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { log } from '../log';
import { messageBytes, type RpcContext, Undecodable } from './call';
import { healthService } from './health';
import { inferenceService } from './inference';
import { loadServiceDefinitions, loadSignatureDefMap } from './protos';
import { modelService, predictionService } from './tf-serving';

export interface GrpcOptions {
  port: number;
  host: string;
  /** Largest message received or sent (GRPC_MAX_MESSAGE_BYTES); larger is RESOURCE_EXHAUSTED. */
  maxMessageBytes: number;
}

/** The running gRPC server: where it listens and how it stops. */
export interface GrpcServer {
  readonly port: number;
  /**
   * Graceful stop: no new calls (GOAWAY), calls in flight finish; after `graceMs` whatever is
   * left is cut. Resolves true when nothing had to be cut.
   */
  drain(graceMs: number): Promise<boolean>;
}

/** HTTP/2 keepalive: find dead clients, and let idle clients ping without being cut off. */
const CHANNEL_OPTIONS = {
  'grpc.keepalive_time_ms': 120_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
};

/** The definition with a request decoder that never throws: a bad message becomes `Undecodable` (see call.ts). */
function lenient(definition: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer): unknown => {
          try {
            const message: unknown = method.requestDeserialize(bytes);
            if (message !== null && typeof message === 'object') messageBytes.set(message, bytes.length);
            return message;
          } catch (e) {
            return new Undecodable(e instanceof Error ? e.message.slice(0, 200) : 'undecodable');
          }
        },
      },
    ]),
  );
}

/**
 * The second front door: TF Serving's PredictionService and ModelService, KServe's
 * GRPCInferenceService and grpc.health.v1, bound to `host:port` (0: any free port). Throws when
 * the protos cannot be loaded or the port cannot be bound.
 */
export async function startGrpcServer(context: RpcContext, options: GrpcOptions): Promise<GrpcServer> {
  const definitions = loadServiceDefinitions();
  const server = new Server({
    ...CHANNEL_OPTIONS,
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
  });
  server.addService(lenient(definitions.prediction), predictionService(context, loadSignatureDefMap()));
  server.addService(lenient(definitions.model), modelService(context));
  server.addService(lenient(definitions.inference), inferenceService(context));
  server.addService(lenient(definitions.health), healthService(context));
  const address = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(new Error(`gRPC cannot listen on ${address}: ${error.message}`)) : resolve(bound)));
  });
  return {
    port,
    drain: (graceMs) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          log.warn('gRPC shutdown grace period over; cutting the calls still running', { graceMs });
          server.forceShutdown();
          resolve(false);
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve(true);
        });
      }),
  };
}
