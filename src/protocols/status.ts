import { type ModelManager, VersionNotFound, type VersionStatus } from '../inference/manager';

/**
 * TF Serving's GetModelStatus selection (REST and gRPC): every version the server knows of,
 * newest first, or the one asked for; 404 for an unknown model or version.
 */
export function selectVersionStatus(models: Pick<ModelManager, 'versionStatus' | 'availableVersions'>, name: string, version?: number): VersionStatus[] {
  const all = models.versionStatus(name);
  if (version === undefined) return all;
  const selected = all.filter((s) => s.version === version);
  if (selected.length === 0) throw new VersionNotFound(name, version, models.availableVersions(name));
  return selected;
}
