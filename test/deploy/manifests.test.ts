import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadConfig } from '../../src/config';
import { readModelConfig } from '../../src/model-store/model-config';
import { crdValidator, type CrdSchema, kubernetesSchemaProblems, unknownFieldProblems } from '../support/k8s-schemas';
import { type K8sObject, readYamlDocuments, renderKustomization } from '../support/kustomize';

/**
 * deploy/ checked offline: the kustomize overlays rendered and every object validated against
 * the Kubernetes API schemas, the KServe resources against KServe's CRD schemas, and what the
 * manifests say about the server (routes, ports, grace periods, settings) against the server.
 */
const ROOT = path.join(__dirname, '..', '..');
const K8S = path.join(ROOT, 'deploy', 'k8s');
const KSERVE = path.join(ROOT, 'deploy', 'kserve');
const OVERLAYS = readdirSync(path.join(K8S, 'overlays'));
const rendered = new Map(OVERLAYS.map((overlay) => [overlay, renderKustomization(path.join(K8S, 'overlays', overlay))]));
const optional = readdirSync(path.join(K8S, 'optional'))
  .filter((f) => f.startsWith('hpa'))
  .flatMap((f) => readYamlDocuments(path.join(K8S, 'optional', f)));

/** Manifests are plain parsed YAML, read field by field. */
type Obj = any;

const one = (objects: K8sObject[], kind: string, name?: string): Obj => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? `/${name}` : ''}, found ${found.length}`);
  return found[0];
};

/** GET paths of the API document. */
const spec = yaml.load(readFileSync(path.join(ROOT, 'api', 'models.yaml'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
const getRoutes = Object.entries(spec.paths)
  .filter(([, ops]) => 'get' in ops)
  .map(([route]) => route);

const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The environment a container of the Deployment starts with (ConfigMap, Secret, the CPU limit). */
function containerEnv(objects: K8sObject[], container: Obj, secretData: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) Object.assign(env, one(objects, 'ConfigMap', source.configMapRef.name).data);
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    const from = variable.valueFrom;
    if (from?.resourceFieldRef?.resource === 'limits.cpu') env[variable.name] = String(Math.ceil(cpuCores(container.resources.limits.cpu)));
    if (from?.secretKeyRef && secretData[from.secretKeyRef.key] !== undefined) env[variable.name] = secretData[from.secretKeyRef.key] as string;
  }
  return env;
}

const cpuCores = (q: string): number => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
const bytes = (q: string): number => {
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };
  const m = /^(\d+(?:\.\d+)?)([KMG]i?)?$/.exec(q);
  if (!m) throw new Error(`quantity ${q}`);
  return Number(m[1]) * (m[2] ? (units[m[2]] as number) : 1);
};

describe('kustomize overlays', () => {
  it('dev and prod render to a whole install: workload, Service, HPA, PDB, settings', () => {
    expect(OVERLAYS).toEqual(expect.arrayContaining(['dev', 'prod']));
    for (const [overlay, objects] of rendered) {
      const kinds = objects.map((o) => o.kind);
      expect({ overlay, kinds }).toEqual({ overlay, kinds: expect.arrayContaining(['Namespace', 'ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) });
      const namespace = one(objects, 'Namespace').metadata.name;
      for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(`${o.kind}/${o.metadata.name} in ${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name} in ${namespace}`);
    }
    expect(one(rendered.get('dev') ?? [], 'Secret', 'specserve-api-keys')).toBeDefined();
    expect(one(rendered.get('prod') ?? [], 'ServiceMonitor')).toBeDefined();
    // The image: each overlay names one; the base's placeholder name never reaches a cluster.
    for (const objects of rendered.values()) {
      const d = one(objects, 'Deployment');
      for (const c of [...d.spec.template.spec.containers, ...(d.spec.template.spec.initContainers ?? [])]) expect(c.image).toMatch(/^[^:]+(\/[^:]+)*:[\w.-]+$/);
    }
    expect(one(rendered.get('prod') ?? [], 'Deployment').spec.template.spec.containers[0].image).not.toMatch(/:latest$/);
  });

  const kubectl = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  const kustomizeVersion = kubectl.status === 0 ? (JSON.parse(kubectl.stdout) as { kustomizeVersion?: string }).kustomizeVersion : undefined;
  const modernKustomize = kustomizeVersion !== undefined && Number(/^v?(\d+)/.exec(kustomizeVersion)?.[1] ?? 0) >= 4;
  if (!modernKustomize) console.log(`SKIP kubectl kustomize comparison: no kubectl with kustomize v4+ on PATH (${kustomizeVersion ?? 'no kubectl'})`);
  (modernKustomize ? it : it.skip)(`the in-repo renderer gives what \`kubectl kustomize\` (${kustomizeVersion ?? 'absent'}) gives`, () => {
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    for (const [overlay, objects] of rendered) {
      const run = spawnSync('kubectl', ['kustomize', path.join(K8S, 'overlays', overlay)], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      const theirs = (yaml.loadAll(run.stdout) as K8sObject[]).filter(Boolean);
      const byKey = (list: K8sObject[]) => Object.fromEntries(list.map((o) => [key(o), o]));
      expect(byKey(objects)).toEqual(byKey(theirs));
    }
  });
});

describe('Kubernetes schemas', () => {
  const all = [...[...rendered.values()].flat(), ...optional];

  it('every object of every overlay (and the queue-depth HPA) validates, with no unknown field', () => {
    expect(kubernetesSchemaProblems(all)).toEqual([]);
    expect(unknownFieldProblems(all)).toEqual([]);
  });

  it('the validators reject a wrong type, a missing required field and a misspelt field', () => {
    const deployment = structuredClone(one(rendered.get('dev') ?? [], 'Deployment'));
    deployment.spec.replicas = 'two';
    deployment.spec.template.spec.containers[0].readinesProbe = deployment.spec.template.spec.containers[0].readinessProbe;
    const pdb = structuredClone(one(rendered.get('dev') ?? [], 'PodDisruptionBudget'));
    pdb.spec.maxUnavailable = { percent: 1 };
    const hpa = structuredClone(one(rendered.get('dev') ?? [], 'HorizontalPodAutoscaler'));
    delete hpa.spec.scaleTargetRef.kind;
    const problems = kubernetesSchemaProblems([deployment, pdb, hpa]);
    expect(problems.map((p) => p.id)).toEqual(['Deployment/specserve', 'PodDisruptionBudget/specserve', 'HorizontalPodAutoscaler/specserve']);
    expect(problems[0]?.message).toMatch(/replicas must be integer/);
    expect(unknownFieldProblems([deployment]).map((p) => p.message)).toEqual(expect.arrayContaining([expect.stringMatching(/'"readinesProbe"' does not exist/)]));
  });
});

describe('KServe', () => {
  const schemas = readdirSync(path.join(ROOT, 'test', 'fixtures', 'kserve'))
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'kserve', f), 'utf8')) as CrdSchema);
  const validators = new Map(schemas.map((s) => [`${s.group}/${s.version} ${s.kind}`, crdValidator(s)]));
  const resources = readdirSync(KSERVE)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => readYamlDocuments(path.join(KSERVE, f)));
  const runtimes = resources.filter((r) => r.kind === 'ClusterServingRuntime') as Obj[];
  const services = resources.filter((r) => r.kind === 'InferenceService') as Obj[];

  const problems = (o: K8sObject) => {
    const validate = validators.get(`${o.apiVersion} ${o.kind}`);
    if (!validate) return [`no CRD schema for ${o.apiVersion} ${o.kind}`];
    return validate(o) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  };

  it('every runtime and InferenceService validates against its CRD schema', () => {
    expect(runtimes.length).toBeGreaterThanOrEqual(1);
    expect(services.length).toBeGreaterThanOrEqual(2);
    for (const r of resources) expect({ id: `${r.kind}/${r.metadata.name}`, problems: problems(r) }).toEqual({ id: `${r.kind}/${r.metadata.name}`, problems: [] });
  });

  it('the CRD schemas reject an unknown field and a wrong type', () => {
    const runtime = structuredClone(runtimes[0]);
    runtime.spec.protocolVersion = ['v2'];
    runtime.spec.containers[0].ports[0].containerPort = 'http';
    expect(problems(runtime).join('\n')).toMatch(/must NOT have additional properties.*protocolVersion[\s\S]*containerPort must be integer/);
    const isvc = structuredClone(services[0]);
    isvc.spec.predictor.model.storageURI = isvc.spec.predictor.model.storageUri;
    expect(problems(isvc).join('\n')).toMatch(/storageURI/);
  });

  it('the runtime serves v2 and the three formats, and every example picks a format it serves', () => {
    const main = runtimes.find((r) => r.metadata.name === 'specserve');
    expect(main.spec.protocolVersions).toContain('v2');
    expect(main.spec.supportedModelFormats.map((f: Obj) => f.name)).toEqual(expect.arrayContaining(['tensorflowjs', 'onnx', 'keras']));
    for (const isvc of services) {
      const model = isvc.spec.predictor.model;
      const runtime = runtimes.find((r) => r.metadata.name === (model.runtime ?? 'specserve'));
      const formats = runtime.spec.supportedModelFormats.filter((f: Obj) => f.name === model.modelFormat.name);
      expect({ isvc: isvc.metadata.name, formats: formats.length }).toEqual({ isvc: isvc.metadata.name, formats: expect.any(Number) });
      expect(formats.length).toBeGreaterThan(0);
      if (!model.runtime) expect(formats.some((f: Obj) => f.autoSelect)).toBe(true);
      expect(model.storageUri).toMatch(/^(s3|gs|pvc|https?|hf):\/\//);
    }
  });

  it('its container starts: the server accepts its settings, with MODEL_NAME filled in as KServe does, and probes its own routes', () => {
    for (const runtime of runtimes) {
      const [container] = runtime.spec.containers;
      const env = Object.fromEntries(container.env.filter((e: Obj) => e.value !== undefined).map((e: Obj) => [e.name, String(e.value).replace('{{.Name}}', 'mnist')]));
      const config = loadConfig({ ...env, PORT: '5000' });
      expect(config).toMatchObject({ modelStore: '/mnt/models', modelName: 'mnist' });
      expect(container.ports[0].containerPort).toBe(config.port); // the image's PORT: Knative sets it to this too
      for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
        expect(getRoutes).toContain(probe.httpGet.path);
        expect(probe.httpGet.port).toBe(config.port);
      }
      expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    }
  });
});

describe.each(OVERLAYS)('overlay %s: what the manifests say about the server', (overlay) => {
  const objects = rendered.get(overlay) ?? [];
  const deployment = one(objects, 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const secret = objects.find((o) => o.kind === 'Secret') as Obj | undefined;
  const env = containerEnv(objects, container, secret?.stringData ?? { API_KEYS: 'a-test-key' });

  it('the settings pass the server\'s own start-up check', () => {
    expect(() => loadConfig(env)).not.toThrow();
    expect(loadConfig(env).workers).toBe(Math.ceil(cpuCores(container.resources.limits.cpu)));
  });

  it('probes point at routes of api/models.yaml on the container port that PORT names', () => {
    const config = loadConfig(env);
    const http = container.ports.find((p: Obj) => p.name === 'http');
    expect(http.containerPort).toBe(config.port);
    expect(container.ports.find((p: Obj) => p.name === 'grpc')?.containerPort).toBe(Number(env.GRPC_PORT));
    expect(container.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) expect(getRoutes).toContain(probe.httpGet.path);
    // The startup budget covers a model download's own timeout (config.yaml `source:`).
    expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold * 1000).toBeGreaterThan(config.download.timeoutMs);
    const service = one(objects, 'Service');
    for (const port of service.spec.ports) expect(container.ports.map((p: Obj) => p.name)).toContain(port.targetPort);
    expect(selects(service.spec.selector, pod.metadata?.labels ?? deployment.spec.template.metadata.labels)).toBe(true);
  });

  it('grace periods are ordered: preStop pause + SHUTDOWN_GRACE_MS < terminationGracePeriodSeconds', () => {
    const [command, seconds] = container.lifecycle.preStop.exec.command;
    expect(command).toBe('sleep');
    const shutdownGraceMs = loadConfig(env).shutdownGraceMs;
    expect(Number(seconds) * 1000 + shutdownGraceMs).toBeLessThan(pod.terminationGracePeriodSeconds * 1000);
    // A readiness probe notices the 503 of a draining pod well within the grace.
    const { periodSeconds, failureThreshold } = container.readinessProbe;
    expect(periodSeconds * failureThreshold * 1000).toBeLessThan(shutdownGraceMs);
  });

  it('a rollout never drops a request: maxUnavailable 0, and HPA, PDB, Service select these pods', () => {
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: expect.anything() } });
    const labels = deployment.spec.template.metadata.labels;
    expect(selects(deployment.spec.selector.matchLabels, labels)).toBe(true);
    expect(selects(one(objects, 'PodDisruptionBudget').spec.selector.matchLabels, labels)).toBe(true);
    expect(one(objects, 'HorizontalPodAutoscaler').spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor') as Obj | undefined;
    if (monitor) {
      const service = one(objects, 'Service');
      expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
      expect(service.spec.ports.map((p: Obj) => p.name)).toContain(monitor.spec.endpoints[0].port);
      expect(Object.keys(spec.paths)).toContain(monitor.spec.endpoints[0].path);
    }
  });

  it('non-root, read-only root filesystem, no privilege escalation, every capability dropped', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(c.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    }
  });

  it('the memory limit holds the measured peak plus every request body MAX_INFLIGHT_BYTES admits', () => {
    const SOAK_PEAK_BYTES = 560 * 2 ** 20; // docs/performance.md: 100k-request soak, all four models
    expect(bytes(container.resources.limits.memory)).toBeGreaterThan(SOAK_PEAK_BYTES + loadConfig(env).maxInflightBytes);
  });

  it('the model store: in the image, on a read-only volume, or fetched at start (every model config parses with the server\'s own reader)', () => {
    const volumes = pod.volumes as Obj[];
    const storeConfig = volumes.find((v) => v.configMap?.name === 'specserve-models');
    if (!storeConfig) {
      // The models baked into the image, or a volume mounted read-only at MODEL_STORE.
      const mount = container.volumeMounts.find((m: Obj) => m.mountPath === env.MODEL_STORE);
      if (env.MODEL_STORE === '/app/model-store') expect(mount).toBeUndefined();
      else expect({ mount, claim: volumes.find((v) => v.name === mount?.name)?.persistentVolumeClaim }).toEqual({ mount: expect.objectContaining({ readOnly: true }), claim: expect.objectContaining({ readOnly: true }) });
      return;
    }
    const models = one(objects, 'ConfigMap', 'specserve-models');
    expect(storeConfig.configMap.items.map((i: Obj) => i.key).sort()).toEqual(Object.keys(models.data).sort());
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'store-config-'));
    try {
      for (const item of storeConfig.configMap.items) {
        const file = path.join(tmp, item.path);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, models.data[item.key]);
        expect(readModelConfig(path.dirname(file)).source).toMatchObject({ url: expect.stringMatching(/^https:/), version: 1 });
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const mounts = container.volumeMounts.map((m: Obj) => m.mountPath);
    expect(mounts).toContain(env.MODEL_STORE);
  });
});
