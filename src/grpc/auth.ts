import type { Metadata } from '@grpc/grpc-js';
import { ApiKeySet, bearerKey, keyRefusal } from '../api/api-keys';

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * API keys on gRPC: the same keys (API_KEYS / API_KEYS_FILE) in the same two forms as REST, as
 * call metadata: `authorization: Bearer <key>` or `x-api-key: <key>`. No keys configured: open.
 * A missing or wrong key throws the same typed error as REST, so it maps to UNAUTHENTICATED.
 */
export class GrpcAccessControl {
  private readonly keys: ApiKeySet;

  constructor(apiKeys: readonly string[]) {
    this.keys = new ApiKeySet(apiKeys);
  }

  get enabled(): boolean {
    return this.keys.size > 0;
  }

  check(metadata: Metadata, rpc: string): void {
    if (!this.enabled) return;
    const bearer = bearerKey(first(metadata, 'authorization'));
    const header = first(metadata, 'x-api-key')?.trim() || undefined;
    const candidates = [bearer, header].filter((k): k is string => k !== undefined);
    if (candidates.some((k) => this.keys.has(k))) return;
    throw keyRefusal(candidates.length > 0, `${rpc} needs an API key: send it as metadata \`authorization: Bearer <key>\` or \`x-api-key: <key>\`.`);
  }
}
