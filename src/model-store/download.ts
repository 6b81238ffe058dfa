import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** How long one download may take in all, and how many bytes it may bring. */
export interface DownloadLimits {
  timeoutMs: number;
  maxBytes: number;
  /** What set `maxBytes`, for the error message; default the DOWNLOAD_MAX_BYTES setting. */
  maxBytesFrom?: string;
}

/** The same defaults as DOWNLOAD_TIMEOUT_MS / DOWNLOAD_MAX_BYTES (src/config.ts), for callers without a Config. */
export const DEFAULT_DOWNLOAD_LIMITS: DownloadLimits = Object.freeze({ timeoutMs: 120_000, maxBytes: 1024 * 1024 * 1024 });

export interface Downloaded {
  file: string;
  /** Lower-case hex. */
  sha256: string;
  bytes: number;
}

/** The file at a URL is not the one config.yaml pinned. */
export class HashMismatch extends Error {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`sha256 mismatch for ${url}: expected ${expected}, got ${actual}; the file was deleted. Check source.sha256 in config.yaml, or that the URL serves the file you meant.`);
    this.name = 'HashMismatch';
  }
}

export type Fetch = typeof fetch;

/**
 * Streams `url` into `file` (which must not exist), hashing as the bytes arrive so a large model
 * is read once. Refuses up front when Content-Length says more than `maxBytes`, and aborts as soon
 * as the running count passes it (Content-Length may be absent or wrong). The timeout covers the
 * whole transfer, headers and body. On any failure the partial file is deleted.
 */
export async function download(url: string, file: string, limits: DownloadLimits, fetchImpl: Fetch = fetch): Promise<Downloaded> {
  const cap = new AbortController();
  const signal = AbortSignal.any([AbortSignal.timeout(limits.timeoutMs), cap.signal]);
  const fail = (why: string) => new Error(`download ${url}: ${why}`);
  const capName = limits.maxBytesFrom ?? 'DOWNLOAD_MAX_BYTES';
  let created = false;
  try {
    const response = await fetchImpl(url, { signal, redirect: 'follow' });
    if (!response.ok) throw fail(`HTTP ${response.status} ${response.statusText}`.trim());
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > limits.maxBytes) {
      cap.abort();
      throw fail(`Content-Length ${declared} bytes is over the ${limits.maxBytes}-byte limit (${capName})`);
    }
    if (!response.body) throw fail('the response has no body');

    const hash = createHash('sha256');
    const out = await open(file, 'wx');
    created = true;
    let bytes = 0;
    try {
      for await (const chunk of response.body) {
        bytes += chunk.byteLength;
        if (bytes > limits.maxBytes) {
          cap.abort(); // stop the transfer, not just the loop
          throw fail(`more than the ${limits.maxBytes}-byte limit (${capName}); aborted`);
        }
        hash.update(chunk);
        await out.write(chunk);
      }
    } finally {
      await out.close();
    }
    return { file, sha256: hash.digest('hex'), bytes };
  } catch (e) {
    if (created) await rm(file, { force: true });
    if (signal.aborted && signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError') {
      throw fail(`timed out after ${limits.timeoutMs} ms (DOWNLOAD_TIMEOUT_MS)`);
    }
    if ((e as Error).message.startsWith(`download ${url}:`)) throw e;
    const cause = (e as Error & { cause?: Error }).cause;
    throw fail(`${(e as Error).message}${cause ? ` (${cause.message})` : ''}`);
  }
}

/**
 * Downloads `url` to `dest` only if its SHA-256 is `expected`: the bytes land in a temporary file
 * beside `dest` and are renamed into place after the check, so `dest` never holds unverified
 * bytes. A mismatch deletes the download and throws HashMismatch.
 */
export async function downloadVerified(url: string, dest: string, expected: string, limits: DownloadLimits, fetchImpl: Fetch = fetch): Promise<Downloaded> {
  const part = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(6).toString('hex')}.part`);
  const got = await download(url, part, limits, fetchImpl);
  if (got.sha256 !== expected.toLowerCase()) {
    await rm(part, { force: true });
    throw new HashMismatch(url, expected.toLowerCase(), got.sha256);
  }
  await rename(part, dest);
  return { ...got, file: dest };
}

/** SHA-256 of a file on disk, streamed (for re-checking a cached copy before trusting it). */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
