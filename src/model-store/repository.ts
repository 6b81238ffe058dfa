import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { readModelConfig, selectVersions } from './model-config';

/**
 * The store's layout is its configuration (as in Triton and TF Serving):
 * `<store>/<model name>/<integer version>/` holds one version. Other entries are ignored.
 */
export interface StoredVersion {
  name: string;
  version: number;
  dir: string;
}

/** What a model folder may be called (also what route-model settings accept). */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
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

/** What should be served, per model: the versions its policy selects, or why none can be. */
export interface AspiredModel {
  name: string;
  versions: StoredVersion[];
  /** A config.yaml that does not validate: the model keeps whatever it served before. */
  error?: string;
}

/**
 * The source (TF Serving's Source): the complete set of versions that should be live now,
 * derived from the folders alone. Stateless; anything left out is to be unloaded.
 */
export function aspiredVersions(store: string): AspiredModel[] {
  const byName = new Map<string, StoredVersion[]>();
  for (const v of scanStore(store)) byName.set(v.name, [...(byName.get(v.name) ?? []), v]);
  return [...byName].map(([name, stored]) => {
    try {
      const { version_policy } = readModelConfig(path.join(store, name));
      const wanted = new Set(selectVersions(stored.map((v) => v.version), version_policy));
      return { name, versions: stored.filter((v) => wanted.has(v.version)) };
    } catch (e) {
      return { name, versions: [], error: (e as Error).message };
    }
  });
}
