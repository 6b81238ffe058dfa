import { ModelNotFound, ServiceUnavailable } from '../errors/errors';
import { log } from '../log';
import { latestVersions, scanStore } from '../model-store/repository';
import { loadServable, type Servable } from './servable';

export interface LoadFailure {
  name: string;
  version: number;
  error: string;
}

/**
 * Holds the servables of the store and answers "which version serves model X". The live map is
 * replaced in one assignment, so a lookup never sees a half-updated set.
 */
export class ModelManager {
  private live: ReadonlyMap<string, Servable> = new Map();
  private loading = true;

  constructor(private readonly store: string) {}

  /** Loads the latest version of every model in the store; returns what failed (nothing is half-published). */
  async loadStore(): Promise<LoadFailure[]> {
    this.loading = true;
    const wanted = latestVersions(scanStore(this.store));
    const next = new Map<string, Servable>();
    const failures: LoadFailure[] = [];
    for (const stored of wanted) {
      const started = Date.now();
      try {
        const servable = await loadServable(stored);
        next.set(stored.name, servable);
        log.info('model available', { model: stored.name, version: stored.version, ms: Date.now() - started });
      } catch (e) {
        failures.push({ name: stored.name, version: stored.version, error: (e as Error).message });
        log.error('model failed to load', { model: stored.name, version: stored.version, error: (e as Error).message });
      }
    }
    const previous = this.live;
    this.live = next;
    this.loading = false;
    for (const [name, servable] of previous) if (next.get(name) !== servable) servable.dispose();
    return failures;
  }

  /** True once the first load finished, i.e. every model that should serve was tried. */
  get ready(): boolean {
    return !this.loading;
  }

  /** The serving version of a model a client named: 404 if there is none. */
  get(name: string): Servable {
    return this.live.get(name) ?? this.absent(name, () => new ModelNotFound(name, [...this.live.keys()]));
  }

  /** The serving version of a model a route is built on: 503 naming the model to add if absent. */
  require(name: string): Servable {
    return (
      this.live.get(name) ??
      this.absent(name, () => new ServiceUnavailable(`Model '${name}' is not loaded. Add ${name}/<version>/ to the model store and restart.`))
    );
  }

  private absent(name: string, error: () => Error): never {
    if (this.loading) throw new ServiceUnavailable(`Models are still loading (${name} is not available yet); retry shortly.`, 1);
    throw error();
  }

  /** Every servable, sorted by name. */
  list(): Servable[] {
    return [...this.live.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  dispose(): void {
    for (const servable of this.live.values()) servable.dispose();
    this.live = new Map();
  }
}
