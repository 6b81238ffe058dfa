import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import type { MetricsSource } from '../../handlers/context';
import type { WorkerPool } from '../inference/worker-pool';
import { type GaugeSources, registerStateGauges } from './gauges';
import { requestMetrics } from './http';
import { observePool } from './pool';
import { createMetricSet } from './registry';

/** What the metrics read: the pool (batch reports, queue depths, size) and the manager (states). */
export interface MetricSources extends GaugeSources {
  pool: GaugeSources['pool'] & Pick<WorkerPool, 'observe' | 'observeDrops'>;
}

/** Records one finished gRPC call (src/grpc): its full method name, status code name and duration. */
export type RpcObserver = (rpc: { method: string; code: string; seconds: number }) => void;

/**
 * The metrics of one service instance, wired: batch reports from the pool, scrape-time gauges
 * from the pool and the manager, and the HTTP middleware for the app. Handlers get only `source`.
 */
export interface ServiceMetrics {
  registry: Registry;
  /** For the handler context: the scrape text and its content type. */
  source: MetricsSource;
  /** For the app: times each request by route template. */
  requestMetrics: RequestHandler;
  /** For the gRPC server: times each call by method and status code. */
  rpcMetrics: RpcObserver;
}

export function createServiceMetrics(sources: MetricSources): ServiceMetrics {
  const { registry, httpRequestSeconds, grpcRequestSeconds, inference } = createMetricSet();
  observePool(sources.pool, inference);
  registerStateGauges(registry, sources);
  return {
    registry,
    source: { contentType: registry.contentType, scrape: () => registry.metrics() },
    requestMetrics: requestMetrics(httpRequestSeconds),
    rpcMetrics: ({ method, code, seconds }) => grpcRequestSeconds.observe({ method, code }, seconds),
  };
}
