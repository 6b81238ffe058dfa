import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Fingerprint } from './dataset';

/** sha256 of a file, streamed (the file is never held whole). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

export function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** sha256 of each file, by the name given (IDX files, a CSV). */
export async function filesFingerprint(files: Record<string, string>): Promise<Fingerprint> {
  const parts: Record<string, string> = {};
  let bytes = 0;
  for (const [name, file] of Object.entries(files)) {
    parts[name] = await sha256File(file);
    bytes += (await fs.stat(file)).size;
  }
  // One hash for the set: of the sorted "name sha256" lines.
  const listing = Object.keys(parts)
    .sort()
    .map((name) => `${name}\t${parts[name]}\n`)
    .join('');
  return { sha256: sha256Text(listing), method: 'sha256 of the sorted lines "<file name>\\t<sha256 of the file>"', files: Object.keys(files).length, bytes, parts };
}

/**
 * sha256 of a sorted listing of image files: one line `<path relative to root>\t<size>\t<sha256>`
 * per file, sorted by path. Renaming, adding, removing or changing any image changes it; the
 * order the files are found in does not. Files are hashed one at a time, streamed.
 */
export async function listingFingerprint(root: string, files: readonly string[]): Promise<Fingerprint & { listing: string }> {
  const lines: string[] = [];
  let bytes = 0;
  const sorted = [...new Set(files)].map((f) => path.relative(root, f).split(path.sep).join('/')).sort();
  for (const rel of sorted) {
    const file = path.join(root, rel);
    const size = (await fs.stat(file)).size;
    bytes += size;
    lines.push(`${rel}\t${size}\t${await sha256File(file)}\n`);
  }
  const listing = lines.join('');
  return {
    sha256: sha256Text(listing),
    method: 'sha256 of the sorted lines "<path relative to the image root>\\t<bytes>\\t<sha256 of the file>", one per image',
    files: sorted.length,
    bytes,
    listing,
  };
}
