import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import ts from 'typescript';
import type { K8sObject } from './kustomize';

const ROOT = path.join(__dirname, '..', '..');

export interface SchemaProblem {
  id: string;
  message: string;
}

/**
 * Types, required fields, enums and formats of each object, by the Kubernetes API schemas of
 * kubernetes-models (and the Prometheus Operator's): test/deploy/validate-k8s.mjs.
 */
export function kubernetesSchemaProblems(objects: K8sObject[]): SchemaProblem[] {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'test', 'deploy', 'validate-k8s.mjs')], { input: JSON.stringify(objects), encoding: 'utf8', cwd: ROOT });
  if (run.status !== 0) throw new Error(`validate-k8s.mjs failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as SchemaProblem[];
}

/** Where each kind's TypeScript interface lives (kubernetes-models' declarations). */
function typeModule(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`;
  return group === '' ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

/**
 * Fields the API does not know (a misspelt `readinesProbe` would be rejected by `kubectl apply`'s
 * strict field validation, and is accepted by the schemas above): each object is type-checked as
 * an object literal of its kind's interface, whose excess-property check names every unknown field.
 */
export function unknownFieldProblems(objects: K8sObject[]): SchemaProblem[] {
  const file = path.join(ROOT, 'deploy', '__rendered_manifests__.ts'); // virtual: never written
  const lines = objects.flatMap((o, i) => [
    `import type { I${o.kind} as T${i} } from '${typeModule(o.apiVersion, o.kind)}';`,
    `export const o${i}: T${i} = ${JSON.stringify(o)};`,
  ]);
  const source = lines.join('\n');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language) => (path.resolve(name) === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const object = objects[Math.floor(line / 2)];
    return { id: object ? `${object.kind}/${object.metadata.name}` : '?', message: ts.flattenDiagnosticMessageText(d.messageText, '\n') };
  });
}

/**
 * A CRD's OpenAPI schema as the API server applies it: unknown fields are errors (kubectl's
 * strict field validation) except under x-kubernetes-preserve-unknown-fields; the
 * x-kubernetes-* annotations are otherwise ignored.
 */
function structural(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(structural);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, structural(v)])) : structural(value);
  }
  if (out.properties && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  return out;
}

export interface CrdSchema {
  group: string;
  kind: string;
  version: string;
  openAPIV3Schema: object;
}

export function crdValidator(crd: CrdSchema): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(structural(crd.openAPIV3Schema) as object);
}
