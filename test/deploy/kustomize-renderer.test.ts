import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderKustomization } from '../support/kustomize';

/** The test renderer refuses what it does not implement instead of rendering it differently. */
let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kustomize-'));
  mkdirSync(path.join(tmp, 'base'));
  writeFileSync(
    path.join(tmp, 'base', 'deployment.yaml'),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: registry.local:5000/team/web:1.0\n',
  );
  writeFileSync(path.join(tmp, 'base', 'kustomization.yaml'), 'resources:\n  - deployment.yaml\n');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const overlay = (kustomization: string) => {
  writeFileSync(path.join(tmp, 'kustomization.yaml'), kustomization);
  return () => renderKustomization(tmp);
};

it('renders a base with namespace, a JSON 6902 patch and an image with a registry port', () => {
  const [d] = overlay(
    'namespace: shop\nresources:\n  - base\nimages:\n  - name: registry.local:5000/team/web\n    newTag: "2.0"\npatches:\n  - target: {kind: Deployment, name: web}\n    patch: |-\n      - op: add\n        path: /spec/replicas\n        value: 3\n',
  )();
  expect(d).toMatchObject({ metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 3, template: { spec: { containers: [{ image: 'registry.local:5000/team/web:2.0' }] } } } });
});

it('refuses a field, a patch form or a target it does not implement, and a patch that matches nothing', () => {
  expect(overlay('resources: [base]\ncommonLabels: {a: b}\n')).toThrow(/commonLabels not implemented/);
  expect(overlay('resources: [base]\npatches:\n  - target: {kind: Deployment}\n    patch: "spec: {replicas: 2}"\n')).toThrow(/not strategic merge/);
  expect(overlay('resources: [base]\npatches:\n  - target: {kind: Deployment, labelSelector: a=b}\n    patch: "[]"\n')).toThrow(/needs a kind/);
  expect(overlay('resources: [base]\npatches:\n  - target: {kind: Deployment, name: api}\n    patch: "[]"\n')).toThrow(/matches no resource/);
  expect(overlay('resources: [base, base/deployment.yaml]\n')).toThrow(/declared twice/);
});
