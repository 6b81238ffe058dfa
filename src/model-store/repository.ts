import { existsSync, readdirSync, statSync } from 'node:fs';
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
  /** The folder whose config.yaml applies to this version; unset: the folder above `dir`. */
  configDir?: string;
}

/** What a model folder may be called (also what route-model settings accept). */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VERSION = /^[1-9][0-9]{0,8}$/;

function subdirectories(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() || (entry.isSymbolicLink() && statSync(path.join(dir, entry.name)).isDirectory()))
    .map((entry) => entry.name);
}

/**
 * How MODEL_STORE is read. `store`: a folder of `<name>/<version>/` models (the default). With
 * MODEL_NAME set, MODEL_STORE may instead be one model as KServe's storage initializer lays out a
 * `storageUri` in /mnt/models: `model` (numeric version folders directly in it, TF Serving's
 * model_base_path) or `version` (the model files themselves: model.json / metadata.json).
 */
export type StoreLayout = { kind: 'store' } | { kind: 'model'; name: string } | { kind: 'version'; name: string; version: number };

/** Files whose presence makes a folder one version of a model (not a folder of models). */
const VERSION_FILES = ['metadata.json', 'model.json', 'model.onnx', 'model.keras', 'model.h5'];

function holdsVersionFiles(dir: string): boolean {
  return VERSION_FILES.some((file) => existsSync(path.join(dir, file)));
}

/**
 * The layout of `store` for `modelName` (MODEL_NAME). Without a name it is always a store of
 * models; with one, numeric subfolders make it one model, version files make it one version
 * (numbered by its own folder name when that is a version number, else 1), and anything else
 * is read as a store of models (the name then names nothing).
 */
export function detectLayout(store: string, modelName?: string): StoreLayout {
  if (modelName === undefined) return { kind: 'store' };
  const folders = subdirectoriesOf(store);
  if (folders.some((d) => VERSION.test(d))) return { kind: 'model', name: modelName };
  if (holdsVersionFiles(store)) {
    const own = path.basename(store);
    return { kind: 'version', name: modelName, version: VERSION.test(own) ? Number(own) : 1 };
  }
  return { kind: 'store' };
}

/**
 * A store read without MODEL_NAME that is laid out as one model or one version: what to set.
 * Undefined when the store holds no such thing (it is then just empty).
 */
export function singleModelHint(store: string): string | undefined {
  let folders: string[];
  try {
    folders = subdirectories(store);
  } catch {
    return undefined;
  }
  if (folders.some((d) => VERSION.test(d)) || holdsVersionFiles(store)) {
    return `${store} holds one model (version folders or model files directly in it), not <name>/<version>/ folders: set MODEL_NAME to the name to serve it under`;
  }
  return undefined;
}

function subdirectoriesOf(store: string): string[] {
  try {
    return subdirectories(store);
  } catch (e) {
    throw new Error(`Model store ${store} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set MODEL_STORE to a folder of <name>/<version>/ models`);
  }
}

function versionsIn(name: string, modelDir: string): StoredVersion[] {
  return subdirectories(modelDir)
    .filter((d) => VERSION.test(d))
    .map((v) => ({ name, version: Number(v), dir: path.join(modelDir, v), configDir: modelDir }));
}

/**
 * Every version folder in the store, sorted by name then version. Throws if the store is missing.
 * `modelName` (MODEL_NAME) lets the store be a single model or version (see detectLayout).
 */
export function scanStore(store: string, modelName?: string): StoredVersion[] {
  const layout = detectLayout(store, modelName);
  if (layout.kind === 'model') return versionsIn(layout.name, store).sort((a, b) => a.version - b.version);
  if (layout.kind === 'version') return [{ name: layout.name, version: layout.version, dir: store, configDir: store }];
  const names = subdirectoriesOf(store);
  const versions: StoredVersion[] = [];
  for (const name of names.filter((n) => MODEL_NAME.test(n)).sort()) {
    versions.push(...versionsIn(name, path.join(store, name)));
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
export function aspiredVersions(store: string, modelName?: string): AspiredModel[] {
  const byName = new Map<string, StoredVersion[]>();
  for (const v of scanStore(store, modelName)) byName.set(v.name, [...(byName.get(v.name) ?? []), v]);
  return [...byName].map(([name, stored]) => {
    try {
      const { version_policy } = readModelConfig(stored[0]?.configDir ?? path.join(store, name));
      const wanted = new Set(selectVersions(stored.map((v) => v.version), version_policy));
      return { name, versions: stored.filter((v) => wanted.has(v.version)) };
    } catch (e) {
      return { name, versions: [], error: (e as Error).message };
    }
  });
}
