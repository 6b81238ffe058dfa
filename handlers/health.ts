import { type HandlerContext } from './context';
import { ServiceUnavailable } from '../src/errors/errors';

/** GET /v2/health/live: the process is up and answering. */
export async function live(): Promise<{ live: true }> {
  return { live: true };
}

/** GET /v2/health/ready: 200 once every model that should serve has loaded and warmed up. */
export async function ready(_params: Record<string, never>, { models, lifecycle }: HandlerContext): Promise<{ ready: true }> {
  if (lifecycle.draining) throw new ServiceUnavailable('The server is shutting down; requests already accepted are being finished.');
  if (!models.ready) throw new ServiceUnavailable('Models are still loading.', 1);
  return { ready: true };
}
