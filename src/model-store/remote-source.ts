import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type DownloadLimits, type Fetch, download, downloadVerified, sha256OfFile } from './download';
import { type ModelSource, sourceKind } from './model-config';
import { findModelRoot, unpackArchive } from './unpack';
import { checkModelFolder, readModelJson, weightGroups } from './weights-manifest';

/**
 * Turns a config.yaml `source:` into `<store>/<name>/<version>/`, the same way for the server
 * (on every reconcile) and `specserve pull`.
 *
 * The version folder is built in a hidden staging folder inside `<store>/<name>/` (the store
 * scanner ignores names starting with '.') and renamed into place in one step once complete and
 * marked, so a server watching the store never sees half a model. The marker `.source.json`
 * records the URL and sha256 it was made from: a folder whose marker names the configured sha256
 * is current and nothing is fetched (one stat and one small read per poll).
 *
 * Archives are kept, verified, in `<store>/.cache/<sha256>.tar.gz`: a version folder deleted (or
 * the same archive named by another model) is unpacked from there without downloading again, also
 * after a restart. The cached copy is re-hashed before use. Nothing prunes the cache; deleting
 * `.cache/` is always safe. A model.json source has no cache beyond its version folder.
 */

/** Written into every version folder made from a source, last before it is renamed into place. */
export const MARKER = '.source.json';

export interface SourceMarker {
  url: string;
  sha256: string;
  fetchedAt: string;
}

/** The marker of a version folder, if it has a readable one. */
export function readMarker(versionDir: string): SourceMarker | undefined {
  try {
    const marker = JSON.parse(readFileSync(path.join(versionDir, MARKER), 'utf8')) as Partial<SourceMarker>;
    if (typeof marker.sha256 !== 'string' || typeof marker.url !== 'string') return undefined;
    return { url: marker.url, sha256: marker.sha256, fetchedAt: String(marker.fetchedAt ?? '') };
  } catch {
    return undefined;
  }
}

/**
 * What a source needs now: nothing (`keep`), a fetch (`fetch`; `replaces` names the sha256 of the
 * folder it will replace), or nothing ever (`refuse`: a version folder put there by hand is never
 * overwritten).
 */
export type SourcePlan = { action: 'keep' } | { action: 'fetch'; replaces?: string } | { action: 'refuse'; reason: string };

export function versionDir(store: string, name: string, source: ModelSource): string {
  return path.join(store, name, String(source.version));
}

/** Cheap (a stat and a small read): decides whether `materialiseSource` has anything to do. */
export function planSource(store: string, name: string, source: ModelSource): SourcePlan {
  const dir = versionDir(store, name, source);
  if (!existsSync(dir)) return { action: 'fetch' };
  const marker = readMarker(dir);
  if (!marker) {
    return { action: 'refuse', reason: `${dir} exists but was not fetched from a source (no ${MARKER}); move it away, or set source.version to a version not in the store` };
  }
  return marker.sha256 === source.sha256 ? { action: 'keep' } : { action: 'fetch', replaces: marker.sha256 };
}

export interface SourceOptions {
  limits: DownloadLimits;
  /** Most bytes an archive may unpack to; default 4 x limits.maxBytes (weights compress little). */
  maxUnpackedBytes?: number;
  fetch?: Fetch;
}

export interface Materialised {
  dir: string;
  /** `current`: the folder was already made from this sha256; `downloaded`; `cached`: unpacked from `.cache/`. */
  how: 'current' | 'downloaded' | 'cached';
  /** The sha256 of the folder this one replaced, if it replaced one. */
  replaced?: string;
}

/** metadata.json is labels and a recipe: a megabyte is generous. */
const MAX_METADATA_BYTES = 1024 * 1024;

/**
 * Makes `<store>/<name>/<source.version>/` from the source, unless it is current. Throws with the
 * reason (hash mismatch with expected and actual, HTTP status, timeout, size cap, refused archive
 * entry, incomplete model); whatever was staged is deleted and an existing version folder is left
 * as it was.
 */
export async function materialiseSource(store: string, name: string, source: ModelSource, options: SourceOptions): Promise<Materialised> {
  const target = versionDir(store, name, source);
  const plan = planSource(store, name, source);
  if (plan.action === 'keep') return { dir: target, how: 'current' };
  if (plan.action === 'refuse') throw new Error(plan.reason);

  const kind = sourceKind(source.url);
  if (!kind) throw new Error(`source.url ${source.url} must end in .tar.gz, .tgz or model.json`);
  const modelDir = path.join(store, name);
  await mkdir(modelDir, { recursive: true });
  const staging = await mkdtemp(path.join(modelDir, `.staging-${source.version}-`));
  try {
    let root = staging;
    let how: Materialised['how'] = 'downloaded';
    if (kind === 'archive') {
      const { archive, downloaded } = await cachedArchive(store, source, options);
      how = downloaded ? 'downloaded' : 'cached';
      await unpackArchive(archive, staging, { maxBytes: options.maxUnpackedBytes ?? 4 * options.limits.maxBytes });
      root = await findModelRoot(staging);
    } else {
      await fetchModelFolder(source, staging, options);
    }
    await checkModelFolder(root, `${name}/${source.version} from ${source.url}`);
    const marker: SourceMarker = { url: source.url, sha256: source.sha256, fetchedAt: new Date().toISOString() };
    await writeFile(path.join(root, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
    await install(root, target);
    return plan.replaces ? { dir: target, how, replaced: plan.replaces } : { dir: target, how };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The verified archive in `.cache/`, downloading it only when no good copy is there. */
async function cachedArchive(store: string, source: ModelSource, options: SourceOptions): Promise<{ archive: string; downloaded: boolean }> {
  const cacheDir = path.join(store, '.cache');
  await mkdir(cacheDir, { recursive: true });
  const archive = path.join(cacheDir, `${source.sha256}.tar.gz`);
  if (existsSync(archive)) {
    if ((await sha256OfFile(archive)) === source.sha256) return { archive, downloaded: false };
    await rm(archive, { force: true }); // damaged or tampered with: fetch it again
  }
  await downloadVerified(source.url, archive, source.sha256, options.limits, options.fetch);
  return { archive, downloaded: true };
}

/**
 * A model.json source: model.json (must match the sha256), then each weight file it names from
 * the same folder URL, each capped at what its group still needs (the manifest's shapes and
 * dtypes fix a group's total), then metadata.json. The timeout applies to each file.
 */
async function fetchModelFolder(source: ModelSource, into: string, options: SourceOptions): Promise<void> {
  const { limits, fetch } = options;
  await downloadVerified(source.url, path.join(into, 'model.json'), source.sha256, limits, fetch);
  const groups = weightGroups(await readModelJson(into), source.url);
  for (const [g, group] of groups.entries()) {
    let remaining = group.bytes;
    for (const shard of group.paths) {
      const cap = { ...limits, maxBytes: Math.min(limits.maxBytes, remaining), maxBytesFrom: `what weightsManifest[${g}] still needs` };
      remaining -= (await download(new URL(shard, source.url).href, path.join(into, shard), cap, fetch)).bytes;
    }
  }
  const metadataCap = { ...limits, maxBytes: Math.min(limits.maxBytes, MAX_METADATA_BYTES), maxBytesFrom: 'metadata.json limit' };
  await download(new URL('metadata.json', source.url).href, path.join(into, 'metadata.json'), metadataCap, fetch);
}

/**
 * Renames the complete folder into place. A folder it replaces is first renamed aside and deleted
 * after; between the two renames the version is briefly absent (never half there). A server in
 * this process does not notice: it fetches before it scans.
 */
async function install(from: string, target: string): Promise<void> {
  let aside: string | undefined;
  if (existsSync(target)) {
    aside = path.join(path.dirname(target), `.replaced-${path.basename(target)}-${randomBytes(4).toString('hex')}`);
    await rename(target, aside);
  }
  try {
    await rename(from, target);
  } catch (e) {
    if (aside) await rename(aside, target);
    throw e;
  }
  if (aside) await rm(aside, { recursive: true, force: true });
}
