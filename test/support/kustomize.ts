import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { applyPatch, type Operation } from 'fast-json-patch';
import yaml from 'js-yaml';

/**
 * A small kustomize for the features deploy/k8s uses, so the manifests are rendered and checked
 * on any machine (Debian's kubectl is 1.20, whose kustomize predates `patches`). It refuses
 * every field and patch form it does not implement, so it cannot silently render something
 * else than kustomize would; test/deploy/manifests.test.ts compares it with `kubectl kustomize`
 * wherever a kubectl with kustomize v4+ is installed.
 *
 * Implemented: resources (YAML files, or folders with a kustomization), namespace, images
 * (newName / newTag / digest), patches (JSON 6902 operations, inline or from a file, with a
 * target by kind and name), applied as kustomize does: patches, then namespace, then images.
 */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

interface ImageRule {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

interface PatchRule {
  path?: string;
  patch?: string;
  target?: { kind?: string; name?: string; [key: string]: unknown };
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  namespace?: string;
  images?: ImageRule[];
  patches?: PatchRule[];
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);

/** Kinds without a namespace (kustomize leaves their metadata.namespace unset). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ClusterServingRuntime',
]);

/** Every YAML document of a file, skipping empty ones. */
export function readYamlDocuments(file: string): K8sObject[] {
  return yaml.loadAll(readFileSync(file, 'utf8')).filter((doc): doc is K8sObject => doc !== null && doc !== undefined);
}

function readKustomization(dir: string): Kustomization {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const k = yaml.load(readFileSync(file, 'utf8')) as Kustomization;
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0) throw new Error(`${file}: ${unsupported.join(', ')} not implemented by test/support/kustomize.ts`);
  return k;
}

const id = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function patchOperations(rule: PatchRule, dir: string): Operation[] {
  const text = rule.path !== undefined ? readFileSync(path.resolve(dir, rule.path), 'utf8') : rule.patch;
  if (text === undefined) throw new Error(`${dir}: a patch has neither path nor patch`);
  const ops = yaml.load(text);
  if (!Array.isArray(ops)) throw new Error(`${dir}: only JSON 6902 patches (a list of operations) are implemented, not strategic merge`);
  return ops as Operation[];
}

function applyPatches(objects: K8sObject[], rules: PatchRule[], dir: string): K8sObject[] {
  let result = objects;
  for (const rule of rules) {
    const { kind, name, ...rest } = rule.target ?? {};
    if (!kind || Object.keys(rest).length > 0) throw new Error(`${dir}: a patch target needs a kind (and optionally a name), nothing else`);
    const ops = patchOperations(rule, dir);
    let matched = 0;
    result = result.map((o) => {
      if (o.kind !== kind || (name !== undefined && o.metadata.name !== name)) return o;
      matched += 1;
      return applyPatch(structuredClone(o), ops, true, false).newDocument;
    });
    if (matched === 0) throw new Error(`${dir}: patch target ${kind}/${name ?? '*'} matches no resource`);
  }
  return result;
}

/** `registry/name:tag@digest` -> name without tag or digest (a registry port is kept). */
function imageName(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const lastColon = noDigest.lastIndexOf(':');
  return lastColon > noDigest.lastIndexOf('/') ? noDigest.slice(0, lastColon) : noDigest;
}

function retagImage(image: string, rule: ImageRule): string {
  const name = imageName(image);
  const rest = image.slice(name.length);
  const oldTag = rest.startsWith(':') ? rest.slice(1).split('@')[0] : undefined;
  const oldDigest = image.includes('@') ? image.split('@')[1] : undefined;
  const newName = rule.newName ?? name;
  if (rule.digest) return `${newName}@${rule.digest}`;
  if (rule.newTag) return `${newName}:${rule.newTag}`;
  return `${newName}${oldTag ? `:${oldTag}` : ''}${oldDigest ? `@${oldDigest}` : ''}`;
}

/** Rewrites the image of every container, init container and ephemeral container, at any depth. */
function applyImages(node: unknown, rules: ImageRule[]): void {
  if (Array.isArray(node)) {
    node.forEach((child) => applyImages(child, rules));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (['containers', 'initContainers', 'ephemeralContainers'].includes(key) && Array.isArray(value)) {
      for (const container of value as Array<{ image?: string }>) {
        const rule = container.image === undefined ? undefined : rules.find((r) => r.name === imageName(container.image as string));
        if (rule && container.image) container.image = retagImage(container.image, rule);
      }
    }
    applyImages(value, rules);
  }
}

/** The objects `kubectl kustomize <dir>` would print, in resource order. */
export function renderKustomization(dir: string): K8sObject[] {
  const k = readKustomization(dir);
  let objects: K8sObject[] = (k.resources ?? []).flatMap((resource) => {
    const where = path.resolve(dir, resource);
    return statSync(where).isDirectory() ? renderKustomization(where) : readYamlDocuments(where);
  });
  const seen = new Set<string>();
  for (const o of objects) {
    if (seen.has(id(o))) throw new Error(`${dir}: ${id(o)} is declared twice`);
    seen.add(id(o));
  }
  objects = applyPatches(objects, k.patches ?? [], dir);
  if (k.namespace) {
    const namespace = k.namespace;
    objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace } }));
  }
  if (k.images) {
    const rules = k.images;
    objects = objects.map((o) => {
      const copy = structuredClone(o);
      applyImages(copy, rules);
      return copy;
    });
  }
  return objects;
}
