/** The standard gRPC health service (grpc/health/v1/health.proto), on the server's one readiness rule. */
import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { ProblemError } from '../errors/errors';
import { isServerReady } from '../protocols/readiness';
import { type RpcContext, unary } from './call';

/** '' is the whole server; each implemented service may be asked for by its full name too. */
export const HEALTH_SERVICES = ['', 'tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService', 'inference.GRPCInferenceService', 'grpc.health.v1.Health'];

/** How often Watch re-reads readiness to report a change. */
const WATCH_INTERVAL_MS = 1000;

export function healthService(context: RpcContext): UntypedServiceImplementation {
  const servingStatus = (service: string): 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN' => {
    if (!HEALTH_SERVICES.includes(service)) return 'SERVICE_UNKNOWN';
    return isServerReady(context.models, context.lifecycle) ? 'SERVING' : 'NOT_SERVING';
  };
  return {
    Check: unary(
      '/grpc.health.v1.Health/Check',
      context,
      async ({ service }: { service: string }) => {
        const state = servingStatus(service);
        if (state === 'SERVICE_UNKNOWN') throw new ProblemError(404, 'not-found', 'Not Found', `No service '${service.slice(0, 100)}' here.`);
        return { status: state };
      },
      { open: true },
    ),

    /** Sends the status now and again whenever it changes, until the client leaves or the server stops. */
    Watch: (call: ServerWritableStream<{ service: string }, { status: string }>) => {
      let last: string | undefined;
      const send = () => {
        const state = servingStatus(call.request.service);
        if (state !== last) call.write({ status: state });
        last = state;
      };
      send();
      const timer = setInterval(() => {
        if (context.lifecycle.draining) {
          send();
          clearInterval(timer);
          call.end();
          return;
        }
        send();
      }, WATCH_INTERVAL_MS);
      timer.unref();
      call.on('cancelled', () => clearInterval(timer));
    },
  };
}
