import { type HandlerContext, Reply } from './context';

/**
 * GET /metrics: this instance's metrics in the Prometheus text format. Sent as text through a
 * Reply (not JSON), so the scrape gets exactly the content type Prometheus parses by.
 */
export async function getMetrics(_params: Record<string, never>, { metrics }: HandlerContext): Promise<Reply> {
  return new Reply(200, await metrics.scrape(), { 'Content-Type': metrics.contentType });
}
