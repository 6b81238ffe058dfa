import { statSync } from 'node:fs';
import path from 'node:path';
import { ModelNotFound, ProblemError, ServiceUnavailable } from '../errors/errors';
import { annotateRequest } from '../api/request-context';
import { log } from '../log';
import { DEFAULT_DOWNLOAD_LIMITS, type DownloadLimits } from '../model-store/download';
import { MODEL_FILE_NAMES } from '../model-store/file-names';
import { type AspiredModel, aspiredVersions, type StoredVersion } from '../model-store/repository';
import { createSourceSync, type FetchSources, type SourceReport } from '../model-store/source-sync';
import type { Servable } from './servable';

/** TF Serving's lifecycle states; a version only moves forward through them. */
export type VersionState = 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

export interface VersionStatus {
  version: number;
  state: VersionState;
  /** Why a version ended without serving (failed to load). */
  error?: string;
}

/** A pinned version: it stays loaded until released, even if a reload retires it meanwhile. */
export interface ServableHandle {
  readonly servable: Servable;
  release(): void;
}

export class VersionNotFound extends ProblemError {
  constructor(name: string, version: number, available: number[]) {
    super(404, 'version-not-found', 'Version Not Found', `Model '${name}' has no available version ${version}. Available: ${available.join(', ') || 'none'}.`);
  }
}

/** One loaded version, how many requests hold it, and whether the store still wants it. */
class Loaded {
  refs = 0;
  retired = false;
  constructor(readonly servable: Servable) {}
}

export type Loader = (stored: StoredVersion) => Promise<Servable>;

export interface ManagerOptions {
  /** Limits for models fetched from a config.yaml `source:` URL (Config.download). */
  download?: DownloadLimits;
  /** Run at the start of every reconcile, before the scan; default: fetch config.yaml sources (source-sync.ts). */
  fetchSources?: FetchSources;
  /** MODEL_NAME: the store may be one model or one version served under this name (repository.ts detectLayout). */
  modelName?: string;
}
type Live = ReadonlyMap<string, ReadonlyMap<number, Loaded>>;

/** What a version folder looks like now; a failed version is retried only when this changes. */
function folderSignature(dir: string): string {
  return ['.', ...MODEL_FILE_NAMES, 'metadata.json']
    .map((f) => {
      try {
        return String(statSync(path.join(dir, f)).mtimeMs);
      } catch {
        return '-';
      }
    })
    .join('/');
}

/**
 * TF Serving's manager: brings the loaded versions to what the source (the store's folders and
 * config.yaml files) aspires to. New versions are loaded and warmed up before they are published;
 * a version the policy no longer wants is unpublished only once the model has an aspired version
 * available (so a broken new version never takes the old one down), and disposed once the last
 * request holding it releases it. The published map is replaced in one assignment.
 */
export class ModelManager {
  private live: Live = new Map();
  private readonly status = new Map<string, Map<number, VersionStatus>>();
  private readonly failed = new Map<string, string>(); // `${name}/${version}` -> folder signature
  private readonly modelErrors = new Map<string, string>();
  private reconciling: Promise<void> = Promise.resolve();
  private initialised = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly fetchSources: FetchSources;
  private readonly modelName: string | undefined;

  constructor(
    private readonly store: string,
    private readonly loader: Loader,
    options: ManagerOptions = {},
  ) {
    this.fetchSources = options.fetchSources ?? createSourceSync({ limits: options.download ?? DEFAULT_DOWNLOAD_LIMITS });
    this.modelName = options.modelName;
  }

  /** Brings the loaded set in line with the store once; concurrent calls run one after another. */
  reconcile(): Promise<void> {
    this.reconciling = this.reconciling.then(() => this.reconcileOnce());
    return this.reconciling;
  }

  /** Polls the store every `intervalMs` (0: never). */
  startWatching(intervalMs: number): void {
    this.stopWatching();
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => void this.reconcile(), intervalMs);
    this.timer.unref();
  }

  stopWatching(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True once the store has been read and every version it wanted was tried. */
  get ready(): boolean {
    return this.initialised;
  }

  /** Names of the models that have (or had) versions, sorted. Every published version has a status. */
  names(): string[] {
    return [...this.status.keys()].sort();
  }

  /** Lifecycle of every version of a model, newest first; 404 for a model never seen. */
  versionStatus(name: string): VersionStatus[] {
    const versions = this.status.get(name);
    if (!versions) throw this.stillLoading(name) ?? new ModelNotFound(name, this.names());
    return [...versions.values()].sort((a, b) => b.version - a.version).map((s) => ({ ...s }));
  }

  /** Why a model's config.yaml was refused, or its `source:` could not be fetched, if so. */
  modelError(name: string): string | undefined {
    return this.modelErrors.get(name);
  }

  /** The available versions of a model, newest first. */
  availableVersions(name: string): number[] {
    return [...(this.live.get(name)?.keys() ?? [])].sort((a, b) => b - a);
  }

  /** Every available servable (all versions), by name then version. */
  list(): Servable[] {
    return [...this.live.values()]
      .flatMap((versions) => [...versions.values()].map((l) => l.servable))
      .sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
  }

  /**
   * Pins a version (the newest available when none is named) for the length of a request. A model
   * the client named and that does not exist is 404; `missing: 503` is for routes built on a
   * fixed model, where its absence is the server's problem.
   */
  acquire({ name, version }: { name: string; version?: number }, missing: 404 | 503 = 404): ServableHandle {
    const versions = this.live.get(name);
    if (!versions || versions.size === 0) {
      const loading = this.stillLoading(name);
      if (loading) throw loading;
      if (missing === 503 || this.status.has(name)) {
        throw new ServiceUnavailable(`Model '${name}' has no available version. Add a ${name}/<version>/ folder to the model store (MODEL_STORE).`, 5);
      }
      throw new ModelNotFound(name, this.names());
    }
    const loaded = version === undefined ? versions.get(Math.max(...versions.keys())) : versions.get(version);
    if (!loaded) throw new VersionNotFound(name, version as number, this.availableVersions(name));
    loaded.refs++;
    annotateRequest({ model: name, version: loaded.servable.version }); // for the request's log line
    let released = false;
    return {
      servable: loaded.servable,
      release: () => {
        if (released) return;
        released = true;
        loaded.refs--;
        this.disposeIfIdle(loaded);
      },
    };
  }

  /**
   * Before the first read of the store has finished (the port opens before the models load), a
   * model that is not available may still come: 503 with Retry-After rather than 404.
   */
  private stillLoading(name: string): ServiceUnavailable | undefined {
    if (this.initialised) return undefined;
    return new ServiceUnavailable(`Models are still loading ('${name}' is not available yet); retry shortly.`, 1);
  }

  /** Runs `work` on a pinned version (see `acquire`) and releases it however `work` ends. */
  async withServable<T>(ref: { name: string; version?: number }, work: (servable: Servable) => Promise<T>, missing: 404 | 503 = 404): Promise<T> {
    const handle = this.acquire(ref, missing);
    try {
      return await work(handle.servable);
    } finally {
      handle.release();
    }
  }

  /** Unpublishes everything and frees what no request holds. */
  dispose(): void {
    this.stopWatching();
    for (const [name, versions] of this.live) for (const version of versions.keys()) this.unpublish(name, version);
  }

  private async reconcileOnce(): Promise<void> {
    // Sources first: a fetched version folder is then found by the scan like any other.
    let sources: SourceReport = { errors: new Map(), replaced: new Set() };
    try {
      sources = await this.fetchSources(this.store);
    } catch (e) {
      log.error('model sources could not be fetched', { store: this.store, error: (e as Error).message });
    }
    let aspired: AspiredModel[];
    try {
      aspired = aspiredVersions(this.store, this.modelName);
    } catch (e) {
      log.error('model store unreadable; keeping what is loaded', { store: this.store, error: (e as Error).message });
      this.initialised = true;
      return;
    }
    // A model known only from a source that failed has no version folder: still give it a status.
    for (const name of sources.errors.keys()) if (!aspired.some((m) => m.name === name)) aspired.push({ name, versions: [] });
    for (const model of aspired) await this.reconcileModel(model, sources);
    // A model whose folder disappeared is unloaded entirely.
    const present = new Set(aspired.map((m) => m.name));
    for (const [name, versions] of this.live) {
      if (!present.has(name)) for (const version of versions.keys()) this.unpublish(name, version);
    }
    this.initialised = true;
  }

  private async reconcileModel({ name, versions, error }: AspiredModel, sources: SourceReport): Promise<void> {
    if (error) {
      if (this.modelErrors.get(name) !== error) log.error('model config refused; keeping what is loaded', { model: name, error });
      this.modelErrors.set(name, error);
      if (!this.status.has(name)) this.status.set(name, new Map());
      return;
    }
    const sourceError = sources.errors.get(name);
    if (sourceError) {
      // The model keeps serving what it has; the version the source was to become shows why it is missing.
      if (this.modelErrors.get(name) !== sourceError.message) log.error('model source refused; keeping what is loaded', { model: name, error: sourceError.message });
      this.modelErrors.set(name, sourceError.message);
      const { version } = sourceError;
      if (version === undefined) {
        if (!this.status.has(name)) this.status.set(name, new Map());
      } else if (!this.live.get(name)?.has(version) && !versions.some((v) => v.version === version)) {
        this.setState(name, version, 'END', sourceError.message);
      }
    } else {
      this.modelErrors.delete(name);
    }
    for (const stored of versions) {
      const key = `${name}/${stored.version}`;
      const current = this.live.get(name)?.get(stored.version);
      if (current && !sources.replaced.has(key)) continue;
      const signature = folderSignature(stored.dir);
      if (!current && this.failed.get(key) === signature) continue; // unchanged since it failed
      await this.load(stored, signature, current);
    }
    const wanted = new Set(versions.map((v) => v.version));
    const loaded = [...(this.live.get(name)?.keys() ?? [])];
    // Availability first: retire unwanted versions only once a wanted one serves.
    if (loaded.some((v) => wanted.has(v))) {
      for (const version of loaded) if (!wanted.has(version)) this.unpublish(name, version);
    }
  }

  /**
   * Loads a version and publishes it. `previous`: the copy serving now, when its folder was
   * replaced by a source with a different sha256; it serves until the new copy is published, and
   * keeps serving (its status saying why) if the new copy fails to load.
   */
  private async load(stored: StoredVersion, signature: string, previous?: Loaded): Promise<void> {
    const { name, version } = stored;
    const started = Date.now();
    if (!previous) this.setState(name, version, 'LOADING');
    log.info('model loading', { model: name, version, replacing: previous !== undefined });
    try {
      const servable = await this.loader(stored);
      this.publish(name, version, new Loaded(servable));
      this.failed.delete(`${name}/${version}`);
      this.setState(name, version, 'AVAILABLE');
      log.info('model available', { model: name, version, ms: Date.now() - started });
      if (previous) {
        previous.retired = true;
        this.disposeIfIdle(previous);
      }
    } catch (e) {
      const message = (e as Error).message;
      this.failed.set(`${name}/${version}`, signature);
      if (previous) this.setState(name, version, 'AVAILABLE', `the replaced folder failed to load, still serving the previous copy: ${message}`);
      else this.setState(name, version, 'END', message);
      log.error('model failed to load', { model: name, version, ms: Date.now() - started, error: message });
    }
  }

  private publish(name: string, version: number, loaded: Loaded): void {
    const next = new Map(this.live);
    next.set(name, new Map(next.get(name) ?? []).set(version, loaded));
    this.live = next;
  }

  private unpublish(name: string, version: number): void {
    const loaded = this.live.get(name)?.get(version);
    if (!loaded) return;
    const next = new Map(this.live);
    const versions = new Map(next.get(name));
    versions.delete(version);
    if (versions.size === 0) next.delete(name);
    else next.set(name, versions);
    this.live = next;
    this.setState(name, version, 'UNLOADING');
    log.info('model unloading', { model: name, version, inFlight: loaded.refs });
    loaded.retired = true;
    this.disposeIfIdle(loaded);
  }

  /** Frees a retired version's weights once no request holds it. */
  private disposeIfIdle(loaded: Loaded): void {
    if (!loaded.retired || loaded.refs > 0) return;
    const { name, version } = loaded.servable;
    loaded.servable.dispose();
    // A newer copy of the same version may be published (a replaced folder, a re-added version).
    if (!this.live.get(name)?.has(version)) this.setState(name, version, 'END');
    log.info('model unloaded', { model: name, version });
  }

  private setState(name: string, version: number, state: VersionState, error?: string): void {
    const versions = this.status.get(name) ?? new Map<number, VersionStatus>();
    versions.set(version, error === undefined ? { version, state } : { version, state, error });
    this.status.set(name, versions);
  }
}
