import { ServiceUnavailable } from '../errors/errors';
import { type ModelManager, VersionNotFound } from '../inference/manager';

/** The service's lifecycle, shared by every front door. */
export interface Lifecycle {
  /** Set once shutdown begins. */
  draining: boolean;
  /**
   * Set while another serving thread of the process is still loading its models (src/serving):
   * the process is ready once every thread is, or a balancer's keep-alive connections would all
   * pile on the threads that were first.
   */
  othersLoading?: boolean;
}

/**
 * The one readiness rule of the server, for HTTP (/v2/health/ready) and gRPC (ServerReady,
 * grpc.health.v1) alike: not while shutting down, not before every wanted model was tried.
 * Throws the 503 that says which.
 */
export function checkServerReady(models: Pick<ModelManager, 'ready'>, lifecycle: Lifecycle): void {
  if (lifecycle.draining) throw new ServiceUnavailable('The server is shutting down; requests already accepted are being finished.');
  if (!models.ready) throw new ServiceUnavailable('Models are still loading.', 1);
  if (lifecycle.othersLoading) throw new ServiceUnavailable('Models are still loading in another serving thread.', 1);
}

/** True when `checkServerReady` passes. */
export function isServerReady(models: Pick<ModelManager, 'ready'>, lifecycle: Lifecycle): boolean {
  return !lifecycle.draining && models.ready && !lifecycle.othersLoading;
}

/**
 * As KServe's model server does: passes when the model (or the version) can serve; a model or
 * version the server knows but cannot serve (loading, failed, unloading) is KServe's
 * ModelNotReady, a 503; one it never heard of is 404 (ModelNotFound / VersionNotFound).
 */
export function checkModelReady(models: Pick<ModelManager, 'versionStatus' | 'availableVersions'>, name: string, version?: number): void {
  const statuses = models.versionStatus(name); // 404 for an unknown model
  const available = models.availableVersions(name);
  if (version === undefined) {
    if (available.length === 0) throw new ServiceUnavailable(`Model '${name}' is not ready: no version is available.`);
  } else if (!available.includes(version)) {
    const status = statuses.find((s) => s.version === version);
    if (!status) throw new VersionNotFound(name, version, available);
    // The state only: a load failure's reason names files on the server (GET /v1/models/{name} has it).
    throw new ServiceUnavailable(`Model '${name}' version ${version} is not ready (${status.state}).`);
  }
}
