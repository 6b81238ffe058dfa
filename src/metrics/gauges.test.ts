import { Registry } from 'prom-client';
import type { VersionStatus } from '../inference/manager';
import { type GaugeSources, registerStateGauges } from './gauges';

/** A pool and a manager whose answers the test changes between scrapes. */
function sources() {
  const state = {
    depths: new Map<string, number>([['mnist/1', 3]]),
    size: 2,
    heldBytes: 391,
    versions: new Map<string, VersionStatus[]>([['mnist', [{ version: 2, state: 'LOADING' }, { version: 1, state: 'AVAILABLE' }]]]),
  };
  const fake: GaugeSources = {
    pool: { queueDepths: () => state.depths, get size() { return state.size; } },
    models: { names: () => [...state.versions.keys()], versionStatus: (name) => state.versions.get(name) ?? [] },
    bodies: { get heldBytes() { return state.heldBytes; }, maxBytes: 4096 },
  };
  return { state, fake };
}

async function samples(registry: Registry, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric as unknown as { values: { labels: Record<string, string | number>; value: number }[] }).values;
}

describe('registerStateGauges', () => {
  it('reads queue depths, version states, the worker count and the bodies in flight when scraped', async () => {
    const registry = new Registry();
    const { state, fake } = sources();
    registerStateGauges(registry, fake);
    expect(await samples(registry, 'specserve_inference_queue_depth')).toEqual([{ labels: { model: 'mnist', version: '1' }, value: 3 }]);
    const states = await samples(registry, 'specserve_model_version_state');
    expect(states).toHaveLength(8); // 2 versions x 4 states
    expect(states.filter((s) => s.value === 1).map((s) => s.labels)).toEqual([
      { model: 'mnist', version: '2', state: 'LOADING' },
      { model: 'mnist', version: '1', state: 'AVAILABLE' },
    ]);
    expect(await samples(registry, 'specserve_inference_workers')).toEqual([{ labels: {}, value: 2 }]);
    expect(await samples(registry, 'specserve_http_body_bytes_in_flight')).toEqual([{ labels: {}, value: 391 }]);
    expect(await samples(registry, 'specserve_http_body_bytes_limit')).toEqual([{ labels: {}, value: 4096 }]);

    // The next scrape sees what changed, and nothing of what left.
    state.depths = new Map([['mnist/2', 0]]);
    state.versions.set('mnist', [{ version: 2, state: 'AVAILABLE' }]);
    state.size = 1;
    state.heldBytes = 0;
    expect(await samples(registry, 'specserve_inference_queue_depth')).toEqual([{ labels: { model: 'mnist', version: '2' }, value: 0 }]);
    expect((await samples(registry, 'specserve_model_version_state')).filter((s) => s.value === 1).map((s) => s.labels)).toEqual([
      { model: 'mnist', version: '2', state: 'AVAILABLE' },
    ]);
    expect(await samples(registry, 'specserve_inference_workers')).toEqual([{ labels: {}, value: 1 }]);
    expect(await samples(registry, 'specserve_http_body_bytes_in_flight')).toEqual([{ labels: {}, value: 0 }]);
  });

  it('splits a `name/version` key at its last slash', async () => {
    const registry = new Registry();
    const { state, fake } = sources();
    state.depths = new Map([['mnist-multilabel/12', 1]]);
    registerStateGauges(registry, fake);
    expect(await samples(registry, 'specserve_inference_queue_depth')).toEqual([{ labels: { model: 'mnist-multilabel', version: '12' }, value: 1 }]);
  });
});
