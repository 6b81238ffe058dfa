import { type HandlerContext } from './context';
import { checkServerReady } from '../src/protocols/readiness';

/** GET /v2/health/live: the process is up and answering. */
export async function live(): Promise<{ live: true }> {
  return { live: true };
}

/** GET /v2/health/ready: 200 once every model that should serve has loaded and warmed up. */
export async function ready(_params: Record<string, never>, { models, lifecycle }: HandlerContext): Promise<{ ready: true }> {
  checkServerReady(models, lifecycle);
  return { ready: true };
}
