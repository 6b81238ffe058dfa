import { createHash, timingSafeEqual } from 'node:crypto';
import { Unauthorized } from '../errors/errors';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/**
 * The accepted API keys, held as SHA-256 digests. A candidate is hashed and compared with every
 * digest by timingSafeEqual: equal-length inputs, so neither a key's length nor how much of it a
 * guess got right shows in the time taken; every key is compared, so neither does which one matched.
 */
export class ApiKeySet {
  private readonly digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = [...new Set(keys)].map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  has(candidate: string): boolean {
    const wanted = digest(candidate);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(known, wanted) || found;
    return found;
  }
}

const REALM = 'specserve';

/** The key of an `Authorization: Bearer <key>` value; undefined for none or another scheme (Basic ...). RFC 7235: the scheme is case-insensitive. */
export function bearerKey(authorization: string | undefined): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
}

/**
 * The one refusal of REST and gRPC: a wrong key (RFC 6750 `invalid_token`), or none, with
 * `missingDetail` saying where the call should have sent one.
 */
export function keyRefusal(wrongKey: boolean, missingDetail: string): Unauthorized {
  return wrongKey
    ? new Unauthorized('The API key is not valid.', `Bearer realm="${REALM}", error="invalid_token"`)
    : new Unauthorized(missingDetail, `Bearer realm="${REALM}"`);
}
