import { type HandlerContext } from './context';
import { ServiceUnavailable } from '../src/errors/errors';

/** GET /v2/health/live: the process is up and answering. */
export async function live(): Promise<{ live: true }> {
  return { live: true };
}

/** GET /v2/health/ready: 200 once every model that should serve has loaded and warmed up. */
export async function ready(_params: Record<string, never>, { models }: HandlerContext): Promise<{ ready: true }> {
  if (!models.ready) throw new ServiceUnavailable('Models are still loading.', 1);
  return { ready: true };
}
