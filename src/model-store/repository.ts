import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The store's layout is its configuration (as in Triton and TF Serving):
 * `<store>/<model name>/<integer version>/` holds one version. Other entries are ignored.
 */
export interface StoredVersion {
  name: string;
  version: number;
  dir: string;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VERSION = /^[1-9][0-9]{0,8}$/;

function subdirectories(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() || (entry.isSymbolicLink() && statSync(path.join(dir, entry.name)).isDirectory()))
    .map((entry) => entry.name);
}

/** Every version folder in the store, sorted by name then version. Throws if the store is missing. */
export function scanStore(store: string): StoredVersion[] {
  let names: string[];
  try {
    names = subdirectories(store);
  } catch (e) {
    throw new Error(`Model store ${store} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set MODEL_STORE to a folder of <name>/<version>/ models`);
  }
  const versions: StoredVersion[] = [];
  for (const name of names.filter((n) => MODEL_NAME.test(n)).sort()) {
    const modelDir = path.join(store, name);
    for (const v of subdirectories(modelDir).filter((d) => VERSION.test(d))) {
      versions.push({ name, version: Number(v), dir: path.join(modelDir, v) });
    }
  }
  return versions.sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
}

/** The default version policy (TF Serving's `latest: 1`): the highest version of each model. */
export function latestVersions(stored: StoredVersion[]): StoredVersion[] {
  const latest = new Map<string, StoredVersion>();
  for (const v of stored) {
    const current = latest.get(v.name);
    if (!current || v.version > current.version) latest.set(v.name, v);
  }
  return [...latest.values()];
}
