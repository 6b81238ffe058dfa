import { createHash, timingSafeEqual } from 'node:crypto';

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
